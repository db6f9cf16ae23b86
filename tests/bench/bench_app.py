"""`make bench`: how fast is yishi with a district-sized round?

    .venv/bin/python -m tests.bench.bench_app [--explain] [--small]

Fills a scratch database (a SQLite file in a temporary directory; with DATABASE_URL pointing
at PostgreSQL, a database `yishi_bench` created next to it and dropped at the end) with 5,000
proposals, 100,000 residents and 60,000 ballots, starts the app under uvicorn on loopback
(one process, as `make run` does) and measures, in the same run:

- the ceiling: a trivial Starlette route's requests/s under the same uvicorn settings;
- the proposal list (filtered, paginated) and a proposal page: requests/s, p50/p99;
- ballot casting by 64 concurrent residents (signed session cookies forged with the fixed
  SECRET_KEY): ballots/s, p50/p99, and ballots lost or duplicated (the database compared with
  what the app accepted afterwards);
- the time to compute the results (the results service, in-process, on the filled round moved
  to its results phase), with greedy (the target) and with equal shares (measured).

It prints a table with the targets next to the figures. `--explain` prints the query plans of
the list and detail pages' queries (with their times), to check that they use indexes.
The load generator is an async httpx client with bounded concurrency, bounded in requests and
time, on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.bench.fill import District, Sizes, fill_district

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "yishi-bench-secret-key"
BENCH_DB = "yishi_bench"
CSRF = "bench-csrf-token"
PAGE_CLIENTS = 8  # concurrent clients for the throughput runs
VOTERS = 64  # concurrent residents casting ballots
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}


# --- the ceiling: a trivial Starlette app -------------------------------------------------


async def _hello(request):
    return PlainTextResponse("ok")


trivial_app = Starlette(routes=[Route("/", _hello)])


# --- measuring ---------------------------------------------------------------------------


@dataclass
class Stats:
    name: str
    requests: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    note: str = ""

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        """Latency percentile in ms (nearest rank)."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
        return ordered[index] * 1000


async def load(
    base_url: str,
    name: str,
    urls: Callable[[int], str],
    *,
    concurrency: int,
    seconds: float,
    max_requests: int,
) -> Stats:
    """GET urls(i) with `concurrency` workers until `seconds` pass or `max_requests` are made."""
    stats = Stats(name)
    counter = itertools.count()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:
        start = time.perf_counter()
        deadline = start + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                i = next(counter)
                if i >= max_requests:
                    return
                t = time.perf_counter()
                response = await client.get(urls(i))
                stats.latencies.append(time.perf_counter() - t)
                stats.statuses[response.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        stats.seconds = time.perf_counter() - start
    stats.requests = len(stats.latencies)
    return stats


def session_cookie(payload: dict) -> str:
    """What Starlette's SessionMiddleware would have set: base64(JSON), signed with a
    TimestampSigner keyed by SECRET_KEY."""
    data = b64encode(json.dumps(payload).encode("utf-8"))
    return TimestampSigner(SECRET_KEY).sign(data).decode("utf-8")


def ballot_for(district: District, area_id: int, rng: random.Random) -> list[int]:
    """A valid budget-limited ballot: a few projects of the area and of the district-wide
    envelope, each envelope's total within its budget."""
    chosen: list[int] = []
    for area, k in ((area_id, rng.randint(1, 5)), (None, rng.randint(0, 3))):
        total = 0
        for pid, cost in rng.sample(district.feasible[area], min(k, len(district.feasible[area]))):
            if total + cost <= district.budgets[area]:
                chosen.append(pid)
                total += cost
    return chosen


@dataclass
class Casting:
    stats: Stats
    accepted: dict[int, frozenset[int]] = field(default_factory=dict)  # voter → choices
    refused: list[int] = field(default_factory=list)


async def cast_ballots(
    base_url: str, district: District, *, concurrency: int, seconds: float, max_ballots: int
) -> Casting:
    """`concurrency` residents at a time, each a distinct resident without a ballot, POST their
    ballot (the CSRF token is in the forged session, so no GET is needed first)."""
    rng = random.Random(64)
    queue = iter(district.non_voters[:max_ballots])
    result = Casting(Stats(f"ballot casting ({concurrency} residents)"))
    round_path = f"/budget/rounds/{district.round_id}/ballot"
    start = time.perf_counter()
    deadline = start + seconds

    async def resident() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            while time.perf_counter() < deadline:
                try:
                    uid, area_id = next(queue)
                except StopIteration:
                    return
                choices = ballot_for(district, area_id, rng)
                client.cookies.clear()
                # a session as signing in makes it: session version 0, signed in now
                session = {"uid": uid, "csrf": CSRF, "sv": 0, "at": int(time.time())}
                client.cookies.set("yishi_session", session_cookie(session))
                form = [("csrf_token", CSRF), *(("project", str(p)) for p in choices)]
                t = time.perf_counter()
                response = await client.post(
                    round_path, content=urlencode(form), headers=FORM_HEADERS
                )
                result.stats.latencies.append(time.perf_counter() - t)
                result.stats.statuses[response.status_code] += 1
                if response.status_code == 303:
                    result.accepted[uid] = frozenset(choices)
                else:
                    result.refused.append(uid)

    await asyncio.gather(*(resident() for _ in range(concurrency)))
    result.stats.seconds = time.perf_counter() - start
    result.stats.requests = len(result.stats.latencies)
    return result


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def server(
    target: str, env: dict[str, str], *, factory: bool = False, probe: str = "/"
) -> Iterator[str]:
    """uvicorn serving `target` on a free loopback port (one process); yields its base URL."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        target,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {proc.returncode}: {' '.join(cmd)}")
            try:
                if httpx.get(base + probe, timeout=2).status_code < 500:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start within 30 s")
            time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# --- in-process: queries per page, plans, results -------------------------------------------


class _Capture(logging.Handler):
    """Every SQL statement with its parameters (Tortoise logs `"%s: %s", query, values`)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.queries: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        query = str(args[0]) if args else record.getMessage()
        values = list(args[1]) if len(args) > 1 and args[1] is not None else []
        if query.lstrip().upper().startswith("SELECT"):
            self.queries.append((query, values))


@contextmanager
def capture_queries() -> Iterator[list[tuple[str, list]]]:
    logger = logging.getLogger("tortoise.db_client")
    handler = _Capture()
    old = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler.queries
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old)


