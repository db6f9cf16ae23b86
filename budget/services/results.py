"""Results: count the ballots per envelope with the round's rule and freeze the outcome; re-run
before publishing; publish (read-only afterwards); and everything the results page shows
(explanations per project, turnout per area and channel).

The count itself is the pure rules package (`budget.rules`): this module only reads the
ballots in one query, groups them per envelope and writes the frozen outcome.

Which ballots count in an envelope: those cast by voters of its area (every ballot for the
district-wide envelope), plus any ballot that chose one of its projects (imported ballots have
no area). A ballot that chose nothing in an envelope still counts there as a voter (it
matters for the Method of Equal Shares, where every voter brings an equal share).
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from types import MappingProxyType
from typing import Any

from tortoise import connections
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from budget.models import (
    Ballot,
    BallotType,
    Channel,
    Envelope,
    Outcome,
    OutcomeRule,
    Phase,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.permissions import can, is_staff
from core.audit import record
from core.errors import NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import Area, Role, User

# Proposals that were on the ballot (and keep being counted on a re-run).
COUNTED = (ProposalStatus.FEASIBLE, ProposalStatus.FUNDED, ProposalStatus.NOT_FUNDED)
UNIT_FEN = 100  # equal shares raises shares by one yuan at a time


async def get_round(round_id: int) -> Round:
    rnd = await Round.get_or_none(id=round_id)
    if rnd is None:
        raise NotFound(_("This round does not exist."))
    return rnd


# --- counting ------------------------------------------------------------------------------


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
    n = len(counts)
    district = env_of_area.get(None)
    lists = [count.ballots for count in counts]
    find_project = project_env.get
    for ballot_area, pids, points in ballots:
        chosen: list[dict[str, int] | None] = [None] * n
        for j, pid in enumerate(pids):
            where = find_project(pid)
            if where is None:
                continue
            choice = chosen[where[0]]
            if choice is None:
                choice = chosen[where[0]] = {}
            choice[where[1]] = 1 if points is None else points[j]
        own = env_of_area.get(ballot_area)
        for i in range(n):
            choice = chosen[i]
            if choice is not None:
                lists[i].append(choice)
            elif i == own or i == district:
                lists[i].append(_NO_CHOICE)
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
    imported election keep the file's order (ids follow it; see `pabulib_io`).

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


def _compute_refusal(user: User | None, rnd: Round) -> str:
    if not is_staff(user):
        return _("Only council members compute and publish results.")
    if rnd.results_published_at is not None:
        return _("The results of this round are published: they can no longer be changed.")
    return _("Results are computed when the round is in its results phase.")


async def compute_results(actor: User | None, round_id: int) -> list[Outcome]:
    """Count every envelope with the round's rule and freeze the outcome (replacing an earlier
    count). A preview for staff: nothing public changes (proposal statuses and vote counts
    are set when the results are published)."""
    rnd = await get_round(round_id)
    if not can(actor, "compute_results", rnd):
        raise PermissionDenied(_compute_refusal(actor, rnd))
    async with in_transaction() as conn:
        rnd = await Round.select_for_update().using_db(conn).get(id=rnd.id)
        if not can(actor, "compute_results", rnd):  # published meanwhile
            raise PermissionDenied(_compute_refusal(actor, rnd))
        outcomes, funded = await freeze_count(conn, rnd, actor)
        await record(
            actor, "results.computed", rnd, using_db=conn, rule=str(rnd.rule), funded=funded
        )
        return outcomes


async def freeze_count(conn: Any, rnd: Round, actor: User | None) -> tuple[list[Outcome], int]:
    """Count `rnd` in the transaction `conn` and freeze the outcome (no permission check: the
    callers check; `actor` None is the command line). Returns the outcomes and how many
    proposals are funded. Proposals are left as they are until `publish_results`."""
    ballots = await load_round_ballots(rnd, conn)
    pid_of = ballots.pid_of
    outcomes: list[Outcome] = []
    funded: set[int] = set()
    results = await count_envelopes(str(rnd.rule), str(rnd.ballot_type), ballots.counts)
    for group, result in zip(ballots.counts, results, strict=True):
        funded.update(pid_of[key] for key in result.selected)
        outcomes.append(
            Outcome(
                round_id=rnd.id,
                envelope_id=group.envelope_id,
                rule=str(rnd.rule),
                budget_fen=group.budget_fen,
                total_cost_fen=int(result.total_cost),
                ballots_counted=len(group.ballots),
                data=result.to_json(),
                computed_by_id=actor.id if actor is not None else None,
            )
        )
    await Outcome.filter(round_id=rnd.id).using_db(conn).delete()
    await Outcome.bulk_create(outcomes, using_db=conn)
    return outcomes, len(funded)


async def apply_outcome(conn: Any, rnd: Round) -> int:
    """Set each counted proposal's vote count and FUNDED / NOT_FUNDED status from the frozen
    outcome rows (what publishing makes public). Returns how many are funded."""
    from budget.rules.election import money_from_str

    pid_of = {
        project_key(rnd, pid, ext): pid
        for pid, ext in await Proposal.filter(round_id=rnd.id, status__in=COUNTED)
        .using_db(conn)
        .values_list("id", "external_id")
    }
    funded: set[int] = set()
    votes: dict[int, int] = {}
    frozen = await Outcome.filter(round_id=rnd.id).using_db(conn).values_list("data", flat=True)
    for data in frozen:
        funded.update(pid_of[key] for key in data.get("selected", []) if key in pid_of)
        for key, expl in (data.get("explanations") or {}).items():
            if key in pid_of:
                votes[pid_of[key]] = int(money_from_str(expl["votes"]))
    current = (
        await Proposal.filter(id__in=list(votes))
        .using_db(conn)
        .values_list("id", "status", "vote_count")
    )
    changed = []
    for pid, status, vote_count in current:
        wanted = ProposalStatus.FUNDED if pid in funded else ProposalStatus.NOT_FUNDED
        if status != wanted or vote_count != votes[pid]:
            changed.append((pid, votes[pid], wanted))
    await _update_proposals(conn, changed)
    return len(funded)


async def _update_proposals(conn: Any, changed: list[tuple[int, int, ProposalStatus]]) -> None:
    """Set (id, vote count, status) of many proposals in a few statements: one UPDATE … FROM a
    VALUES list per thousand rows (the ORM's bulk_update takes half a second for 5,000). Only
    ints and enum values reach the SQL text."""
    for start in range(0, len(changed), 1000):
        rows = ", ".join(
            f"({int(pid)}, {int(n)}, '{ProposalStatus(status).value}')"
            for pid, n, status in changed[start : start + 1000]
        )
        await conn.execute_query(
            f"WITH v(id, n, s) AS (VALUES {rows}) "
            "UPDATE proposal SET vote_count = v.n, status = v.s FROM v WHERE proposal.id = v.id"
        )


async def publish_results(actor: User | None, round_id: int) -> Round:
    """Publish the frozen count: everyone sees it — the proposals become funded or not funded,
    with their votes, in this same transaction — and nothing can change it any more."""
    rnd = await get_round(round_id)
    if not can(actor, "publish_results", rnd):
        raise PermissionDenied(_compute_refusal(actor, rnd))
    async with in_transaction() as conn:
        rnd = await Round.select_for_update().using_db(conn).get(id=rnd.id)
        if not can(actor, "publish_results", rnd):
            raise PermissionDenied(_compute_refusal(actor, rnd))
        if not await Outcome.filter(round_id=rnd.id).using_db(conn).exists():
            raise ValidationError(_("Compute the results before publishing them."))
        funded = await apply_outcome(conn, rnd)
        rnd.results_published_at = datetime.now(UTC)
        await rnd.save(using_db=conn, update_fields=["results_published_at", "updated_at"])
        await record(actor, "results.published", rnd, public=True, using_db=conn, funded=funded)
        return rnd


# --- the results page ----------------------------------------------------------------------


def fen(value: Any) -> int | None:
    """An amount from an outcome (int or exact Fraction, in fen) as whole fen for display."""
    if value is None:
        return None
    return int(Fraction(value)) if not isinstance(value, int) else value


def round_fen(value: Any) -> int | None:
    """An exact amount in fen rounded to the nearest fen (a share of a cost split among
    supporters rarely is a whole number of fen)."""
    if value is None:
        return None
    return round(Fraction(value))


@dataclass
class Payments:
    """What the supporters of a project bought by equal shares paid: `payers` voters paid
    something, from `low` to `high` fen each (exact amounts, rounded for display by
    `round_fen`); its other supporters had no money left."""

    payers: int
    low: Any
    high: Any

    @property
    def same(self) -> bool:
        return round_fen(self.low) == round_fen(self.high)


@dataclass
class ProjectLine:
    proposal: Proposal
    explanation: Any  # budget.rules ProjectExplanation
    funded: bool
    position: int | None  # place in the selection order (funded only)

    @property
    def votes(self) -> int:
        return int(self.explanation.votes)

    @property
    def payments(self) -> Payments | None:
        """For a project bought by equal shares: who paid how much (else None)."""
        groups = [g for g in self.explanation.payments if g.voters and g.amount > 0]
        if not groups:
            return None
        amounts = [g.amount for g in groups]
        return Payments(sum(len(g.voters) for g in groups), min(amounts), max(amounts))


@dataclass
class EnvelopeResult:
    envelope: Envelope
    outcome: Outcome
    result: Any  # budget.rules Outcome
    lines: list[ProjectLine]

    @property
    def name(self) -> str:
        return self.envelope.area.name if self.envelope.area else _("District-wide")

    @property
    def left_fen(self) -> int:
        return self.outcome.budget_fen - self.outcome.total_cost_fen


@dataclass
class TurnoutRow:
    label: str
    eligible: int = 0
    ballots: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    @property
    def online(self) -> int:
        return self.by_channel.get(Channel.ONLINE.value, 0)

    @property
    def paper(self) -> int:
        return self.by_channel.get(Channel.PAPER.value, 0)

    @property
    def imported(self) -> int:
        return self.by_channel.get(Channel.IMPORTED.value, 0)

    @property
    def rate(self) -> float | None:
        return self.ballots / self.eligible if self.eligible else None


async def turnout(rnd: Round) -> list[TurnoutRow]:
    """Ballots / eligible residents per area (areas by name) and for the whole district (last),
    with ballots per channel. Eligible: active verified residents and grid workers of the area
    (as `budget.permissions.is_voter`). Three grouped queries."""
    eligible = dict(
        await User.filter(
            is_active=True,
            verified=True,
            role__in=[Role.RESIDENT, Role.GRID_WORKER],
            area_id__isnull=False,
        )
        .group_by("area_id")
        .annotate(n=Count("id"))
        .values_list("area_id", "n")
    )
    cast = (
        await Ballot.filter(round_id=rnd.id)
        .group_by("area_id", "channel")
        .annotate(n=Count("id"))
        .values_list("area_id", "channel", "n")
    )
    areas = {a.id: a for a in await Area.all()}
    rows: dict[int | None, TurnoutRow] = {}
    total = TurnoutRow(_("Whole district"))
    for area_id, n in eligible.items():
        rows.setdefault(area_id, TurnoutRow(areas[area_id].name if area_id in areas else "?"))
        rows[area_id].eligible = n
        total.eligible += n
    for area_id, channel, n in cast:
        if area_id not in rows:
            label = areas[area_id].name if area_id in areas else _("No area")
            rows[area_id] = TurnoutRow(label)
        row = rows[area_id]
        row.ballots += n
        row.by_channel[str(channel)] = row.by_channel.get(str(channel), 0) + n
        total.ballots += n
        total.by_channel[str(channel)] = total.by_channel.get(str(channel), 0) + n
    ordered = sorted(rows.values(), key=lambda r: r.label)
    return [*ordered, total]


async def envelope_results(rnd: Round) -> list[EnvelopeResult]:
    """The frozen outcome of every envelope (areas by name, district-wide last), each project
    with its explanation: funded first in selection order, then the rest by votes."""
    from budget.rules.election import Outcome as RuleOutcome

    outcomes = await Outcome.filter(round_id=rnd.id).select_related("envelope__area")
    if not outcomes:
        return []
    proposals = {
        project_key(rnd, p.id, p.external_id): p
        for p in await Proposal.filter(round_id=rnd.id, status__in=COUNTED)
    }
    results = []
    for outcome in outcomes:
        parsed = RuleOutcome.from_json(outcome.data)
        order = {pid: i for i, pid in enumerate(parsed.selected)}
        lines = []
        for pid, expl in parsed.explanations.items():
            proposal = proposals.get(pid)
            if proposal is None:
                continue
            lines.append(ProjectLine(proposal, expl, expl.funded, order.get(pid)))
        lines.sort(
            key=lambda ln: (
                not ln.funded,
                ln.position if ln.position is not None else 0,
                -ln.explanation.votes,
                ln.explanation.rank or 0,
                ln.proposal.title,
            )
        )
        results.append(EnvelopeResult(outcome.envelope, outcome, parsed, lines))
    results.sort(key=lambda r: (r.envelope.area is None, r.name))
    return results


def results_state(user: User | None, rnd: Round) -> str:
    """What the results page shows: "published", "preview" (staff, before publishing),
    "waiting" (not yet published, for everyone else)."""
    if rnd.results_published_at is not None:
        return "published"
    if can(user, "see_results", rnd):
        return "preview"
    return "waiting"


def rule_label(rule: str) -> str:
    try:
        return OutcomeRule(rule).label
    except ValueError:
        return rule


def phase_reached(rnd: Round, phase: Phase) -> bool:
    order = list(Phase)
    return order.index(Phase(rnd.phase)) >= order.index(phase)


# --- comparing the rules -------------------------------------------------------------------

COMPARED_RULES = (OutcomeRule.GREEDY.value, OutcomeRule.EQUAL_SHARES.value)


@dataclass
class CompareLine:
    proposal: Proposal
    cost_fen: int
    votes: int
    funded: dict[str, bool]  # rule -> funded

    @property
    def changes(self) -> bool:
        return len(set(self.funded.values())) > 1


@dataclass
class SatisfiedRow:
    """Voters (ballots) with at least one funded project they voted for, under each rule."""

    label: str
    ballots: int = 0
    satisfied: dict[str, int] = field(default_factory=dict)

    def share(self, rule: str) -> float | None:
        return self.satisfied.get(rule, 0) / self.ballots if self.ballots else None


@dataclass
class EnvelopeComparison:
    envelope: Envelope
    lines: list[CompareLine]
    total_fen: dict[str, int]
    funded_count: dict[str, int]
    voters: SatisfiedRow

    @property
    def name(self) -> str:
        return self.envelope.area.name if self.envelope.area else _("District-wide")

    @property
    def changed(self) -> int:
        return sum(1 for line in self.lines if line.changes)


@dataclass
class Comparison:
    envelopes: list[EnvelopeComparison]
    areas: list[SatisfiedRow]  # per area of the voters, the whole district last
    rules: tuple[str, ...] = COMPARED_RULES


def _satisfied(ballots: Iterable[Mapping[str, Any]], selected: set[str]) -> int:
    return sum(1 for ballot in ballots if any(k in selected for k in ballot))


# Counts of the comparison page (a GET that staff may reload), kept by a digest of exactly
# what was counted: the ballots, costs and budgets are read from the database on every visit,
# so a changed ballot or cost gives another digest and is counted anew. Counting is a pure
# function of its input, so a kept count is the count of that input.
_compared: OrderedDict[bytes, dict[str, list]] = OrderedDict()
_COMPARED_KEPT = 4


def count_digest(ballot_type: str, counts: Sequence[EnvelopeCount]) -> bytes:
    """A digest of a count's whole input (ballots in order, costs, budgets, ballot type)."""
    digest = hashlib.blake2b(ballot_type.encode(), digest_size=20)
    for count in counts:
        digest.update(repr((count.envelope_id, count.budget_fen, count.costs)).encode())
        digest.update(repr(count.ballots).encode())
    return digest.digest()


async def _count_both_rules(ballot_type: str, counts: Sequence[EnvelopeCount]) -> dict:
    key = count_digest(ballot_type, counts)
    per_rule = _compared.get(key)
    if per_rule is None:
        per_rule = {
            rule: await count_envelopes(rule, ballot_type, counts) for rule in COMPARED_RULES
        }
        _compared[key] = per_rule
        while len(_compared) > _COMPARED_KEPT:
            _compared.popitem(last=False)
    else:
        _compared.move_to_end(key)
    return per_rule


async def compare_rules(actor: User | None, round_id: int) -> Comparison:
    """Count every envelope of a counted round with greedy and with equal shares, in memory
    (nothing is frozen), and compare: which projects each rule funds, the totals, and how many
    voters have at least one funded project they voted for, per envelope and per area."""
    rnd = await get_round(round_id)
    if not can(actor, "compare_rules", rnd):
        if not is_staff(actor):
            raise PermissionDenied(_("Only council members compare the rules."))
        raise PermissionDenied(_("Rules are compared once voting has closed."))
    ballots = await load_round_ballots(rnd)
    envelopes = {e.id: e for e in await Envelope.filter(round_id=rnd.id).select_related("area")}
    proposals = {p.id: p for p in await Proposal.filter(id__in=list(ballots.pid_of.values()))}
    funded_ids: dict[str, set[int]] = {rule: set() for rule in COMPARED_RULES}
    result: list[EnvelopeComparison] = []
    per_rule = await _count_both_rules(str(rnd.ballot_type), ballots.counts)
    for index, count in enumerate(ballots.counts):
        outcomes = {rule: per_rule[rule][index] for rule in COMPARED_RULES}
        selected = {rule: set(o.selected) for rule, o in outcomes.items()}
        lines = []
        first = outcomes[COMPARED_RULES[0]]
        for key, expl in first.explanations.items():
            pid = ballots.pid_of[key]
            lines.append(
                CompareLine(
                    proposals[pid],
                    int(expl.cost),
                    int(expl.votes),
                    {rule: key in selected[rule] for rule in COMPARED_RULES},
                )
            )
            for rule in COMPARED_RULES:
                if key in selected[rule]:
                    funded_ids[rule].add(pid)
        lines.sort(key=lambda ln: (-ln.votes, ln.proposal.id))
        voters = SatisfiedRow(
            _("Voters counted in this envelope"),
            len(count.ballots),
            {rule: _satisfied(count.ballots, selected[rule]) for rule in COMPARED_RULES},
        )
        result.append(
            EnvelopeComparison(
                envelopes[count.envelope_id],
                lines,
                {rule: int(o.total_cost) for rule, o in outcomes.items()},
                {rule: len(o.selected) for rule, o in outcomes.items()},
                voters,
            )
        )
    result.sort(key=lambda r: (r.envelope.area is None, r.name))
    area_ids = {area_id for area_id, _pids, _pts in ballots.rows if area_id is not None}
    names = {a.id: a.name for a in await Area.filter(id__in=list(area_ids))} if area_ids else {}
    rows: dict[int | None, SatisfiedRow] = {}
    # an imported election's voters are not the district's
    total = SatisfiedRow(_("All voters") if rnd.is_study else _("Whole district"))
    for area_id, pids, _points in ballots.rows:
        row = rows.get(area_id)
        if row is None:
            label = names.get(area_id, "?") if area_id is not None else _("No area")
            row = rows[area_id] = SatisfiedRow(label)
        for target in (row, total):
            target.ballots += 1
        for rule in COMPARED_RULES:
            if any(pid in funded_ids[rule] for pid in pids):
                for target in (row, total):
                    target.satisfied[rule] = target.satisfied.get(rule, 0) + 1
    areas = sorted(rows.values(), key=lambda r: r.label)
    return Comparison(result, [total] if rnd.is_study else [*areas, total])
