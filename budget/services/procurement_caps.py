"""Caps: how much room an envelope and the round leave, lowering a cap, and raising one through
a request the council decides.

The caps of an envelope never exceed its budget, nor a round's its fund. What a procurement
holds is its cap while open and what it paid once closed or cancelled (the rest went back).
Every change of a cap locks the round, then the envelope, then the procurement, always in that
order, so two raises in one envelope wait for each other and the second sees the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import Case, F, Q, When
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from budget.models import (
    CapChange,
    CapChangeStatus,
    Envelope,
    Procurement,
    ProcurementStatus,
    Round,
)
from budget.permissions import can
from budget.rules.ledger import Refusal, Room, check_cap
from budget.services.ledger import locked_procurement, refusal_message, totals_of
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import parse_yuan, text
from core.i18n import _, format_money
from core.models import User

FINISHED = (ProcurementStatus.CLOSED, ProcurementStatus.CANCELLED)


def _reserved() -> Case:
    """SQL: what a procurement holds of its envelope (cap while open, paid once finished)."""
    return Case(When(Q(status__in=list(FINISHED)), then=F("paid_fen")), default=F("cap_fen"))


async def reserved_sum(conn: Any, **filters: Any) -> int:
    row = (
        await Procurement.filter(**filters)
        .using_db(conn)
        .annotate(total=Sum(_reserved()))
        .first()
        .values("total")
    )
    return int((row or {}).get("total") or 0)


async def room_for(
    conn: Any, rnd: Round, envelope: Envelope, exclude_id: int | None = None
) -> Room:
    """The room around one cap in `envelope` (leaving out procurement `exclude_id`)."""
    exclude = {"id__not": exclude_id} if exclude_id is not None else {}
    return Room(
        envelope_budget_fen=envelope.budget_fen,
        envelope_reserved_fen=await reserved_sum(conn, envelope_id=envelope.id, **exclude),
        fund_fen=rnd.fund_fen,
        round_reserved_fen=await reserved_sum(conn, round_id=rnd.id, **exclude),
    )


async def lock_round_and_envelope(conn: Any, round_id: int, envelope_id: int) -> tuple:
    rnd = (await lock_rows(conn, Round, [round_id]))[0]
    envelope = (await lock_rows(conn, Envelope, [envelope_id]))[0]
    return rnd, envelope


def _cap_refused(refusal: Refusal, procurement: Procurement, field: str) -> ValidationError:
    return ValidationError(errors={field: refusal_message(refusal, totals_of(procurement))})


async def lower_cap(user: User | None, procurement_id: int, form: Mapping[str, Any]) -> Procurement:
    """A finance officer lowers a cap (never below what is committed); the rest goes back."""
    errors: dict[str, str] = {}
    new_cap = parse_yuan(form.get("cap"), "cap", errors)
    if errors:
        raise ValidationError(errors=errors)
    async with in_transaction() as conn:
        procurement = await locked_procurement(conn, procurement_id)
        if not can(user, "manage_procurement", procurement):
            raise PermissionDenied(_("Only finance officers change open procurements."))
        if new_cap > procurement.cap_fen:
            raise ValidationError(
                errors={"cap": _("Raising a cap needs the council's approval: request it below.")}
            )
        if new_cap < procurement.committed_fen:
            raise ValidationError(
                errors={
                    "cap": _(
                        "The cap cannot be lower than what is committed ({committed}).",
                        committed=format_money(procurement.committed_fen),
                    )
                }
            )
        old = procurement.cap_fen
        procurement.cap_fen = new_cap
        await procurement.save(using_db=conn, update_fields=["cap_fen", "updated_at"])
        await record(
            user,
            "procurement.cap_lowered",
            procurement,
            using_db=conn,
            public=True,
            old_cap_fen=old,
            new_cap_fen=new_cap,
        )
    return procurement


async def request_cap_raise(
    user: User | None, procurement_id: int, form: Mapping[str, Any]
) -> CapChange:
    """A finance officer asks the council for a higher cap, with a reason."""
    errors: dict[str, str] = {}
    new_cap = parse_yuan(form.get("new_cap"), "new_cap", errors)
    reason = text(form.get("reason"), "reason", errors, max_length=2000)
    procurement = await Procurement.get_or_none(id=procurement_id)
    if procurement is None:
        raise NotFound(_("This procurement does not exist."))
    if not can(user, "request_cap_change", procurement):
        raise PermissionDenied(_("Only finance officers ask for a higher cap."))
    if new_cap is not None and new_cap <= procurement.cap_fen:
        errors["new_cap"] = _(
            "A raise must be above the current cap of {cap}.", cap=format_money(procurement.cap_fen)
        )
    if errors:
        raise ValidationError(errors=errors)
    async with in_transaction() as conn:
        if (
            await CapChange.filter(procurement_id=procurement_id, status=CapChangeStatus.PENDING)
            .using_db(conn)
            .exists()
        ):
            raise ValidationError(
                errors={"new_cap": _("A request is already waiting for the council's decision.")}
            )
        change = await CapChange.create(
            procurement_id=procurement_id,
            old_cap_fen=procurement.cap_fen,
            new_cap_fen=new_cap,
            reason=reason,
            requested_by=user,
            using_db=conn,
        )
        await record(
            user,
            "procurement.cap_raise_requested",
            procurement,
            using_db=conn,
            public=True,
            old_cap_fen=procurement.cap_fen,
            new_cap_fen=new_cap,
        )
    return change


async def decide_cap_change(
    user: User | None, change_id: int, approve: bool, form: Mapping[str, Any]
) -> CapChange:
    """A council member approves (the new cap must still fit the envelope and the fund) or
    refuses (a note says why) a requested raise."""
    errors: dict[str, str] = {}
    note = text(
        form.get("decision_note"), "decision_note", errors, required=not approve, max_length=2000
    )
    change = await CapChange.get_or_none(id=change_id)
    if change is None:
        raise NotFound(_("This request does not exist."))
    if errors:
        raise ValidationError(errors=errors)
    async with in_transaction() as conn:
        probe = await Procurement.get(id=change.procurement_id).using_db(conn)
        rnd, envelope = await lock_round_and_envelope(conn, probe.round_id, probe.envelope_id)
        procurement = await locked_procurement(conn, probe.id)
        change = (await lock_rows(conn, CapChange, [change_id]))[0]
        if not can(user, "decide_cap_change", procurement):
            raise PermissionDenied(_("Only council members decide on a higher cap."))
        if change.status != CapChangeStatus.PENDING:
            raise Conflict(_("This request was already decided."))
        if approve:
            room = await room_for(conn, rnd, envelope, exclude_id=procurement.id)
            try:
                check_cap(change.new_cap_fen, totals_of(procurement), room)
            except Refusal as refusal:
                raise _cap_refused(refusal, procurement, "decision_note") from None
            procurement.cap_fen = change.new_cap_fen
            await procurement.save(using_db=conn, update_fields=["cap_fen", "updated_at"])
        change.status = CapChangeStatus.APPROVED if approve else CapChangeStatus.REFUSED
        change.decided_by = user
        change.decided_at = datetime.now(UTC)
        change.decision_note = note
        await change.save(using_db=conn)
        await record(
            user,
            "procurement.cap_raise_approved" if approve else "procurement.cap_raise_refused",
            procurement,
            using_db=conn,
            public=True,
            old_cap_fen=change.old_cap_fen,
            new_cap_fen=change.new_cap_fen,
        )
    return change


async def room_left(rnd: Round, envelope: Envelope) -> int:
    """What the envelope and the round still leave for a new cap."""
    async with in_transaction() as conn:
        return (await room_for(conn, rnd, envelope)).max_cap_fen
