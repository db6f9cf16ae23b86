"""`make bench`, consultation: discussion and deliberation rounds at the issue's scale.

    .venv/bin/python -m tests.bench.bench_consult [--explain] [--small]

Fills a scratch database (SQLite in a temporary directory; with DATABASE_URL pointing at
PostgreSQL, a database `yishi_bench_consult` created next to it and dropped at the end) with a
small district (tests/bench/fill.py) and consultation (tests/bench/fill_consult.py): a
proposal with 10,000 comments and one with 10, a deliberation round with 200 statements and
2,000 voters, and an open round with 150 statements. Then, in the same run:

- the ceiling: a trivial Starlette route's requests/s (same uvicorn settings);
- the page of the proposal with 10,000 comments, beside the one with 10, and "load more"
  deep into the long thread: requests/s and p50/p99 at 1 and 8 clients (target p99 < 50 ms);
- common ground and opinion groups of the 2,000-voter round: the round's page right after a
  vote changed it (the analysis recomputed: target < 1 s), then again (cached);
- 64 residents voting on statements at once, each its own wrk connection: votes/s, and the
  database compared with what the app accepted: none lost, none duplicated.

The load comes from wrk (tests/bench/wrk.py), as in tests/bench/bench_app.py.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import httpx

from tests.bench.bench_app import (
    CSRF,
    PAGE_CLIENTS,
    SECRET_KEY,
    Report,
    Row,
    close_scratch_database,
    inspect_page,
    open_scratch_database,
    pages,
    print_table,
    quiet_request_log,
    server,
    signed_in,
    step,
)
from tests.bench.fill import Sizes, fill_district
from tests.bench.fill_consult import Consult, ConsultSizes, fill_consult
from tests.bench.wrk import Load, Post, get_load, post_each, require_wrk

BENCH_DB = "yishi_bench_consult"
VOTERS = 64  # residents voting on statements at once
# Where the app takes a statement vote and the next page of a thread (consult/routes/).
VOTE_PATH = "/consult/statements/{statement_id}/vote"
# "load more" answers htmx with the next threads (without HX-Request: 303 to the proposal page)
LOAD_MORE_PATH = "/consult/discussions/proposal/{proposal_id}/threads?after={cursor}"
HTMX = {"HX-Request": "true"}


def vote_at_once(base: str, consult: Consult, *, tmp: Path, seconds: float) -> tuple[Load, dict]:
    """VOTERS residents, each a wrk connection voting on the open round's statements in its
    own order, one vote after the other."""
    sent: dict[str, tuple[int, int, str]] = {}  # key → (voter, statement, choice)
    lists: list[list[Post]] = []
    choices = ("agree", "disagree", "pass")
    for i, uid in enumerate(consult.fresh_voters[:VOTERS]):
        cookie = signed_in(uid)
        order = consult.open_statement_ids[i:] + consult.open_statement_ids[:i]
        posts = []
        for j, sid in enumerate(order):
            choice = choices[(i + j) % 3]
            key = f"{uid}-{sid}"
            sent[key] = (uid, sid, choice)
            body = urlencode({"csrf_token": CSRF, "choice": choice})
            posts.append(Post(key, VOTE_PATH.format(statement_id=sid), cookie, body))
        lists.append(posts)
    load = post_each(base, f"statement votes ({VOTERS} residents)", lists, tmp=tmp, seconds=seconds)
    return load, sent


async def verify_votes(consult: Consult, load: Load, sent: dict) -> dict[str, int]:
    """Every accepted vote is in the database once with its choice; no refused one is."""
    from consult.models import StatementVote

    voters = {uid for uid, _s, _c in sent.values()}
    rows = await StatementVote.filter(
        deliberation_id=consult.open_id, voter_id__in=list(voters)
    ).values_list("voter_id", "statement_id", "choice")
    per_pair = Counter((v, s) for v, s, _c in rows)
    stored = {(v, s): c for v, s, c in rows}
    accepted = [sent[k] for k, status in load.answers.items() if status in (200, 303)]
    refused = [sent[k] for k, status in load.answers.items() if status not in (0, 200, 303)]
    lost = sum(1 for v, s, c in accepted if stored.get((v, s)) != c)
    duplicated = sum(n - 1 for n in per_pair.values() if n > 1)
    phantom = sum(1 for v, s, _c in refused if (v, s) in stored)
    return {
        "accepted": len(accepted),
        "refused": len(refused),
        "lost": lost,
        "duplicated": duplicated + phantom,
        "statuses": dict(Counter(load.answers.values())),
    }


async def time_analysis(client: httpx.AsyncClient, consult: Consult) -> tuple[float, float, int]:
    """(seconds for the round's page right after a vote changed the round, seconds for it
    again, its status): the first computes common ground and opinion groups, the second reads
    them back."""
    from tortoise.expressions import F

    from consult.models import Deliberation

    path = f"/consult/deliberations/{consult.analysed_id}"
    await client.get(path)
    # what a vote does to the round in its transaction: the analysis is stale from now on
    await Deliberation.filter(id=consult.analysed_id).update(votes_version=F("votes_version") + 1)
    t = time.perf_counter()
    response = await client.get(path)
    fresh = time.perf_counter() - t
    t = time.perf_counter()
    await client.get(path)
    cached = time.perf_counter() - t
    return fresh, cached, response.status_code


async def run(args: argparse.Namespace) -> int:
    from tortoise import Tortoise

    from app import create_app
    from core.db import is_postgres, migrate_database
    from core.settings import Settings, tortoise_config

    postgres = is_postgres(os.environ.get("DATABASE_URL", ""))
    sizes = ConsultSizes(comments=2_000, voters=400) if args.small else ConsultSizes()
    tmp = Path(tempfile.mkdtemp(prefix="yishi-bench-consult-"))
    url = ""
    report = Report()
    load_before = os.getloadavg()[0]
    try:
        url, where = await open_scratch_database(BENCH_DB, tmp)
        print(f"yishi consultation bench on {where}", flush=True)
        t = time.perf_counter()
        await migrate_database(tortoise_config(url))
        district = await fill_district(
            url,
            Sizes(areas=4, residents=3_000, proposals=40, ballots=0, district_proposals=4),
            analyze=False,
        )
        consult = await fill_consult(url, district, sizes)
        c = consult.counts
        print(
            f"filled in {time.perf_counter() - t:.1f} s: {c['comment']:,} comments,"
            f" {c['statement']:,} statements, {c['statement_vote']:,} statement votes"
        )
        big = f"/budget/proposals/{consult.big_proposal_id}"
        small = f"/budget/proposals/{consult.small_proposal_id}"
        stride = max(1, len(consult.big_thread_ids) // 50)
        more = [
            LOAD_MORE_PATH.format(proposal_id=consult.big_proposal_id, cursor=cursor)
            for cursor in consult.big_thread_ids[::stride]
        ]

        step("queries per page, and the analysis")
        await Tortoise.init(config=tortoise_config(url))
        app = create_app(
            Settings(database_url=url, secret_key=SECRET_KEY, upload_dir=tmp / "uploads")
        )
        queries: dict[str, int | None] = {}
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1"
        ) as client:
            for key, page_url in (("big", big), ("small", small), ("more", more[len(more) // 2])):
                queries[key], lines = await inspect_page(
                    client,
                    page_url,
                    postgres=postgres,
                    explain=args.explain,
                    extra=HTMX if key == "more" else None,
                )
                report.plans += lines
            fresh, cached, status = await time_analysis(client, consult)
        await Tortoise.close_connections()
        report.section = "district"
        good = status == 200 and fresh < 1
        report.add(
            Row(
                f"round page after a vote ({sizes.statements} statements,"
                f" {sizes.voters:,} voters): analysis recomputed",
                f"{fresh * 1000:,.0f} ms",
                "",
                "",
                "< 1 s",
                good,
            )
        )
        report.add(
            Row(
                "the same page again (analysis read back)",
                f"{cached * 1000:,.0f} ms",
                "",
                "",
                "",
                None,
            )
        )
        if status != 200:
            report.notes.append(f"  the deliberation round's page answered {status}")

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
            step("discussion pages")
            for label, paths, key in (
                (f"proposal with {sizes.comments:,} comments", [big], "big"),
                (f"proposal with {sizes.small_thread} comments", [small], "small"),
                ("load more, deep in the long thread", more, "more"),
            ):
                pages(
                    report,
                    base,
                    label,
                    paths,
                    tmp=tmp,
                    seconds=seconds,
                    queries=queries[key],
                    extra=HTMX if key == "more" else None,
                )
            step(f"statement votes, {VOTERS} residents at a time")
            load, sent = vote_at_once(base, consult, tmp=tmp, seconds=5 if args.small else 15)
        report.load(load, "printed", None, unit=" votes")
        await Tortoise.init(config=tortoise_config(url))
        try:
            check = await verify_votes(consult, load, sent)
        finally:
            await Tortoise.close_connections()
        report.add(
            Row(
                f"votes lost / duplicated (of {check['accepted']:,})",
                f"{check['lost']} / {check['duplicated']}",
                "",
                "",
                "0 / 0",
                check["lost"] == 0 and check["duplicated"] == 0 and check["accepted"] > 0,
            )
        )
        report.notes.append(f"  statement votes: statuses {check['statuses']} (0: no answer)")
    finally:
        await close_scratch_database(url, BENCH_DB, tmp)
    load_after = os.getloadavg()[0]
    report.notes.append(
        f"  load average (1 min) before / after: {load_before:.1f} / {load_after:.1f}"
        f" on {os.cpu_count()} CPUs"
    )
    print_table(
        f"yishi consultation bench — {where.split(' (')[0]}, {os.cpu_count()} CPUs, uvicorn 1"
        " process, load from wrk",
        report.ordered(),
        ["", "notes:", *report.notes],
    )
    if report.plans:
        print("\nqueries of one page of each kind (best of 5 runs):")
        print("\n".join(report.plans))
    print("\nall targets met" if report.all_ok else "\nSOME TARGETS MISSED")
    return 0 if report.all_ok else 1


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.bench_consult")
    parser.add_argument("--explain", action="store_true", help="print the pages' query plans")
    parser.add_argument("--small", action="store_true", help="a small data set (a smoke test)")
    args = parser.parse_args()
    require_wrk()
    quiet_request_log()
    sys.exit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
