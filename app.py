"""yishi: the application factory.

`create_app(settings)` builds the Starlette app: middleware, the database lifespan and the
routes of each package. Settings and the database configuration are in `core.settings`; the
command line is `manage.py`. Nothing imports this module (uvicorn and the tests call
`create_app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette_babel import LocaleFromHeader
from tortoise.contrib.starlette import RegisterTortoise

import budget.routes
import consult.routes
import core.routes
from budget.services.counting import shutdown_count_workers
from consult.services.questionnaire_publishing import announce_opened_questionnaires
from core.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, load_translations
from core.models import Role
from core.settings import ROOT, Settings, prepare_files, tortoise_config
from core.ticker import tick_forever
from core.web import (
    BodyLimitMiddleware,
    LocaleFromCookie,
    LocaleFromQuery,
    LocaleFromSessionUser,
    LocaleMiddleware,
    RequestLogMiddleware,
    SameOriginMiddleware,
    SecurityHeadersMiddleware,
    configure_logging,
    error_handlers,
    make_templates,
    register_followables,
    register_panels,
    with_user,
)

# What falls due with time, run by every process once a minute (core.ticker).
PERIODIC_JOBS = [announce_opened_questionnaires]


@with_user
async def homepage(request: Request) -> Response:
    """Where `/` and signing in lead: a finance officer to their work (the finance view, with
    the procurements to act on), everyone else to the rounds."""
    user = request.state.user
    home = "budget:finance_overview" if user and user.role == Role.FINANCE else "budget:round_list"
    return RedirectResponse(request.url_for(home), status_code=302)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    prepare_files(settings)
    configure_logging(settings.log_level)
    load_translations()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            # What the process loaded to start (modules, catalogs, models: ~80,000 objects)
            # lives as long as it does: kept out of the cyclic collector's full passes, which
            # otherwise scan it all every few hundred requests and stall every request in
            # flight (~35 ms each time: most of the money pages' p99 under load).
            gc.collect()
            gc.freeze()
            ticker = asyncio.create_task(tick_forever(PERIODIC_JOBS))
            yield
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        shutdown_count_workers()

    middleware = [
        Middleware(RequestLogMiddleware),
        Middleware(BodyLimitMiddleware),
        Middleware(SecurityHeadersMiddleware, https_only=settings.https_only),
        Middleware(SameOriginMiddleware),
        Middleware(
            SessionMiddleware,
            secret_key=settings.secret_key,
            session_cookie="yishi_session",
            same_site="lax",
            https_only=settings.https_only,
            max_age=14 * 24 * 3600,
        ),
        Middleware(
            LocaleMiddleware,
            locales=SUPPORTED_LOCALES,
            default_locale=DEFAULT_LOCALE,
            selectors=[
                LocaleFromQuery(query_param="lang"),
                LocaleFromCookie(cookie_name="lang"),
                LocaleFromSessionUser(),
                LocaleFromHeader(supported_locales=SUPPORTED_LOCALES),
            ],
        ),
    ]
    routes = [
        Route("/", homepage, name="home"),
        Mount("/static", app=StaticFiles(directory=ROOT / "static"), name="static"),
        Mount("/budget", routes=budget.routes.routes, name="budget"),
        Mount("/consult", routes=consult.routes.routes, name="consult"),
        *consult.routes.root_routes,
        Mount("", routes=core.routes.routes, name="core"),
    ]
    app = Starlette(
        debug=settings.debug,
        routes=routes,
        middleware=middleware,
        lifespan=lifespan,
        exception_handlers=error_handlers(),
    )
    app.state.settings = settings
    app.state.templates = make_templates(ROOT / "templates", auto_reload=settings.debug)
    # Discussion, deliberation rounds and meetings on budgeting's pages, without budget
    # importing consult (core.web.panels).
    register_panels(app, consult.routes.PANELS)
    # What may be followed (core.web.follow): each package names its own kinds of subject.
    register_followables(app, budget.routes.FOLLOWABLES)
    register_followables(app, consult.routes.FOLLOWABLES)
    return app
