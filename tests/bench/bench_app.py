"""`make bench`: how fast is yishi with a district-sized round and ten years of its money?

    .venv/bin/python -m tests.bench.bench_app [--explain] [--small] [--only district|money]
                                              [--workers N | --workers 1,2]

Fills a scratch database (a SQLite file in a temporary directory; with DATABASE_URL pointing
at PostgreSQL, a database `yishi_bench` created next to it and dropped at the end) with
5,000 proposals, 100,000 residents and 60,000 ballots (tests/bench/fill.py), and ten finished
rounds with 2,000 procurements and 100,000 ledger entries (tests/bench/fill_money.py); starts
the app under uvicorn on loopback as production serves it (uvloop, httptools; `--workers N`
or WORKERS=N worker processes, default 1) and measures, in the same run:

- the ceiling: a trivial Starlette route's requests/s under the same uvicorn settings (the
  same number of workers);
- the proposal list (filtered, paginated) and a proposal page: requests/s, p50/p99; on one
  worker, with 8 clients, at least 10 % of the trivial route's requests/s, p99 < 50 ms. These
  are visitors' pages (no cookie), which the app keeps while the page stamp in the database
  has not moved (core.web.page_cache: each request still reads the stamp); the same pages
  as a signed-in resident sees them, rendered every time, are measured too (no target);
- ballot casting by 64 concurrent residents (signed session cookies forged with the fixed
  SECRET_KEY): ballots/s (on one worker at least 5 % of the trivial route's requests/s),
  p50/p99, and ballots lost or duplicated (the database compared with what the app accepted
  afterwards);
- the time to compute the results (the results service, in-process, on the filled round moved
  to its results phase), with greedy (the target) and with equal shares (measured);
- the money: the finance view of a round (a finance officer's forged session) and the public
  spending page of a round, requests/s and p50/p99; the OCDS export of the 500-procurement
  round, one request at a time; 16 finance officers at once committing money on the
  procurements of one envelope (commitments/s), then every invariant checked in the
  database (totals = sums of the entries, paid ≤ committed ≤ cap, what the envelopes and
  rounds hold within their budgets and funds) and the commitments the app accepted found
  there, none lost and none extra.

`--only district` runs the first four, `--only money` the money (both measure the ceiling);
`--small` is a smoke run on a small data set. A page that does not answer 200 (a route not
built yet) fails its row and the run goes on.

`--workers 1,2` measures the ceiling, the pages and casting with 1 worker, then again with 2
(each pass its own residents casting; the money only in the first pass), and prints how they
scale: 2 workers at least 1.3x one for the list, the page and casting — on PostgreSQL
(SQLite's single writer does not scale out):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \\
        .venv/bin/python -m tests.bench.bench_app --only district --workers 1,2

It prints a table with the targets next to the figures, every rate beside the trivial
route's from the same pass, and the load average before each pass. Each rate comes with the
CPU the server's processes used meanwhile (srv CPU, in cores, from /proc): on a machine busy
with other work a rate falls, but requests per CPU-second of the server (printed, again beside
the trivial route's) much less, so they tell what a page costs. From one worker's CPU per
request — the server's, its database backends' and wrk's — it prints what the machine's CPUs
allow at most, whatever the number of workers: a scaling target above that bound cannot be met
on this machine by a faster app, only by less work in PostgreSQL or the load generator per
request. `--explain` prints the query plans of the pages' queries (with their times), to check
that they use indexes.

The load comes from `wrk` (Debian's package; tests/bench/wrk.py), a compiled program apart
from this process, on 127.0.0.1 only: page loads cycle through lists of URLs; each casting
resident and each officer is a wrk thread with one connection posting its own requests in
order, so every answer is matched with the ballot or the commitment it was for.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from base64 import b64encode
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from itsdangerous import TimestampSigner
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from tests.bench.fill import District, Sizes, fill_district
from tests.bench.fill_money import Money, MoneySizes, fill_money, invariant_breaks
from tests.bench.wrk import Load, Post, get_load, post_each, require_wrk

ROOT = Path(__file__).resolve().parents[2]


def quiet_request_log() -> None:
    """The request log (a JSON line per request) would flood the figures: failures only, for
    the apps a bench builds in its own process (the servers it starts get LOG_LEVEL too)."""
    os.environ.setdefault("LOG_LEVEL", "warning")


SECRET_KEY = "yishi-bench-secret-key"
BENCH_DB = "yishi_bench"
CSRF = "bench-csrf-token"
PAGE_CLIENTS = 8  # concurrent clients for the throughput runs
VOTERS = 64  # concurrent residents casting ballots
OFFICERS = 16  # concurrent finance officers committing money
FORM_HEADERS = {"Content-Type": "application/x-www-form-urlencoded"}
# targets on one worker, against the trivial route's requests/s in the same run
PAGE_SHARE = 0.10  # the proposal list and a proposal page, PAGE_CLIENTS clients
CASTING_SHARE = 0.05  # ballot casting
SCALING = 1.3  # 2 workers against 1


# --- the ceiling: a trivial Starlette app -------------------------------------------------


async def _hello(request):
    return PlainTextResponse("ok")


trivial_app = Starlette(routes=[Route("/", _hello)])


# --- forged sessions, ballots, commitments ---------------------------------------------------


def session_cookie(payload: dict) -> str:
    """What Starlette's SessionMiddleware would have set: base64(JSON), signed with a
    TimestampSigner keyed by SECRET_KEY."""
    data = b64encode(json.dumps(payload).encode("utf-8"))
    return TimestampSigner(SECRET_KEY).sign(data).decode("utf-8")


def signed_in(uid: int) -> str:
    """The Cookie header of `uid`'s session as signing in makes it (session version 0, signed
    in now), with the CSRF token in it (so no GET is needed before a POST)."""
    session = {"uid": uid, "csrf": CSRF, "sv": 0, "at": int(time.time())}
    return f"yishi_session={session_cookie(session)}"


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
    load: Load
    accepted: dict[int, frozenset[int]] = field(default_factory=dict)  # voter → choices
    refused: list[int] = field(default_factory=list)
    unanswered: list[int] = field(default_factory=list)  # the connection broke: unknown


def cast_ballots(
    base_url: str,
    district: District,
    voters: list[tuple[int, int]],
    *,
    tmp: Path,
    seconds: float,
    tag: str = "",
) -> Casting:
    """VOTERS residents at a time, each a wrk thread POSTing the ballots of its own distinct
    residents of `voters` (without a ballot: (id, area id)), one after the other."""
    rng = random.Random(64)
    path = f"/budget/rounds/{district.round_id}/ballot"
    choices: dict[int, frozenset[int]] = {}
    lists: list[list[Post]] = [[] for _ in range(VOTERS)]
    for i, (uid, area_id) in enumerate(voters):
        chosen = ballot_for(district, area_id, rng)
        choices[uid] = frozenset(chosen)
        form = [("csrf_token", CSRF), *(("project", str(p)) for p in chosen)]
        lists[i % VOTERS].append(Post(str(uid), path, signed_in(uid), urlencode(form)))
    load = post_each(
        base_url, f"ballot casting ({VOTERS} residents){tag}", lists, tmp=tmp, seconds=seconds
    )
    result = Casting(load)
    for key, status in load.answers.items():
        uid = int(key)
        if status == 303:
            result.accepted[uid] = choices[uid]
        elif status == 0:
            result.unanswered.append(uid)
        else:
            result.refused.append(uid)
    return result


@dataclass
class Commitments:
    load: Load
    sent: dict[str, tuple[int, int]]  # key → (procurement id, amount fen)
    statuses: Counter = field(default_factory=Counter)


def commit_money(base_url: str, money: Money, *, tmp: Path, seconds: float, per_officer: int):
    """OFFICERS finance officers at once, each a wrk thread committing money (dated yesterday)
    on procurements of one envelope, one request after the other: a quarter of them ¥50 to
    ¥3,000 on the procurement with the least room left, which soon fills (those that fit are
    accepted, 303, the others refused, 422), the rest ¥10 to ¥600 on any of them."""
    from core.i18n import local_today

    rng = random.Random(16)
    day = (local_today() - timedelta(days=1)).isoformat()
    procurements = sorted(money.open_procurements)
    hot = min(
        procurements,
        key=lambda pid: (money.open_procurements[pid] <= 0, money.open_procurements[pid]),
    )
    sent: dict[str, tuple[int, int]] = {}
    lists: list[list[Post]] = []
    for i in range(OFFICERS):
        cookie = signed_in(money.officer_ids[i % len(money.officer_ids)])
        posts = []
        for j in range(per_officer):
            if rng.random() < 0.25:
                pid, fen = hot, rng.randrange(50_00, 3_000_01)
            else:
                pid, fen = rng.choice(procurements), rng.randrange(10_00, 600_01)
            key = f"{i}-{j}"
            sent[key] = (pid, fen)
            form = {
                "csrf_token": CSRF,
                "kind": "commit",
                "amount": f"{fen // 100}.{fen % 100:02d}",
                "entry_date": day,
            }
            posts.append(Post(key, f"/budget/procurements/{pid}/entries", cookie, urlencode(form)))
        lists.append(posts)
    name = f"ledger commitments ({OFFICERS} officers, 1 envelope)"
    load = post_each(base_url, name, lists, tmp=tmp, seconds=seconds)
    return Commitments(load, sent, Counter(load.answers.values()))


# --- the server ----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UVICORN = ["--loop", "uvloop", "--http", "httptools"]  # what production serves with


def server_versions() -> str:
    """The server's parts as the bench runs them (uvicorn refuses to start without them)."""
    from importlib.metadata import version

    return ", ".join(f"{name} {version(name)}" for name in ("uvicorn", "uvloop", "httptools"))


