"""Backups of a live SQLite database, across processes: a backup taken while another process
writes is whole and leaves the source whole; nothing of yishi's own drops the SQLite locks of
a connection this process holds open (which lost the writes of the suite's database once); a
restore refuses a database that another process has open.

SQLite files only: these tests make their own, but the last one, which backs up the session's
database as it once was when it lost writes."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import tarfile
import textwrap
from contextlib import closing
from pathlib import Path

import pytest

from app import create_app
from core.backup import SQLITE_NAME, BackupError, create_backup, read_manifest, restore_backup
from core.settings import ROOT, Settings, prepare_files
from tests.conftest import ON_POSTGRES
from tests.helpers import make_user

# A writer in another process, as the server is: WAL mode (Tortoise's default for SQLite),
# one committed insert at a time until told to stop; it prints how many it committed.
WRITER = textwrap.dedent(
    """
    import os, sqlite3, sys
    db = sqlite3.connect(sys.argv[1], timeout=30, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    print("ready", flush=True)
    n = 0
    while not os.path.exists(sys.argv[2]):
        db.execute("INSERT INTO item (body) VALUES (?)", ("x" * 300,))
        n += 1
    db.close()
    print(n, flush=True)
    """
)

# Another process that opens the database, reads, and keeps it open until its stdin closes.
HOLDER = textwrap.dedent(
    """
    import sqlite3, sys
    db = sqlite3.connect(sys.argv[1], isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("SELECT COUNT(*) FROM item").fetchone()
    print("ready", flush=True)
    sys.stdin.read()
    db.close()
    """
)


def _make_database(path: Path, rows: int = 100) -> None:
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        db.executemany("INSERT INTO item (body) VALUES (?)", [("y" * 300,)] * rows)


def _check(path: Path) -> int:
    """PRAGMA integrity_check must say ok; the number of rows."""
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        return db.execute("SELECT COUNT(*) FROM item").fetchone()[0]


def _python(code: str, *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdout=subprocess.PIPE, text=True, **kwargs
    )


def _backup(env: dict, target: Path) -> subprocess.CompletedProcess:
    """`manage.py backup`, a process of its own, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "manage.py", "backup", str(target)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


def test_a_backup_while_another_process_writes_is_whole_and_so_is_the_source(tmp_path):
    source = tmp_path / "live.sqlite3"
    _make_database(source)
    stop = tmp_path / "stop"
    writer = _python(WRITER, str(source), str(stop))
    assert writer.stdout.readline().strip() == "ready"
    env = {**os.environ, "DATABASE_URL": f"sqlite://{source}", "UPLOAD_DIR": str(tmp_path / "u")}
    archives = []
    try:
        for _ in range(3):  # `manage.py backup`, a process of its own, as an operator runs it
            made = _backup(env, tmp_path / "backups")
            assert made.returncode == 0, made.stderr
            archives.append(Path(made.stdout.strip().removeprefix("Backup written to ")))
    finally:
        stop.touch()
        written = int(writer.communicate(timeout=60)[0].strip())
    assert writer.returncode == 0
    assert _check(source) == 100 + written

    counts = []
    for i, archive in enumerate(archives):
        with tarfile.open(archive) as tar:
            tar.extract(SQLITE_NAME, tmp_path / f"b{i}", filter="data")
        copied = _check(tmp_path / f"b{i}" / SQLITE_NAME)
        assert copied == read_manifest(archive).row_counts["item"]
        counts.append(copied)
    assert 100 <= counts[0] <= counts[1] <= counts[2] <= 100 + written


def test_preparing_the_files_keeps_the_locks_of_a_connection_this_process_holds(tmp_path):
    """create_app (tests make one per test) prepares the files while the session's connection
    is open: it must not drop that connection's locks, or another process closing its own
    connection deletes the WAL file under it and later commits vanish."""
    path = tmp_path / "live.sqlite3"
    _make_database(path)
    with closing(sqlite3.connect(path, isolation_level=None)) as ours:
        ours.execute("PRAGMA journal_mode = WAL")
        ours.execute("INSERT INTO item (body) VALUES ('ours')")
        prepare_files(
            Settings(database_url=f"sqlite://{path}", secret_key="k", upload_dir=tmp_path / "u")
        )
        # another process (a `manage.py backup`) opens the database, reads it and closes
        other = _python(HOLDER, str(path), stdin=subprocess.PIPE)
        assert other.stdout.readline().strip() == "ready"
        other.communicate("", timeout=30)
        assert (tmp_path / "live.sqlite3-wal").exists()
        ours.execute("INSERT INTO item (body) VALUES ('ours, later')")
        # and a third one writes
        with closing(sqlite3.connect(path, isolation_level=None)) as theirs:
            theirs.execute("INSERT INTO item (body) VALUES ('theirs')")
    assert _check(path) == 103


def test_a_restore_refuses_a_database_another_process_has_open(tmp_path):
    backed_up = tmp_path / "a.sqlite3"
    _make_database(backed_up, rows=5)
    archive = create_backup(f"sqlite://{backed_up}", tmp_path / "u", tmp_path / "backups")
    live = tmp_path / "live.sqlite3"
    _make_database(live, rows=50)
    server = _python(HOLDER, str(live), stdin=subprocess.PIPE)
    try:
        assert server.stdout.readline().strip() == "ready"
        with pytest.raises(BackupError, match="is in use"):
            restore_backup(archive, f"sqlite://{live}", tmp_path / "restored-uploads")
    finally:
        server.communicate("", timeout=30)
    assert _check(live) == 50  # untouched
    restore_backup(archive, f"sqlite://{live}", tmp_path / "restored-uploads")  # once stopped
    assert _check(live) == 5


@pytest.mark.skipif(ON_POSTGRES, reason="the SQLite file of the session")
async def test_a_command_line_backup_of_the_sessions_live_database_loses_nothing(
    settings, db, tmp_path
):
    """What once broke the suite: an app made (its files prepared) while this process holds
    the session's database open, then `manage.py backup` of it in another process. Every
    later commit of this process must still reach the file that other processes read."""
    await make_user("before")  # the session's connection is open (and holds its locks)
    create_app(settings)  # as every test's `app` fixture does
    env = {**os.environ, "DATABASE_URL": db, "UPLOAD_DIR": str(tmp_path / "u")}
    made = await asyncio.to_thread(_backup, env, tmp_path / "backups")
    assert made.returncode == 0, made.stderr
    await make_user("after")
    count = (
        "import sqlite3, sys; db = sqlite3.connect(sys.argv[1]); "
        "print(db.execute('PRAGMA integrity_check').fetchone()[0], "
        "db.execute('SELECT COUNT(*) FROM account').fetchone()[0])"
    )
    seen = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", count, db.removeprefix("sqlite://")],
        capture_output=True,
        text=True,
    )
    assert seen.stdout.split() == ["ok", "2"], seen.stderr
