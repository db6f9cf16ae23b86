"""Security on every request: CSRF (a same-origin check in middleware plus a session token in
every form), and strict security headers (no inline script or style)."""

from __future__ import annotations

import functools
import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import FormData, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import HTMLResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import _

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