class Served(str):
    """A server's base URL, knowing its uvicorn process (`pid`)."""

    pid: int
    database: str  # the PostgreSQL database it uses, "" if none

    def __new__(cls, url: str, pid: int, database: str = "") -> Served:
        served = super().__new__(cls, url)
        served.pid = pid
        served.database = database
        return served


def _proc_stats() -> dict[int, tuple[int, int]] | None:
    """pid → (parent pid, CPU clock ticks used, user + system) of every process, from /proc
    (None without it)."""
    stats: dict[int, tuple[int, int]] = {}
    try:
        entries = [e for e in Path("/proc").iterdir() if e.name.isdigit()]
    except OSError:
        return None
    for entry in entries:
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        stats[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return stats


def database_cpu_seconds(database: str) -> float:
    """CPU time used so far by the PostgreSQL backends connected to `database` on this
    machine (their process titles name it); nan without /proc. The WAL writer and the
    checkpointer, shared by every database, are not counted."""
    stats = _proc_stats()
    if stats is None:
        return math.nan
    ticks = 0
    for pid, (_parent, used) in stats.items():
        try:
            title = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, UnicodeDecodeError):
            continue
        if title.startswith("postgres:") and f" {database} " in title:
            ticks += used
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) used so far by process `pid` and its descendants (uvicorn's
    workers), read from /proc (nan without it)."""
    stats = _proc_stats()
    if stats is None:
        return math.nan
    if pid not in stats:
        return math.nan
    tree, grown = {pid}, True
    while grown:
        more = {p for p, (parent, _t) in stats.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(stats[p][1] for p in tree) / os.sysconf("SC_CLK_TCK")


def load_generator_cpu_seconds() -> float:
    """CPU time used so far by this process's finished children: the wrk runs (the servers
    are still running while a load is measured, so they are not among them)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def timed(measure: Callable[..., Load], base: str, *args: Any, **kwargs: Any) -> Load:
    """`measure(base, …)`'s load, with the CPU seconds `base`'s server processes, its
    database's backends and the load generator used meanwhile."""
    pid = getattr(base, "pid", None)
    database = getattr(base, "database", "")
    before = cpu_seconds(pid) if pid else math.nan
    db_before = database_cpu_seconds(database) if database else math.nan
    gen_before = load_generator_cpu_seconds()
    load = measure(base, *args, **kwargs)
    load.cpu = cpu_seconds(pid) - before if pid else math.nan
    load.db_cpu = database_cpu_seconds(database) - db_before if database else math.nan
    load.gen_cpu = load_generator_cpu_seconds() - gen_before
    return load


