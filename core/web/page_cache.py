"""Public pages kept for visitors while nothing they show has changed.

A page decorated with `@cached_for_visitors` is rendered once per address, language and kind
(full page or htmx fragment) for visitors who are not signed in, and served again as long as
the page stamp in the database (`core.page_stamps`: moved by triggers on every table public
pages read) has not moved, for at most `LIFETIME` seconds. Each request still reads the
stamp: one row, one query, so a page is never older than the database (every process and
host sees a change at once); the lifetime bounds what depends on the clock alone ("the
meeting has begun" shows at most a minute late, as the ticker's jobs run once a minute).

Signed-in users, and visitors with a message waiting (a flash), always get a fresh render:
their pages say who they are. The CSRF token in a kept page is a placeholder that each
request replaces with its own visitor's token, so a kept page is never someone else's.

Each worker process keeps its own pages (at most `MAX_BYTES`), least recently used dropped
first. Nothing is shared between processes, and nothing a process keeps can be stale.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette_babel import get_locale
from tortoise import connections

from core.page_stamps import STAMP_TABLE
from core.web.render import is_htmx
from core.web.security import CSRF_PLACEHOLDER, csrf_token

Endpoint = Callable[[Request], Awaitable[Response]]

MAX_BYTES = 32 * 1024 * 1024  # per process
LIFETIME = 60.0  # seconds
_PLACEHOLDER = CSRF_PLACEHOLDER.encode("ascii")
_STAMP_SQL = f"SELECT version FROM {STAMP_TABLE} WHERE id = 1"
_KEPT_HEADERS = ("content-type", "vary", "cache-control")


@dataclass(frozen=True)
class KeptPage:
    stamp: int
    expires: float  # time.monotonic()
    status_code: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


class PageStore:
    """A process's kept pages: key → KeptPage, least recently used first, within MAX_BYTES."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.pages: OrderedDict[tuple, KeptPage] = OrderedDict()

    def get(self, key: tuple) -> KeptPage | None:
        page = self.pages.get(key)
        if page is not None:
            self.pages.move_to_end(key)
        return page

    def put(self, key: tuple, page: KeptPage) -> None:
        old = self.pages.pop(key, None)
        if old is not None:
            self.size -= len(old.body)
        if len(page.body) > self.max_bytes // 8:
            return
        self.pages[key] = page
        self.size += len(page.body)
        while self.size > self.max_bytes:
            _key, dropped = self.pages.popitem(last=False)
            self.size -= len(dropped.body)


async def page_stamp() -> int | None:
    """The page stamp now (one read of one row; None if its row is missing: nothing is kept
    then)."""
    _count, rows = await connections.get("default").execute_query(_STAMP_SQL)
    return int(rows[0][0]) if rows else None


def _store(request: Request) -> PageStore:
    store = getattr(request.app.state, "page_store", None)
    if store is None:
        store = request.app.state.page_store = PageStore()
    return store


def _for_visitor(request: Request) -> bool:
    """Whether this request may be answered with a kept page: a GET by someone not signed
    in, with no message waiting for them."""
    if request.method != "GET" or "session" not in request.scope:
        return False
    session = request.session
    # (nor typed text kept for them to see again, core.web.kept_forms)
    return "uid" not in session and not session.get("_flashes") and "_kept" not in session


def _key(request: Request) -> tuple:
    scope = request.scope
    return (
        scope.get("scheme"),
        request.headers.get("host", ""),
        scope.get("root_path", "") + scope["path"],
        scope.get("query_string", b""),
        str(get_locale()),
        is_htmx(request),
    )


def _answer(request: Request, page: KeptPage) -> Response:
    """The kept page with this visitor's CSRF token in it."""
    body = page.body.replace(_PLACEHOLDER, csrf_token(request).encode("ascii"))
    response = Response(body, status_code=page.status_code)
    for name, value in page.headers:
        response.headers.append(name, value)
    return response


def cached_for_visitors(endpoint: Endpoint) -> Endpoint:
    """Serve visitors a kept copy of the page while the page stamp has not moved; render
    (and keep) it otherwise. Signed-in users always get `endpoint`'s own answer."""

    async def wrapper(request: Request) -> Response:
        if not _for_visitor(request):
            return await endpoint(request)
        stamp = await page_stamp()  # before rendering: a change during it moves the stamp
        if stamp is None:
            return await endpoint(request)
        now = time.monotonic()
        store = _store(request)
        key = _key(request)
        page = store.get(key)
        if page is not None and page.stamp == stamp and now < page.expires:
            return _answer(request, page)
        request.state.keeping_page = True
        response = await endpoint(request)
        request.state.keeping_page = False
        body = getattr(response, "body", None)
        if (
            response.status_code != 200
            or not isinstance(body, bytes)
            or "set-cookie" in response.headers
            or not _for_visitor(request)  # the endpoint left a message or signed someone in
        ):
            return _with_token(request, response)
        page = KeptPage(
            stamp,
            now + LIFETIME,
            response.status_code,
            tuple((k, v) for k, v in response.headers.items() if k in _KEPT_HEADERS),
            body,
        )
        store.put(key, page)
        return _answer(request, page)

    wrapper.__name__ = endpoint.__name__
    wrapper.__doc__ = endpoint.__doc__
    return wrapper


def _with_token(request: Request, response: Response) -> Response:
    """A response rendered for keeping but not kept: the placeholder replaced all the same."""
    body = getattr(response, "body", None)
    if isinstance(body, bytes) and _PLACEHOLDER in body:
        response.body = body.replace(_PLACEHOLDER, csrf_token(request).encode("ascii"))
        response.headers["content-length"] = str(len(response.body))
    return response
