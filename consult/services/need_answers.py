"""The council answers a need, then resolves it; the resident rates the answer.

An answer is one of four: accepted and being handled (an owner and a due date), turned into a
proposal for a budgeting round that is collecting proposals (the proposal is created with the
need's resident as its author, validated as any proposal, and linked both ways), referred to
another body (named), or declined (with the reason). Then what was promised is done: the need
is resolved with a note. The resident rates the answer 1–5, once, within 30 days of it.

Each step is one transaction: a **conditional update** of the need (WHERE state = 'received',
WHERE rating IS NULL …) that changes nothing when someone else got there first (two council
members answering at once: one wins, the other gets 409), the month's count
(consult.services.need_stats), the audit entry and the notification to the resident and the
need's other followers.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import Phase, Proposal, ProposalStatus, Round
from budget.services.proposal_changes import validate_proposal
from budget.services.proposals import area_choices
from consult.models import (
    ANSWER_STATES,
    NEED_STATE_LABELS,
    Need,
    NeedState,
    SubjectType,
)
from consult.permissions import RESOLVABLE, can
from consult.rules import needs as rules
from consult.rules.comments import clean_body, clean_line
from consult.services import need_stats
from consult.services.needs import need_path
from core.audit import record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import parse_date, parse_int
from core.i18n import _, _display_tz, format_day, local_today
from core.models import User
from core.permissions import is_staff
from core.prepared import Prepared
from core.services.notifications import follow, notify_followers

ANSWER_FIELDS = ("answer", "owner", "due_on", "referred_to", "answer_note")
PROPOSAL_FIELDS = ("round", "title", "description", "category", "cost", "area", "beneficiaries")


async def _need(need_id: int, conn: Any = None) -> Need:
    need = await Need.get_or_none(id=need_id).using_db(conn)
    if need is None:
        raise NotFound(_("This need does not exist."))
    return need


def _note(value: object, field: str, limit: int, errors: dict[str, str], required: bool) -> str:
    text = clean_body(value)
    if required and not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = _("At most {n} characters.", n=limit)
    return text


def _line(value: object, field: str, limit: int, errors: dict[str, str]) -> str:
    text = clean_line(value)
    if not text:
        errors[field] = _("This field is required.")
    elif len(text) > limit:
        errors[field] = _("At most {n} characters.", n=limit)
    return text


def answered_refusal(need: Need) -> str:
    return _(
        "This need was already answered ({answer}): an answer is given once.",
        answer=NeedState(need.answer or need.state).label,
    )


# --- answering -----------------------------------------------------------------------------


def answer_form_values(data: Mapping[str, Any] | None = None) -> dict[str, str]:
    return {key: str((data or {}).get(key) or "") for key in ANSWER_FIELDS}


def parse_answer(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The kind of answer and the need's fields it sets, or ValidationError per field."""
    errors: dict[str, str] = {}
    kind = str(data.get("answer") or "")
    values: dict[str, Any] = {}
    if kind not in {s.value for s in ANSWER_STATES if s != NeedState.PROPOSED}:
        raise ValidationError(errors={"answer": _("Choose an answer.")})
    if kind == NeedState.ACCEPTED:
        values["owner"] = _line(data.get("owner"), "owner", rules.MAX_OWNER, errors)
        due_on = parse_date(data.get("due_on"), "due_on", errors, required=True)
        if due_on is not None and due_on < local_today():
            errors["due_on"] = _("The due date must not be in the past.")
        values["due_on"] = due_on
    elif kind == NeedState.REFERRED:
        values["referred_to"] = _line(
            data.get("referred_to"), "referred_to", rules.MAX_BODY_NAME, errors
        )
    required_note = kind == NeedState.DECLINED  # a decline always says why
    values["answer_note"] = _note(
        data.get("answer_note"), "answer_note", rules.MAX_NOTE, errors, required_note
    )
    if errors:
        raise ValidationError(errors=errors)
    return kind, values


async def answer_need(actor: User | None, need_id: int, data: Mapping[str, Any]) -> Need:
    """Accept (owner, due date), refer (to whom) or decline (why) a need. Turning it into a
    proposal is `propose_need`."""
    if not is_staff(actor):
        raise PermissionDenied(_("Only council members answer needs."))
    need = await _need(need_id)
    if need.state != NeedState.RECEIVED:
        raise Conflict(answered_refusal(need))
    kind, values = parse_answer(data)
    async with in_transaction() as conn:
        return await _answer(conn, actor, need_id, kind, values)


