"""Sign in, sign out (everywhere), switch language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.errors import ValidationError
from core.i18n import SUPPORTED_LOCALES, _
from core.services import auth
from core.web import (
    body_limit,
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
from core.web.kept_forms import keep_form
from core.web.limits import LONG_TEXT_LIMIT


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


@body_limit(LONG_TEXT_LIMIT)
async def switch_language(request: Request) -> Response:
    """Switch the language; it is remembered in a cookie and the account. A plain link (GET),
    or, on a page with a form, a button that sends the form here (POST) so that what was typed
    is kept for the page (core.web.kept_forms) and shown again in the other language, also
    without JavaScript. Only a path on this site is followed."""
    lang = request.query_params.get("to", "")
    next_url = safe_next(request.query_params.get("next"), _default_next(request))
    if request.method == "POST":
        # the CSRF token the form carries is checked: an aged one is the usual "session
        # expired" page, back to the form with what was typed (core.web.errors)
        form = await read_form(request)
        if next_url != _default_next(request):
            keep_form(request, form, next_url, request.query_params.get("form"))
        await form.close()
        response = redirect(request, next_url)
    else:
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
    Route("/language", switch_language, methods=["GET", "POST"], name="language"),
]
