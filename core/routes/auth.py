"""Sign in, sign out, switch language."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.audit import record
from core.errors import ValidationError
from core.i18n import SUPPORTED_LOCALES, _
from core.services import auth
from core.web import flash, load_user, read_form, redirect, render, safe_next, with_user


def _default_next(request: Request) -> str:
    return str(request.url_for("home"))


@with_user
async def login(request: Request) -> Response:
    """The sign-in form; on success the session holds only the user id and CSRF token."""
    next_url = safe_next(request.query_params.get("next"), _default_next(request))
    values = {"username": ""}
    if request.method == "POST":
        form = await read_form(request)
        values["username"] = str(form.get("username", ""))
        next_url = safe_next(str(form.get("next", "")), next_url)
        client = request.client.host if request.client else "unknown"
        try:
            password = str(form.get("password", ""))
            user = await auth.authenticate(values["username"], password, client)
        except ValidationError as exc:
            return render(
                request,
                "core/login.html",
                {"error": exc.message, "values": values, "next": next_url},
                status_code=422,
            )
        # A new session on sign-in: nothing from before carries over (session fixation).
        lang = request.session.get("lang")
        request.session.clear()
        request.session["uid"] = user.id
        if user.locale:
            request.session["lang"] = user.locale
        elif lang:
            request.session["lang"] = lang
        flash(request, _("Welcome, {name}.", name=user.display_name))
        return redirect(request, next_url)
    return render(request, "core/login.html", {"values": values, "next": next_url})


async def logout(request: Request) -> Response:
    """Sign out ends the session (POST only, so that a link cannot sign anyone out)."""
    await read_form(request)
    user = await load_user(request)
    if user is not None:
        await record(user, "logout", user)
    lang = request.session.get("lang")
    request.session.clear()
    if lang:
        request.session["lang"] = lang
    flash(request, _("You have signed out."), "info")
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
    Route("/login", login, methods=["GET", "POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
    Route("/language", switch_language, methods=["GET"], name="language"),
]
