"""Which language a request is shown in."""

from __future__ import annotations

import starlette_babel
from babel import Locale
from starlette.datastructures import MutableHeaders
from starlette.requests import HTTPConnection
from starlette.types import Message, Receive, Scope, Send

from core.i18n import parse_locale


class LocaleMiddleware(starlette_babel.LocaleMiddleware):
    """starlette-babel's middleware, with what depends only on the locale (the parsed locale,
    its writing direction) worked out once per process rather than on every request; the
    selectors, the fallbacks and what a request carries (`scope["state"]`: locale, language,
    text_direction; the Content-Language header) are starlette-babel's."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        locale = self.detect_locale(HTTPConnection(scope))
        language = locale.language

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("content-language", language)
            await send(message)

        starlette_babel.set_locale(locale)
        scope.setdefault("state", {})
        scope["state"].update(
            {"locale": locale, "language": language, "text_direction": _direction(locale)}
        )
        await self.app(scope, receive, send_wrapper)

    def detect_locale(self, conn: HTTPConnection) -> Locale:
        detected = self.default_locale
        for selector in self.selectors:
            if locale := selector(conn):
                detected = locale
                break
        variant = self._find_variant(detected.replace("-", "_")) or self.default_locale
        return parse_locale(variant)


_DIRECTIONS: dict[str, str] = {}  # locale -> "ltr" / "rtl": Babel's data, fixed per process


def _direction(locale: Locale) -> str:
    key = str(locale)
    direction = _DIRECTIONS.get(key)
    if direction is None:
        direction = _DIRECTIONS[key] = starlette_babel.get_text_direction(locale)
    return direction


class LocaleFromQuery(starlette_babel.LocaleFromQuery):
    """`?lang=…`; the query string is parsed only when it may hold the parameter (most
    requests have none)."""

    def __call__(self, conn: HTTPConnection) -> str | None:
        query = conn.scope.get("query_string", b"")
        if self.query_param.encode() not in query and b"%" not in query:
            return None
        return super().__call__(conn)


class LocaleFromCookie(starlette_babel.LocaleFromCookie):
    """The language cookie; the Cookie header is parsed only when it may hold it."""

    def __call__(self, conn: HTTPConnection) -> str | None:
        name = self.cookie_name.encode()
        if not any(key == b"cookie" and name in value for key, value in conn.scope["headers"]):
            return None
        return super().__call__(conn)


class LocaleFromSessionUser:
    """The language a signed-in user chose (copied into the session at login / switch)."""

    def __call__(self, conn: HTTPConnection) -> str | None:
        if "session" in conn.scope:
            return conn.session.get("lang")
        return None
