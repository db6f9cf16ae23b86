"""Benchmark of Pabulib imports and the rule comparison on the largest shared real file.

    python -m tests.bench.bench_imports [FILE.pb]   (default: Poland_Lodz_2022.pb)

On a scratch database (a SQLite file in a temporary directory; with DATABASE_URL pointing at
PostgreSQL, a database `yishi_bench_imports` created next to it and dropped at the end): how
long a hostile 80-byte file (`budget;1e7000000`) takes to be refused; the import of the file
(time, the longest stall of the event loop meanwhile, the peak memory of the server process
and of the reading worker); then the comparison of rules on it, first view (counted and kept)
and second (kept).
"""

from __future__ import annotations

import asyncio
import resource
import sys
import tempfile
import time
from pathlib import Path

from tests.bench.bench_app import close_scratch_database, open_scratch_database
from tests.fixtures.pabulib_files import pabulib_dir

BENCH_DB = "yishi_bench_imports"

EVIL = b"META\nkey;value\nbudget;1e7000000\nvote_type;approval\nPROJECTS\nproject_id;cost\n"


def mb(kilobytes: int) -> str:
    return f"{kilobytes / 1024:.0f} MB"


class Stalls:
    """The longest gap between two ticks of a 10 ms timer: how long the loop was blocked."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        last = time.perf_counter()
        while not self._stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.longest = max(self.longest, now - last - 0.01)
            last = now

    def stop(self) -> None:
        self._stop.set()


async def main(path: Path, data: bytes) -> None:
    from tortoise import Tortoise

    from budget.services import compare
    from budget.services.pabulib_import import import_pabulib
    from core.db import migrate_database
    from core.errors import ValidationError
    from core.models import Role, User
    from core.settings import tortoise_config

    tmp = Path(tempfile.mkdtemp(prefix="yishi-bench-imports-"))
    url, where = await open_scratch_database(BENCH_DB, tmp)
    await migrate_database(tortoise_config(url))
    await Tortoise.init(config=tortoise_config(url))
    try:
        council = await User.create(
            username="bench-council", display_name="Council", password_hash="x", role=Role.COUNCIL
        )
        print(f"{path.name}: {len(data) / 1e6:.1f} MB on {where}")

        t = time.perf_counter()
        try:
            await import_pabulib(council, "evil.pb", EVIL)
        except ValidationError as exc:
            print(f"hostile file refused in {time.perf_counter() - t:.2f} s: {exc.message}")

        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        stalls = Stalls()
        ticker = asyncio.create_task(stalls.run())
        t = time.perf_counter()
        rnd = await import_pabulib(council, path.name, data)
        took = time.perf_counter() - t
        stalls.stop()
        await ticker
        server = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(
            f"import: {took:.1f} s; longest event-loop stall {stalls.longest:.2f} s; "
            f"peak memory: server {mb(server)} (was {mb(before)} before), "
            f"reading worker {mb(worker)}"
        )

        for label in ("first view (counted, kept)", "second view (kept)"):
            stalls = Stalls()
            ticker = asyncio.create_task(stalls.run())
            t = time.perf_counter()
            await compare.compare_rules(council, rnd.id)
            took = time.perf_counter() - t
            stalls.stop()
            await ticker
            print(
                f"comparison, {label}: {took:.2f} s; longest event-loop stall "
                f"{stalls.longest:.2f} s"
            )
    finally:
        await Tortoise.close_connections()
        await close_scratch_database(url, BENCH_DB, tmp)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else pabulib_dir() / "Poland_Lodz_2022.pb"
    asyncio.run(main(target, target.read_bytes()))
