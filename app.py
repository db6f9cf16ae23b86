"""yishi: the application factory, settings and database configuration.

`create_app(settings)` builds the Starlette app; `TORTOISE_ORM` is what the `tortoise` CLI
(`[tool.tortoise]` in pyproject.toml) and `make migrate` use.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette_babel import LocaleFromCookie, LocaleFromHeader, LocaleFromQuery
from tortoise.contrib.starlette import RegisterTortoise

import budget.routes
import consult.routes
from consult.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, load_translations
from consult.web import (
    LocaleFromSessionUser,
    LocaleMiddleware,
    SameOriginMiddleware,
    SecurityHeadersMiddleware,
    error_handlers,
    make_templates,
)

ROOT = Path(__file__).resolve().parent
DATA_DIR = ROOT / "data"


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under data/."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = DATA_DIR / "secret_key"
    if not path.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get(
            "DATABASE_URL", f"sqlite://{DATA_DIR / 'yishi.sqlite3'}"
        )
    )
    secret_key: str = field(default_factory=_secret_key)
    upload_dir: Path = field(
        default_factory=lambda: Path(os.environ.get("UPLOAD_DIR", DATA_DIR / "uploads"))
    )
    # Cookies marked Secure only behind HTTPS (set HTTPS_ONLY=1 in production).
    https_only: bool = field(default_factory=lambda: os.environ.get("HTTPS_ONLY") == "1")
    max_photo_bytes: int = 5 * 1024 * 1024
    debug: bool = field(default_factory=lambda: os.environ.get("DEBUG") == "1")


def tortoise_config(database_url: str) -> dict:
    return {
        "connections": {"default": database_url},
        "apps": {
            "consult": {
                "models": ["consult.models"],
                "default_connection": "default",
                "migrations": "consult.migrations",
            },
            "budget": {
                "models": ["budget.models"],
                "default_connection": "default",
                "migrations": "budget.migrations",
            },
        },
        "use_tz": True,
        "timezone": "UTC",
    }


TORTOISE_ORM = tortoise_config(Settings(secret_key="cli").database_url)


async def homepage(request):
    from starlette.responses import RedirectResponse

    return RedirectResponse(request.url_for("budget:round_list"), status_code=302)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    settings.upload_dir.mkdir(parents=True, exist_ok=True)
    load_translations()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with RegisterTortoise(app, config=tortoise_config(settings.database_url)):
            yield

    middleware = [
        Middleware(SecurityHeadersMiddleware),
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
        Mount("", routes=consult.routes.routes, name="consult"),
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
    return app
