"""Settings, read once from the environment, and the database configuration.

Every process of a deployment (several uvicorn workers, on one or more hosts) must agree on
them: the database (`DATABASE_URL`), the key that signs session cookies (`SECRET_KEY`) and the
folder of uploaded photos (`UPLOAD_DIR`, on storage that every host shares).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"

# The packages whose models and migrations make up the database, in migration order. Named,
# not imported: the kernel knows no feature package.
APPS = ("core", "budget", "consult")


class ConfigurationError(RuntimeError):
    """The environment does not allow a safe start; the message says what to set."""


def default_database_url() -> str:
    """The embedded SQLite database of `make run`, under data/."""
    return f"sqlite://{DATA_DIR / 'yishi.sqlite3'}"


def database_url_from_env() -> str:
    """DATABASE_URL, else the embedded SQLite database."""
    return os.environ.get("DATABASE_URL") or default_database_url()


def upload_dir_from_env() -> Path:
    """UPLOAD_DIR, else data/uploads."""
    return Path(os.environ.get("UPLOAD_DIR") or DATA_DIR / "uploads")


def load_or_create_secret_key(path: Path) -> str:
    """The key kept in `path`, made on first use.

    Several workers may start at once: the key is written to a file of this process's own and
    linked into place, which only one process can do, so every worker reads the same key (an
    exclusive create with `open(path, "x")` would let a worker read the file before the
    winner has written it)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        own = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        own.write_text(secrets.token_urlsafe(48))
        own.chmod(0o600)
        try:
            os.link(own, path)
        except FileExistsError:
            pass  # another worker was first: use its key
        finally:
            own.unlink()
    key = path.read_text().strip()
    if not key:
        raise ConfigurationError(f"{path} is empty: delete it or set SECRET_KEY.")
    return key


@dataclass
class Settings:
    database_url: str = field(default_factory=database_url_from_env)
    # "" takes SECRET_KEY, else a key generated once under data/ (refused with HTTPS_ONLY=1:
    # a production deployment sets the same SECRET_KEY on every host).
    secret_key: str = ""
    upload_dir: Path = field(default_factory=upload_dir_from_env)
    # Cookies marked Secure only behind HTTPS (set HTTPS_ONLY=1 in production).
    https_only: bool = field(default_factory=lambda: os.environ.get("HTTPS_ONLY") == "1")
    max_photo_bytes: int = 5 * 1024 * 1024
    debug: bool = field(default_factory=lambda: os.environ.get("DEBUG") == "1")
    # The request log (JSON lines on stderr): "info" logs every request, "warning" only failures.
    log_level: str = field(default_factory=lambda: os.environ.get("LOG_LEVEL") or "info")
    secret_key_file: Path = DATA_DIR / "secret_key"
    # Open Contracting (OCDS) export: the registered ocid prefix ("ocds-" + six characters for
    # a real deployment) and the name of the district that buys and pays.
    ocds_prefix: str = field(default_factory=lambda: os.environ.get("OCDS_PREFIX") or "ocds-yishi")
    ocds_buyer_name: str = field(
        default_factory=lambda: os.environ.get("OCDS_BUYER_NAME") or "yishi"
    )
    # The domain of the meetings' iCalendar UIDs (meeting-12@<domain>): the district's own, so
    # that two deployments' events never share a UID in a subscriber's calendar.
    calendar_domain: str = field(
        default_factory=lambda: os.environ.get("CALENDAR_DOMAIN") or "meetings.yishi"
    )

    def __post_init__(self) -> None:
        if not self.secret_key:
            self.secret_key = os.environ.get("SECRET_KEY", "")
        if not self.secret_key:
            if self.https_only:
                raise ConfigurationError(
                    "HTTPS_ONLY=1 needs SECRET_KEY: set the same long random value for every "
                    "worker and host (for example: python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))')."
                )
            self.secret_key = load_or_create_secret_key(self.secret_key_file)


def prepare_files(settings: Settings) -> None:
    """The upload folder and the embedded SQLite database, readable by the service user only
    (they hold residents' photos, accounts and ballots). Best effort on storage that refuses
    chmod (a shared mount keeps its own rights).

    An existing database file is never opened here, only chmod-ed: closing any descriptor of
    the file drops every POSIX lock this process holds on it, the SQLite connection's too
    (sqlite.org/howtocorrupt.html, 2.2). A connection in WAL mode then looks closed to other
    processes, and the next one to close deletes the WAL file under it: its later commits were
    lost (tests/core/test_backup_live.py)."""
    settings.upload_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    _chmod(settings.upload_dir, 0o700)
    if settings.database_url.startswith("sqlite://"):
        path = Path(settings.database_url.removeprefix("sqlite://"))
        if str(path) and str(path) != ":memory:":
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            if not path.exists():
                try:
                    os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
                except FileExistsError:
                    pass  # another worker made it meanwhile (and may have it open)
            _chmod(path, 0o600)


def _chmod(path: Path, mode: int) -> None:
    try:
        os.chmod(path, mode)
    except OSError:
        pass


async def _keep_session(connection: Any) -> None:
    """What asyncpg's pool does to a connection given back, instead of its default reset
    query (`pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`): nothing more than
    the rollback of an open transaction asyncpg always does first. The app leaves no session
    state behind (no SET, LISTEN, cursor or session advisory lock: its advisory locks are
    transaction-scoped), and Tortoise takes a connection from the pool for every query
    outside a transaction, so the default reset was one more round trip per query."""


def connection_config(database_url: str) -> str | dict:
    """The default connection's configuration: the URL as is, but for PostgreSQL with the
    pool's reset lightened (`_keep_session`)."""
    if not database_url.startswith(("postgres://", "postgresql://", "asyncpg://")):
        return database_url
    config = expand_db_url(database_url)
    config["credentials"]["reset"] = _keep_session
    return config


def tortoise_config(database_url: str, apps: tuple[str, ...] = APPS) -> dict:
    """Tortoise's configuration: one app per package, each with its models and migrations."""
    return {
        "connections": {"default": connection_config(database_url)},
        "apps": {
            label: {
                "models": [f"{label}.models"],
                "default_connection": "default",
                "migrations": f"{label}.migrations",
            }
            for label in apps
        },
        "use_tz": True,
        "timezone": "UTC",
    }


# What the `tortoise` command line uses ([tool.tortoise] in pyproject.toml).
TORTOISE_ORM = tortoise_config(database_url_from_env())
