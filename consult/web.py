"""Web plumbing shared by every package: templates, rendering (page or htmx fragment), flash
messages, sessions, CSRF, security headers, the current user and error pages.

Endpoints stay thin: parse the form (`read_form`), call one service, `redirect` with 303.
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import jinja2
import starlette_babel
from babel import Locale
from jinja2_fragments.starlette import Jinja2Blocks
from markupsafe import Markup, escape
from starlette.convertors import IntegerConvertor
from starlette.datastructures import URL, FormData, MutableHeaders, URLPath
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_babel.contrib.jinja import configure_jinja_env

from consult.errors import DomainError, NotFound, PermissionDenied
from consult.i18n import (
    _,
    format_day,
    format_dt,
    format_money,
    format_number,
    format_percent,
    install_fast_gettext,
    label,
    parse_locale,
)
from consult.models import Role, User
from consult.services.prepared import Prepared

# --- templates -----------------------------------------------------------------------------


def make_templates(directory: Path, *, auto_reload: bool = False) -> Jinja2Blocks:
    """The Jinja environment. Templates are compiled once per process; `auto_reload` (debug)
    checks every template file for changes on each render instead."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        autoescape=True,
        undefined=jinja2.StrictUndefined if False else jinja2.Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=auto_reload,
        cache_size=-1,
    )
    configure_jinja_env(env)
    install_fast_gettext(env)
    env.filters.update(
        money=format_money,
        dt=format_dt,
        day=format_day,
        num=format_number,
        pct=format_percent,
    )
    env.globals.update(query_with=query_with, Role=Role, url_for=url_for, label=label)
    return Jinja2Blocks(env=env)


@jinja2.pass_context
def url_for(context: dict, name: str, /, **path_params: Any) -> URL | str:
    """Starlette's `url_for` for templates (see `route_url`)."""
    return route_url(context["request"], name, **path_params)


def route_url(request: Request, name: str, /, **path_params: Any) -> URL | str:
    """`request.url_for`, with the route looked up once per name and the absolute URL made by
    joining strings: a page of 20 cards would otherwise walk the whole routing table and parse
    a URL 20 times. Gives the same text as `request.url_for`."""
    index = _route_index(request.app)
    entry = index.get(name)
    if entry is None:
        entry = _mount_index(request.app).get(name)
        if entry is None or set(path_params) != {"path"}:
            return request.url_for(name, **path_params)
        path_params = {"path": str(path_params["path"]).lstrip("/")}
    elif set(path_params) != set(entry[1]):
        return request.url_for(name, **path_params)
    path_format, convertors = entry
    path = path_format.format(
        **{key: convertors[key].to_string(value) for key, value in path_params.items()}
    )
    return _url_prefix(request) + path


def route_url_around(request: Request, name: str, param: str) -> tuple[Markup, Markup]:
    """For a route whose one parameter `param` is an int: (before, after), escaped for a
    template, such that `route_url(request, name, **{param: n})` is before + n + after for every
    n >= 0. A list page writes its rows' links without a call per row."""
    path_format, convertors = _route_index(request.app)[name]
    if set(convertors) != {param} or not isinstance(convertors[param], IntegerConvertor):
        raise ValueError(f"{name} does not take just an int {param}")
    before, after = path_format.split("{" + param + "}")
    return escape(_url_prefix(request) + before), escape(after)


def _url_prefix(request: Request) -> str:
    """scheme://host[:port][root path] of the request, as `url_for` puts before a route's path
    (made once per request, and once per process for each of the few scheme, server, root path
    and Host header combinations that Starlette's base URL depends on)."""
    scope = request.scope
    prefix = scope.get("yishi.url_prefix")
    if prefix is None:
        host = next((value for key, value in scope["headers"] if key == b"host"), None)
        server = scope.get("server")
        key = (scope.get("scheme", "http"), tuple(server) if server else None,
               scope.get("app_root_path", scope.get("root_path", "")), host)
        prefix = _URL_PREFIXES.get(key)
        if prefix is None:
            prefix = str(URLPath(path="", protocol="http").make_absolute_url(
                base_url=request.base_url))
            if len(_URL_PREFIXES) < 64:  # the Host header is the client's: keep a few
                _URL_PREFIXES[key] = prefix
        scope["yishi.url_prefix"] = prefix
    return prefix


