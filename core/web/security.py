"""Security on every request: CSRF (a same-origin check in middleware plus a session token in
every form), and strict security headers (no inline script or style)."""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from starlette.datastructures import FormData, MutableHeaders, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.forms import CONTROL_CHARACTERS, strip_controls
from core.i18n import _

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Stands for the visitor's token in a page rendered to be kept (core.web.page_cache), which
# puts each visitor's own in its place; random per process, so no page holds it by chance.
CSRF_PLACEHOLDER = "csrf-" + secrets.token_hex(16)


class CsrfRefused(HTTPException):
    """A form whose CSRF token is missing, wrong or aged; carries the form so that what was
    typed can be kept (core.web.kept_forms)."""

    def __init__(self, form: FormData) -> None:
        super().__init__(
            403, _("Your form has expired or came from another site. Please reload and try again.")
        )
        self.form = form


def csrf_token(request: Request) -> str:
    if "session" not in request.scope:
        return ""
    if getattr(request.state, "keeping_page", False):
        return CSRF_PLACEHOLDER
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


MAX_FIELDS = 2000


async def read_form(request: Request, *, max_files: int = 10) -> FormData:
    """The request's form, after checking the CSRF token (hidden field or htmx header)."""
    if _content_type(request) == "application/x-www-form-urlencoded":
        form = parse_urlencoded(await request.body())
    else:
        form = await request.form(
            max_files=max_files, max_fields=MAX_FIELDS, max_part_size=8 * 1024 * 1024
        )
    form = _without_controls(form)
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD) or ""
    expected = request.session.get("csrf", "")
    # compared as bytes: compare_digest refuses str with non-ASCII characters (a 500)
    if (
        not expected
        or not isinstance(sent, str)
        or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected.encode("utf-8"))
    ):
        raise CsrfRefused(form)
    return form


def _content_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def parse_urlencoded(body: bytes) -> FormData:
    """A urlencoded form as Starlette parses it (names and values read as Latin-1, then
    unquoted as UTF-8 with +s as spaces), with the standard library's `parse_qsl`: the same
    pairs at a fraction of the cost of python-multipart's per-byte callbacks (a ballot is cast
    with one; tests/core/test_forms_parsing.py compares the two). Too many fields: 400."""
    try:
        pairs = parse_qsl(body.decode("latin-1"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError:
        raise HTTPException(
            400, f"Too many fields. Maximum number of fields is {MAX_FIELDS}."
        ) from None
    return FormData(pairs)


def _without_controls(form: FormData) -> FormData:
    """The form with control characters removed from every name, value and file name
    (`core.forms.strip_controls`): no endpoint ever sees a NUL (a 500 on PostgreSQL)."""
    items = form.multi_items()
    if not any(
        CONTROL_CHARACTERS.search(key)
        or (CONTROL_CHARACTERS.search(value) if isinstance(value, str) else value.filename)
        for key, value in items
    ):
        return form
    cleaned: list[tuple[str, str | UploadFile]] = []
    for key, value in items:
        if isinstance(value, str):
            value = strip_controls(value)
        elif value.filename:
            value.filename = strip_controls(value.filename)
        cleaned.append((strip_controls(key), value))
    return FormData(cleaned)


# A control character in a query string, percent-encoded (C0, DEL, or C1 in UTF-8) or raw.
_ENCODED_CONTROL = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF]|[cC]2%[89][0-9a-fA-F])|[\x00-\x1f\x7f]")


def clean_query_string(query: bytes) -> bytes:
    """The query string with control characters removed from every decoded name and value
    (tab, line feed and carriage return too: a query parameter is one line). Unchanged, and
    cheap, when there is none."""
    if not _ENCODED_CONTROL.search(query):
        return query
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    cleaned = [(_one_line(key), _one_line(value)) for key, value in pairs]
    return urlencode(cleaned).encode("ascii")


def _one_line(value: str) -> str:
    return strip_controls(value).replace("\t", "").replace("\n", "").replace("\r", "")


class SameOriginMiddleware:
    """Refuse unsafe requests that a browser says come from another site (Datasette's way).
    Also the one place where every query parameter is screened: control characters are
    removed from the query string before any endpoint reads it (`clean_query_string`), as
    `read_form` does for forms."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string"):
            scope["query_string"] = clean_query_string(scope["query_string"])
        if scope["type"] == "http" and scope["method"] not in ("GET", "HEAD", "OPTIONS"):
            conn = HTTPConnection(scope)
            site = conn.headers.get("sec-fetch-site")
            origin = conn.headers.get("origin")
            host = conn.headers.get("host", "")
            foreign = (site is not None and site not in ("same-origin", "none")) or (
                origin is not None and origin != "null" and urlsplit(origin).netloc != host
            )
            if foreign:
                response = HTMLResponse("Cross-site request refused.", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


HSTS = "max-age=31536000; includeSubDomains"


def security_headers(https_only: bool = False) -> dict[str, str]:
    """The headers every response carries (error pages made outside the middleware too)."""
    headers = {
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if https_only:  # behind HTTPS only: browsers never try plain HTTP again
        headers["Strict-Transport-Security"] = HSTS
    return headers


def private(endpoint: Any) -> Any:
    """Mark a page that holds a person's secrets (a ballot, a receipt code, passwords, codes
    handed out, account data): its responses, error pages included, are never stored by a
    browser or a proxy (`Cache-Control: no-store`, set by SecurityHeadersMiddleware)."""

    @functools.wraps(endpoint)
    async def marked(request: Request) -> Any:
        request.state.no_store = True
        return await endpoint(request)

    return marked


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (no inline script or style) and the other security
    headers on every response; HSTS with `https_only`; no-store on `private` pages."""

    def __init__(self, app: ASGIApp, https_only: bool = False) -> None:
        self.app = app
        self.headers = security_headers(https_only)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    headers.setdefault(name, value)
                if scope.get("state", {}).get("no_store"):
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_wrapper)
