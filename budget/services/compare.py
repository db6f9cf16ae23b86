"""Comparing the rules: every envelope of a counted round counted in memory with greedy and
with equal shares (nothing is frozen), and what differs — the projects each rule funds, the
totals, and how many voters have at least one funded project they voted for. A comparison's
counts are kept by a digest of their input, so that reloading the page does not count again.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from budget.models import Envelope, OutcomeRule, Proposal
from budget.permissions import can, is_staff
from budget.services.counting import EnvelopeCount, count_envelopes, load_round_ballots
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