_URL_PREFIXES: dict[tuple, str] = {}


def _route_index(app: Any) -> dict[str, tuple[str, dict]]:
    """name -> (full path format, param convertors) for every plain route of the app."""
    index = getattr(app, "yishi_route_index", None)
    if index is None:
        index = {}

        def walk(routes: list, prefix: str, namespace: str) -> None:
            for route in routes:
                if isinstance(route, Mount):
                    if route.routes:
                        ns = f"{namespace}{route.name}:" if route.name else namespace
                        walk(route.routes, prefix + route.path, ns)
                elif isinstance(route, Route) and route.name:
                    index[namespace + route.name] = (
                        prefix + route.path_format, dict(route.param_convertors)
                    )

        walk(app.router.routes, "", "")
        app.yishi_route_index = index
    return index


def _mount_index(app: Any) -> dict[str, tuple[str, dict]]:
    """name -> (path format, convertors) of the top-level named mounts of an app (static
    files), whose only parameter is `path`."""
    index = getattr(app, "yishi_mount_index", None)
    if index is None:
        index = {
            route.name: (route.path_format, dict(route.param_convertors))
            for route in app.router.routes
            if isinstance(route, Mount) and route.name and not route.routes
            and set(route.param_convertors) == {"path"}
        }
        app.yishi_mount_index = index
    return index


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def is_htmx(request: Request) -> bool:
    """A fragment is wanted for htmx requests, but not for history restores (full page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> Response:
    """Render a page; for htmx requests render only `block` (when given) of the same template."""
    ctx = {
        "current_user": request.state.user if hasattr(request.state, "user") else None,
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        **(context or {}),
    }
    templates: Jinja2Blocks = request.app.state.templates
    kwargs: dict[str, Any] = {}
    if block and is_htmx(request):
        kwargs["block_name"] = block
        # Flashes stay for the next full page if the fragment does not show them.
        if ctx["flashes"] and block != "content":
            request.session.setdefault("_flashes", []).extend(ctx["flashes"])
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code, **kwargs)
    response.headers.append("Vary", "HX-Request")
    return response


def redirect(request: Request, url: str) -> Response:
    """POST → 303 redirect; for htmx requests, HX-Redirect so that htmx does a full navigation."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": str(url)})
    return RedirectResponse(str(url), status_code=303)


def safe_next(url: str | None, default: str) -> str:
    """Only local paths are followed after login or a language switch (no open redirects)."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    return url


# --- flash messages (in the signed session cookie) -----------------------------------------


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session.setdefault("_flashes", []).append([category, str(message)])


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "session" not in request.scope:
        return []
    return [tuple(x) for x in request.session.pop("_flashes", [])]


# --- CSRF: same-origin check (middleware) plus a session token in every form ---------------

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def csrf_token(request: Request) -> str:
    if "session" not in request.scope:
        return ""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def read_form(request: Request, *, max_files: int = 10) -> FormData:
    """The request's form, after checking the CSRF token (hidden field or htmx header)."""
    form = await request.form(max_files=max_files, max_fields=2000, max_part_size=8 * 1024 * 1024)
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD) or ""
    expected = request.session.get("csrf", "")
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise HTTPException(
            403, _("Your form has expired or came from another site. Please reload and try again.")
        )
    return form


class SameOriginMiddleware:
    """Refuse unsafe requests that a browser says come from another site (Datasette's way)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
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


class SecurityHeadersMiddleware:
    """A strict Content-Security-Policy (no inline script or style) on every response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                headers.setdefault("X-Frame-Options", "DENY")
            await send(message)

        await self.app(scope, receive, send_wrapper)


