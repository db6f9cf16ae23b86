"""The count: what a round's count reads — every ballot with its choices, grouped per
envelope — and the counting of its envelopes with a rule, off the event loop (in worker
processes for large equal-shares counts). Shared by computing the results
(`budget.services.results`), comparing the rules (`budget.services.compare`) and the .pb export
(`budget.services.pabulib_export`), so that all three see exactly the same election.

The count itself is the pure rules package (`budget.rules`): this module only reads the
ballots in one query, groups them per envelope and hands each envelope to the rule. Greedy,
which needs only each project's votes and supporters, is counted from the database's tallies
instead (`budget.services.tallies`), with the same outcome.

Which ballots count in an envelope: those cast by voters of its area (every ballot for the
district-wide envelope), plus any ballot that chose one of its projects (imported ballots have
no area). A ballot that chose nothing in an envelope still counts there as a voter (it
matters for the Method of Equal Shares, where every voter brings an equal share).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from tortoise import connections

from budget.models import BallotType, Envelope, Proposal, ProposalStatus, Round

# Proposals that were on the ballot (and keep being counted on a re-run).
COUNTED = (ProposalStatus.FEASIBLE, ProposalStatus.FUNDED, ProposalStatus.NOT_FUNDED)
UNIT_FEN = 100  # equal shares raises shares by one yuan at a time


# --- the count's input ---------------------------------------------------------------------


@dataclass
class EnvelopeCount:
    """The input of one envelope's count."""

    envelope_id: int
    area_id: int | None
    budget_fen: int
    costs: dict[str, int] = field(default_factory=dict)
    ballots: list[dict[str, int]] = field(default_factory=list)


_NO_CHOICE: Mapping[str, int] = MappingProxyType({})  # a voter who chose nothing here


def group_ballots(
    envelopes: Iterable[tuple[int, int | None, int]],
    proposals: Iterable[tuple[int, int | None, int]],
    ballots: Iterable[tuple[int | None, Sequence[int], Sequence[int] | None]],
    keys: Mapping[int, str] | None = None,
) -> list[EnvelopeCount]:
    """Pure: (envelope id, area id, budget), (proposal id, area id, cost) and one row per
    ballot: (its voter's area id, the proposal ids it chose, their points — None for approval
    ballots, where every choice counts 1) → one EnvelopeCount per envelope. A project is named
    by `keys[proposal id]` where given (see `project_key`), else by its id as text.

    One pass over the ballots (a district's 60,000 take a fraction of a second)."""
    counts = [EnvelopeCount(env_id, area_id, budget) for env_id, area_id, budget in envelopes]
    env_of_area = {count.area_id: i for i, count in enumerate(counts)}
    project_env: dict[int, tuple[int, str]] = {}
    for pid, area_id, cost in proposals:
        i = env_of_area.get(area_id)
        if i is not None:  # a proposal of an area without an envelope is not counted
            key = keys.get(pid, str(pid)) if keys else str(pid)
            counts[i].costs[key] = cost
            project_env[pid] = (i, key)
    district = env_of_area.get(None)
    lists = [count.ballots for count in counts]
    find_project = project_env.get
    for ballot_area, pids, points in ballots:
        # only the envelopes this ballot chose in, then its own area's and the district's
        # (a voter who chose nothing there still counts): not all of them for every ballot
        chosen: dict[int, dict[str, int]] = {}
        for j, pid in enumerate(pids):
            where = find_project(pid)
            if where is None:
                continue
            i, key = where
            choice = chosen.get(i)
            if choice is None:
                choice = chosen[i] = {}
            choice[key] = 1 if points is None else points[j]
        for i, choice in chosen.items():
            lists[i].append(choice)
        own = env_of_area.get(ballot_area)
        if own is not None and own not in chosen:
            lists[own].append(_NO_CHOICE)
        if district is not None and district != own and district not in chosen:
            lists[district].append(_NO_CHOICE)
    return counts


async def _ballot_rows(
    conn: Any, round_id: int, *, with_points: bool
) -> list[tuple[int | None, Sequence[int], Sequence[int] | None]]:
    """Every ballot of the round with its choices: (area id, proposal ids, points or None). A
    ballot without any choice (possible in an imported election) comes with no ids: it still
    counts as a voter.

    The order is fixed (a voter's index in an outcome's certificate stays the same on a
    re-count) but says nothing about who cast a ballot or when (the secret ballot): residents'
    ballots are sorted by their own content (area, then choices), never by ballot id, which
    follows the order of casting that the audit log shows. The anonymous ballots of an
    imported election keep the file's order (ids follow it; see `pabulib_import`).

    One plain SQL query that aggregates the choices per ballot in the database: the ORM's
    per-row conversion of a district's 300,000 choices costs more than the count itself, and
    the database sorts by content for next to nothing. Both aggregates of a group see its rows
    in proposal order (PostgreSQL by ORDER BY; SQLite reads ballot_choice through its unique
    (ballot_id, proposal_id) index), so ids and points line up. Only an int (`round_id`)
    reaches the SQL text."""
    rid = int(round_id)
    postgres = conn.capabilities.dialect == "postgres"
    if postgres:
        agg = "array_remove(array_agg({} ORDER BY c.proposal_id), NULL)"
    else:
        agg = "group_concat({})"
    columns = agg.format("c.proposal_id") + (", " + agg.format("c.points") if with_points else "")
    content = "2, 3" if with_points else "2"
    sql = (
        f"SELECT b.area_id, {columns} FROM ballot b "
        f"LEFT JOIN ballot_choice c ON c.ballot_id = b.id "
        f"WHERE b.round_id = {rid} GROUP BY b.id, b.area_id "
        f"ORDER BY CASE WHEN b.voter_id IS NULL THEN b.id ELSE 0 END, "
        f"b.area_id IS NULL, b.area_id, {content}"
    )
    _count, rows = await conn.execute_query(sql)
    if postgres:
        return [(row[0], row[1], row[2] if with_points else None) for row in rows]

    def ints(text: str | None) -> list[int]:
        return [int(x) for x in text.split(",")] if text else []

    return [(row[0], ints(row[1]), ints(row[2]) if with_points else None) for row in rows]


