"""Error pages: domain errors, HTTP errors and server errors shown as a page in the user's
language, each with the request's reference (its id in the logs) to quote."""

from __future__ import annotations

import logging

from markupsafe import escape
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from tortoise.exceptions import ValidationError as ModelValidationError

from core.errors import DomainError
from core.i18n import _
from core.web.kept_forms import form_page, keep_form, session_expired_message
from core.web.logs import request_id
from core.web.render import flash, is_htmx, redirect, render
from core.web.security import CsrfRefused, security_headers
from core.web.users import load_user

log = logging.getLogger("yishi.request")


def _error_page(request: Request, status: int, message: str) -> Response:
    titles = {
        403: _("Not allowed"),
        404: _("Page not found"),
        409: _("Conflict"),
        413: _("Too large"),
        422: _("Cannot do that"),
        429: _("Too many at once"),
        500: _("Something went wrong"),
    }
    reference = request_id(request.scope)
    try:
        return render(
            request,
            "error.html",
            {
                "status": status,
                "title": titles.get(status, _("Error")),
                "message": message,
                "reference": reference,
            },
            status_code=status,
        )
    except Exception:  # the error page must never fail itself
        return HTMLResponse(f"<p>{escape(message)}</p><p>{escape(reference)}</p>", status)


def error_handlers() -> dict:
    async def domain_error(request: Request, exc: DomainError) -> Response:
        await load_user(request)
        return _error_page(request, exc.status_code, exc.message)

    async def http_error(request: Request, exc: HTTPException) -> Response:
        if "session" in request.scope:
            await load_user(request)
        message = exc.detail if exc.status_code != 404 else _("This page does not exist.")
        page = form_page(request) if isinstance(exc, CsrfRefused) else None
        if page and not is_htmx(request):
            # an aged token (a page left open, a session renewed elsewhere): back to the form
            # with what was typed and a fresh token, not a bare 403
            return back_to_form(request, exc.form, page, session_expired_message())
        if exc.status_code == 413 and is_htmx(request):
            # htmx swaps nothing on an error: the message alone, which static/js/yishi.js
            # shows; the form and what was typed stay as they are.
            return PlainTextResponse(str(message), 413)
        return _error_page(request, exc.status_code, str(message))

    async def server_error(request: Request, exc: Exception) -> Response:
        # Served by Starlette's outermost middleware, outside ours: the headers are set here.
        response = _error_page(
            request,
            500,
            _(
                "Sorry, something went wrong on our side and nothing was changed by it. If it "
                "happens again, tell the council this page's reference."
            ),
        )
        settings = getattr(request.app.state, "settings", None)
        for name, value in security_headers(getattr(settings, "https_only", False)).items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("X-Request-ID", request_id(request.scope))
        return response

    async def model_error(request: Request, exc: ModelValidationError) -> Response:
        # A value the forms let through but a column cannot hold (text longer than the
        # column, looked up or stored): the request is refused, not a 500. Logged with the
        # field's name only, never the value (it is what a user typed).
        field = str(exc).split(":", 1)[0][:64]
        log.warning(
            "value refused by the model",
            extra={"fields": {"request_id": request_id(request.scope), "field": field}},
        )
        if "session" in request.scope:
            await load_user(request)
        return _error_page(
            request, 422, _("A value you sent is too long or not valid here. Nothing was saved.")
        )

    return {
        DomainError: domain_error,
        HTTPException: http_error,
        ModelValidationError: model_error,
        Exception: server_error,
    }


def back_to_form(request: Request, form: FormData | None, page: str, message: str) -> Response:
    """Keep what was typed and go back to the form's page (or sign-in, then there) with
    `message`."""
    if form is not None:
        keep_form(request, form, page)
    flash(request, message, "info")
    return redirect(request, page)