class LocaleMiddleware(starlette_babel.LocaleMiddleware):
    """starlette-babel's middleware, with each supported locale parsed once per process rather
    than on every request (the selectors and the fallbacks are the same)."""

    def detect_locale(self, conn: HTTPConnection) -> Locale:
        detected = self.default_locale
        for selector in self.selectors:
            if locale := selector(conn):
                detected = locale
                break
        variant = self._find_variant(detected.replace("-", "_")) or self.default_locale
        return parse_locale(variant)


class LocaleFromSessionUser:
    """The language a signed-in user chose (copied into the session at login / switch)."""

    def __call__(self, conn: HTTPConnection) -> str | None:
        if "session" in conn.scope:
            return conn.session.get("lang")
        return None


# --- the current user ----------------------------------------------------------------------


_ACTIVE_USER = Prepared(
    lambda uid: User.filter(id=uid, is_active=True).select_related("area").limit(2)
)


async def load_user(request: Request) -> User | None:
    """The signed-in user (one query per request, cached on request.state)."""
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    user_id = request.session.get("uid") if "session" in request.scope else None
    if user_id:
        user = await _ACTIVE_USER.first(user_id) if isinstance(user_id, int) else None
        if user is None:
            request.session.pop("uid", None)
    request.state.user = user
    return user


def login_required(endpoint: Callable[[Request], Awaitable[Response]]):
    """Send anonymous visitors to the login page, then back."""

    async def wrapper(request: Request) -> Response:
        user = await load_user(request)
        if user is None:
            if request.method != "GET":
                raise PermissionDenied(_("Please sign in first."))
            login = request.url_for("consult:login").include_query_params(
                next=request.url.path + ("?" + request.url.query if request.url.query else "")
            )
            flash(request, _("Please sign in first."), "info")
            return RedirectResponse(str(login), status_code=303)
        return await endpoint(request)

    wrapper.__name__ = endpoint.__name__
    wrapper.__doc__ = endpoint.__doc__
    return wrapper


def with_user(endpoint: Callable[[Request], Awaitable[Response]]):
    """Load the (optional) current user before a public page renders."""

    async def wrapper(request: Request) -> Response:
        await load_user(request)
        return await endpoint(request)

    wrapper.__name__ = endpoint.__name__
    wrapper.__doc__ = endpoint.__doc__
    return wrapper


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(message or _("You are not allowed to do this."))


async def get_object_or_404(queryset_or_model, **filters: Any):
    obj = await queryset_or_model.get_or_none(**filters)
    if obj is None:
        raise NotFound(_("Not found."))
    return obj


def int_param(value: str | None, default: int | None = None) -> int | None:
    try:
        return int(value) if value not in (None, "") else default
    except ValueError:
        return default


# --- pagination ----------------------------------------------------------------------------


@dataclass
class Page:
    items: list
    number: int
    size: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


async def paginate(queryset, page: int | None, size: int = 20) -> Page:
    total = await queryset.count()
    pages = max(1, math.ceil(total / size))
    number = min(max(1, page or 1), pages)
    items = await queryset.offset((number - 1) * size).limit(size)
    return Page(items=list(items), number=number, size=size, total=total)


# --- errors --------------------------------------------------------------------------------


def _error_page(request: Request, status: int, message: str) -> Response:
    titles = {
        403: _("Not allowed"),
        404: _("Page not found"),
        409: _("Conflict"),
        422: _("Cannot do that"),
    }
    try:
        return render(
            request,
            "error.html",
            {"status": status, "title": titles.get(status, _("Error")), "message": message},
            status_code=status,
        )
    except Exception:  # the error page must never fail itself
        return HTMLResponse(message, status_code=status)


def error_handlers() -> dict:
    async def domain_error(request: Request, exc: DomainError) -> Response:
        await load_user(request)
        return _error_page(request, exc.status_code, exc.message)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if "session" in request.scope:
            await load_user(request)
        message = exc.detail if exc.status_code != 404 else _("This page does not exist.")
        return _error_page(request, exc.status_code, str(message))

    return {DomainError: domain_error, HTTPException: http_error}
