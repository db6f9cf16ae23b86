"""Backups: one archive holding the database and the uploaded files, and its restore.

`make backup` (python manage.py backup) writes `data/backups/yishi-<UTC time>.tar.gz`:
- `database.sqlite3`, copied with SQLite's online backup API (a consistent copy while the
  server runs and writes), or `database.pgdump`, from `pg_dump --format=custom`;
- `uploads/`, the photos and documents;
- `manifest.json`: the format, which database kind, when, and the row count of every table.
The archive is readable by its owner only (it holds every account and every ballot).

`make restore FILE=…` (python manage.py restore FILE) puts both back: into an empty database,
or over a filled one with --force. Stop the server first: a SQLite restore refuses a database
that another process has open (a PostgreSQL one cannot tell, and the server would go on with
what it had read before). A PostgreSQL backup is restored with
`pg_restore --clean --if-exists` into the database DATABASE_URL names; a SQLite one with the
backup API into the embedded file. The row counts are compared with the manifest's.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from core.db import is_postgres

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "database.sqlite3"
PGDUMP_NAME = "database.pgdump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the operator."""


@dataclass(frozen=True)
class Manifest:
    database: str  # "sqlite" or "postgres"
    created_at: str
    row_counts: dict[str, int]


def sqlite_path(database_url: str) -> Path:
    """The file of a `sqlite://PATH` URL."""
    if not database_url.startswith("sqlite://"):
        raise BackupError(f"not a SQLite URL: {database_url}")
    return Path(database_url.removeprefix("sqlite://"))


def _sqlite_counts(path: Path) -> dict[str, int]:
    with closing(sqlite3.connect(path)) as db:
        tables = [
            row[0]
            for row in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
                " AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {t: db.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}


def _psql(database_url: str, sql: str) -> str:
    done = subprocess.run(
        ["psql", "--no-psqlrc", "--tuples-only", "--no-align", "-d", database_url, "-c", sql],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise BackupError(f"psql: {done.stderr.strip()}")
    return done.stdout


def _postgres_counts(database_url: str) -> dict[str, int]:
    tables = _psql(
        database_url,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    ).split()
    if not tables:
        return {}
    union = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM \"{t}\"" for t in tables)
    counts = {}
    for line in _psql(database_url, union).splitlines():
        if line:
            name, count = line.split("|")
            counts[name] = int(count)
    return counts


def row_counts(database_url: str) -> dict[str, int]:
    """How many rows each table of the database has (tables sorted by name)."""
    if is_postgres(database_url):
        return _postgres_counts(database_url)
    return _sqlite_counts(sqlite_path(database_url))


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command[0]}: {done.stderr.strip()}")


def create_backup(database_url: str, upload_dir: Path, dest_dir: Path) -> Path:
    """Write an archive of the database and the uploads into `dest_dir`; return its path."""
    dest_dir.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    archive = dest_dir / f"yishi-{now:%Y%m%d-%H%M%S}.tar.gz"
    with tempfile.TemporaryDirectory(prefix="yishi-backup-") as tmp:
        work = Path(tmp)
        if is_postgres(database_url):
            database, kind = work / PGDUMP_NAME, "postgres"
            _run(["pg_dump", "--format=custom", "--no-owner", "-f", str(database), database_url])
            counts = row_counts(database_url)
        else:
            source = sqlite_path(database_url)
            if not source.exists():
                raise BackupError(f"no database at {source}")
            database, kind = work / SQLITE_NAME, "sqlite"
            with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(database)) as dst:
                src.backup(dst)  # consistent even while the server writes
            counts = _sqlite_counts(database)
        manifest = {
            "format": FORMAT,
            "database": kind,
            "created_at": now.isoformat(),
            "row_counts": counts,
        }
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        partial = archive.with_suffix(".part")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            tar.add(work / MANIFEST, arcname=MANIFEST)
            tar.add(database, arcname=database.name)
            if upload_dir.is_dir():
                tar.add(upload_dir, arcname=UPLOADS)
        os.replace(partial, archive)
    return archive


def _safe_members(tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """The archive's members, refusing anything but our own plain files and folders."""
    members = []
    for member in tar.getmembers():
        path = PurePosixPath(member.name)
        allowed_top = path.parts[:1] in ((MANIFEST,), (SQLITE_NAME,), (PGDUMP_NAME,), (UPLOADS,))
        if (
            path.is_absolute()
            or ".." in path.parts
            or not allowed_top
            or not (member.isfile() or member.isdir())
        ):
            raise BackupError(f"not a yishi backup: unexpected member {member.name!r}")
        members.append(member)
    return members


def read_manifest(archive: Path) -> Manifest:
    with tarfile.open(archive, "r:gz") as tar:
        _safe_members(tar)
        try:
            data = json.load(tar.extractfile(MANIFEST))
        except KeyError:
            raise BackupError("not a yishi backup: no manifest") from None
    if data.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {data.get('format')!r}")
    return Manifest(data["database"], data["created_at"], data["row_counts"])


def _lock_out_others(db: sqlite3.Connection, path: Path) -> None:
    """Hold the database file exclusively until `db` closes, or refuse: a server that has it
    open (every yishi process keeps a connection, in WAL mode) would go on with pages and
    sessions of the database it had before."""
    try:
        db.execute("PRAGMA locking_mode = EXCLUSIVE")
        db.execute("BEGIN EXCLUSIVE")
        db.execute("COMMIT")
    except sqlite3.OperationalError:
        raise BackupError(
            f"{path} is in use (is yishi running?): stop every yishi process, then restore"
        ) from None


def restore_backup(archive: Path, database_url: str, upload_dir: Path) -> Manifest:
    """Put the archive's database and uploads back (the caller checked the target may be
    overwritten); raise BackupError when the row counts then differ from the manifest's."""
    manifest = read_manifest(archive)
    wanted = "postgres" if is_postgres(database_url) else "sqlite"
    if manifest.database != wanted:
        raise BackupError(
            f"this backup is of a {manifest.database} database; DATABASE_URL names a {wanted} one"
        )
    with tempfile.TemporaryDirectory(prefix="yishi-restore-") as tmp:
        work = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            for member in _safe_members(tar):
                target = work / member.name
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as src, open(target, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        if wanted == "postgres":
            _run(
                [
                    "pg_restore",
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--single-transaction",
                    "--exit-on-error",
                    "-d",
                    database_url,
                    str(work / PGDUMP_NAME),
                ]
            )
        else:
            target = sqlite_path(database_url)
            target.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(work / SQLITE_NAME)) as src:
                with closing(sqlite3.connect(target, timeout=0, isolation_level=None)) as dst:
                    _lock_out_others(dst, target)
                    src.backup(dst)
            os.chmod(target, 0o600)
        if (work / UPLOADS).is_dir():
            upload_dir.mkdir(parents=True, exist_ok=True)
            shutil.copytree(work / UPLOADS, upload_dir, dirs_exist_ok=True)
    restored = row_counts(database_url)
    if restored != manifest.row_counts:
        differ = sorted(
            t
            for t in set(restored) | set(manifest.row_counts)
            if restored.get(t) != manifest.row_counts.get(t)
        )
        raise BackupError(f"restored, but these tables' row counts differ: {', '.join(differ)}")
    return manifest
