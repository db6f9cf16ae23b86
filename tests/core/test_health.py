"""The probes: /healthz answers while the process runs; /readyz only when the database
answers with every shipped migration applied."""

from __future__ import annotations

from tortoise import connections

from core.routes.health import shipped_migrations
from tests.helpers import app_client


async def test_healthz_and_readyz_answer_ok_on_a_migrated_database(app, db):
    async with app_client(app) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    assert ready.status_code == 200 and ready.json() == {"status": "ok", "database": "ok"}
    assert ready.headers["cache-control"] == "no-store"


async def test_readyz_names_a_migration_the_database_lacks(app, db):
    conn = connections.get("default")
    app_name, name = max(shipped_migrations())
    await conn.execute_query(
        f"DELETE FROM tortoise_migrations WHERE app = '{app_name}' AND name = '{name}'"
    )
    try:
        async with app_client(app) as client:
            ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["pending_migrations"] == [f"{app_name}.{name}"]
    finally:
        await conn.execute_query(
            "INSERT INTO tortoise_migrations (app, name, applied_at)"
            f" VALUES ('{app_name}', '{name}', CURRENT_TIMESTAMP)"
        )


def test_every_app_ships_its_first_migration():
    found = shipped_migrations()
    assert {("core", "0001_initial"), ("budget", "0001_initial"), ("consult", "0001_initial")} <= (
        found
    )