@contextmanager
def server(
    target: str,
    env: dict[str, str],
    *,
    factory: bool = False,
    probe: str = "/",
    workers: int = 1,
    database: str = "",
) -> Iterator[str]:
    """uvicorn serving `target` on a free loopback port with uvloop and httptools, in
    `workers` worker processes (more than one: uvicorn's supervisor and N children sharing
    the socket); yields its base URL (knowing the process, and `database`, the PostgreSQL
    database whose backends' CPU the bench counts)."""
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
        *UVICORN,
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    if factory:
        cmd.append("--factory")
    if workers > 1:
        cmd += ["--workers", str(workers)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, "LOG_LEVEL": "warning", **env})
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
        yield Served(base, proc.pid, database)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def preflight(
    base_url: str, paths: list[str], cookie: str = "", extra: dict[str, str] | None = None
) -> Counter:
    """GET every distinct path once (warming the server up): their statuses. wrk counts only
    4xx/5xx as errors; this also catches a redirect (to the login page, say)."""
    headers = {"Cookie": cookie} if cookie else {}
    headers.update(extra or {})
    statuses: Counter = Counter()
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for path in dict.fromkeys(paths):
            statuses[client.get(path).status_code] += 1
    return statuses


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
    client: httpx.AsyncClient,
    url: str,
    *,
    postgres: bool,
    explain: bool,
    cookie: str = "",
    extra: dict[str, str] | None = None,
) -> tuple[int | None, list[str]]:
    """(number of SELECTs the page runs, None if it does not answer 200; report lines: each
    query's time and, with `explain`, its plan)."""
    from tortoise import connections

    headers = {"Cookie": cookie} if cookie else {}
    headers.update(extra or {})
    await client.get(url, headers=headers)  # warm caches
    with capture_queries() as queries:
        response = await client.get(url, headers=headers)
    if response.status_code != 200:
        return None, [f"  {url}: answered {response.status_code}"]
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
    one ballot with exactly the choices sent; a refused one has none; nothing else appeared
    (a resident whose answer never came may have one ballot, or none)."""
    from budget.models import Ballot, BallotChoice

    voters = list(casting.accepted) + casting.refused + casting.unanswered
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
    unanswered_stored = sum(1 for voter in casting.unanswered if voter in per_voter)
    total = await Ballot.filter(round_id=district.round_id).count()
    return {
        "lost": lost,
        "duplicated": duplicated + phantom,
        "unexpected_total": total - before - len(casting.accepted) - unanswered_stored,
        "unanswered_stored": unanswered_stored,
    }


async def verify_commitments(commitments: Commitments, ledger_before: int) -> dict[str, int]:
    """The entries written since `ledger_before` (the highest ledger id before) compared with
    the commitments the app accepted: none lost, none extra (one whose answer never came
    may be there or not)."""
    from budget.models import LedgerEntry

    expected: Counter = Counter()
    maybe: Counter = Counter()
    for key, status in commitments.load.answers.items():
        if status == 303:
            expected[commitments.sent[key]] += 1
        elif status == 0:
            maybe[commitments.sent[key]] += 1
    written = Counter(
        (pid, fen) if kind == "commit" else (pid, -fen)
        for pid, kind, fen in await LedgerEntry.filter(id__gt=ledger_before).values_list(
            "procurement_id", "kind", "amount_fen"
        )
    )
    lost = expected - written
    extra = written - expected - maybe
    return {"accepted": sum(expected.values()), "lost": lost.total(), "extra": extra.total()}


# --- the report ------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    rate: str
    p50: str
    p99: str
    target: str
    ok: bool | None
    section: str = ""
    pass_index: int = 0  # the run's worker counts: 1 worker, then 2…
    cpu: str = ""  # the server processes' CPU meanwhile, in cores (1.0: one core all along)
    db_cpu: str = ""  # idem, PostgreSQL's backends serving the bench's database


SECTIONS = ("ceiling", "district", "money")  # the order of the table's rows


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    plans: list[str] = field(default_factory=list)
    all_ok: bool = True
    section: str = "ceiling"  # of the rows added next
    pass_index: int = 0  # idem

    def add(self, row: Row) -> None:
        row.section = row.section or self.section
        row.pass_index = self.pass_index
        self.rows.append(row)
        if row.ok is False:
            self.all_ok = False

    def ordered(self) -> list[Row]:
        return sorted(self.rows, key=lambda row: (row.pass_index, SECTIONS.index(row.section)))

    def load(
        self,
        load: Load,
        target: str = "",
        ok: bool | None = None,
        unit: str = "",
        refusals_expected: bool = False,
    ) -> None:
        rate = f"{load.rate:,.0f}{unit}"

        def cores(seconds: float) -> str:
            return (
                f"{seconds / load.seconds:.2f}" if load.seconds and math.isfinite(seconds) else ""
            )

        p50, p99 = f"{load.p50:.1f}", f"{load.p99:.1f}"
        row = Row(load.name, rate, p50, p99, target, ok, cpu=cores(load.cpu))
        row.db_cpu = cores(load.db_cpu)
        self.add(row)
        if (load.errors and not refusals_expected) or load.socket_errors:
            self.notes.append(
                f"  {load.name}: {load.errors} answers 4xx/5xx of {load.requests:,}"
                + (f"; socket errors: {load.socket_errors}" if load.socket_errors else "")
            )

    def missing(self, name: str, statuses: Counter, target: str) -> None:
        """A row whose page does not answer 200: FAIL, with what it answered."""
        self.add(Row(name, "-", "-", "-", target, False))
        self.notes.append(f"  {name}: not measured, the pages answered {dict(statuses)}")


def step(message: str) -> None:
    print(f"  … {message}", flush=True)


def print_table(title: str, rows: list[Row], notes: list[str]) -> None:
    print()
    print(title)
    header = ("measure", "req/s", "p50 ms", "p99 ms", "srv CPU", "db CPU", "target", "")
    widths = [46, 14, 7, 7, 7, 6, 30, 4]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        verdict = "" if r.ok is None else ("ok" if r.ok else "FAIL")
        cells = (r.name, r.rate, r.p50, r.p99, r.cpu, r.db_cpu, r.target, verdict)
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)))
    for note in notes:
        print(note)


def pages(
    report: Report,
    base: str,
    label: str,
    paths: list[str],
    *,
    tmp: Path,
    seconds: float,
    cookie: str = "",
    queries: int | None = None,
    extra: dict[str, str] | None = None,
    ceiling: float | None = None,
    single: bool = True,
    tag: str = "",
    warm: float = 1,
) -> Load | None:
    """The rows of one kind of page: 1 client (if `single`) and PAGE_CLIENTS clients,
    p99 < 50 ms, and with PAGE_CLIENTS at least PAGE_SHARE of `ceiling` (the trivial route's
    requests/s in the same run), if given (`extra`: more request headers, e.g. HX-Request
    for an htmx fragment). The load of PAGE_CLIENTS clients, None if a page is missing."""
    statuses = preflight(base, paths, cookie, extra)
    if set(statuses) != {200}:
        report.missing(f"{label} (1 and {PAGE_CLIENTS} clients){tag}", statuses, "p99 < 50 ms")
        return None
    headers = {"Cookie": cookie} if cookie else {}
    headers.update(extra or {})
    # every worker process warmed up (the preflight's one connection reached one of them):
    # with several, long enough for each to keep its own copy of every visitor's page, as
    # workers serving for a while have (core.web.page_cache)
    get_load(
        base, "warm-up", paths, tmp=tmp, connections=PAGE_CLIENTS, seconds=warm, headers=headers
    )
    load = None
    for clients, secs in ((1, seconds / 2), (PAGE_CLIENTS, seconds)):
        if clients == 1 and not single:
            continue
        name = f"{label} ({plural(clients, 'client')}){tag}"
        load = timed(
            get_load, base, name, paths, tmp=tmp, connections=clients, seconds=secs, headers=headers
        )
        good = load.p99 < 50 and load.clean
        target = "p99 < 50 ms"
        if ceiling is not None and clients == PAGE_CLIENTS:
            good = good and load.rate >= PAGE_SHARE * ceiling
            target = f"p99 < 50 ms, >= {PAGE_SHARE:.0%} = {PAGE_SHARE * ceiling:,.0f}/s"
        report.load(load, target, good)
    if queries is not None:
        report.notes.append(f"  {label}: {queries} SQL queries per page")
    return load


def ocds(report: Report, base: str, path: str, money: Money, *, tmp: Path, seconds: float):
    """The OCDS export of the big round, one request at a time: each under a second."""
    name = f"OCDS export, {money.big_round_procurements} procurements (1 client)"
    with httpx.Client(base_url=base, timeout=60) as client:
        response = client.get(path)
    if response.status_code != 200:
        report.missing(name, Counter([response.status_code]), "< 1 s each")
        return
    try:
        releases = len(response.json().get("releases", []))
    except (ValueError, AttributeError):
        report.notes.append("  OCDS export: the answer is not a JSON release package")
        report.add(Row(name, "-", "-", "-", "< 1 s each", False))
        return
    complete = releases == money.big_round_procurements  # one release per procurement
    report.notes.append(
        f"  OCDS export: {releases} releases"
        + ("" if complete else f" (FAIL: {money.big_round_procurements} procurements)")
        + f", {len(response.content) / 1e6:.1f} MB"
    )
    load = get_load(base, name, [path], tmp=tmp, connections=1, seconds=seconds)
    report.load(load, "< 1 s each (p99)", load.p99 < 1000 and load.clean and complete)


# --- the scratch database ------------------------------------------------------------------


async def open_scratch_database(name: str, tmp: Path) -> tuple[str, str]:
    """(url, description) of an empty database for a benchmark: with DATABASE_URL pointing at
    PostgreSQL, a database `name` created next to it; else a SQLite file under `tmp`."""
    from core.db import create_postgres_database, is_postgres

    admin_url = os.environ.get("DATABASE_URL", "")
    if is_postgres(admin_url):
        return await create_postgres_database(
            admin_url, name
        ), f"PostgreSQL (scratch database {name})"
    return f"sqlite://{tmp / 'bench.sqlite3'}", f"SQLite ({tmp / 'bench.sqlite3'})"


async def close_scratch_database(url: str, name: str, tmp: Path) -> None:
    """Drop what `open_scratch_database` made (`url` "" if it made nothing) and `tmp`."""
    from core.db import drop_postgres_database, is_postgres

    if url and is_postgres(url):
        await drop_postgres_database(os.environ.get("DATABASE_URL", ""), name)
    shutil.rmtree(tmp, ignore_errors=True)


# --- passes: one per number of worker processes ------------------------------------------------


def plural(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass
class Pass:
    """What one server configuration measured, the trivial route first."""

    workers: int
    load: float  # load average (1 min) at its start
    trivial: Load | None = None
    floor: Load | None = None  # the app's /healthz: its middlewares, no query, no template
    pages: dict[str, Load | None] = field(default_factory=dict)
    casting: Load | None = None


@asynccontextmanager
async def orm(url: str):
    """Tortoise on the scratch database in this process (closed while the servers run)."""
    from tortoise import Tortoise

    from core.settings import tortoise_config

    await Tortoise.init(config=tortoise_config(url))
    try:
        yield
    finally:
        await Tortoise.close_connections()


async def ballot_total(round_id: int) -> int:
    from budget.models import Ballot

    return await Ballot.filter(round_id=round_id).count()


async def report_casting(
    report: Report, district: District, casting: Casting, before: int, ceiling: float | None
) -> None:
    """The rows of one casting run: ballots/s (at least CASTING_SHARE of `ceiling`, if given),
    then none lost or duplicated, from the database."""
    load = casting.load
    if ceiling is not None:
        target_rate = CASTING_SHARE * ceiling
        good = load.rate >= target_rate and not load.socket_errors
        report.load(load, f">= {CASTING_SHARE:.0%} of ceiling = {target_rate:,.0f}/s", good,
                    unit=" ballots")  # fmt: skip
    else:
        report.load(load, "printed (scaling below)", None, unit=" ballots")
    statuses = Counter(load.answers.values())
    if set(statuses) != {303}:
        report.notes.append(f"  {load.name}: statuses {dict(statuses)} (0: no answer)")
    check = await verify_casting(district, casting, before)
    good = check["lost"] == 0 and check["duplicated"] == 0 and check["unexpected_total"] == 0
    report.add(
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
        report.notes.append(
            f"  {check['unexpected_total']} ballots appeared that the app did not accept"
        )
    if casting.unanswered:
        report.notes.append(
            f"  {load.name}: {len(casting.unanswered)} ballots without an answer,"
            f" {check['unanswered_stored']} of them stored"
        )


def print_scaling(passes: list[Pass]) -> bool:
    """Requests/s of each pass side by side, each app figure with its share of the trivial
    route's in the same pass; with two passes or more, last / first (target SCALING× from 1
    to 2 workers). False if a scaling target is missed."""
    print(f"\nscaling ({PAGE_CLIENTS} clients; casting: {VOTERS} residents; app / trivial route"
          " of the same pass in brackets)")  # fmt: skip
    first, last = passes[0], passes[-1]
    compare = len(passes) > 1
    header = ["measure", *(plural(p.workers, "worker") for p in passes)]
    if compare:
        header += [f"{last.workers}w / {first.workers}w", "target"]
    widths = [22, *(20 for _ in passes), *([10, 18] if compare else [])]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
    print("  ".join("-" * w for w in widths))
    ok = True

    def rate(p: Pass, load: Load | None, trivial: bool) -> str:
        if load is None or p.trivial is None:
            return "-"
        if trivial:
            return f"{load.rate:,.0f}/s"
        return f"{load.rate:,.0f}/s ({load.rate / p.trivial.rate:.1%})"

    measures = [("trivial route", lambda p: p.trivial, True)]
    measures.append(("app /healthz", lambda p: p.floor, False))
    measures += [(label, lambda p, label=label: p.pages.get(label), False)
                 for label in ("proposal list", "proposal page")]  # fmt: skip
    measures.append(("ballot casting", lambda p: p.casting, False))
    for label, get, trivial in measures:
        cells = [label, *(rate(p, get(p), trivial) for p in passes)]
        if compare:
            a, b = get(first), get(last)
            ratio = b.rate / a.rate if a and b and a.rate else 0.0
            cells.append(f"{ratio:.2f}x")
            if trivial or label == "app /healthz":
                cells.append("printed")
            else:
                good = first.workers == 1 and last.workers == 2 and ratio >= SCALING
                if first.workers == 1 and last.workers == 2:
                    ok &= good
                    cells.append(f">= {SCALING}x  {'ok' if good else 'FAIL'}")
                else:
                    cells.append("printed")
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip())
    print(
        "\nper CPU-second of the server's processes (requests / their CPU time; PostgreSQL's"
        " and wrk's not counted): what the app costs, less sensitive to other work on the"
        " machine"
    )
    for label, get, trivial in measures:
        cells = [label]
        for p in passes:
            load = get(p)
            if load is None or not (load.cpu > 0) or p.trivial is None or not (p.trivial.cpu > 0):
                cells.append("-")
                continue
            per = load.requests / load.cpu
            share = per / (p.trivial.requests / p.trivial.cpu)
            cells.append(f"{per:,.0f}" + ("" if trivial else f" ({share:.1%})"))
        widths_cpu = [22, *(20 for _ in passes)]
        print("  ".join(str(c).ljust(w) for c, w in zip(cells, widths_cpu, strict=True)).rstrip())
    print("  load average (1 min) at the start of each pass: "
          + ", ".join(f"{plural(p.workers, 'worker')} {p.load:.1f}" for p in passes))  # fmt: skip
    if first.workers == 1:
        print_cpu_bounds(first, measures[1:])
    return ok


def cpu_bound(load: Load, cpus: int) -> tuple[float, float, float, float] | None:
    """(server, PostgreSQL, load generator) CPU ms per request of `load`, and the requests/s
    that `cpus` CPUs could serve at most at that cost (all busy, nothing else running, no
    contention added by more processes); None if a CPU figure is missing."""
    parts = (load.cpu, 0.0 if math.isnan(load.db_cpu) else load.db_cpu, load.gen_cpu)
    if load.requests <= 0 or any(math.isnan(x) or x < 0 for x in parts) or not parts[0] > 0:
        return None
    ms = [1000 * x / load.requests for x in parts]
    return ms[0], ms[1], ms[2], cpus * 1000 / sum(ms)


def print_cpu_bounds(one_worker: Pass, measures: list) -> None:
    """What the machine's CPUs allow, from one worker's CPU per request: the server, the
    database and the load generator share the CPUs, so more workers can at best fill them."""
    cpus = os.cpu_count() or 1
    print(
        f"\nwhat {cpus} CPUs allow at one worker's CPU cost per request (server + PostgreSQL +"
        " wrk): the most any number of workers could serve, before contention"
    )
    for label, get, _trivial in measures:
        load = get(one_worker)
        bound = cpu_bound(load, cpus) if load is not None else None
        if bound is None:
            continue
        server, db, gen, most = bound
        print(
            f"  {label:<20}  {server:.3f} + {db:.3f} + {gen:.3f} ms = "
            f"{server + db + gen:.3f} ms: at most {most:,.0f}/s, "
            f"{most / load.rate:.2f}x one worker's {load.rate:,.0f}/s"
        )


# --- the run -------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise

    from app import create_app
    from budget.models import LedgerEntry
    from core.db import is_postgres, migrate_database
    from core.settings import Settings, tortoise_config

    postgres = is_postgres(os.environ.get("DATABASE_URL", ""))
    do_district = args.only in (None, "district")
    do_money = args.only in (None, "money")
    sizes = (
        Sizes(residents=2_000, proposals=400, ballots=1_200, district_proposals=40)
        if args.small
        else Sizes()
    )
    money_sizes = (
        MoneySizes(procurements=200, big_round=60, entries=5_000) if args.small else MoneySizes()
    )
    tmp = Path(tempfile.mkdtemp(prefix="yishi-bench-"))
    url = ""
    report = Report()
    passes: list[Pass] = []
    load_before = 0.0
    money: Money | None = None
    try:
        url, where = await open_scratch_database(BENCH_DB, tmp)
        print(f"yishi bench on {where}", flush=True)
        if not postgres and max(args.workers) > 1:
            print("  (SQLite has one writer: with several workers, ballots meet 'database is"
                  " locked'; measure scaling on PostgreSQL)", flush=True)  # fmt: skip
        load_before = os.getloadavg()[0]
        t = time.perf_counter()
        await migrate_database(tortoise_config(url))
        district = await fill_district(url, sizes, analyze=not do_money)
        filled = time.perf_counter() - t
        c = district.counts
        print(
            f"filled in {filled:.1f} s: {c['proposal']:,} proposals, {c['account']:,} accounts,"
            f" {c['ballot']:,} ballots with {c['ballot_choice']:,} choices,"
            f" {c['audit_entry']:,} audit entries"
        )
        if do_money:
            t = time.perf_counter()
            money = await fill_money(url, money_sizes)
            c = money.counts
            print(
                f"money filled in {time.perf_counter() - t:.1f} s: {c['round']} finished rounds,"
                f" {c['procurement']:,} procurements, {c['ledger_entry']:,} ledger entries,"
                f" {c['milestone']:,} milestones, {c['rating']:,} ratings,"
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
        detail_urls = [f"/budget/proposals/{rng.choice(district.proposal_ids)}" for _ in range(500)]
        finance_urls = spending_urls = []
        finance_cookie = ""
        # a resident who never casts in the bench (the last of those without a ballot)
        resident_cookie = signed_in(district.non_voters[-1][0])
        ocds_url = ""
        if money:
            finance_urls = [f"/budget/rounds/{r}/finance" for r in money.round_ids]
            spending_urls = [f"/budget/rounds/{r}/spending" for r in money.round_ids]
            finance_cookie = signed_in(money.officer_ids[0])
            ocds_url = f"/budget/rounds/{money.big_round_id}/ocds.json"

        # queries per page (and plans), in-process
        step("queries per page")
        queries: dict[str, int | None] = {}
        await Tortoise.init(config=tortoise_config(url))
        app = create_app(
            Settings(database_url=url, secret_key=SECRET_KEY, upload_dir=tmp / "uploads")
        )
        ledger_before = 0
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client:
            inspected = []
            if do_district:
                # as a resident sees them: rendered each time (a visitor's kept page reads
                # only the page stamp: core.web.page_cache)
                inspected += [
                    ("list", list_urls[1], resident_cookie),
                    ("detail", detail_urls[0], resident_cookie),
                ]
            if money:
                inspected += [
                    ("finance", finance_urls[-1], finance_cookie),
                    ("spending", spending_urls[-1], ""),
                ]
                last = await LedgerEntry.all().order_by("-id").first()
                ledger_before = last.id if last else 0
            for key, page_url, cookie in inspected:
                queries[key], lines = await inspect_page(
                    client, page_url, postgres=postgres, explain=args.explain, cookie=cookie
                )
                report.plans += lines
        await Tortoise.close_connections()

        env = {
            "DATABASE_URL": url,
            "SECRET_KEY": SECRET_KEY,
            "UPLOAD_DIR": str(tmp / "uploads"),
            "DEBUG": "0",
        }
        page_seconds = 2 if args.small else 6
        per_pass = min(len(district.non_voters) // len(args.workers), 12_000)
        commitments = None
        for i, workers in enumerate(args.workers):
            first = i == 0
            tag = "" if args.workers == [1] else f", {plural(workers, 'worker')}"
            report.pass_index = i
            one = Pass(workers, os.getloadavg()[0])
            passes.append(one)
            report.section = "ceiling"
            step(f"the trivial route{tag}")
            with server("tests.bench.bench_app:trivial_app", env, workers=workers) as base:
                get_load(base, "warm-up", ["/"], tmp=tmp, connections=PAGE_CLIENTS, seconds=1)
                one.trivial = timed(
                    get_load,
                    base,
                    f"trivial Starlette route ({PAGE_CLIENTS} clients){tag}",
                    ["/"],
                    tmp=tmp,
                    connections=PAGE_CLIENTS,
                    seconds=page_seconds,
                )
            report.load(one.trivial, "the ceiling")
            report.section = "district"
            # the ratio targets hold on one worker; with more, their scaling is the target
            ceiling = one.trivial.rate if workers == 1 else None

            casting = None
            if do_district:
                async with orm(url):
                    before = await ballot_total(district.round_id)
            with server(
                "app:create_app",
                env,
                factory=True,
                probe="/budget/",
                workers=workers,
                database=BENCH_DB if postgres else "",
            ) as base:
                step(f"the app's /healthz{tag}")
                report.section = "ceiling"
                warm = ["/healthz"]
                get_load(base, "warm-up", warm, tmp=tmp, connections=PAGE_CLIENTS, seconds=1)
                one.floor = timed(
                    get_load,
                    base,
                    f"app /healthz, no query ({PAGE_CLIENTS} clients){tag}",
                    ["/healthz"],
                    tmp=tmp,
                    connections=PAGE_CLIENTS,
                    seconds=page_seconds / 2,
                )
                report.load(one.floor, "printed (the app's middlewares)")
                report.section = "district"
                if do_district:
                    step(f"list and detail pages{tag}")
                    for label, paths, key in (
                        ("proposal list", list_urls, "list"),
                        ("proposal page", detail_urls, "detail"),
                    ):
                        one.pages[label] = pages(
                            report,
                            base,
                            label,
                            paths,
                            tmp=tmp,
                            seconds=page_seconds,
                            queries=queries.get(key) if first else None,
                            ceiling=ceiling,
                            single=first,
                            tag=tag,
                            warm=1 if workers == 1 else 1 + 0.01 * len(paths) * workers,
                        )
                    if first:
                        # signed-in residents' pages are never kept: rendered every time
                        for label, paths in (
                            ("proposal list, signed in", list_urls),
                            ("proposal page, signed in", detail_urls),
                        ):
                            pages(
                                report,
                                base,
                                label,
                                paths,
                                tmp=tmp,
                                seconds=page_seconds,
                                cookie=resident_cookie,
                                single=False,
                            )
                    step(f"ballot casting, {VOTERS} residents at a time{tag}")
                    before_cpu = cpu_seconds(base.pid)
                    before_db = database_cpu_seconds(BENCH_DB) if postgres else math.nan
                    before_gen = load_generator_cpu_seconds()
                    casting = cast_ballots(
                        base,
                        district,
                        district.non_voters[i * per_pass : (i + 1) * per_pass],
                        tmp=tmp,
                        seconds=10 if args.small else 25,
                        tag=tag,
                    )
                    casting.load.cpu = cpu_seconds(base.pid) - before_cpu
                    casting.load.gen_cpu = load_generator_cpu_seconds() - before_gen
                    if postgres:
                        casting.load.db_cpu = database_cpu_seconds(BENCH_DB) - before_db
                    one.casting = casting.load
                if money and first:
                    report.section = "money"
                    step("finance view and spending pages")
                    pages(
                        report,
                        base,
                        "round finance view",
                        finance_urls,
                        tmp=tmp,
                        seconds=page_seconds,
                        cookie=finance_cookie,
                        queries=queries.get("finance"),
                    )
                    pages(
                        report,
                        base,
                        "round spending page (public)",
                        spending_urls,
                        tmp=tmp,
                        seconds=page_seconds,
                        queries=queries.get("spending"),
                    )
                    step("the OCDS export")
                    ocds(report, base, ocds_url, money, tmp=tmp, seconds=page_seconds)
                    step(f"ledger commitments, {OFFICERS} officers at a time")
                    commitments = commit_money(
                        base,
                        money,
                        tmp=tmp,
                        seconds=3 if args.small else 10,
                        per_officer=300 if args.small else 1_500,
                    )
            if casting:
                report.section = "district"
                async with orm(url):
                    await report_casting(report, district, casting, before, ceiling)

        report.pass_index = 0
        if commitments:
            report.section = "money"
            statuses = commitments.statuses
            # no target for the rate; a row fails if the app answered anything but 303 and 422
            good = None if set(statuses) <= {303, 422} and statuses[303] else False
            report.load(commitments.load, "printed (no target)", good, refusals_expected=True)
            per_second = statuses[303] / commitments.load.seconds if commitments.load.seconds else 0
            report.notes.append(
                f"  commitments: {statuses[303]:,} accepted ({per_second:,.0f}/s),"
                f" {statuses[422]:,} refused (over the cap) of {sum(statuses.values()):,}, on"
                f" {len(money.open_procurements)} procurements of envelope {money.envelope_id}"
                + (f"; all statuses {dict(statuses)}" if set(statuses) - {303, 422} else "")
            )

        async with orm(url):
            if money:
                report.section = "money"
                step("the money's invariants")
                breaks, examples = await invariant_breaks()
                report.add(
                    Row(
                        f"invariant breaks ({money.counts['procurement']:,} procurements)",
                        f"{breaks}",
                        "",
                        "",
                        "0",
                        breaks == 0,
                    )
                )
                report.notes += [f"  invariant broken: {e}" for e in examples]
            if commitments:
                check = await verify_commitments(commitments, ledger_before)
                report.add(
                    Row(
                        f"commitments lost / extra (of {check['accepted']:,})",
                        f"{check['lost']} / {check['extra']}",
                        "",
                        "",
                        "0 / 0",
                        check["lost"] == 0 and check["extra"] == 0,
                    )
                )
            if do_district:
                report.section = "district"
                step("results")
                seconds, funded = await time_results(district, "greedy")
                report.add(
                    Row(
                        f"results, greedy ({len(district.budgets)} envelopes)",
                        f"{seconds * 1000:,.0f} ms",
                        "",
                        "",
                        "< 1 s",
                        seconds < 1,
                    )
                )
                report.notes.append(f"  results: {funded} projects funded (greedy)")
                step("results with equal shares")
                seconds, funded = await time_results(district, "equal-shares")
                report.add(
                    Row(
                        f"results, equal-shares ({len(district.budgets)} envelopes)",
                        f"{seconds * 1000:,.0f} ms",
                        "",
                        "",
                        "measured (no target)",
                        None,
                    )
                )
                report.notes.append(
                    f"  results: {funded} projects funded (equal-shares, one worker process"
                    " per CPU)"
                )
    finally:
        await close_scratch_database(url, BENCH_DB, tmp)

    load_after = os.getloadavg()[0]
    report.notes.append(
        f"  load average (1 min) before filling / at the start of each pass / after: "
        f"{load_before:.1f} / {' / '.join(f'{p.load:.1f}' for p in passes)} / {load_after:.1f}"
        f" on {os.cpu_count()} CPUs: anything above ~2 means other work competed "
        "for the CPUs and the figures are pessimistic"
    )
    processes = " then ".join(f"{w} worker process{'es' if w > 1 else ''}" for w in args.workers)
    print_table(
        f"yishi bench — {where.split(' (')[0]}, {os.cpu_count()} CPUs, uvicorn {processes}"
        f" ({server_versions()}), load from wrk (a separate process)",
        report.ordered(),
        [
            "",
            "notes:",
            *report.notes,
            "  p50/p99: latency seen by wrk; '1 client' is one request at a time,",
            f"  '{PAGE_CLIENTS} clients' the same pages under load (both must stay under 50 ms).",
        ],
    )
    if do_district:
        report.all_ok &= print_scaling(passes)
    if report.plans:
        print("\nqueries of one page of each kind (best of 5 runs):")
        print("\n".join(report.plans))
    print("\nall targets met" if report.all_ok else "\nSOME TARGETS MISSED")
    return 0 if report.all_ok else 1


def worker_counts(text: str) -> list[int]:
    """ "2" → [2]; "1,2" → [1, 2]."""
    counts = [int(n) for n in text.split(",") if n.strip()]
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError(f"worker counts >= 1, comma-separated: {text!r}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_app")
    parser.add_argument(
        "--explain", action="store_true", help="print the query plans of the pages measured"
    )
    parser.add_argument("--small", action="store_true", help="a small data set (a smoke test)")
    parser.add_argument(
        "--only",
        choices=["district", "money"],
        help="only the district's rows (pages, casting, results) or only the money's",
    )
    parser.add_argument(
        "--workers",
        type=worker_counts,
        default=worker_counts(os.environ.get("WORKERS", "1")),
        help="uvicorn worker processes, or a list run one after the other (1,2: how the"
        " district's throughput scales); default: $WORKERS or 1",
    )
    args = parser.parse_args()
    require_wrk()
    quiet_request_log()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
