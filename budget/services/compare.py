"""Comparing the rules: every envelope of a counted round counted in memory with greedy and
with equal shares (nothing is frozen), and what differs — the projects each rule funds, the
totals, and how many voters have at least one funded project they voted for. A comparison's
counts are kept in the database by a digest of their input, so that reloading the page (on any
worker) does not count again.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from budget.models import ComparisonCache, Envelope, OutcomeRule, Proposal
from budget.permissions import can, is_staff
from budget.services.counting import RoundBallots, count_envelopes, load_round_ballots
from budget.services.results import get_round
from core.errors import PermissionDenied
from core.i18n import _
from core.models import Area, User

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


# The counts of the comparison page (a GET that staff may reload; Łódź 2022 takes seconds with
# equal shares) are kept in the database (`ComparisonCache`, one row per round, shared by every
# worker process on every host), stamped with a digest of exactly what was counted: the
# ballots with their choices in order, the costs, the budgets and the ballot type, read from
# the database on every visit. Counting is a pure function of that input, so a kept count
# whose stamp equals the digest of what the page just read IS the count of the current data:
# a ballot added, changed or removed, a cost revised or a budget moved gives another digest
# and is counted anew at once — there is nothing to invalidate, and no stale answer possible.
# FORMAT is part of the stamp: raise it when what is kept changes shape.
FORMAT = "2"


def count_digest(ballot_type: str, ballots: RoundBallots) -> str:
    """A digest of everything the comparison's figures depend on: the count's whole input
    (ballots in order, costs, budgets, ballot type), each ballot's area and the proposal each
    project key names."""
    digest = hashlib.blake2b(f"{FORMAT}:{ballot_type}".encode(), digest_size=20)
    for count in ballots.counts:
        digest.update(repr((count.envelope_id, count.budget_fen, count.costs)).encode())
        digest.update(repr(count.ballots).encode())
    digest.update(repr([area_id for area_id, _p, _q in ballots.rows]).encode())
    digest.update(repr(sorted(ballots.pid_of.items())).encode())
    return digest.hexdigest()


@dataclass
class KeptOutcome:
    """What the comparison uses of one envelope's outcome under one rule."""

    selected: list[str]
    total_cost: int
    lines: list[tuple[str, int, int]]  # (project key, cost, votes) in the outcome's order


def _keep_form(outcome: Any) -> dict[str, Any]:
    return {
        "selected": list(outcome.selected),
        "total": int(outcome.total_cost),
        "lines": [[k, int(e.cost), int(e.votes)] for k, e in outcome.explanations.items()],
    }


def _from_kept(value: dict[str, Any]) -> KeptOutcome:
    return KeptOutcome(
        [str(k) for k in value["selected"]],
        int(value["total"]),
        [(str(k), int(c), int(v)) for k, c, v in value["lines"]],
    )


