"""Which language a request is shown in."""

from __future__ import annotations

import starlette_babel
from babel import Locale
from starlette.requests import HTTPConnection

from core.i18n import parse_locale


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