async def inspect_page(
    client: httpx.AsyncClient, url: str, *, postgres: bool, explain: bool
) -> tuple[int, list[str]]:
    """(number of SELECTs the page runs, report lines: each query's time and, with
    `explain`, its plan)."""
    from tortoise import connections

    await client.get(url)  # warm caches
    with capture_queries() as queries:
        response = await client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    conn = connections.get("default")
    lines = [f"  {url}: {len(queries)} queries"]
    for query, values in queries:
        times = []
        for _ in range(5):
            t = time.perf_counter()
            await conn.execute_query(query, values)
            times.append(time.perf_counter() - t)
        lines.append(f"  - {min(times) * 1000:7.2f} ms  {query[:300]}")
        if explain:
            prefix = "EXPLAIN ANALYZE " if postgres else "EXPLAIN QUERY PLAN "
            _n, rows = await conn.execute_query(prefix + query, values)
            for row in rows:
                row = dict(row)
                text = row.get("QUERY PLAN") or row.get("detail") or str(row)
                lines.append(f"        {text}")
    return len(queries), lines


async def time_results(district: District, rule: str) -> tuple[float, int]:
    """Seconds to compute the results of the filled round with `rule`, and projects funded
    (in the count, which stays a preview: nothing is published)."""
    from budget.models import Round
    from budget.services.results import compute_results
    from core.models import User

    await Round.filter(id=district.round_id).update(phase="results", rule=rule)
    chair = await User.get(id=district.chair_id)
    t = time.perf_counter()
    outcomes = await compute_results(chair, district.round_id)
    elapsed = time.perf_counter() - t
    return elapsed, sum(len(outcome.data["selected"]) for outcome in outcomes)


async def verify_casting(district: District, casting: Casting, before: int) -> dict[str, int]:
    """Compare the database with what the app accepted: every accepted resident has exactly
    one ballot with exactly the choices sent; nothing else appeared."""
    from budget.models import Ballot, BallotChoice

    voters = list(casting.accepted) + casting.refused
    rows = await Ballot.filter(round_id=district.round_id, voter_id__in=voters).values_list(
        "id", "voter_id"
    )
    per_voter = Counter(voter for _id, voter in rows)
    ballot_of = {voter: bid for bid, voter in rows}
    stored: dict[int, set[int]] = {}
    for bid, pid in await BallotChoice.filter(ballot_id__in=[b for b, _v in rows]).values_list(
        "ballot_id", "proposal_id"
    ):
        stored.setdefault(bid, set()).add(pid)
    lost = sum(
        1
        for voter, choices in casting.accepted.items()
        if voter not in ballot_of or stored.get(ballot_of[voter], set()) != choices
    )
    duplicated = sum(n - 1 for n in per_voter.values() if n > 1)
    phantom = sum(1 for voter in casting.refused if voter in per_voter)
    total = await Ballot.filter(round_id=district.round_id).count()
    return {
        "lost": lost,
        "duplicated": duplicated + phantom,
        "unexpected_total": total - before - len(casting.accepted),
    }


