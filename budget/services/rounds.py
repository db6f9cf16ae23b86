"""Rounds: open one (fund, per-area envelopes, timetable, ballot rules), edit it, move it to the
next phase by hand.

Ballot type, rule, fund and envelopes are locked once voting opens (`Round.locked`): the edit
service refuses to change them from then on. What the per-area envelopes leave of the fund
is the district-wide envelope (area null) for proposals that concern no single area.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from budget.models import (
    BallotType,
    Envelope,
    OutcomeRule,
    Phase,
    Procurement,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.permissions import can
from budget.services import notices
from core.audit import record
from core.errors import Conflict, PermissionDenied, ValidationError
from core.forms import fen_to_yuan_input, parse_date, parse_int, parse_yuan, text
from core.i18n import _, format_money
from core.models import Area, User

# The timetable, in order: (field, phase it starts).
DATE_FIELDS = (
    ("proposing_starts", Phase.PROPOSING),
    ("reviewing_starts", Phase.REVIEWING),
    ("voting_starts", Phase.VOTING),
    ("results_starts", Phase.RESULTS),
    ("implementing_starts", Phase.IMPLEMENTING),
    ("closes", Phase.CLOSED),
)
RULE_FIELDS = ("fund", "ballot_type", "max_choices", "points_total", "rule")
MAX_CHOICES_LIMIT = 1000
POINTS_LIMIT = 100_000


def envelope_field(area_id: int) -> str:
    return f"envelope_{area_id}"


@dataclass
class RoundInput:
    """A round's settings, typed and checked."""

    title: str
    description: str
    dates: dict[str, date | None]
    fund_fen: int | None = None
    ballot_type: BallotType | None = None
    max_choices: int | None = None
    points_total: int | None = None
    rule: OutcomeRule | None = None
    area_envelopes: dict[int, int] | None = None  # area id → budget in fen (> 0 only)


def round_form_values(rnd: Round | None, envelopes: list[Envelope] | None = None) -> dict:
    """What the form shows: the round's settings as text (or defaults for a new round)."""
    if rnd is None:
        return {
            "ballot_type": BallotType.BUDGET_APPROVAL.value,
            "rule": OutcomeRule.GREEDY.value,
        }
    values: dict[str, Any] = {
        "title": rnd.title,
        "description": rnd.description,
        "fund": fen_to_yuan_input(rnd.fund_fen),
        "ballot_type": rnd.ballot_type,
        "max_choices": "" if rnd.max_choices is None else str(rnd.max_choices),
        "points_total": "" if rnd.points_total is None else str(rnd.points_total),
        "rule": rnd.rule,
    }
    for name, _phase in DATE_FIELDS:
        day = getattr(rnd, name)
        values[name] = day.isoformat() if day else ""
    for env in envelopes or []:
        if env.area_id is not None:
            values[envelope_field(env.area_id)] = fen_to_yuan_input(env.budget_fen)
    return values


def _parse_rules(
    data: Mapping[str, Any], areas: list[Area], out: RoundInput, errors: dict[str, str]
) -> None:
    out.fund_fen = parse_yuan(data.get("fund"), "fund", errors)
    try:
        out.ballot_type = BallotType(str(data.get("ballot_type") or ""))
    except ValueError:
        errors["ballot_type"] = _("Choose a ballot type.")
    try:
        out.rule = OutcomeRule(str(data.get("rule") or ""))
    except ValueError:
        errors["rule"] = _("Choose an outcome rule.")
    if out.ballot_type == BallotType.APPROVAL:
        out.max_choices = parse_int(
            data.get("max_choices"), "max_choices", errors, minimum=1, maximum=MAX_CHOICES_LIMIT
        )
        if "max_choices" in errors and not str(data.get("max_choices") or "").strip():
            errors["max_choices"] = _(
                "An approval ballot needs the number of projects each voter may choose."
            )
    if out.ballot_type == BallotType.POINTS:
        out.points_total = parse_int(
            data.get("points_total"), "points_total", errors, minimum=1, maximum=POINTS_LIMIT
        )
        if "points_total" in errors and not str(data.get("points_total") or "").strip():
            errors["points_total"] = _(
                "A points ballot needs the number of points each voter distributes."
            )
    envelopes: dict[int, int] = {}
    for area in areas:
        name = envelope_field(area.id)
        fen = parse_yuan(data.get(name), name, errors, required=False, allow_zero=True)
        if fen:
            envelopes[area.id] = fen
    out.area_envelopes = envelopes
    total = sum(envelopes.values())
    if out.fund_fen is not None and total > out.fund_fen:
        errors["envelopes"] = _(
            "The area envelopes add up to {total}, more than the fund of {fund}.",
            total=format_money(total),
            fund=format_money(out.fund_fen),
        )


