"""The ledger: money moves on a procurement only as appended entries (commit, pay, release,
reversal), never edited or deleted.

Each change runs in one transaction that first locks the procurement row
(`core.db.lock_rows`), checks the entry with the pure rules of `budget.rules.ledger` against
the locked totals, appends the entry and updates the running totals. Thirty officers paying at
once therefore queue on the row: those that fit go through, the others are refused with what
they would overshoot, and the database's check constraints (paid ≤ committed ≤ cap) are the
last guard. Caps (and the room an envelope and the round leave for them) are in
`budget.services.procurement_caps`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import EntryKind, LedgerEntry, Procurement
from budget.permissions import can
from budget.rules.ledger import Limit, Refusal, Totals, apply_entry
from core.audit import record
from core.db import lock_rows
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import parse_date, parse_yuan, text
from core.i18n import _, format_money, local_today
from core.models import User

# the kinds an officer enters by hand (a reversal is made from the entry it corrects)
MANUAL_KINDS = (EntryKind.COMMIT, EntryKind.PAY, EntryKind.RELEASE)


def totals_of(procurement: Procurement) -> Totals:
    return Totals(procurement.cap_fen, procurement.committed_fen, procurement.paid_fen)


def refusal_message(refusal: Refusal, totals: Totals | None = None) -> str:
    """What a refused entry or cap would break, and by how much, for the officer."""
    over = format_money(refusal.over_fen)
    match refusal.limit:
        case Limit.CAP:
            return _(
                "This would commit {over} more than the cap of {cap}.",
                over=over,
                cap=format_money(totals.cap_fen) if totals else "",
            )
        case Limit.COMMITTED:
            return _(
                "This would pay or release {over} more than is committed and unpaid.", over=over
            )
        case Limit.PAID:
            return _("This would leave {over} paid without a commitment.", over=over)
        case Limit.NEGATIVE:
            return _("This would take a total {over} below zero.", over=over)
        case Limit.ENVELOPE:
            return _("The caps would exceed the envelope's budget by {over}.", over=over)
        case Limit.FUND:
            return _("The caps would exceed the round's fund by {over}.", over=over)
        case Limit.CLOSED:
            return _("This procurement is closed or cancelled: no more money moves on it.")
        case Limit.STATE:
            return _("Money moves only once the contract is recorded.")
        case Limit.REVERSED:
            return _("This entry was already reversed, or is itself a reversal.")
        case Limit.POSITIVE:
            return _("The amount must be more than zero.")
    return str(refusal)


async def locked_procurement(conn: Any, procurement_id: int) -> Procurement:
    rows = await lock_rows(conn, Procurement, [procurement_id])
    if not rows:
        raise NotFound(_("This procurement does not exist."))
    return rows[0]


async def append_entry(
    conn: Any,
    procurement: Procurement,
    user: User | None,
    kind: EntryKind,
    amount_fen: int,
    *,
    entry_date: date,
    document_ref: str = "",
    note: str = "",
    reverses: LedgerEntry | None = None,
    automatic: bool = False,
    field: str = "amount",
) -> LedgerEntry:
    """Append one entry to a procurement already locked on `conn` and keep its totals; raise
    ValidationError (on `field`) if the rules refuse it. Writes nothing when refused."""
    totals = totals_of(procurement)
    try:
        after = apply_entry(
            totals,
            kind,
            amount_fen,
            status=procurement.status_enum,
            reversed_kind=reverses.kind if reverses else None,
            reversed_amount_fen=reverses.amount_fen if reverses else None,
            already_reversed=bool(
                reverses
                and await LedgerEntry.filter(reverses_id=reverses.id).using_db(conn).exists()
            ),
            automatic=automatic,
        )
    except Refusal as refusal:
        raise ValidationError(errors={field: refusal_message(refusal, totals)}) from None
    entry = await LedgerEntry.create(
        procurement_id=procurement.id,
        kind=kind,
        amount_fen=amount_fen,
        entry_date=entry_date,
        officer=user,
        document_ref=document_ref,
        note=note,
        reverses_id=reverses.id if reverses else None,
        using_db=conn,
    )
    procurement.committed_fen = after.committed_fen
    procurement.paid_fen = after.paid_fen
    await (
        Procurement.filter(id=procurement.id)
        .using_db(conn)
        .update(committed_fen=after.committed_fen, paid_fen=after.paid_fen)
    )
    await record(
        user,
        f"ledger.{EntryKind(kind).value}",
        procurement,
        using_db=conn,
        public=True,
        amount_fen=amount_fen,
        entry=entry.id,
        reverses=reverses.id if reverses else None,
        document_ref=document_ref or None,
        automatic=automatic or None,
    )
    return entry


@dataclass
class EntryInput:
    kind: EntryKind
    amount_fen: int
    entry_date: date
    document_ref: str
    note: str


def parse_entry(data: Mapping[str, Any], *, reversal: bool = False) -> EntryInput:
    """An entry typed by an officer, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    kind = EntryKind.REVERSAL
    if not reversal:
        try:
            kind = EntryKind(str(data.get("kind") or ""))
            if kind not in MANUAL_KINDS:
                raise ValueError
        except ValueError:
            errors["kind"] = _("Choose a commitment, a payment or a release.")
    amount = 0 if reversal else parse_yuan(data.get("amount"), "amount", errors)
    day = parse_date(data.get("entry_date"), "entry_date", errors, required=True)
    if day is not None and day > local_today():
        errors["entry_date"] = _("The date cannot be in the future.")
    out = EntryInput(
        kind=kind,
        amount_fen=amount or 0,
        entry_date=day or local_today(),
        document_ref=text(
            data.get("document_ref"), "document_ref", errors, required=False, max_length=100
        ),
        note=text(data.get("note"), "note", errors, required=reversal, max_length=2000),
    )
    if errors:
        raise ValidationError(errors=errors)
    return out


