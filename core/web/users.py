"""The signed-in user of a request, and the decorators and checks endpoints use."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from tortoise.expressions import RawSQL

from core.errors import NotFound, PermissionDenied
from core.i18n import _
from core.models import User
from core.prepared import Prepared
from core.web.kept_forms import (
    KEPT_KEY,
    form_page,
    keep_form,
    read_form_quietly,
    session_expired_message,
)
from core.web.render import flash, is_htmx

Endpoint = Callable[[Request], Awaitable[Response]]

# The signed-in user, with the count of their unread notifications for the header's badge:
# one indexed count (notification's index on user_id, read_at) in the same query, so a page
# costs no extra round trip for it.
UNREAD_NOTIFICATIONS = RawSQL(
    '(SELECT COUNT(*) FROM "notification" WHERE "notification"."user_id" = "account"."id"'
    ' AND "notification"."read_at" IS NULL)'
)
_ACTIVE_USER = Prepared(
    lambda uid: (
        User.filter(id=uid, is_active=True)
        .select_related("area")
        .annotate(unread_notifications=UNREAD_NOTIFICATIONS)
        .limit(2)
    )
)

# A session ends this long after sign-in, however often it is used (the cookie's own max_age
# slides with every response).
SESSION_LIFETIME = timedelta(days=14)
# What the session holds about the signed-in user: the account, its session version at
# sign-in (`User.session_version`), and the sign-in time (seconds since the epoch).
SESSION_KEYS = ("uid", "sv", "at")


def _now() -> float:
    return time.time()


def client_address(request: Request) -> str:
    """The address guesses are throttled by (behind a reverse proxy, the one the proxy names:
    uvicorn's --proxy-headers with --forwarded-allow-ips)."""
    return request.client.host if request.client else "unknown"


def start_session(request: Request, user: User) -> None:
    """A new session for `user`: nothing from before carries over (session fixation) but the
    language."""
    lang = request.session.get("lang")
    kept = request.session.get(KEPT_KEY)  # a form to fill again after signing in
    request.session.clear()
    if kept:
        request.session[KEPT_KEY] = kept
    request.session.update(uid=user.id, sv=user.session_version, at=int(_now()))
    if user.locale:
        request.session["lang"] = user.locale
    elif lang:
        request.session["lang"] = lang


def end_session(request: Request) -> None:
    """Forget the signed-in user (the language and the CSRF token stay)."""
    for key in SESSION_KEYS:
        request.session.pop(key, None)


def _session_valid(session: dict, user: User) -> bool:
    signed_in_at = session.get("at")
    return (
        session.get("sv") == user.session_version
        and isinstance(signed_in_at, int)
        and _now() - signed_in_at < SESSION_LIFETIME.total_seconds()
    )


async def load_user(request: Request) -> User | None:
    """The signed-in user (one query per request, cached on request.state); None when the
    session was revoked (its version is old) or is older than SESSION_LIFETIME. The user
    comes with `unread_notifications`, the count the header shows."""
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    user_id = request.session.get("uid") if "session" in request.scope else None
    if user_id:
        user = await _ACTIVE_USER.first(user_id) if isinstance(user_id, int) else None
        if user is None or not _session_valid(request.session, user):
            user = None
            end_session(request)
    request.state.user = user
    return user


def login_required(endpoint: Endpoint) -> Endpoint:
    """Send anonymous visitors to the login page, then back."""

    async def wrapper(request: Request) -> Response:
        user = await load_user(request)
        if user is None:
            if request.method != "GET":
                page = form_page(request)
                if page is None or is_htmx(request):
                    raise PermissionDenied(_("Please sign in first."))
                # the session expired while a form was being filled: sign in, then back to
                # the form with what was typed (nothing is done with it meanwhile)
                form = await read_form_quietly(request)
                login = request.url_for("core:login").include_query_params(next=page)
                if form is not None:
                    keep_form(request, form, page)
                flash(request, session_expired_message(sign_in=True), "info")
                return RedirectResponse(str(login), status_code=303)
            login = request.url_for("core:login").include_query_params(
                next=request.url.path + ("?" + request.url.query if request.url.query else "")
            )
            flash(request, _("Please sign in first."), "info")
            return RedirectResponse(str(login), status_code=303)
        return await endpoint(request)

    wrapper.__name__ = endpoint.__name__
    wrapper.__doc__ = endpoint.__doc__
    return wrapper


def with_user(endpoint: Endpoint) -> Endpoint:
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


async def get_object_or_404(queryset_or_model: Any, **filters: Any) -> Any:
    obj = await queryset_or_model.get_or_none(**filters)
    if obj is None:
        raise NotFound(_("Not found."))
    return obj
