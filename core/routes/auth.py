"""Sign in, sign out (everywhere), switch language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.errors import ValidationError
from core.i18n import SUPPORTED_LOCALES, _
from core.services import auth
from core.web import (
    client_address,
    end_session,
    flash,
    load_user,
    private,
    read_form,
    redirect,
    render,
    safe_next,
    start_session,
    with_user,
)


def _default_next(request: Request) -> str:
    return str(request.url_for("home"))


@with_user
async def login(request: Request) -> Response:
    """The sign-in form; on success a new session holds the user id, the account's session
    version and the sign-in time."""
    next_url = safe_next(request.query_params.get("next"), _default_next(request))
    values = {"username": ""}
    if request.method == "POST":
        form = await read_form(request)
        values["username"] = str(form.get("username", ""))
        next_url = safe_next(str(form.get("next", "")), next_url)
        try:
            password = str(form.get("password", ""))
            user = await auth.authenticate(values["username"], password, client_address(request))
        except ValidationError as exc:
            return render(
                request,
                "core/login.html",
                {"error": exc.message, "values": values, "next": next_url},
                status_code=exc.status_code,
            )
        start_session(request, user)
        flash(request, _("Welcome, {name}.", name=user.display_name))
        return redirect(request, next_url)
    return render(request, "core/login.html", {"values": values, "next": next_url})


async def logout(request: Request) -> Response:
    """Sign out (POST only, so that a link cannot sign anyone out): every session of the
    account ends, on this device and on any other."""
    await read_form(request)
    user = await load_user(request)
    if user is not None:
        await auth.sign_out_everywhere(user)
    end_session(request)
    flash(request, _("You have signed out, here and on every other device."), "info")
    return redirect(request, str(request.url_for("home")))


async def switch_language(request: Request) -> Response:
    """A plain link (GET) switches the language; it is remembered in a cookie and the account."""
    lang = request.query_params.get("to", "")
    next_url = safe_next(request.query_params.get("next"), _default_next(request))
    response = RedirectResponse(next_url, status_code=303)
    if lang in SUPPORTED_LOCALES:
        request.session["lang"] = lang
        response.set_cookie("lang", lang, max_age=365 * 24 * 3600, samesite="lax")
        user = await load_user(request)
        if user is not None:
            await auth.set_user_locale(user, lang)
    return response


routes = [
    Route("/login", private(login), methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/language", switch_language, methods=["GET"], name="language"),
]