async def record_entry(
    user: User | None, procurement_id: int, form: Mapping[str, Any]
) -> LedgerEntry:
    """A commitment, payment or release typed by a finance officer."""
    data = parse_entry(form)
    async with in_transaction() as conn:
        procurement = await locked_procurement(conn, procurement_id)
        if not can(user, "record_entry", procurement):
            raise PermissionDenied(_("Only finance officers record money on open procurements."))
        return await append_entry(
            conn,
            procurement,
            user,
            data.kind,
            data.amount_fen,
            entry_date=data.entry_date,
            document_ref=data.document_ref,
            note=data.note,
        )


async def reverse_entry(user: User | None, entry_id: int, form: Mapping[str, Any]) -> LedgerEntry:
    """Undo one entry by appending its reversal (the reason is the note); once per entry."""
    data = parse_entry(form, reversal=True)
    original = await LedgerEntry.get_or_none(id=entry_id)
    if original is None:
        raise NotFound(_("This ledger entry does not exist."))
    async with in_transaction() as conn:
        procurement = await locked_procurement(conn, original.procurement_id)
        if not can(user, "record_entry", procurement):
            raise PermissionDenied(_("Only finance officers record money on open procurements."))
        return await append_entry(
            conn,
            procurement,
            user,
            EntryKind.REVERSAL,
            original.amount_fen,
            entry_date=data.entry_date,
            document_ref=data.document_ref,
            note=data.note,
            reverses=original,
            field="note",
        )


async def entries_of(procurement: Procurement) -> list[LedgerEntry]:
    """A procurement's ledger, oldest first, with who entered each and what reversed it."""
    entries = await LedgerEntry.filter(procurement_id=procurement.id).prefetch_related("officer")
    reversed_ids = {e.reverses_id for e in entries if e.reverses_id}
    for entry in entries:
        entry.is_reversed = entry.id in reversed_ids
    return entries
