"""Command line: `python -m consult.manage migrate|demo|logins|import-pb FILE.pb`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from tortoise import Tortoise

from app import Settings, tortoise_config
from consult.db import migrate_database

DEMO_PASSWORD = "demo-pass-2026"


async def _migrate(url: str) -> None:
    await migrate_database(tortoise_config(url))
    print("Database is up to date.")


async def _demo(url: str) -> None:
    from budget.demo import load_demo_data
    from consult.models import User

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
    from budget.demo import DEMO_LOGINS

    print(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
    for username, role in DEMO_LOGINS:
        print(f"  {username:<14} {role}")


async def _import_pb(url: str, path: str, data: bytes) -> int:
    """Import a Pabulib file as a finished round (as the import page does, without a user);
    print the new round's id."""
    from budget.services.pabulib_io import import_pabulib
    from consult.errors import DomainError

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
    parser = argparse.ArgumentParser(prog="python -m consult.manage")
    parser.add_argument("command", choices=["migrate", "demo", "logins", "import-pb"])
    parser.add_argument("file", nargs="?", help="import-pb: the .pb file to import")
    args = parser.parse_args()
    if args.command == "import-pb" and not args.file:
        parser.error("import-pb needs a .pb file")
    url = Settings(secret_key="cli").database_url
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
