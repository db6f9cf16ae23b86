"""Exporting a round's envelope as a Pabulib `.pb` file (the file format itself is
`budget.pabulib`) that pabutools reads and that reproduces our count: its votes are exactly
those the count reads, written without anything that tells who cast them (see `export_pb`),
and an imported election's own META is written back.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import PurePath
from typing import Any

from budget.models import (
    Ballot,
    BallotType,
    Category,
    Envelope,
    Outcome,
    OutcomeRule,
    Phase,
    Proposal,
    Round,
)
from budget.pabulib import write_pb
from budget.permissions import can, is_staff
from budget.services import results
from budget.services.counting import EnvelopeCount, load_round_ballots
from budget.services.pabulib_import import IMPORT_ACTION
from core.errors import NotFound, PermissionDenied
from core.i18n import _
from core.models import AuditEntry, User

EXPORT_RULE = {
    OutcomeRule.GREEDY.value: "greedy",
    OutcomeRule.EQUAL_SHARES.value: "equalshares/add1",
}
# META keys of an imported file that an export writes back unchanged.
KEPT_META = (
    "country",
    "unit",
    "subunit",
    "district",
    "instance",
    "language",
    "currency",
    "date_begin",
    "date_end",
    "edition",
)


@dataclass
class PbExport:
    filename: str
    text: str


def export_refusal(user: User | None, rnd: Round) -> str:
    if Phase(rnd.phase) == Phase.VOTING:
        return _("Ballots are secret until voting closes: this round cannot be exported now.")
    if not is_staff(user):
        return _("The ballots of this round can be downloaded once its results are published.")
    return _("You may not export this round.")


async def source_meta(rnd: Round) -> dict[str, str]:
    """The META of the file an imported round came from (kept in its import audit entry)."""
    if not rnd.source:
        return {}
    entry = (
        await AuditEntry.filter(
            action=IMPORT_ACTION, subject_type=Round._meta.db_table, subject_id=rnd.id
        )
        .order_by("-id")
        .first()
    )
    meta = (entry.detail or {}).get("meta") if entry is not None else None
    return {str(k): str(v) for k, v in meta.items()} if isinstance(meta, dict) else {}


async def export_envelopes(rnd: Round) -> list[Envelope]:
    """A round's envelopes in export order: district-wide first, then areas by name."""
    envelopes = await Envelope.filter(round_id=rnd.id).select_related("area").order_by("id")
    return sorted(envelopes, key=lambda e: (e.area is not None, e.area.name if e.area else ""))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_.") or "round"


def yuan(fen: int) -> Fraction:
    return Fraction(int(fen), 100)


async def export_pb(actor: User | None, round_id: int, envelope_id: int | None = None) -> PbExport:
    """One envelope of a round as a .pb file (a .pb file has one budget): the district-wide
    envelope unless `envelope_id` names another. The votes are exactly those the count reads,
    so pabutools on the file reproduces our outcome (see `counting.load_round_ballots`).

    The secret ballot: residents' ballots are written in a fresh random order (shuffled
    anew for every download) and numbered 1..n after the shuffle — never in the order they
    were cast, never with names, user names, user ids, ballot ids, receipts or times. The
    anonymous ballots of an imported election keep the file's order, so that an export
    gives the file back. Which projects were selected is written only for those who may see
    the results (published, or staff)."""
    rnd = await results.get_round(round_id)
    if not can(actor, "export_pabulib", rnd):
        raise PermissionDenied(export_refusal(actor, rnd))
    envelopes = await export_envelopes(rnd)
    if envelope_id is None:
        if not envelopes:
            raise NotFound(_("This round has no envelope to export."))
        envelope = envelopes[0]
    else:
        envelope = next((e for e in envelopes if e.id == envelope_id), None)
        if envelope is None:
            raise NotFound(_("This envelope does not exist."))
    ballots = await load_round_ballots(rnd)
    count = ballots.count_of(envelope.id)
    proposals = {
        p.id: p for p in await Proposal.filter(id__in=[ballots.pid_of[k] for k in count.costs])
    }
    selected = None
    if can(actor, "see_results", rnd):
        outcome = await Outcome.get_or_none(round_id=rnd.id, envelope_id=envelope.id)
        selected = set(outcome.data.get("selected", [])) if outcome is not None else None
    source = await source_meta(rnd)
    points = rnd.ballot_type == BallotType.POINTS
    votes = list(count.ballots)
    if await Ballot.filter(round_id=rnd.id, voter_id__isnull=False).exists():
        secrets.SystemRandom().shuffle(votes)
    text = write_pb(
        _export_meta(rnd, envelope, source, len(count.costs), len(count.ballots)),
        _export_projects(count, ballots.pid_of, proposals, selected, points),
        _export_votes(count, votes, points),
    )
    stem = _slug(PurePath(rnd.source).stem) if rnd.source else f"yishi_round_{rnd.id}"
    where = "" if envelope.area is None else f"_area_{envelope.area_id}"
    return PbExport(f"{stem}{where}.pb", text)


