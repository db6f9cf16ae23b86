"""Results: count the ballots per envelope with the round's rule and freeze the outcome; re-run
before publishing; publish (read-only afterwards); and everything the results page shows
(explanations per project, turnout per area and channel).

What a count reads and how it runs is `budget.services.counting`; comparing the rules on a
counted round is `budget.services.compare`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from budget.models import (
    Ballot,
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
from budget.services.counting import COUNTED, count_envelopes, load_round_ballots, project_key
from budget.services.tallies import count_tally, load_round_tallies
from core.audit import record
from core.errors import NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import Area, Role, User


async def get_round(round_id: int) -> Round:
    rnd = await Round.get_or_none(id=round_id)
    if rnd is None:
        raise NotFound(_("This round does not exist."))
    return rnd


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
    if str(rnd.rule) == "greedy":  # greedy reads tallies, not ballots (services.tallies)
        tallies = await load_round_tallies(rnd, conn)
        counted = [(t.envelope_id, t.budget_fen, t.ballots) for t in tallies]
        results = [count_tally(t) for t in tallies]
        pid_of = await _proposal_of_key(conn, rnd)
    else:
        ballots = await load_round_ballots(rnd, conn)
        counted = [(g.envelope_id, g.budget_fen, len(g.ballots)) for g in ballots.counts]
        results = await count_envelopes(str(rnd.rule), str(rnd.ballot_type), ballots.counts)
        pid_of = ballots.pid_of
    outcomes: list[Outcome] = []
    funded: set[int] = set()
    for (envelope_id, budget_fen, ballots_counted), result in zip(counted, results, strict=True):
        funded.update(pid_of[key] for key in result.selected)
        outcomes.append(
            Outcome(
                round_id=rnd.id,
                envelope_id=envelope_id,
                rule=str(rnd.rule),
                budget_fen=budget_fen,
                total_cost_fen=int(result.total_cost),
                ballots_counted=ballots_counted,
                data=result.to_json(),
                computed_by_id=actor.id if actor is not None else None,
            )
        )
    await Outcome.filter(round_id=rnd.id).using_db(conn).delete()
    await Outcome.bulk_create(outcomes, using_db=conn)
    return outcomes, len(funded)


async def _proposal_of_key(conn: Any, rnd: Round) -> dict[str, int]:
    """Project key (as a count names it) → proposal id, for the proposals on the ballot."""
    return {
        project_key(rnd, pid, ext): pid
        for pid, ext in await Proposal.filter(round_id=rnd.id, status__in=COUNTED)
        .using_db(conn)
        .values_list("id", "external_id")
    }


async def apply_outcome(conn: Any, rnd: Round) -> int:
    """Set each counted proposal's vote count and FUNDED / NOT_FUNDED status from the frozen
    outcome rows (what publishing makes public). Returns how many are funded."""
    from budget.rules.election import money_from_str

    pid_of = await _proposal_of_key(conn, rnd)
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


@dataclass
class RoundSummary:
    """The round in a few figures for the top of its results: the budget of all its envelopes,
    how many projects were on the ballot and funded, what they cost, how many ballots."""

    budget_fen: int
    spent_fen: int
    projects: int
    funded: int
    ballots: int


def summarize(envelopes: list[EnvelopeResult], ballots: int | None = None) -> RoundSummary:
    """`ballots`: the round's ballots (a ballot counts in its area's envelope and in the
    district-wide one, so the envelopes' counts are not added up); by default the envelopes'
    largest count (an imported election has one envelope)."""
    if ballots is None:
        ballots = max((er.outcome.ballots_counted for er in envelopes), default=0)
    return RoundSummary(
        budget_fen=sum(er.outcome.budget_fen for er in envelopes),
        spent_fen=sum(er.outcome.total_cost_fen for er in envelopes),
        projects=sum(len(er.lines) for er in envelopes),
        funded=sum(1 for er in envelopes for line in er.lines if line.funded),
        ballots=ballots,
    )


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
