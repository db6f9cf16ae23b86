"""Procurements: converting funded proposals (one by one or a whole round), editing one, and
moving it along planned → tendering → contracted → in progress → delivered → closed, or to
cancelled.

Recording the contract (the move to contracted) commits the contract's amount in the ledger;
closing or cancelling releases what was committed and not paid. Each move is one transaction
with the procurement row locked, and leaves a ProcurementEvent (who, when) and an audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import (
    EntryKind,
    Envelope,
    Procurement,
    ProcurementEvent,
    ProcurementKind,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.permissions import can
from budget.rules.ledger import Refusal, check_cap, closing_release, may_move, next_states
from budget.services import notices
from budget.services.ledger import append_entry, locked_procurement, refusal_message, totals_of
from budget.services.procurement_caps import lock_round_and_envelope, room_for
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import fen_to_yuan_input, parse_date, parse_int, parse_yuan, text
from core.i18n import _, format_money, local_today
from core.models import Role, User

USCC_LENGTH = 18  # the unified social credit code
USCC_ALPHABET = set("0123456789ABCDEFGHJKLMNPQRTUWXY")


async def finance_officers() -> list[User]:
    return await User.filter(role=Role.FINANCE, is_active=True).order_by("display_name", "id")


async def envelope_of(proposal: Proposal, conn: Any = None) -> Envelope:
    """The envelope a proposal was funded from: its area's, else the district-wide one."""
    envelope = (
        await Envelope.filter(round_id=proposal.round_id, area_id=proposal.area_id)
        .using_db(conn)
        .first()
    )
    if envelope is None:
        envelope = (
            await Envelope.filter(round_id=proposal.round_id, area_id=None).using_db(conn).first()
        )
    if envelope is None:
        raise Conflict(_("This round has no envelope for this proposal's area."))
    return envelope


async def convertible(rnd: Round) -> list[Proposal]:
    """The round's funded proposals that are not procurements yet."""
    return await Proposal.filter(
        round_id=rnd.id, status=ProposalStatus.FUNDED, procurement__id__isnull=True
    ).order_by("id")


def conversion_defaults(proposal: Proposal, officer: User | None, rnd: Round) -> dict[str, str]:
    """What the conversion form proposes: the approved cost as cap, the round's timetable."""
    start = rnd.implementing_starts or local_today()
    end = rnd.closes if rnd.closes and rnd.closes > start else start + timedelta(days=90)
    return {
        "title": proposal.title,
        "kind": ProcurementKind.for_category(proposal.category).value,
        "officer": str(officer.id) if officer else "",
        "planned_start": start.isoformat(),
        "planned_end": end.isoformat(),
        "cap": fen_to_yuan_input(proposal.effective_cost_fen),
    }


@dataclass
class ProcurementInput:
    title: str
    kind: ProcurementKind
    officer_id: int | None
    planned_start: date
    planned_end: date
    cap_fen: int | None


async def parse_procurement(data: Mapping[str, Any], *, with_cap: bool = True) -> ProcurementInput:
    errors: dict[str, str] = {}
    title = text(data.get("title"), "title", errors, max_length=200)
    try:
        kind = ProcurementKind(str(data.get("kind") or ""))
    except ValueError:
        kind = ProcurementKind.WORKS
        errors["kind"] = _("Choose works, goods or services.")
    officer_id = parse_int(data.get("officer"), "officer", errors, required=False, minimum=1)
    if officer_id is not None and not await User.exists(
        id=officer_id, role=Role.FINANCE, is_active=True
    ):
        errors["officer"] = _("Choose a finance officer.")
    start = parse_date(data.get("planned_start"), "planned_start", errors, required=True)
    end = parse_date(data.get("planned_end"), "planned_end", errors, required=True)
    if start and end and end < start:
        errors["planned_end"] = _("The planned end cannot be before the start.")
    cap = parse_yuan(data.get("cap"), "cap", errors) if with_cap else None
    if errors:
        raise ValidationError(errors=errors)
    return ProcurementInput(title, kind, officer_id, start, end, cap)