async def _answer(conn: Any, actor: User, need_id: int, kind: str, values: dict[str, Any]) -> Need:
    """The conditional update, the count, the audit entry and the notification."""
    now = datetime.now(UTC)
    changed = await (
        Need.filter(id=need_id, state=NeedState.RECEIVED)
        .using_db(conn)
        .update(state=kind, answer=kind, answered_at=now, answered_by_id=actor.id, **values)
    )
    need = await _need(need_id, conn)
    if not changed:
        raise Conflict(answered_refusal(need))
    await need_stats.count_answered(conn, need)
    await record(
        actor,
        "need.answered",
        need,
        using_db=conn,
        number=need.number,
        answer=kind,
        **{k: v.isoformat() if isinstance(v, date) else v for k, v in values.items() if v},
    )
    await notify_followers(
        SubjectType.NEED,
        need.id,
        "need_answered",
        url=need_path(need.id),
        params={"number": need.number, "answer": NEED_STATE_LABELS[NeedState(kind)]},
        skip=[actor.id],
        using_db=conn,
    )
    return need


# --- turning a need into a proposal --------------------------------------------------------


async def proposing_rounds() -> list[Round]:
    """The budgeting rounds collecting proposals now (a need's proposal goes into one)."""
    return list(
        await Round.filter(phase=Phase.PROPOSING, is_study=False).order_by("-created_at", "-id")
    )


def proposal_form_values(need: Need, rounds: list[Round]) -> dict[str, str]:
    """The proposal form pre-filled from the need: its title, description (with the place),
    its area and the budgeting category its category most likely is."""
    description = need.body
    if need.place:
        description = f"{need.body}\n\n{_('Where')}: {need.place}"
    return {
        "round": str(rounds[0].id) if len(rounds) == 1 else "",
        "title": need.title,
        "description": description,
        "category": rules.proposal_category(need.category),
        "cost": "",
        "area": str(need.area_id),
        "beneficiaries": "",
        "location": need.place,
    }


def proposal_values_from(data: Mapping[str, Any]) -> dict[str, str]:
    """What was typed on the proposal form, to show again after a refusal."""
    return {key: str(data.get(key) or "") for key in (*PROPOSAL_FIELDS, "location", "answer_note")}


async def propose_need(actor: User | None, need_id: int, data: Mapping[str, Any]) -> Need:
    """Turn a need into a proposal of a round collecting proposals: the proposal (author: the
    need's resident) is checked like any other — a cost above the envelope gives 422 on the
    same form — and linked both ways (Need.proposal; the proposal's page names the need)."""
    if not is_staff(actor):
        raise PermissionDenied(_("Only council members answer needs."))
    need = await _need(need_id)
    if need.state != NeedState.RECEIVED:
        raise Conflict(answered_refusal(need))
    errors: dict[str, str] = {}
    round_id = parse_int(data.get("round"), "round", errors, minimum=1, maximum=2**31 - 1)
    rnd = None
    if round_id is not None:
        rnd = next((r for r in await proposing_rounds() if r.id == round_id), None)
        if rnd is None:
            errors["round"] = _("Choose a round that is collecting proposals.")
    if rnd is None:
        errors.setdefault("round", _("Choose a round that is collecting proposals."))
        raise ValidationError(errors=errors)
    # The envelopes open to the need's area (and the district), as for its resident.
    choices = await area_choices(rnd, User(area_id=need.area_id))
    proposal_data, errors = validate_proposal(data, rnd, choices)
    note_errors: dict[str, str] = {}
    answer_note = _note(data.get("answer_note"), "answer_note", rules.MAX_NOTE, note_errors, False)
    errors.update(note_errors)
    if errors:
        raise ValidationError(errors=errors)
    async with in_transaction() as conn:
        proposal = await Proposal.create(
            round_id=rnd.id,
            author_id=need.resident_id,
            status=ProposalStatus.SUBMITTED,
            using_db=conn,
            **proposal_data,
        )
        await record(
            actor,
            "proposal.submitted",
            proposal,
            public=True,
            using_db=conn,
            title=proposal.title,
            cost_fen=proposal.cost_fen,
            need=need.number,
        )
        if need.resident_id is not None:
            await follow(need.resident_id, SubjectType.PROPOSAL, proposal.id, using_db=conn)
        values = {"proposal_id": proposal.id, "answer_note": answer_note}
        return await _answer(conn, actor, need_id, NeedState.PROPOSED, values)


# --- resolving -----------------------------------------------------------------------------


def resolve_refusal(need: Need) -> str:
    if need.state == NeedState.RECEIVED:
        return _("This need has not been answered yet: answer it before resolving it.")
    if need.state == NeedState.RESOLVED:
        return _("This need was already resolved.")
    return _("A declined need is not resolved: the answer stands.")


