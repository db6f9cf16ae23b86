"""The command line: `python manage.py migrate|demo|logins|import-pb FILE.pb`.

This module wires the packages together for the command line, as `app.py` does for the web;
neither is imported by anything.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tortoise import Tortoise

from budget.demo import DEMO_LOGINS, load_demo_data
from budget.services.pabulib_io import import_pabulib
from core.db import migrate_database
from core.errors import DomainError
from core.models import User
from core.settings import database_url_from_env, tortoise_config

DEMO_PASSWORD = "demo-pass-2026"


async def _migrate(url: str) -> None:
    await migrate_database(tortoise_config(url))
    print("Database is up to date.")


async def _demo(url: str) -> None:
    await Tortoise.init(config=tortoise_config(url))
    try:
        if await User.exists():
            print("The database already has accounts: demo data not loaded.")
            return
        await load_demo_data(password=DEMO_PASSWORD)
        print("Demo data loaded.")
    finally:
        await Tortoise.close_connections()


async def _logins(url: str) -> None:
    print(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, role in DEMO_LOGINS:
        print(f"  {username:<14} {role}")


async def _import_pb(url: str, path: str, data: bytes) -> int:
    """Import a Pabulib file as a finished round (as the import page does, without a user);
    print the new round's id."""
    await Tortoise.init(config=tortoise_config(url))
    try:
        rnd = await import_pabulib(None, Path(path).name, data)
    except DomainError as exc:
        print(f"{path}: {exc.message}", file=sys.stderr)
        return 1
    finally:
        await Tortoise.close_connections()
    print(rnd.id)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python manage.py")
    parser.add_argument("command", choices=["migrate", "demo", "logins", "import-pb"])
    parser.add_argument("file", nargs="?", help="import-pb: the .pb file to import")
    args = parser.parse_args()
    if args.command == "import-pb" and not args.file:
        parser.error("import-pb needs a .pb file")
    url = database_url_from_env()
    if url.startswith("sqlite://"):
        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    if args.command == "import-pb":
        try:
            data = Path(args.file).read_bytes()
        except OSError as exc:
            print(f"{args.file}: {exc.strerror}", file=sys.stderr)
            sys.exit(2)
        sys.exit(asyncio.run(_import_pb(url, args.file, data)))
    command = {"migrate": _migrate, "demo": _demo, "logins": _logins}[args.command]
    asyncio.run(command(url))


if __name__ == "__main__":
    main()