def tally(ballots: RoundBallots, outcomes: Mapping[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Pure (run off the event loop): per envelope, the voters counted there with at least
    one funded project they voted for, under each rule; per area of the voters (None: no
    area), [area id, ballots, {rule: such voters}]."""
    funded = {
        rule: {ballots.pid_of[k] for o in outcomes[rule] for k in o["selected"]}
        for rule in COMPARED_RULES
    }
    envelopes = [
        {
            rule: _satisfied(count.ballots, set(outcomes[rule][index]["selected"]))
            for rule in COMPARED_RULES
        }
        for index, count in enumerate(ballots.counts)
    ]
    areas: dict[int | None, list[Any]] = {}
    for area_id, pids, _points in ballots.rows:
        entry = areas.get(area_id)
        if entry is None:
            entry = areas[area_id] = [area_id, 0, dict.fromkeys(COMPARED_RULES, 0)]
        entry[1] += 1
        for rule in COMPARED_RULES:
            if any(pid in funded[rule] for pid in pids):
                entry[2][rule] += 1
    return {"envelopes": envelopes, "areas": list(areas.values())}


async def _keep(round_id: int, stamp: str, value: dict[str, Any]) -> None:
    """Store (or replace) a round's kept counts in one upsert: any worker may, the last write
    wins (every write is the count of the input its stamp names)."""
    db = ComparisonCache._meta.db
    if db.capabilities.dialect == "postgres":
        values = "$1, $2, $3::jsonb, $4::timestamptz"
    else:
        values = "?, ?, ?, ?"
    await db.execute_query(
        'INSERT INTO "comparison_cache" ("round_id", "stamp", "value", "computed_at") '
        f"VALUES ({values}) "
        'ON CONFLICT ("round_id") DO UPDATE SET "stamp" = excluded."stamp", '
        '"value" = excluded."value", "computed_at" = excluded."computed_at"',
        [round_id, stamp, json.dumps(value, separators=(",", ":")), datetime.now(UTC)],
    )


async def _compared(round_id: int, ballot_type: str, ballots: RoundBallots) -> dict[str, Any]:
    """The comparison's figures ({"outcomes": per rule, every envelope's outcome; "tally":
    see `tally`}): the kept ones if their stamp holds, else counted (off the event loop) and
    kept."""
    stamp = await asyncio.to_thread(count_digest, ballot_type, ballots)
    kept = await ComparisonCache.get_or_none(round_id=round_id).values("stamp", "value")
    if kept is not None and kept["stamp"] == stamp:
        return kept["value"]
    outcomes = {
        rule: [_keep_form(o) for o in await count_envelopes(rule, ballot_type, ballots.counts)]
        for rule in COMPARED_RULES
    }
    value = {"outcomes": outcomes, "tally": await asyncio.to_thread(tally, ballots, outcomes)}
    await _keep(round_id, stamp, value)
    return value


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
    figures = await _compared(rnd.id, str(rnd.ballot_type), ballots)
    per_rule = {rule: [_from_kept(v) for v in figures["outcomes"][rule]] for rule in COMPARED_RULES}
    result: list[EnvelopeComparison] = []
    for index, count in enumerate(ballots.counts):
        outcomes = {rule: per_rule[rule][index] for rule in COMPARED_RULES}
        selected = {rule: set(o.selected) for rule, o in outcomes.items()}
        lines = [
            CompareLine(
                proposals[ballots.pid_of[key]],
                cost,
                votes,
                {rule: key in selected[rule] for rule in COMPARED_RULES},
            )
            for key, cost, votes in outcomes[COMPARED_RULES[0]].lines
        ]
        lines.sort(key=lambda ln: (-ln.votes, ln.proposal.id))
        voters = SatisfiedRow(
            _("Voters counted in this envelope"),
            len(count.ballots),
            dict(figures["tally"]["envelopes"][index]),
        )
        result.append(
            EnvelopeComparison(
                envelopes[count.envelope_id],
                lines,
                {rule: o.total_cost for rule, o in outcomes.items()},
                {rule: len(o.selected) for rule, o in outcomes.items()},
                voters,
            )
        )
    result.sort(key=lambda r: (r.envelope.area is None, r.name))
    area_rows = figures["tally"]["areas"]
    area_ids = [area_id for area_id, _n, _s in area_rows if area_id is not None]
    names = {a.id: a.name for a in await Area.filter(id__in=area_ids)} if area_ids else {}
    # an imported election's voters are not the district's
    total = SatisfiedRow(_("All voters") if rnd.is_study else _("Whole district"))
    areas = []
    for area_id, n, satisfied in area_rows:
        label = names.get(area_id, "?") if area_id is not None else _("No area")
        areas.append(SatisfiedRow(label, n, {r: k for r, k in satisfied.items() if k}))
        total.ballots += n
        for rule, k in satisfied.items():
            if k:
                total.satisfied[rule] = total.satisfied.get(rule, 0) + k
    areas.sort(key=lambda r: r.label)
    return Comparison(result, [total] if rnd.is_study else [*areas, total])
