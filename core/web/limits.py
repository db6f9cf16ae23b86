"""Request body limits: a body larger than its route allows is refused with 413 before anything
parses it — by its `Content-Length` before a byte is read, and while it streams (a chunked
body, or one longer than it said) by counting what arrives and stopping there.

An endpoint declares its limit next to its code with `@body_limit(n)`, as its OUTERMOST
decorator (`login_required` does not copy attributes), `n` in bytes or a function of the
settings (photo forms: the per-photo maximum is a setting); every other endpoint gets
DEFAULT_BODY_LIMIT, enough for a plain form with a few thousand characters of Chinese.

`BodyLimitMiddleware` only wraps `receive`: the limit is looked up when the endpoint first
asks for the body, once routing has named the endpoint (`scope["endpoint"]`) and before
anything is read. Anonymous requests to pages that need a sign-in are turned away before they
read any body at all. The refusal is an HTTPException(413), so the error page is the usual
one (translated, security headers, the request's reference); htmx requests get the message
alone (core.web.errors).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.i18n import _

KB = 1024
MB = 1024 * KB

# A plain form: the longest text most forms take is 5,000 characters, at most 60 KB once
# percent-encoded (12 bytes for a 4-byte character), with the other fields beside it.
DEFAULT_BODY_LIMIT = 128 * KB
# Forms with a 20,000-character text (a round's description, a deliberation round's, minutes).
LONG_TEXT_LIMIT = 1 * MB
# What a multipart form adds around its files (the other fields, boundaries, part headers).
FORM_MARGIN = 256 * KB

Limit = int | Callable[[Any], int]
E = TypeVar("E")


def body_limit(limit: Limit) -> Callable[[E], E]:
    """Declare the largest body an endpoint accepts: bytes, or a function of the settings."""

    def mark(endpoint: E) -> E:
        endpoint.body_limit = limit  # type: ignore[attr-defined]
        return endpoint

    return mark


def format_size(size: int) -> str:
    if size >= MB:
        return f"{size / MB:.0f} MB"
    return f"{size // KB} KB"


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            _(
                "What you sent is too large: at most {size} can be sent here. Nothing was "
                "saved; go back and send less (smaller or fewer files).",
                size=format_size(limit),
            ),
        )
        self.limit = limit


def route_limit(scope: Scope, default: int = DEFAULT_BODY_LIMIT) -> int:
    """The limit of the endpoint the request was routed to (the default before routing)."""
    limit = getattr(scope.get("endpoint"), "body_limit", None)
    if limit is None:
        return default
    if callable(limit):
        return int(limit(scope["app"].state.settings))
    return int(limit)


def declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    """Refuse (413) a body over its route's limit: by its Content-Length before reading, and
    by counting while it streams. Pure ASGI: nothing is buffered here."""

    def __init__(self, app: ASGIApp, default: int = DEFAULT_BODY_LIMIT) -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit: int | None = None
        received = 0

        async def limited_receive() -> Message:
            nonlocal limit, received
            if limit is None:
                limit = route_limit(scope, self.default)
                declared = declared_length(scope)
                if declared is not None and declared > limit:
                    raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
