"""The rules of a procurement's life and of its money, pure (no database, no I/O).

The state machine: planned → tendering → contracted → in progress → delivered → closed, and
cancelled from any state before closed. The ledger: commit adds to what is committed, pay to
what is paid, release returns unspent commitment, a reversal undoes the one entry it points
at. Every entry must keep **paid ≤ committed ≤ cap**; every cap must keep the caps of an
envelope within its budget and those of a round within its fund. A refusal says which limit
and by how much (`Refusal.over_fen`), so the page can tell the officer.

`budget.services.ledger` calls these with the procurement row locked, in the transaction that
writes the entry, so what is checked here is what is committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from budget.models.procurements import EntryKind, ProcurementStatus

S = ProcurementStatus

# the forward path; cancelled is reachable from every state before closed
FORWARD = {
    S.PLANNED: S.TENDERING,
    S.TENDERING: S.CONTRACTED,
    S.CONTRACTED: S.IN_PROGRESS,
    S.IN_PROGRESS: S.DELIVERED,
    S.DELIVERED: S.CLOSED,
}

# states in which money may move (entries other than the automatic releases)
OPEN_FOR_MONEY = (S.CONTRACTED, S.IN_PROGRESS, S.DELIVERED)


def next_states(status: ProcurementStatus) -> list[ProcurementStatus]:
    """The states a procurement may move to from `status`, in the order they are offered."""
    status = ProcurementStatus(status)
    if status.finished:
        return []
    return [FORWARD[status], S.CANCELLED]


def may_move(from_status: ProcurementStatus, to_status: ProcurementStatus) -> bool:
    return ProcurementStatus(to_status) in next_states(from_status)


class Limit(StrEnum):
    """What a refused change would break."""

    POSITIVE = "positive"  # the amount must be more than zero
    CAP = "cap"  # committed would exceed the cap
    COMMITTED = "committed"  # paid would exceed committed (or a release more than unspent)
    PAID = "paid"  # committed would fall below paid (a reversal of a commitment)
    NEGATIVE = "negative"  # a total would fall below zero
    ENVELOPE = "envelope"  # the envelope's caps would exceed its budget
    FUND = "fund"  # the round's caps would exceed its fund
    CLOSED = "closed"  # the procurement is closed or cancelled
    STATE = "state"  # money does not move in this state yet
    REVERSED = "reversed"  # the entry was already reversed


@dataclass(frozen=True)
class Refusal(Exception):
    limit: Limit
    over_fen: int = 0  # by how much the limit would be broken

    def __str__(self) -> str:
        return f"{self.limit}: over by {self.over_fen} fen"


@dataclass(frozen=True)
class Totals:
    cap_fen: int
    committed_fen: int = 0
    paid_fen: int = 0

    def check(self) -> None:
        """Raise Refusal unless 0 ≤ paid ≤ committed ≤ cap."""
        if self.paid_fen < 0:
            raise Refusal(Limit.NEGATIVE, -self.paid_fen)
        if self.paid_fen > self.committed_fen:
            raise Refusal(Limit.COMMITTED, self.paid_fen - self.committed_fen)
        if self.committed_fen > self.cap_fen:
            raise Refusal(Limit.CAP, self.committed_fen - self.cap_fen)

    @property
    def unspent_fen(self) -> int:
        """Committed but not paid: what a release returns."""
        return self.committed_fen - self.paid_fen

    @property
    def uncommitted_fen(self) -> int:
        return self.cap_fen - self.committed_fen


def effect(kind: EntryKind, amount_fen: int) -> tuple[int, int]:
    """(change of committed, change of paid) of a plain entry."""
    match EntryKind(kind):
        case EntryKind.COMMIT:
            return amount_fen, 0
        case EntryKind.PAY:
            return 0, amount_fen
        case EntryKind.RELEASE:
            return -amount_fen, 0
    raise ValueError("a reversal's effect is the opposite of the entry it reverses")


def apply_entry(
    totals: Totals,
    kind: EntryKind,
    amount_fen: int,
    *,
    status: ProcurementStatus,
    reversed_kind: EntryKind | None = None,
    reversed_amount_fen: int | None = None,
    already_reversed: bool = False,
    automatic: bool = False,
) -> Totals:
    """The totals after one more entry, or Refusal. A reversal's amount is the reversed
    entry's; `automatic` marks the release made by closing or cancelling."""
    status = ProcurementStatus(status)
    if status.finished:
        raise Refusal(Limit.CLOSED)
    if not automatic and status not in OPEN_FOR_MONEY:
        raise Refusal(Limit.STATE)
    if amount_fen <= 0:
        raise Refusal(Limit.POSITIVE)
    if EntryKind(kind) == EntryKind.REVERSAL:
        if reversed_kind is None or reversed_amount_fen is None:
            raise ValueError("a reversal needs the entry it reverses")
        if already_reversed:
            raise Refusal(Limit.REVERSED)
        if EntryKind(reversed_kind) == EntryKind.REVERSAL:
            raise Refusal(Limit.REVERSED)  # a reversal is final: enter the entry again
        d_committed, d_paid = effect(reversed_kind, reversed_amount_fen)
        d_committed, d_paid = -d_committed, -d_paid
    else:
        d_committed, d_paid = effect(kind, amount_fen)
    after = Totals(totals.cap_fen, totals.committed_fen + d_committed, totals.paid_fen + d_paid)
    if after.committed_fen < after.paid_fen and d_committed < 0:
        # a release or the reversal of a commitment may not take back what was paid
        limit = Limit.COMMITTED if EntryKind(kind) == EntryKind.RELEASE else Limit.PAID
        raise Refusal(limit, after.paid_fen - after.committed_fen)
    after.check()
    return after


def closing_release(totals: Totals) -> int:
    """What closing or cancelling returns: the unspent commitment (0: no entry)."""
    return max(totals.unspent_fen, 0)


@dataclass(frozen=True)
class Room:
    """Money around one procurement's cap: the envelope's budget and the round's fund, and
    what the other procurements hold of each (their caps, or what they paid once finished)."""

    envelope_budget_fen: int
    envelope_reserved_fen: int  # by the others in the envelope
    fund_fen: int
    round_reserved_fen: int  # by the others in the round

    @property
    def max_cap_fen(self) -> int:
        return max(
            0,
            min(
                self.envelope_budget_fen - self.envelope_reserved_fen,
                self.fund_fen - self.round_reserved_fen,
            ),
        )


def check_cap(new_cap_fen: int, totals: Totals, room: Room) -> None:
    """Raise Refusal unless a cap of `new_cap_fen` is positive, covers what is committed and
    fits the envelope and the fund."""
    if new_cap_fen <= 0:
        raise Refusal(Limit.POSITIVE)
    if new_cap_fen < totals.committed_fen:
        raise Refusal(Limit.CAP, totals.committed_fen - new_cap_fen)
    over_envelope = room.envelope_reserved_fen + new_cap_fen - room.envelope_budget_fen
    if over_envelope > 0:
        raise Refusal(Limit.ENVELOPE, over_envelope)
    over_fund = room.round_reserved_fen + new_cap_fen - room.fund_fen
    if over_fund > 0:
        raise Refusal(Limit.FUND, over_fund)


def satisfaction_rate(scores: list[int] | dict[int, int]) -> float | None:
    """Share of ratings of 4 or 5 (None without ratings). `scores`: the scores, or score → count."""
    counts = scores if isinstance(scores, dict) else {s: scores.count(s) for s in set(scores)}
    total = sum(counts.values())
    if not total:
        return None
    return sum(n for s, n in counts.items() if s >= 4) / total
