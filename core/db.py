"""Database set-up shared by `make migrate`, the demo loader, tests and benchmarks."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from tortoise import Tortoise
from tortoise.migrations.api.migrate import migrate


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://", "asyncpg://"))


def with_database_name(database_url: str, name: str) -> str:
    parts = urlsplit(database_url)
    return urlunsplit(parts._replace(path="/" + name))


async def _admin_execute(database_url: str, sql: str) -> None:
    import asyncpg

    parts = urlsplit(database_url)
    conn = await asyncpg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        database=(parts.path or "/postgres").lstrip("/") or "postgres",
    )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def create_postgres_database(admin_url: str, name: str) -> str:
    """Create a fresh PostgreSQL database next to the one in `admin_url`; return its URL."""
    await _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_execute(admin_url, f'CREATE DATABASE "{name}"')
    return with_database_name(admin_url, name)


async def drop_postgres_database(admin_url: str, name: str) -> None:
    await _admin_execute(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def migrate_database(config: dict) -> None:
    """Apply every migration of every app (what `tortoise migrate` does)."""
    await migrate(config=config)
    await Tortoise.close_connections()
