"""`make bench`, residents' needs: the public dashboard and its open data at the issue's scale.

    .venv/bin/python -m tests.bench.bench_needs [--explain] [--small]

Fills a scratch database (SQLite in a temporary directory; with DATABASE_URL pointing at
PostgreSQL, a database `yishi_bench_needs` created next to it and dropped at the end) with a
small district (tests/bench/fill.py: 20 areas, their grid workers, 20,000 residents) and
200,000 needs over three years across the areas, every channel and every state
(tests/bench/fill_needs.py; `--small`: 5,000), then rebuilds the dashboard's counts
(`recount_need_stats`). Then, in the same run:

- the ceiling: a trivial Starlette route's requests/s (same uvicorn settings);
- the dashboard /needs and /needs/stats.csv over a mix of selections (last twelve months, a
  year, an area, a channel, both): requests/s and p50/p99 at 1 and 8 clients, target
  p99 < 50 ms. Each selection is asked once before the load (as a visitor would have), so the
  load measures pages whose medians are kept; the time of a first request, medians computed
  from the histograms, is measured apart (in-process, no target);
- the council's overdue list (OVERDUE_PATH, a council member's forged session), target p99 <
  50 ms; built by another part of the issue: "skipped: route missing" until it is there.

`--explain` prints each page's queries with their times and plans. The load comes from wrk
(tests/bench/wrk.py), as in tests/bench/bench_app.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.bench_app import (
    PAGE_CLIENTS,
    SECRET_KEY,
    Report,
    Row,
    close_scratch_database,
    inspect_page,
    open_scratch_database,
    pages,
    preflight,
    print_table,
    quiet_request_log,
    server,
    signed_in,
    step,
)
from tests.bench.fill import Sizes, fill_district
from tests.bench.fill_needs import Needs, NeedSizes, fill_needs
from tests.bench.wrk import get_load, require_wrk

BENCH_DB = "yishi_bench_needs"
DASHBOARD_PATH = "/needs"
CSV_PATH = "/needs/stats.csv"
# The council's list of needs, those not answered within seven days (consult/routes/, built
# with the needs' pages).
OVERDUE_PATH = "/consult/needs?overdue=1"
DISTRICT = Sizes(areas=20, residents=20_000, proposals=40, ballots=0, district_proposals=4)
SMALL_DISTRICT = Sizes(areas=8, residents=2_000, proposals=16, ballots=0, district_proposals=4)


def selections(needs: Needs, area_ids: list[int]) -> list[str]:
    """Query strings of the selections a visitor picks: the default (last twelve months), each
    year with needs, a few areas and channels, and combinations."""
    years = sorted({m[:4] for m in needs.months})
    queries = [""] + [f"?year={y}" for y in years]
    for i, area in enumerate(area_ids[:4]):
        queries.append(f"?area={area}")
        queries.append(f"?area={area}&year={years[i % len(years)]}")
    for channel in ("online", "phone", "home_visit"):
        queries.append(f"?channel={channel}")
        queries.append(f"?area={area_ids[-1]}&channel={channel}")
    return queries


async def time_first_request(client: httpx.AsyncClient, path: str) -> tuple[float, float, int]:
    """(seconds for `path` with no medians kept, i.e. computed from the histograms; seconds for
    it again, medians kept; status)."""
    from consult.models import NeedDashboardCache

    await client.get(path)  # the templates compiled, the connections opened
    await NeedDashboardCache.all().delete()
    t = time.perf_counter()
    response = await client.get(path)
    first = time.perf_counter() - t
    t = time.perf_counter()
    await client.get(path)
    return first, time.perf_counter() - t, response.status_code


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise

    from app import create_app
    from core.db import is_postgres, migrate_database
    from core.settings import Settings, tortoise_config

    postgres = is_postgres(os.environ.get("DATABASE_URL", ""))
    sizes = NeedSizes(needs=5_000) if args.small else NeedSizes()
    tmp = Path(tempfile.mkdtemp(prefix="yishi-bench-needs-"))
    url = ""
    report = Report()
    load_before = os.getloadavg()[0]
    try:
        url, where = await open_scratch_database(BENCH_DB, tmp)
        print(f"yishi needs bench on {where}", flush=True)
        t = time.perf_counter()
        await migrate_database(tortoise_config(url))
        district = await fill_district(
            url, SMALL_DISTRICT if args.small else DISTRICT, analyze=False
        )
        await Tortoise.init(config=tortoise_config(url))
        try:
            needs = await fill_needs(url, district, sizes)
            stat_rows = await _count("need_stat"), await _count("need_response_time")
        finally:
            await Tortoise.close_connections()
        print(
            f"filled in {time.perf_counter() - t:.1f} s: {needs.counts['need']:,} needs over"
            f" {len(needs.months)} months in {len(district.area_ids)} areas ({needs.answered:,}"
            f" answered, {needs.resolved:,} resolved, {needs.rated:,} rated,"
            f" {needs.overdue:,} overdue); {stat_rows[0]:,} counts rows,"
            f" {stat_rows[1]:,} response-time histogram rows"
        )
        queries = selections(needs, district.area_ids)
        dashboard_urls = [DASHBOARD_PATH + q for q in queries]
        csv_urls = [CSV_PATH + q for q in queries]
        council = signed_in(district.chair_id)

        step("queries per page, and a first request (medians computed)")
        await Tortoise.init(config=tortoise_config(url))
        app = create_app(
            Settings(database_url=url, secret_key=SECRET_KEY, upload_dir=tmp / "uploads")
        )
        counted: dict[str, int | None] = {}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client:
            first, again, status = await time_first_request(client, DASHBOARD_PATH)
            csv_first, csv_again, csv_status = await time_first_request(client, CSV_PATH)
            for key, page_url, cookie in (
                ("dashboard", DASHBOARD_PATH, ""),
                ("csv", CSV_PATH, ""),
                ("overdue", OVERDUE_PATH, council),
            ):
                counted[key], lines = await inspect_page(
                    client, page_url, postgres=postgres, explain=args.explain, cookie=cookie
                )
                report.plans += lines
        await Tortoise.close_connections()
        report.section = "district"
        for label, seconds, again_s, code in (
            ("dashboard, first request (medians computed)", first, again, status),
            ("CSV, first request (medians computed)", csv_first, csv_again, csv_status),
        ):
            report.add(Row(label, f"{seconds * 1000:,.0f} ms", "", "", "measured", code == 200))
            report.notes.append(
                f"  {label}: {seconds * 1000:,.0f} ms, then {again_s * 1000:,.1f} ms (kept)"
                " in-process"
            )

        env = {"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "UPLOAD_DIR": str(tmp / "uploads")}
        seconds = 2 if args.small else 6
        step("the trivial route")
        with server("tests.bench.bench_app:trivial_app", env) as base:
            get_load(base, "warm-up", ["/"], tmp=tmp, connections=4, seconds=1)
            trivial = get_load(
                base,
                f"trivial Starlette route ({PAGE_CLIENTS} clients)",
                ["/"],
                tmp=tmp,
                connections=PAGE_CLIENTS,
                seconds=seconds,
            )
        report.section = "ceiling"
        report.load(trivial, "the ceiling")
        report.section = "district"
        with server("app:create_app", env, factory=True, probe="/budget/") as base:
            step("the needs dashboard and its CSV")
            for label, paths, key in (
                (f"needs dashboard ({len(queries)} selections)", dashboard_urls, "dashboard"),
                (f"needs stats.csv ({len(queries)} selections)", csv_urls, "csv"),
            ):
                pages(report, base, label, paths, tmp=tmp, seconds=seconds, queries=counted[key])
            step("the council's overdue list")
            statuses = preflight(base, [OVERDUE_PATH], council)
            if 404 in statuses or 405 in statuses:
                print(f"  {OVERDUE_PATH}: skipped: route missing", flush=True)
                report.notes.append(
                    f"  council's overdue list {OVERDUE_PATH}: skipped: route missing"
                )
            else:
                pages(
                    report,
                    base,
                    "council's overdue list",
                    [OVERDUE_PATH],
                    tmp=tmp,
                    seconds=seconds,
                    cookie=council,
                    queries=counted["overdue"],
                )
    finally:
        await close_scratch_database(url, BENCH_DB, tmp)
    load_after = os.getloadavg()[0]
    report.notes.append(
        f"  load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}"
        f" on {os.cpu_count()} CPUs: above ~2, other work competed for the CPUs"
    )
    print_table(
        f"yishi needs bench — {where.split(' (')[0]}, {os.cpu_count()} CPUs, uvicorn 1 process,"
        " load from wrk",
        report.ordered(),
        ["", "notes:", *report.notes],
    )
    if report.plans:
        print("\nqueries of one page of each kind (best of 5 runs):")
        print("\n".join(report.plans))
    print("\nall targets met" if report.all_ok else "\nSOME TARGETS MISSED")
    return 0 if report.all_ok else 1


async def _count(table: str) -> int:
    from tortoise import connections

    _n, rows = await connections.get("default").execute_query(f'SELECT COUNT(*) FROM "{table}"')
    return int(next(iter(dict(rows[0]).values())))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_needs")
    parser.add_argument("--explain", action="store_true", help="print the pages' query plans")
    parser.add_argument("--small", action="store_true", help="a small data set (a smoke test)")
    args = parser.parse_args()
    require_wrk()
    quiet_request_log()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