async def _create(
    conn: Any, user: User, proposal: Proposal, rnd: Round, data: ProcurementInput
) -> Procurement:
    """One conversion inside a transaction holding the round and envelope locks."""
    envelope = await envelope_of(proposal, conn)
    if await Procurement.filter(proposal_id=proposal.id).using_db(conn).exists():
        raise ValidationError(_("{title} is already a procurement.", title=proposal.title))
    room = await room_for(conn, rnd, envelope)
    try:
        check_cap(data.cap_fen, totals_of(Procurement(cap_fen=data.cap_fen)), room)
    except Refusal as refusal:
        raise ValidationError(
            errors={
                "cap": refusal_message(refusal)
                + " "
                + _("At most {room} is left.", room=format_money(room.max_cap_fen))
            }
        ) from None
    procurement = await Procurement.create(
        round_id=rnd.id,
        envelope_id=envelope.id,
        proposal_id=proposal.id,
        area_id=proposal.area_id,
        kind=data.kind,
        title=data.title,
        officer_id=data.officer_id,
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        cap_fen=data.cap_fen,
        created_by=user,
        using_db=conn,
    )
    await ProcurementEvent.create(
        procurement=procurement,
        to_status=ProcurementStatus.PLANNED,
        actor=user,
        using_db=conn,
    )
    await record(
        user,
        "procurement.converted",
        procurement,
        using_db=conn,
        public=True,
        proposal=proposal.id,
        cap_fen=data.cap_fen,
        kind=data.kind.value,
    )
    return procurement


async def _proposal_for_conversion(user: User | None, proposal_id: int) -> Proposal:
    proposal = await Proposal.get_or_none(id=proposal_id).prefetch_related("round")
    if proposal is None:
        raise NotFound(_("This proposal does not exist."))
    if not can(user, "convert", proposal):
        raise PermissionDenied(
            _("Only finance officers convert funded proposals, once the results are published.")
        )
    return proposal


async def convert_proposal(
    user: User | None, proposal_id: int, form: Mapping[str, Any]
) -> Procurement:
    """A funded proposal becomes a procurement, once, with a cap that fits what is left."""
    proposal = await _proposal_for_conversion(user, proposal_id)
    data = await parse_procurement(form)
    async with in_transaction() as conn:
        envelope = await envelope_of(proposal, conn)
        rnd, _envelope = await lock_round_and_envelope(conn, proposal.round_id, envelope.id)
        return await _create(conn, user, proposal, rnd, data)


async def convert_round(user: User | None, round_id: int) -> list[Procurement]:
    """Every funded proposal of a round not yet converted, with the proposed defaults (the
    approved cost as cap, the signed-in officer responsible), all or none."""
    rnd = await Round.get_or_none(id=round_id)
    if rnd is None:
        raise NotFound(_("This round does not exist."))
    if not can(user, "convert", rnd):
        raise PermissionDenied(
            _("Only finance officers convert funded proposals, once the results are published.")
        )
    created = []
    async with in_transaction() as conn:
        rnd = (await lock_round_and_envelope_ids(conn, rnd))[0]
        for proposal in await convertible(rnd):
            values = conversion_defaults(proposal, user, rnd)
            data = await parse_procurement(values)
            try:
                created.append(await _create(conn, user, proposal, rnd, data))
            except ValidationError as exc:
                raise ValidationError(
                    _("{title}: {problem}", title=proposal.title, problem=exc.message)
                ) from None
    return created


async def lock_round_and_envelope_ids(conn: Any, rnd: Round) -> list:
    """Lock the round and all its envelopes (in the usual order: round, then envelopes)."""
    locked = await lock_rows(conn, Round, [rnd.id])
    ids = await Envelope.filter(round_id=rnd.id).using_db(conn).values_list("id", flat=True)
    return locked + await lock_rows(conn, Envelope, list(ids))


async def edit_procurement(
    user: User | None, procurement_id: int, form: Mapping[str, Any]
) -> Procurement:
    """Title, kind, responsible officer and planned dates (the cap has its own forms)."""
    data = await parse_procurement(form, with_cap=False)
    async with in_transaction() as conn:
        procurement = await locked_procurement(conn, procurement_id)
        if not can(user, "manage_procurement", procurement):
            raise PermissionDenied(_("Only finance officers change open procurements."))
        procurement.title = data.title
        procurement.kind = data.kind
        procurement.officer_id = data.officer_id
        procurement.planned_start = data.planned_start
        procurement.planned_end = data.planned_end
        await procurement.save(using_db=conn)
        await record(user, "procurement.edited", procurement, using_db=conn)
    return procurement


# --- moving along ----------------------------------------------------------------------------


