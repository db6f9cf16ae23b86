"""Passwords: a signed-in user changes theirs; staff and grid workers make one-time reset
codes (never a password); with a code, a resident sets a new password on a public page."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import ValidationError
from core.i18n import _
from core.models import Role, User
from core.permissions import can
from core.services import accounts, auth, reset_codes
from core.web import (
    client_address,
    flash,
    get_object_or_404,
    int_param,
    login_required,
    paginate,
    private,
    read_form,
    redirect,
    render,
    require,
    start_session,
    with_user,
)


def _home(request: Request) -> str:
    return str(request.url_for("home"))


def _typed(form: Any, *names: str) -> dict[str, str]:
    """What the user typed, to show again (never a password or a code)."""
    return {name: str(form.get(name, "")) for name in names}


@login_required
async def password_change(request: Request) -> Response:
    """A signed-in user sets a new password, giving the current one; every other session of
    the account ends, this one goes on."""
    user = request.state.user
    if request.method == "POST":
        form = await read_form(request)
        try:
            version = await auth.change_password(user, form, client_address(request))
        except ValidationError as exc:
            return render(
                request,
                "core/password_change.html",
                {"errors": exc.errors, "values": {}},
                status_code=exc.status_code,
            )
        request.session["sv"] = version
        flash(
            request,
            _("Your password has been changed. Every other device has been signed out."),
        )
        return redirect(request, _home(request))
    return render(request, "core/password_change.html", {"errors": {}, "values": {}})


@with_user
async def password_reset(request: Request) -> Response:
    """Public: a resident sets a new password with the one-time reset code that a council
    member or their grid worker handed them; then they are signed in."""
    values = {"username": request.query_params.get("username", "")}
    if request.method == "POST":
        form = await read_form(request)
        try:
            user = await reset_codes.set_password_with_code(form, client_address(request))
        except ValidationError as exc:
            return render(
                request,
                "core/password_reset.html",
                {"errors": exc.errors, "values": _typed(form, "username")},
                status_code=exc.status_code,
            )
        start_session(request, user)
        flash(request, _("Your new password is set, {name}. You are signed in.", name=str(user)))
        return redirect(request, _home(request))
    return render(request, "core/password_reset.html", {"errors": {}, "values": values})


@login_required
async def reset_code_list(request: Request) -> Response:
    """The accounts the user may make a reset code for (a grid worker: the residents of their
    area), searched by name or username."""
    user = request.state.user
    require(
        user.role in (Role.GRID_WORKER, Role.COUNCIL, Role.ADMIN),
        _("Only grid workers, council members and administrators make reset codes."),
    )
    q = request.query_params.get("q", "").strip()[:100]
    page = await paginate(
        reset_codes.reset_candidates(user, q), int_param(request.query_params.get("page"), 1), 25
    )
    return render(request, "core/reset_code_list.html", {"page": page, "q": q}, block="results")


@login_required
async def reset_code(request: Request) -> Response:
    """Make a one-time reset code for an account: GET asks to confirm, POST shows the new code
    once (never stored in clear, never cached), to hand over in person."""
    user = request.state.user
    target = await get_object_or_404(
        User.all().select_related("area"), id=request.path_params["user_id"]
    )
    require(
        can(user, "issue_reset_code", target),
        _("You may not make a reset code for this account."),
    )
    if request.method == "POST":
        await read_form(request)
        issued = await reset_codes.issue_reset_code(user, target)
        response = render(
            request,
            "core/reset_code.html",
            {"target": target, "issued": issued, "format_code": accounts.format_code},
        )
        response.headers["Cache-Control"] = "no-store"
        return response
    return render(request, "core/reset_code.html", {"target": target, "issued": None})


routes = [
    Route(
        "/account/password",
        private(password_change),
        methods=["GET", "POST"],
        name="password_change",
    ),
    Route(
        "/password/reset", private(password_reset), methods=["GET", "POST"], name="password_reset"
    ),
    Route("/reset-codes", private(reset_code_list), name="reset_code_list"),
    Route(
        "/accounts/{user_id:int}/reset-code",
        private(reset_code),
        methods=["GET", "POST"],
        name="reset_code",
    ),
]
