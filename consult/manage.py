"""Command line: `python -m consult.manage migrate|demo|logins`."""

from __future__ import annotations

import argparse
import asyncio

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


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m consult.manage")
    parser.add_argument("command", choices=["migrate", "demo", "logins"])
    args = parser.parse_args()
    url = Settings(secret_key="cli").database_url
    if url.startswith("sqlite://"):
        from pathlib import Path

        Path(url.removeprefix("sqlite://")).parent.mkdir(parents=True, exist_ok=True)
    command = {"migrate": _migrate, "demo": _demo, "logins": _logins}[args.command]
    asyncio.run(command(url))


if __name__ == "__main__":
    main()
