"""Request logs as one JSON object per line, and the request id that ties a log line to the
page a resident saw ("reference: 3f9c…" on every error page, `X-Request-ID` on every response).

A line says when, which route (its path template, never the path itself, which may hold a
receipt code), the method, status, time taken and the signed-in user's id. Never query
strings, form contents, cookies or passwords. A request that fails is logged with its
exception.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sys
import time
from datetime import UTC, datetime

from starlette.datastructures import MutableHeaders
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOGGER = "yishi.request"
# An id from the reverse proxy is kept when it looks like one (letters, digits, dashes).
INCOMING_ID = re.compile(r"[A-Za-z0-9-]{8,64}")


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message and the record's `fields`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "fields", {}),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(level: str = "info") -> None:
    """yishi's loggers write JSON lines to stderr at `level` ("info" logs every request,
    "warning" only failures); the handler is added once per process."""
    root = logging.getLogger("yishi")
    root.setLevel(logging.getLevelName(level.upper()) if level else logging.INFO)
    root.propagate = False
    if any(isinstance(h.formatter, JsonFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)


def request_id(scope: Scope) -> str:
    """The id of the request being served ("" outside one)."""
    return scope.get("state", {}).get("request_id", "")


def _route_template(scope: Scope) -> str:
    """The matched route's path template ("" when none matched: a mount's 404)."""
    route = scope.get("route")
    if not isinstance(route, Route):
        return ""
    return scope.get("root_path", "") + route.path


def _user_id(scope: Scope) -> int | None:
    user = scope.get("state", {}).get("user")
    return getattr(user, "id", None)


class RequestLogMiddleware:
    """Give each request an id and log it when it ends (outermost, so it sees every status)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.logger = logging.getLogger(LOGGER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if INCOMING_ID.fullmatch(incoming) else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).setdefault("X-Request-ID", rid)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            self._log(scope, rid, 500, started, failed=True)
            raise
        self._log(scope, rid, status, started)

    def _log(self, scope: Scope, rid: str, status: int, started: float, failed: bool = False):
        fields = {
            "request_id": rid,
            "method": scope.get("method", ""),
            "route": _route_template(scope),
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "user_id": _user_id(scope),
        }
        if failed:
            self.logger.error("request failed", exc_info=True, extra={"fields": fields})
        else:
            self.logger.info("request", extra={"fields": fields})