def parse_round_input(
    data: Mapping[str, Any], areas: list[Area], *, with_rules: bool = True
) -> RoundInput:
    """Typed settings from a form, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    out = RoundInput(
        title=text(data.get("title"), "title", errors, max_length=200),
        description=text(
            data.get("description"), "description", errors, required=False, max_length=20_000
        ),
        dates={},
    )
    previous: tuple[str, date] | None = None
    for name, _phase in DATE_FIELDS:
        day = parse_date(data.get(name), name, errors, required=name == "proposing_starts")
        out.dates[name] = day
        if day is None:
            continue
        if previous is not None and day <= previous[1]:
            errors[name] = _(
                "This date must come after the one before it ({day}).", day=previous[1].isoformat()
            )
        previous = (name, day)
    if with_rules:
        _parse_rules(data, areas, out, errors)
    if errors:
        raise ValidationError(errors=errors)
    return out


async def _save_envelopes(
    rnd: Round, fund_fen: int, area_envelopes: dict[int, int], conn: Any
) -> None:
    """Make the round's envelopes match: one per area given, plus the district-wide rest."""
    wanted: dict[int | None, int] = dict(area_envelopes)
    rest = fund_fen - sum(area_envelopes.values())
    if rest > 0 or not area_envelopes:
        wanted[None] = rest
    existing = {e.area_id: e for e in await Envelope.filter(round_id=rnd.id).using_db(conn)}
    for area_id, env in existing.items():
        if area_id not in wanted:
            await env.delete(using_db=conn)
        elif env.budget_fen != wanted[area_id]:
            env.budget_fen = wanted[area_id]
            await env.save(using_db=conn, update_fields=["budget_fen"])
    for area_id, budget_fen in wanted.items():
        if area_id not in existing:
            await Envelope.create(
                round_id=rnd.id, area_id=area_id, budget_fen=budget_fen, using_db=conn
            )


def _envelope_detail(area_envelopes: dict[int, int]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(area_envelopes.items())}


async def create_round(actor: User, data: Mapping[str, Any]) -> Round:
    """Open a round in the proposing phase."""
    if not can(actor, "create_round", None):
        raise PermissionDenied(_("Only council members open rounds."))
    areas = await Area.all()
    values = parse_round_input(data, areas)
    async with in_transaction() as conn:
        rnd = await Round.create(
            title=values.title,
            description=values.description,
            fund_fen=values.fund_fen,
            phase=Phase.PROPOSING,
            ballot_type=values.ballot_type,
            max_choices=values.max_choices,
            points_total=values.points_total,
            rule=values.rule.value,
            created_by=actor,
            using_db=conn,
            **values.dates,
        )
        await _save_envelopes(rnd, values.fund_fen, values.area_envelopes, conn)
        await record(
            actor,
            "round.create",
            rnd,
            using_db=conn,
            title=rnd.title,
            fund_fen=rnd.fund_fen,
            ballot_type=rnd.ballot_type.value,
            rule=rnd.rule,
            envelopes=_envelope_detail(values.area_envelopes),
        )
    return rnd


async def edit_round(actor: User, rnd: Round, data: Mapping[str, Any]) -> Round:
    """Change a round. Once voting opens, only title, description and dates may change: an
    attempt to change the ballot type, rule, fund or envelopes is refused (403)."""
    if not can(actor, "edit_round", rnd):
        raise PermissionDenied(_("You may not edit this round."))
    areas = await Area.all()
    async with in_transaction() as conn:
        # Lock the row so that an edit cannot race a phase change into voting.
        rnd = await Round.select_for_update().using_db(conn).get(id=rnd.id)
        current = await Envelope.filter(round_id=rnd.id).using_db(conn)
        rules_editable = can(actor, "edit_round_rules", rnd)
        if not rules_editable:
            _refuse_rule_changes(rnd, current, data, areas)
        values = parse_round_input(data, areas, with_rules=rules_editable)
        changes: dict[str, Any] = {}
        updates: dict[str, Any] = {
            "title": values.title,
            "description": values.description,
            **values.dates,
        }
        if rules_editable:
            updates.update(
                fund_fen=values.fund_fen,
                ballot_type=values.ballot_type,
                max_choices=values.max_choices,
                points_total=values.points_total,
                rule=values.rule.value,
            )
        for key, value in updates.items():
            if getattr(rnd, key) != value:
                changes[key] = value.isoformat() if isinstance(value, date) else str(value)
                setattr(rnd, key, value)
        await rnd.save(using_db=conn, update_fields=list(updates))
        if rules_editable:
            before = {e.area_id: e.budget_fen for e in current if e.area_id is not None}
            if before != values.area_envelopes:
                changes["envelopes"] = _envelope_detail(values.area_envelopes)
            await _save_envelopes(rnd, values.fund_fen, values.area_envelopes, conn)
        await record(actor, "round.edit", rnd, using_db=conn, **changes)
    return rnd


