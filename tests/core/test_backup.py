"""Backups (core.backup, `make backup` / `make restore`): a filled database and its uploads go
into one archive and come back whole, row for row, with the frozen outcomes unchanged."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from budget.services.pabulib_import import import_pabulib
from core.backup import (
    BackupError,
    create_backup,
    read_manifest,
    restore_backup,
    row_counts,
)
from core.db import create_postgres_database, drop_postgres_database, is_postgres
from core.settings import ROOT
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.conftest import ADMIN_URL, ON_POSTGRES
from tests.helpers import make_area, make_user


async def _fill(upload_dir: Path) -> None:
    area = await make_area()
    await make_user("ana", area=area)
    await import_pabulib(None, "tiny.pb", SMALL_FILE.encode())  # counts and freezes outcomes
    _write_photo(upload_dir)


def _write_photo(upload_dir: Path) -> None:
    upload_dir.mkdir(parents=True, exist_ok=True)
    (upload_dir / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n-a-photo")


def _outcomes(url: str) -> list[str]:
    if is_postgres(url):
        done = subprocess.run(
            ["psql", "-tA", "-d", url, "-c", "SELECT data::text FROM outcome ORDER BY id"],
            capture_output=True,
            text=True,
            check=True,
        )
        return [
            json.dumps(json.loads(line), sort_keys=True) for line in done.stdout.split("\n") if line
        ]
    import sqlite3
    from contextlib import closing

    with closing(sqlite3.connect(url.removeprefix("sqlite://"))) as db:
        rows = db.execute("SELECT data FROM outcome ORDER BY id").fetchall()
    return [json.dumps(json.loads(r[0]), sort_keys=True) for r in rows]


@pytest.fixture
async def empty_target(tmp_path):
    """A database URL to restore into: a new PostgreSQL database, or a new SQLite file."""
    if ON_POSTGRES:
        name = f"yishi_restore_{os.getpid()}"
        url = await create_postgres_database(ADMIN_URL, name)
        yield url
        await drop_postgres_database(ADMIN_URL, name)
    else:
        yield f"sqlite://{tmp_path / 'restored.sqlite3'}"


async def test_a_backup_restores_every_row_the_outcomes_and_the_uploads(db, tmp_path, empty_target):
    uploads = tmp_path / "uploads"
    await _fill(uploads)
    archive = create_backup(db, uploads, tmp_path / "backups")
    assert archive.stat().st_mode & 0o777 == 0o600
    manifest = read_manifest(archive)
    assert manifest.row_counts == row_counts(db)
    assert manifest.row_counts["outcome"] >= 1 and manifest.row_counts["account"] == 1

    restored_uploads = tmp_path / "restored-uploads"
    restore_backup(archive, empty_target, restored_uploads)
    assert row_counts(empty_target) == row_counts(db)
    assert _outcomes(empty_target) == _outcomes(db)
    assert (restored_uploads / "photo.png").read_bytes() == b"\x89PNG\r\n\x1a\n-a-photo"


async def test_a_backup_of_the_other_database_kind_is_refused(db, tmp_path):
    await _fill(tmp_path / "uploads")
    archive = create_backup(db, tmp_path / "uploads", tmp_path / "backups")
    other = f"sqlite://{tmp_path / 'x.sqlite3'}" if ON_POSTGRES else "postgres://u@127.0.0.1:1/x"
    with pytest.raises(BackupError, match="this backup is of a"):
        restore_backup(archive, other, tmp_path / "u2")


def test_an_archive_with_a_path_outside_is_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        data = b"{}"
        info = tarfile.TarInfo("../../etc/evil")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(BackupError, match="unexpected member"):
        read_manifest(archive)


@pytest.mark.slow
async def test_the_command_line_refuses_to_restore_over_accounts_without_force(
    db, tmp_path, empty_target
):
    uploads = tmp_path / "uploads"
    await _fill(uploads)

    def manage(url: str, *args: str) -> subprocess.CompletedProcess:
        upload_dir = uploads if url == db else tmp_path / "restored-uploads"
        env = {**os.environ, "DATABASE_URL": url, "UPLOAD_DIR": str(upload_dir)}
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
        )

    archive = create_backup(db, uploads, tmp_path / "backups")
    # into another database (never this session's live one): empty, then over its accounts
    first = manage(empty_target, "restore", str(archive))
    assert first.returncode == 0, first.stderr
    assert "Restored the backup of" in first.stdout
    refused = manage(empty_target, "restore", str(archive))
    assert refused.returncode == 1
    assert "already has 1 accounts" in refused.stderr
    forced = manage(empty_target, "restore", str(archive), "--force")
    assert forced.returncode == 0, forced.stderr
    assert row_counts(empty_target) == row_counts(db)