async def resolve_need(actor: User | None, need_id: int, data: Mapping[str, Any]) -> Need:
    """Resolve an answered need (accepted, proposed or referred) with a note on what was done."""
    if not is_staff(actor):
        raise PermissionDenied(_("Only council members resolve needs."))
    need = await _need(need_id)
    if need.state not in RESOLVABLE:
        raise Conflict(resolve_refusal(need))
    errors: dict[str, str] = {}
    note = _note(data.get("resolution_note"), "resolution_note", rules.MAX_NOTE, errors, True)
    if errors:
        raise ValidationError(errors=errors)
    async with in_transaction() as conn:
        changed = await (
            Need.filter(id=need_id, state__in=list(RESOLVABLE))
            .using_db(conn)
            .update(
                state=NeedState.RESOLVED,
                resolved_at=datetime.now(UTC),
                resolved_by_id=actor.id,
                resolution_note=note,
            )
        )
        need = await _need(need_id, conn)
        if not changed:
            raise Conflict(resolve_refusal(need))
        await need_stats.count_resolved(conn, need)
        await record(actor, "need.resolved", need, using_db=conn, number=need.number, note=note)
        await notify_followers(
            SubjectType.NEED,
            need.id,
            "need_resolved",
            url=need_path(need.id),
            params={"number": need.number},
            skip=[actor.id],
            using_db=conn,
        )
    return need


# --- rating --------------------------------------------------------------------------------


def rate_refusal(user: User | None, need: Need, now: datetime) -> tuple[int, str]:
    """Why `user` may not rate `need` now: (status, message)."""
    if user is None or need.resident_id != user.id:
        return 403, _("Only the resident who raised this need rates its answer.")
    if need.answered_at is None:
        return 409, _("This need has not been answered yet: you can rate it once it is.")
    if need.rating is not None:
        return 409, _("You have already rated this answer; a rating is given once.")
    return 422, _(
        "Answers are rated within 30 days; the time to rate this one ended on {day}.",
        day=format_day(rules.rating_deadline(need.answered_at).astimezone(_display_tz()).date()),
    )


def _refuse(status: int, message: str, field: str = "rating") -> None:
    if status == 403:
        raise PermissionDenied(message)
    if status == 409:
        raise Conflict(message)
    raise ValidationError(errors={field: message})


async def rate_need(user: User | None, need_id: int, data: Mapping[str, Any]) -> Need:
    """The resident rates the answer 1–5 with an optional comment, once, within 30 days of
    the answer. Two ratings sent at once: the conditional update lets one through."""
    need = await _need(need_id)
    now = datetime.now(UTC)
    if not can(user, "rate_need", need, now):
        _refuse(*rate_refusal(user, need, now))
    errors: dict[str, str] = {}
    rating = parse_int(data.get("rating"), "rating", errors, minimum=1, maximum=5)
    if "rating" in errors or rating is None:
        errors["rating"] = _("Choose a rating from 1 (poor) to 5 (very good).")
    comment = _note(data.get("rating_comment"), "rating_comment", rules.MAX_COMMENT, errors, False)
    if errors:
        raise ValidationError(errors=errors)
    async with in_transaction() as conn:
        changed = await (
            Need.filter(
                id=need_id,
                resident_id=user.id,
                rating__isnull=True,
                answered_at__gte=now - rules.RATING_WINDOW,
            )
            .using_db(conn)
            .update(rating=rating, rating_comment=comment, rated_at=now)
        )
        need = await _need(need_id, conn)
        if not changed:
            _refuse(*rate_refusal(user, need, now))
        await need_stats.count_rated(conn, need, rating)
        await record(user, "need.rated", need, using_db=conn, number=need.number, rating=rating)
    return need


# --- the need's page -----------------------------------------------------------------------


def timeline(need: Need) -> list[dict[str, Any]]:
    """Each step that happened, with its date, in order: received, answered, resolved, rated."""
    steps = [{"step": "received", "at": need.created_at}]
    if need.answered_at:
        steps.append({"step": "answered", "at": need.answered_at, "answer": need.answer})
    if need.resolved_at:
        steps.append({"step": "resolved", "at": need.resolved_at})
    if need.rated_at:
        steps.append({"step": "rated", "at": need.rated_at})
    return steps


# --- on a proposal's page --------------------------------------------------------------------

# The needs a proposal came from, its SQL made once (see core.prepared): the proposal page asks
# on every view, and building the queryset each time cost more CPU than the query (0.28 ms
# against 0.10 ms a call, PostgreSQL).
_NEEDS_OF_PROPOSAL = Prepared(
    lambda pid: (
        Need.filter(proposal_id=pid)
        .order_by("id")
        .only("id", "number", "created_at", "resident_id", "entered_by_id")
    )
)


async def needs_of_proposal(proposal_id: int) -> list[Need]:
    """The needs that became this proposal, oldest first (number, day, who may see them)."""
    return await _NEEDS_OF_PROPOSAL.all(proposal_id)