# --- the run -------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    rate: str
    p50: str
    p99: str
    target: str
    ok: bool | None


def step(message: str) -> None:
    print(f"  … {message}", flush=True)


def _row(stats: Stats, target: str = "", ok: bool | None = None, unit: str = "") -> Row:
    rate = f"{stats.rate:,.0f}{unit}"
    return Row(stats.name, rate, f"{stats.pct(50):.1f}", f"{stats.pct(99):.1f}", target, ok)


def print_table(title: str, rows: list[Row], notes: list[str]) -> None:
    print()
    print(title)
    header = ("measure", "req/s", "p50 ms", "p99 ms", "target", "")
    widths = [40, 12, 8, 8, 30, 4]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        verdict = "" if r.ok is None else ("ok" if r.ok else "FAIL")
        cells = (r.name, r.rate, r.p50, r.p99, r.target, verdict)
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))
    for note in notes:
        print(note)


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise

    from app import create_app
    from core.db import (
        create_postgres_database,
        drop_postgres_database,
        is_postgres,
        migrate_database,
    )
    from core.settings import Settings, tortoise_config

    admin_url = os.environ.get("DATABASE_URL", "")
    postgres = is_postgres(admin_url)
    sizes = (
        Sizes(residents=2_000, proposals=400, ballots=1_200, district_proposals=40)
        if args.small
        else Sizes()
    )
    tmp = Path(tempfile.mkdtemp(prefix="yishi-bench-"))
    url = ""
    rows: list[Row] = []
    load_before = 0.0
    notes: list[str] = []
    plans: list[str] = []
    all_ok = True
    try:
        if postgres:
            url = await create_postgres_database(admin_url, BENCH_DB)
            where = f"PostgreSQL (scratch database {BENCH_DB})"
        else:
            url = f"sqlite://{tmp / 'bench.sqlite3'}"
            where = f"SQLite ({tmp / 'bench.sqlite3'})"
        print(f"yishi bench on {where}", flush=True)
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        await migrate_database(tortoise_config(url))
        district = await fill_district(url, sizes)
        filled = time.perf_counter() - t
        c = district.counts
        print(
            f"filled in {filled:.1f} s: {c['proposal']:,} proposals, {c['account']:,} accounts,"
            f" {c['ballot']:,} ballots with {c['ballot_choice']:,} choices,"
            f" {c['audit_entry']:,} audit entries"
        )

        rng = random.Random(1)
        categories = ["engineering", "equipment", "service"]
        list_urls = [
            f"/budget/proposals?round={district.round_id}&category={cat}&page={page}"
            for cat in categories
            for page in (1, 3, 10)
        ] + [
            f"/budget/proposals?round={district.round_id}&area={district.area_ids[3]}&page=2",
            f"/budget/proposals?round={district.round_id}&status=feasible&sort=support&page=5",
            f"/budget/proposals?round={district.round_id}&category=service&sort=cost_desc&page=4",
        ]
        detail_ids = [rng.choice(district.proposal_ids) for _ in range(500)]

        # queries per page (and plans), in-process
        step("queries per page")
        await Tortoise.init(config=tortoise_config(url))
        app = create_app(
            Settings(database_url=url, secret_key=SECRET_KEY, upload_dir=tmp / "uploads")
        )
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client:
            list_q, lines = await inspect_page(
                client, list_urls[1], postgres=postgres, explain=args.explain
            )
            plans += lines
            detail_q, lines = await inspect_page(
                client,
                f"/budget/proposals/{detail_ids[0]}",
                postgres=postgres,
                explain=args.explain,
            )
            plans += lines
        await Tortoise.close_connections()

        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "UPLOAD_DIR": str(tmp / "uploads"),
            "DEBUG": "0",
        }
        page_seconds = 3 if args.small else 6
        step("the trivial route")
        with server("tests.bench.bench_app:trivial_app", env) as base:
            await load(base, "warm-up", lambda i: "/", concurrency=4, seconds=1, max_requests=500)
            trivial = await load(
                base,
                f"trivial Starlette route ({PAGE_CLIENTS} clients)",
                lambda i: "/",
                concurrency=PAGE_CLIENTS,
                seconds=page_seconds,
                max_requests=100_000,
            )
        rows.append(_row(trivial, "the ceiling"))

        with server("app:create_app", env, factory=True, probe="/budget/") as base:

            def list_url(i: int) -> str:
                return list_urls[i % len(list_urls)]

            def detail_url(i: int) -> str:
                return f"/budget/proposals/{detail_ids[i % len(detail_ids)]}"

            await load(base, "warm-up", list_url, concurrency=4, seconds=1, max_requests=200)
            await load(base, "warm-up", detail_url, concurrency=4, seconds=1, max_requests=200)
            step("list and detail pages")
            for label, urls, queries in (
                ("proposal list", list_url, list_q),
                ("proposal page", detail_url, detail_q),
            ):
                single = await load(
                    base,
                    f"{label} (1 client)",
                    urls,
                    concurrency=1,
                    seconds=page_seconds / 2,
                    max_requests=5_000,
                )
                many = await load(
                    base,
                    f"{label} ({PAGE_CLIENTS} clients)",
                    urls,
                    concurrency=PAGE_CLIENTS,
                    seconds=page_seconds,
                    max_requests=20_000,
                )
                for stats in (single, many):
                    good = stats.pct(99) < 50 and set(stats.statuses) == {200}
                    all_ok &= good
                    rows.append(_row(stats, "p99 < 50 ms", good))
                    if set(stats.statuses) != {200}:
                        notes.append(f"  {stats.name}: statuses {dict(stats.statuses)}")
                notes.append(f"  {label}: {queries} SQL queries per page")

            step(f"ballot casting, {VOTERS} residents at a time")
            before = district.counts["ballot"]
            casting = await cast_ballots(
                base,
                district,
                concurrency=VOTERS,
                seconds=10 if args.small else 25,
                max_ballots=min(len(district.non_voters), 6_000),
            )
        target_rate = 0.15 * trivial.rate
        good = casting.stats.rate >= target_rate
        all_ok &= good
        rows.append(
            _row(casting.stats, f">= 15% of ceiling = {target_rate:,.0f}/s", good, unit=" ballots")
        )
        if set(casting.stats.statuses) != {303}:
            notes.append(f"  casting: statuses {dict(casting.stats.statuses)}")

        await Tortoise.init(config=tortoise_config(url))
        try:
            check = await verify_casting(district, casting, before)
            good = (
                check["lost"] == 0 and check["duplicated"] == 0 and check["unexpected_total"] == 0
            )
            all_ok &= good
            rows.append(
                Row(
                    f"ballots lost / duplicated (of {len(casting.accepted):,})",
                    f"{check['lost']} / {check['duplicated']}",
                    "",
                    "",
                    "0 / 0",
                    good,
                )
            )
            if check["unexpected_total"]:
                notes.append(
                    f"  {check['unexpected_total']} ballots appeared that the app did not accept"
                )
            step("results")
            seconds, funded = await time_results(district, "greedy")
            good = seconds < 1
            all_ok &= good
            rows.append(
                Row(
                    f"results, greedy ({len(district.budgets)} envelopes)",
                    f"{seconds * 1000:,.0f} ms",
                    "",
                    "",
                    "< 1 s",
                    good,
                )
            )
            notes.append(f"  results: {funded} projects funded (greedy)")
            step("results with equal shares")
            seconds, funded = await time_results(district, "equal-shares")
            rows.append(
                Row(
                    f"results, equal-shares ({len(district.budgets)} envelopes)",
                    f"{seconds * 1000:,.0f} ms",
                    "",
                    "",
                    "measured (no target)",
                    None,
                )
            )
            notes.append(
                f"  results: {funded} projects funded (equal-shares, one worker process per CPU)"
            )
        finally:
            await Tortoise.close_connections()
    finally:
        if postgres and url:
            await drop_postgres_database(admin_url, BENCH_DB)
        shutil.rmtree(tmp, ignore_errors=True)

    load_after = os.getloadavg()[0]
    notes.append(
        f"  load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}"
        f" on {os.cpu_count()} CPUs: anything above ~2 means other work competed "
        "for the CPUs and the figures are pessimistic"
    )
    print_table(
        f"yishi bench — {where.split(' (')[0]}, {os.cpu_count()} CPUs, uvicorn 1 process "
        f"(asyncio loop, h11), load from httpx in this process",
        rows,
        [
            "",
            "notes:",
            *notes,
            "  p50/p99: latency seen by the client; '1 client' is one request at a time,",
            f"  '{PAGE_CLIENTS} clients' the same pages under load (both must stay under 50 ms).",
        ],
    )
    if plans:
        print("\nqueries of one list page and one proposal page (best of 5 runs):")
        print("\n".join(plans))
    print("\nall targets met" if all_ok else "\nSOME TARGETS MISSED")
    return 0 if all_ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_app")
    parser.add_argument(
        "--explain", action="store_true", help="print the query plans of the list and detail pages"
    )
    parser.add_argument("--small", action="store_true", help="a small data set (a smoke test)")
    args = parser.parse_args()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