def project_key(rnd: Round, proposal_id: int, external_id: str = "") -> str:
    """How a project is named in a count (and in a .pb export): its id in the imported file
    for a round imported from Pabulib — so that ties are broken on the same ids as the
    original election (rules compare ids as text) — else the proposal id as text."""
    if rnd.source and external_id:
        return external_id
    return str(proposal_id)


@dataclass
class RoundBallots:
    """What a count reads: one EnvelopeCount per envelope, the ballot rows themselves and the
    proposals on the ballot by their key."""

    counts: list[EnvelopeCount]
    rows: list[tuple[int | None, Sequence[int], Sequence[int] | None]]
    pid_of: dict[str, int]  # project key -> proposal id

    def count_of(self, envelope_id: int) -> EnvelopeCount:
        for count in self.counts:
            if count.envelope_id == envelope_id:
                return count
        raise KeyError(envelope_id)


async def load_round_ballots(rnd: Round, conn: Any = None) -> RoundBallots:
    """The input of a round's count, in three queries (envelopes, proposals on the ballot, and
    one for all the ballots with their choices). Shared by the count, the comparison of rules
    and the .pb export, so that all three see exactly the same election."""
    conn = conn or connections.get("default")
    envelopes = (
        await Envelope.filter(round_id=rnd.id)
        .using_db(conn)
        .order_by("id")
        .values_list("id", "area_id", "budget_fen")
    )
    proposals = (
        await Proposal.filter(round_id=rnd.id, status__in=COUNTED)
        .using_db(conn)
        .order_by("id")
        .values_list("id", "area_id", "cost_fen", "revised_cost_fen", "external_id")
    )
    keys = {pid: project_key(rnd, pid, ext) for pid, _a, _c, _r, ext in proposals}
    with_points = str(rnd.ballot_type) == BallotType.POINTS
    rows = await _ballot_rows(conn, rnd.id, with_points=with_points)
    counts = group_ballots(
        envelopes,
        [
            (pid, area, revised if revised is not None else cost)
            for pid, area, cost, revised, _ext in proposals
        ],
        rows,
        keys,
    )
    return RoundBallots(counts, rows, {key: pid for pid, key in keys.items()})


# --- counting ------------------------------------------------------------------------------


def _rule_engine():
    """The outcome rules (imported late: they are a separate, pure package)."""
    from budget.rules import Election, compute_outcome

    return Election, compute_outcome


def count_envelope(rule: str, ballot_type: str, count: EnvelopeCount):
    """One envelope's outcome (a budget.rules Outcome)."""
    election_cls, compute_outcome = _rule_engine()
    election = election_cls(
        budget=count.budget_fen,
        costs=count.costs,
        ballots=count.ballots,
        utility="points" if ballot_type == BallotType.POINTS else "cost",
        unit=UNIT_FEN,
    )
    return compute_outcome(rule, election)


# Equal shares on a district-sized round takes seconds per envelope: from this many ballots
# on, the envelopes are counted in worker processes, one per CPU (starting them costs about
# half a second, more than a small count takes).
PARALLEL_MIN_BALLOTS = 20_000
_MES_RULES = ("equal-shares", "mes", "mes-add1")


async def count_envelopes(rule: str, ballot_type: str, counts: Sequence[EnvelopeCount]) -> list:
    """Every envelope's outcome, in order, computed off the event loop (the server keeps
    answering meanwhile): in worker processes for large equal-shares counts, else in a
    thread."""
    cpus = os.cpu_count() or 1
    if (
        rule in _MES_RULES
        and len(counts) > 1
        and cpus > 1
        and sum(len(c.ballots) for c in counts) >= PARALLEL_MIN_BALLOTS
    ):
        return await _count_in_processes(rule, ballot_type, counts)
    return await asyncio.to_thread(
        lambda: [count_envelope(rule, ballot_type, count) for count in counts]
    )


# One pool of worker processes per server process, started on the first large count and
# shut down with the app (starting one costs about half a second per worker).
_pool: ProcessPoolExecutor | None = None


def _count_workers() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn: a fresh interpreter, never a fork of a server holding database connections
        _pool = ProcessPoolExecutor(
            max_workers=os.cpu_count() or 1, mp_context=multiprocessing.get_context("spawn")
        )
    return _pool


def shutdown_count_workers() -> None:
    """Stop the worker processes (at the app's shutdown); a later count starts new ones."""
    global _pool
    pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


async def _count_in_processes(rule: str, ballot_type: str, counts: Sequence[EnvelopeCount]) -> list:
    from budget.rules import outcome_of

    utility = "points" if ballot_type == BallotType.POINTS else "cost"
    loop = asyncio.get_running_loop()
    pool = _count_workers()
    order = sorted(range(len(counts)), key=lambda i: -len(counts[i].ballots))  # big first
    futures = {
        i: loop.run_in_executor(
            pool,
            outcome_of,
            rule,
            counts[i].budget_fen,
            dict(counts[i].costs),
            [b if type(b) is dict else dict(b) for b in counts[i].ballots],
            utility,
            UNIT_FEN,
        )
        for i in order
    }
    try:
        done = await asyncio.gather(*(futures[i] for i in range(len(counts))))
    except BrokenProcessPool:
        shutdown_count_workers()  # a worker died (killed, out of memory): the next count restarts
        raise
    return list(done)
