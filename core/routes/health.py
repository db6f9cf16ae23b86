"""Probes for load balancers and orchestrators: `/healthz` says the process answers, `/readyz`
that it can serve (the database answers and every migration shipped with the code is applied).
Plain JSON, no personal data, no sign-in, never cached."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import connections

from core.settings import APPS, ROOT

NO_STORE = {"Cache-Control": "no-store"}


def shipped_migrations(root: Path = ROOT, apps: tuple[str, ...] = APPS) -> set[tuple[str, str]]:
    """(app, name) of every migration file in the code."""
    return {
        (app, path.stem) for app in apps for path in (root / app / "migrations").glob("[0-9]*.py")
    }


async def pending_migrations() -> list[str]:
    """The shipped migrations the database has not applied, as "app.name", sorted."""
    conn = connections.get("default")
    _n, rows = await conn.execute_query("SELECT app, name FROM tortoise_migrations")
    applied = {(row["app"], row["name"]) for row in rows}
    return sorted(f"{app}.{name}" for app, name in shipped_migrations() - applied)


async def healthz(request: Request) -> Response:
    """The process is up and answering."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def readyz(request: Request) -> Response:
    """Ready for traffic: the database answers and its schema is the code's (503 otherwise)."""
    try:
        pending = await pending_migrations()
    except Exception:  # any failure to reach or read the database means "not ready"
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"}, status_code=503, headers=NO_STORE
        )
    if pending:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "pending_migrations": pending},
            status_code=503,
            headers=NO_STORE,
        )
    return JSONResponse({"status": "ok", "database": "ok"}, headers=NO_STORE)


routes = [
    Route("/healthz", healthz, name="healthz"),
    Route("/readyz", readyz, name="readyz"),
]
