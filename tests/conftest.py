"""Test fixtures: one migrated database per test session (SQLite file, or a fresh PostgreSQL
database when DATABASE_URL points at PostgreSQL), emptied between tests; an httpx client on
the ASGI app sharing that database."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise import Tortoise, connections

from app import create_app
from core.db import (
    create_postgres_database,
    drop_postgres_database,
    is_postgres,
    migrate_database,
)
from core.settings import Settings, tortoise_config
from tests.fixtures.pabulib_files import pabulib_dir, pabulib_files
from tests.helpers import app_client

ADMIN_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = is_postgres(ADMIN_URL)
E2E_DIR = Path(__file__).resolve().parent / "e2e"


def pytest_collection_modifyitems(config, items):
    """Every test under tests/e2e/ is a browser test: mark it `e2e` so `-m "not e2e"` leaves
    it out (a `pytestmark` in a conftest.py marks nothing)."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)


def pytest_terminal_summary(terminalreporter):
    """Say once, at the end (with -q too), where the real Pabulib elections were read from, or
    how many tests skipped for want of them: a fresh clone has no ../shared/pabulib."""
    if terminalreporter.config.option.collectonly:
        return
    folder = pabulib_dir()
    files = pabulib_files()
    if files:
        terminalreporter.write_line(f"Pabulib files: {folder} ({len(files)} files)")
        return
    skipped = [
        report
        for report in terminalreporter.stats.get("skipped", [])
        if str(folder) in str(report.longrepr)
    ]
    if skipped:
        terminalreporter.write_line(
            f"Pabulib files not found at {folder}: {len(skipped)} real-election tests skipped; "
            "set PABULIB_DIR",
            yellow=True,
        )


@pytest_asyncio.fixture(scope="session")
async def database_url():
    """A migrated database for the whole session."""
    if ON_POSTGRES:
        name = f"yishi_test_{os.getpid()}"
        url = await create_postgres_database(ADMIN_URL, name)
    else:
        tmp = tempfile.mkdtemp(prefix="yishi-test-")
        url = f"sqlite://{tmp}/test.sqlite3"
    config = tortoise_config(url)
    await migrate_database(config)
    await Tortoise.init(config=config)
    yield url
    await Tortoise.close_connections()
    if ON_POSTGRES:
        await drop_postgres_database(ADMIN_URL, name)


def _tables() -> list[str]:
    names = []
    for app in Tortoise.apps.values():
        for model in app.values():
            names.append(model._meta.db_table)
    return names


@pytest_asyncio.fixture
async def db(database_url):
    """An empty database for each test."""
    yield database_url
    await empty_database()


async def empty_database() -> None:
    """Delete every row of every table (a property test empties it between examples too)."""
    conn = connections.get("default")
    # The page stamp's one row stays (core.page_stamps): emptying the tables moves it.
    tables = [t for t in _tables() if t != "page_stamp"]
    if ON_POSTGRES:
        quoted = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE")
    else:
        script = "PRAGMA foreign_keys = OFF;" + "".join(f'DELETE FROM "{t}";' for t in tables)
        await conn.execute_script(script + "PRAGMA foreign_keys = ON;")


@pytest.fixture
def settings(tmp_path: Path, database_url) -> Settings:
    return Settings(
        database_url=database_url,
        secret_key="test-secret",
        upload_dir=tmp_path / "uploads",
    )


@pytest.fixture
def app(settings):
    return create_app(settings)


@pytest_asyncio.fixture
async def client(app, db):
    async with app_client(app) as c:
        yield c
