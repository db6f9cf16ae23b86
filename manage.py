"""The command line: `python manage.py COMMAND`.

    migrate              bring the database up to date
    createadmin NAME     create an administrator (password typed in, or ADMIN_PASSWORD)
    demo                 load the demo district (only into the embedded SQLite database,
                         or anywhere with DEMO=1)
    logins               print the demo accounts
    import-pb FILE.pb    import a Pabulib election
    backup [DIR]         write the database and the uploads to DIR/yishi-<time>.tar.gz
                         (default data/backups)
    restore FILE         put a backup back (stop the server first; --force over a
                         database that already has accounts)

This module wires the packages together for the command line, as `app.py` does for the web;
neither is imported by anything.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from pathlib import Path

from tortoise import Tortoise

from budget.demo import DEMO_LOGINS, load_demo_data
from budget.services.pabulib_import import import_pabulib
from consult.demo import load_consult_demo
from core.backup import BackupError, create_backup, restore_backup, row_counts
from core.db import migrate_database
from core.errors import DomainError
from core.models import User
from core.services.accounts import create_admin
from core.settings import (
    DATA_DIR,
    database_url_from_env,
    default_database_url,
    tortoise_config,
    upload_dir_from_env,
)

DEMO_PASSWORD = "demo-pass-2026"


def demo_allowed(url: str) -> bool:
    """Demo data (with its published password) goes only into the embedded SQLite database of
    `make run`, never into a database named by DATABASE_URL unless DEMO=1 says so."""
    return url == default_database_url() or os.environ.get("DEMO") == "1"


async def _migrate(url: str, args: argparse.Namespace) -> int:
    await migrate_database(tortoise_config(url))
    print("Database is up to date.")
    return 0


async def _demo(url: str, args: argparse.Namespace) -> int:
    if not demo_allowed(url):
        print(
            "Demo data not loaded: DATABASE_URL names a database of your own. Demo data goes "
            "only into the embedded SQLite database (set DEMO=1 to load it anyway). Create the "
            "first administrator with: python manage.py createadmin NAME"
        )
        return 0
    await Tortoise.init(config=tortoise_config(url))
    try:
        if await User.exists():
            print("The database already has accounts: demo data not loaded.")
            return 0
        await load_demo_data(password=DEMO_PASSWORD)
        await load_consult_demo()
        print("Demo data loaded.")
    finally:
        await Tortoise.close_connections()
    return 0


async def _logins(url: str, args: argparse.Namespace) -> int:
    await Tortoise.init(config=tortoise_config(url))
    try:
        demo = demo_allowed(url) and await User.filter(username=DEMO_LOGINS[0][0]).exists()
    finally:
        await Tortoise.close_connections()
    if not demo:
        print("No demo accounts in this database (python manage.py createadmin NAME makes one).")
        return 0
    print(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, role in DEMO_LOGINS:
        print(f"  {username:<14} {role}")
    return 0


def _admin_password() -> str | None:
    """ADMIN_PASSWORD, else typed twice at a terminal; None when neither is possible."""
    if password := os.environ.get("ADMIN_PASSWORD"):
        return password
    if not sys.stdin.isatty():
        return None
    password = getpass.getpass("Password for the new administrator: ")
    if getpass.getpass("The same password again: ") != password:
        print("The two passwords differ.", file=sys.stderr)
        return None
    return password


async def _createadmin(url: str, args: argparse.Namespace) -> int:
    password = _admin_password()
    if password is None:
        print(
            "No password: run this at a terminal to type one, or set ADMIN_PASSWORD.",
            file=sys.stderr,
        )
        return 2
    await Tortoise.init(config=tortoise_config(url))
    try:
        user = await create_admin(args.name, args.display_name or args.name, password)
    except DomainError as exc:
        for message in exc.errors.values() or [exc.message]:
            print(message, file=sys.stderr)
        return 1
    finally:
        await Tortoise.close_connections()
    print(f"Administrator {user.username} created.")
    return 0


async def _import_pb(url: str, args: argparse.Namespace) -> int:
    """Import a Pabulib file as a finished round (as the import page does, without a user);
    print the new round's id."""
    try:
        data = await asyncio.to_thread(Path(args.name).read_bytes)
    except OSError as exc:
        print(f"{args.name}: {exc.strerror}", file=sys.stderr)
        return 2
    await Tortoise.init(config=tortoise_config(url))
    try:
        rnd = await import_pabulib(None, Path(args.name).name, data)
    except DomainError as exc:
        print(f"{args.name}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await Tortoise.close_connections()
    print(rnd.id)
    return 0


async def _backup(url: str, args: argparse.Namespace) -> int:
    dest = Path(args.name) if args.name else DATA_DIR / "backups"
    try:
        archive = await asyncio.to_thread(create_backup, url, upload_dir_from_env(), dest)
    except BackupError as exc:
        print(f"Backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"Backup written to {archive}")
    return 0


async def _restore(url: str, args: argparse.Namespace) -> int:
    archive = Path(args.name)
    if not await asyncio.to_thread(archive.is_file):
        print(f"{archive}: no such file", file=sys.stderr)
        return 2
    try:
        accounts = (await asyncio.to_thread(row_counts, url)).get("account", 0)
    except BackupError:
        accounts = 0  # no database yet
    if accounts and not args.force:
        print(
            f"The database already has {accounts} accounts: restoring replaces everything in "
            "it. Stop the server, then run again with --force.",
            file=sys.stderr,
        )
        return 1
    try:
        manifest = await asyncio.to_thread(restore_backup, archive, url, upload_dir_from_env())
    except BackupError as exc:
        print(f"Restore failed: {exc}", file=sys.stderr)
        return 1
    rows = sum(manifest.row_counts.values())
    print(f"Restored the backup of {manifest.created_at}: {rows} rows, uploads included.")
    return 0


COMMANDS = {
    "migrate": _migrate,
    "createadmin": _createadmin,
    "demo": _demo,
    "logins": _logins,
    "import-pb": _import_pb,
    "backup": _backup,
    "restore": _restore,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python manage.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=list(COMMANDS))
    parser.add_argument(
        "name",
        nargs="?",
        help="createadmin: the username; import-pb, restore: the file; backup: the folder",
    )
    parser.add_argument("--force", action="store_true", help="restore over existing accounts")
    parser.add_argument("--display-name", help="createadmin: the name shown (default: username)")
    args = parser.parse_args()
    if args.command == "createadmin" and not args.name:
        parser.error("createadmin needs a username")
    if args.command == "import-pb" and not args.name:
        parser.error("import-pb needs a .pb file")
    if args.command == "restore" and not args.name:
        parser.error("restore needs a backup file")
    url = database_url_from_env()
    if url.startswith("sqlite://"):
        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    sys.exit(asyncio.run(COMMANDS[args.command](url, args)))


if __name__ == "__main__":
    main()