def _parse_contract(data: Mapping[str, Any], cap_fen: int, errors: dict[str, str]) -> dict:
    code = text(data.get("supplier_code"), "supplier_code", errors, required=False).upper()
    if code and (len(code) != USCC_LENGTH or not set(code) <= USCC_ALPHABET):
        errors["supplier_code"] = _(
            "A unified social credit code has 18 characters (digits and capital letters)."
        )
    amount = parse_yuan(data.get("contract_amount"), "contract_amount", errors)
    if amount is not None and amount > cap_fen:
        errors["contract_amount"] = _(
            "The contract is {over} above the cap of {cap}.",
            over=format_money(amount - cap_fen),
            cap=format_money(cap_fen),
        )
    day = parse_date(data.get("contract_date"), "contract_date", errors, required=True)
    if day and day > local_today():
        errors["contract_date"] = _("The date cannot be in the future.")
    return {
        "supplier_name": text(data.get("supplier_name"), "supplier_name", errors, max_length=200),
        "supplier_code": code,
        "contract_ref": text(data.get("contract_ref"), "contract_ref", errors, max_length=100),
        "contract_date": day,
        "contract_amount_fen": amount,
    }


async def move_procurement(
    user: User | None, procurement_id: int, to_status: str, form: Mapping[str, Any]
) -> Procurement:
    """One step along the procurement's life. To contracted: the contract (supplier, reference,
    date, amount ≤ cap), committed in the ledger. To delivered: the delivery date. To
    cancelled: a reason. Closing and cancelling release what is committed and unpaid."""
    try:
        target = ProcurementStatus(to_status)
    except ValueError:
        raise ValidationError(_("Choose the next state.")) from None
    errors: dict[str, str] = {}
    async with in_transaction() as conn:
        procurement = await locked_procurement(conn, procurement_id)
        if not can(user, "move_procurement", procurement):
            raise PermissionDenied(_("Only finance officers move open procurements along."))
        current = procurement.status_enum
        if not may_move(current, target):
            allowed = ", ".join(s.label for s in next_states(current))
            raise ValidationError(
                _(
                    "A procurement that is {current} can only become: {allowed}.",
                    current=current.label,
                    allowed=allowed,
                )
            )
        note = ""
        contract: dict = {}
        if target == ProcurementStatus.CONTRACTED:
            contract = _parse_contract(form, procurement.cap_fen, errors)
        elif target == ProcurementStatus.DELIVERED:
            day = parse_date(form.get("delivered_on"), "delivered_on", errors, required=True)
            if day and day > local_today():
                errors["delivered_on"] = _("The date cannot be in the future.")
            procurement.delivered_on = day
        elif target == ProcurementStatus.CANCELLED:
            note = text(form.get("reason"), "reason", errors, max_length=2000)
            procurement.cancel_reason = note
        if errors:
            raise ValidationError(errors=errors)
        for name, value in contract.items():
            setattr(procurement, name, value)
        if contract:
            procurement.status = target  # the contract's commitment is the first money to move
            await append_entry(
                conn,
                procurement,
                user,
                EntryKind.COMMIT,
                contract["contract_amount_fen"],
                entry_date=contract["contract_date"],
                document_ref=contract["contract_ref"],
                note=_("Contract with {supplier}", supplier=contract["supplier_name"]),
                field="contract_amount",
            )
        if target.finished:
            unspent = closing_release(totals_of(procurement))
            if unspent:
                await append_entry(
                    conn,
                    procurement,
                    user,
                    EntryKind.RELEASE,
                    unspent,
                    entry_date=local_today(),
                    note=_("Unspent commitment returned on closing")
                    if target == ProcurementStatus.CLOSED
                    else _("Commitment returned on cancelling"),
                    automatic=True,
                )
            procurement.finished_at = datetime.now(UTC)
        procurement.status = target
        await procurement.save(using_db=conn)
        await ProcurementEvent.create(
            procurement=procurement,
            from_status=current.value,
            to_status=target.value,
            actor=user,
            note=note,
            using_db=conn,
        )
        if target == ProcurementStatus.DELIVERED:
            await notices.tell_procurement_delivered(conn, procurement, user)
        await record(
            user,
            "procurement.moved",
            procurement,
            using_db=conn,
            public=True,
            from_status=current.value,
            to_status=target.value,
            reason=note or None,
        )
    return procurement


async def open_procurements(rnd: Round) -> int:
    """How many of the round's procurements are neither closed nor cancelled."""
    return await Procurement.filter(
        round_id=rnd.id,
        status__not_in=[ProcurementStatus.CLOSED, ProcurementStatus.CANCELLED],
    ).count()