def _export_meta(
    rnd: Round, envelope: Envelope, source: Mapping[str, str], projects: int, votes: int
) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "description": rnd.title,
        "country": "China",
        "unit": "yishi",
        "instance": str((rnd.voting_starts or rnd.created_at).year),
        "currency": "CNY",
    }
    meta.update({k: source[k] for k in KEPT_META if source.get(k)})
    if envelope.area is not None:
        meta["district"] = envelope.area.name
    rule = EXPORT_RULE.get(str(rnd.rule), str(rnd.rule))
    source_rule = source.get("rule", "").strip()
    if source_rule.lower().startswith(("greedy", "equalshares")) and (
        OutcomeRule.EQUAL_SHARES.value
        if source_rule.lower().startswith("equalshares")
        else OutcomeRule.GREEDY.value
    ) == str(rnd.rule):
        rule = source_rule  # the rule's name as the imported file gave it
    budget = yuan(envelope.budget_fen)
    meta.update(
        {
            "num_projects": projects,
            "num_votes": votes,
            "budget": budget,
            "vote_type": "cumulative" if rnd.ballot_type == BallotType.POINTS else "approval",
            "rule": rule,
        }
    )
    if rnd.ballot_type == BallotType.APPROVAL and rnd.max_choices:
        meta["max_length"] = rnd.max_choices
    elif rnd.ballot_type == BallotType.POINTS and rnd.points_total:
        meta["max_sum_points"] = rnd.points_total
    elif rnd.ballot_type == BallotType.BUDGET_APPROVAL:
        meta["max_sum_cost"] = budget
    return meta


def _export_projects(
    count: EnvelopeCount,
    pid_of: Mapping[str, int],
    proposals: Mapping[int, Proposal],
    selected: set[str] | None,
    points: bool,
) -> list[dict[str, Any]]:
    votes = dict.fromkeys(count.costs, 0)
    score = dict.fromkeys(count.costs, 0)
    for ballot in count.ballots:
        for key, pts in ballot.items():
            if pts > 0:
                votes[key] += 1
                score[key] += pts
    rows = []
    for key in sorted(count.costs, key=lambda k: pid_of[k]):
        proposal = proposals[pid_of[key]]
        row: dict[str, Any] = {
            "project_id": key,
            "cost": yuan(count.costs[key]),
            "votes": votes[key],
        }
        if points:
            row["score"] = score[key]
        row["name"] = proposal.title
        row["category"] = Category(proposal.category).value
        if selected is not None:
            row["selected"] = 1 if key in selected else 0
        rows.append(row)
    return rows


def _export_votes(
    count: EnvelopeCount, ballots: Sequence[Mapping[str, int]], points: bool
) -> list[dict[str, Any]]:
    """The VOTES rows of `ballots` (the envelope's, in the order to write), voters numbered
    1..n in that order."""
    order = {key: i for i, key in enumerate(count.costs)}
    first = next(iter(count.costs), None)
    rows = []
    for number, ballot in enumerate(ballots, start=1):
        keys = sorted(ballot, key=order.__getitem__)
        row: dict[str, Any] = {"voter_id": str(number), "vote": keys}
        if points:
            row["points"] = [ballot[k] for k in keys]
            if not keys and first is not None:
                # A voter who gave nothing in this envelope still counts (equal shares
                # shares the budget among all voters), but pabutools cannot read an empty
                # points vote: write "no points for the first project", which means the same.
                row["vote"], row["points"] = [first], [0]
        rows.append(row)
    return rows


def export_choices(envelopes: Sequence[Envelope]) -> list[tuple[int, str]]:
    """(envelope id, name) for the export links of a round page."""
    return [(e.id, e.area.name if e.area else _("District-wide")) for e in envelopes]