def _refuse_rule_changes(
    rnd: Round, envelopes: list[Envelope], data: Mapping[str, Any], areas: list[Area]
) -> None:
    """A locked round: a rule field that is sent must say what is stored (absent is fine)."""
    keys = [*RULE_FIELDS, *(envelope_field(a.id) for a in areas)]
    if not any(key in data for key in keys):
        return
    merged = round_form_values(rnd, envelopes)
    merged.update({key: data[key] for key in keys if key in data})
    probe: dict[str, str] = {}
    check = RoundInput(title="", description="", dates={})
    _parse_rules(merged, areas, check, probe)
    stored_envelopes = {
        e.area_id: e.budget_fen for e in envelopes if e.area_id is not None and e.budget_fen
    }
    same = not probe and (
        check.fund_fen,
        check.ballot_type,
        check.rule,
        check.max_choices,
        check.points_total,
        check.area_envelopes,
    ) == (
        rnd.fund_fen,
        BallotType(rnd.ballot_type),
        OutcomeRule(rnd.rule),
        rnd.max_choices,
        rnd.points_total,
        stored_envelopes,
    )
    if not same:
        raise PermissionDenied(
            _("Voting has opened: the ballot type, rule, fund and envelopes can no longer change.")
        )


async def advance_phase(actor: User, rnd: Round, from_phase: str | None = None) -> Round:
    """Move the round to the next phase. `from_phase` is the phase the confirmation page showed:
    if the round moved meanwhile (a second click, another council member), nothing happens."""
    if not can(actor, "advance_phase", rnd):
        raise PermissionDenied(_("You may not move this round to another phase."))
    async with in_transaction() as conn:
        locked = await Round.select_for_update().using_db(conn).get(id=rnd.id)
        if from_phase is not None and locked.phase != from_phase:
            raise Conflict(
                _("This round is already in the phase {phase}.", phase=locked.phase_enum.label)
            )
        if not can(actor, "advance_phase", locked):
            raise PermissionDenied(_("You may not move this round to another phase."))
        before = locked.phase_enum
        after = before.next
        if after == Phase.CLOSED:
            still_open = await _open_procurements(locked, conn)
            if still_open:
                raise Conflict(_close_blocked_message(still_open))
        locked.phase = after
        await locked.save(using_db=conn, update_fields=["phase", "updated_at"])
        await notices.tell_phase_changed(conn, locked, actor)
        await record(
            actor,
            "round.advance",
            locked,
            public=True,
            using_db=conn,
            **{"from": before.value, "to": after.value},
        )
    return locked


# --- reading -------------------------------------------------------------------------------


async def envelopes_of(rnd: Round) -> list[Envelope]:
    """The round's envelopes with their areas: areas by name, the district-wide one last."""
    envelopes = await Envelope.filter(round_id=rnd.id).select_related("area")
    return sorted(envelopes, key=lambda e: (e.area is None, e.area.name if e.area else ""))


async def proposal_counts(rnd: Round) -> dict[str, int]:
    """Proposals of the round per status (one grouped query)."""
    rows = (
        await Proposal.filter(round_id=rnd.id)
        .group_by("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {str(status): n for status, n in rows}


def _close_blocked_message(n: int) -> str:
    return _(
        "A round closes only when every procurement is closed or cancelled; still open: {n}.",
        n=n,
    )


async def _open_procurements(rnd: Round, conn: Any = None) -> int:
    return (
        await Procurement.filter(round_id=rnd.id)
        .exclude(status__in=[ProcurementStatus.CLOSED, ProcurementStatus.CANCELLED])
        .using_db(conn)
        .count()
    )


async def close_blocked_by(rnd: Round) -> str | None:
    """Why the round cannot close yet (open procurements), or None."""
    if rnd.phase_enum.next != Phase.CLOSED:
        return None
    still_open = await _open_procurements(rnd)
    return _close_blocked_message(still_open) if still_open else None


async def advance_warnings(rnd: Round) -> list[str]:
    """What a council member should know before moving on (shown on the confirmation page)."""
    nxt = rnd.phase_enum.next
    warnings: list[str] = []
    if nxt == Phase.VOTING:
        counts = await proposal_counts(rnd)
        waiting = counts.get(ProposalStatus.SUBMITTED.value, 0)
        feasible = counts.get(ProposalStatus.FEASIBLE.value, 0)
        if waiting:
            warnings.append(
                _(
                    "{n} proposals are still awaiting review; they will not be on the ballot.",
                    n=waiting,
                )
            )
        if not feasible:
            warnings.append(_("No proposal has been found feasible: the ballot will be empty."))
    return warnings
