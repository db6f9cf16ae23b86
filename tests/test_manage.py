"""The command line: a production database never gets the demo district, and the first
administrator's password is the operator's own."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

import manage
from core.services.auth import check_password
from core.settings import default_database_url

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEMO", "ADMIN_PASSWORD")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def database(tmp_path) -> dict[str, str]:
    """A migrated SQLite database of its own (as a deployment's DATABASE_URL would name)."""
    env = {"DATABASE_URL": f"sqlite://{tmp_path}/prod.sqlite3"}
    assert run("migrate", env=env).returncode == 0
    env["path"] = str(tmp_path / "prod.sqlite3")
    return env


def accounts(env: dict[str, str]) -> list[tuple]:
    with sqlite3.connect(env["path"]) as conn:
        return conn.execute("SELECT username, role, password_hash FROM account").fetchall()


def test_demo_data_goes_only_into_the_embedded_database(database, monkeypatch):
    done = run("demo", env=database)
    assert done.returncode == 0
    assert "Demo data not loaded" in done.stdout
    assert accounts(database) == []
    logins = run("logins", env=database)
    assert "demo-pass-2026" not in logins.stdout and "No demo accounts" in logins.stdout
    monkeypatch.delenv("DEMO", raising=False)
    assert manage.demo_allowed(default_database_url())
    assert not manage.demo_allowed(database["DATABASE_URL"])
    monkeypatch.setenv("DEMO", "1")
    assert manage.demo_allowed(database["DATABASE_URL"])


def test_createadmin_takes_the_password_from_the_environment(database):
    env = {**database, "ADMIN_PASSWORD": "a long secret phrase"}
    done = run("createadmin", "wang.li", "--display-name", "王丽", env=env)
    assert done.returncode == 0, done.stderr
    ((username, role, password_hash),) = accounts(database)
    assert (username, role) == ("wang.li", "admin")
    assert check_password(password_hash, "a long secret phrase")
    again = run("createadmin", "wang.li", env=env)
    assert again.returncode == 1 and "taken" in again.stderr
    assert len(accounts(database)) == 1


def test_createadmin_has_no_default_password(database):
    done = run("createadmin", "wang.li", env=database, stdin="")  # no terminal, no variable
    assert done.returncode == 2 and "ADMIN_PASSWORD" in done.stderr
    short = run("createadmin", "wang.li", env={**database, "ADMIN_PASSWORD": "short"})
    assert short.returncode == 1 and "at least 8 characters" in short.stderr
    assert accounts(database) == []


def test_make_serve_migrates_and_serves_workers_without_demo_data():
    plan = subprocess.run(
        ["make", "-n", "serve", "WORKERS=3", "PORT=8123"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "manage.py migrate" in plan
    assert "demo" not in plan and "logins" not in plan
    assert "--workers 3" in plan and "--port 8123" in plan
