"""Error pages: domain errors and HTTP errors shown as a page in the user's language."""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from core.errors import DomainError
from core.i18n import _
from core.web.render import render
from core.web.users import load_user


def _error_page(request: Request, status: int, message: str) -> Response:
    titles = {
        403: _("Not allowed"),
        404: _("Page not found"),
        409: _("Conflict"),
        422: _("Cannot do that"),
        429: _("Too many at once"),
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
