"""Database set-up shared by `make migrate`, the demo loader, tests and benchmarks, and row
locks that work the same on PostgreSQL and SQLite."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from tortoise import Tortoise, connections
from tortoise.migrations.api.migrate import migrate
from tortoise.models import Model


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


async def lock_rows(conn: Any, model: type[Model], ids: list[int]) -> list[Model]:
    """Lock rows for the rest of the transaction on `conn` and return them (in id order).

    PostgreSQL: SELECT … FOR UPDATE. SQLite has no row locks: a write to the rows first turns
    the transaction into a write transaction at once (what BEGIN IMMEDIATE does), so another
    process waits for it instead of both reading the same totals.
    """
    ids = sorted(set(ids))
    if not ids:
        return []
    if conn.capabilities.dialect == "sqlite":
        table = model._meta.db_table
        pk = model._meta.db_pk_column
        marks = ", ".join("?" for _ in ids)
        await conn.execute_query(
            f'UPDATE "{table}" SET "{pk}" = "{pk}" WHERE "{pk}" IN ({marks})', ids
        )
        return await model.filter(pk__in=ids).using_db(conn).order_by(model._meta.pk_attr)
    return (
        await model.filter(pk__in=ids)
        .select_for_update()
        .using_db(conn)
        .order_by(model._meta.pk_attr)
    )


def bind_named(dialect: str, sql: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`:name` placeholders → `?` (SQLite, positional: a name used twice is passed twice) or
    `$n` (PostgreSQL, one number per name), and the values in that order."""
    values: list[Any] = []
    numbers: dict[str, int] = {}

    def mark(match: re.Match) -> str:
        name = match.group(1)
        if dialect == "sqlite":
            values.append(params[name])
            return "?"
        if name not in numbers:
            values.append(params[name])
            numbers[name] = len(values)
        return f"${numbers[name]}"

    return re.sub(r":([a-z_]+)\b", mark, sql), values


async def select_named(sql: str, params: dict[str, Any]) -> list[Any]:
    """The rows of a plain SELECT with `:name` placeholders, on the default connection (for
    the few hot pages whose sums cost more to build through the ORM than to run)."""
    conn = connections.get("default")
    _n, rows = await conn.execute_query(*bind_named(conn.capabilities.dialect, sql, params))
    return rows
