"""The finance view: what each round, envelope and kind of procurement holds, commits and
pays, how many procurements are in each state and how many are late; and the round's final
report. (The ledger's filters and totals: `finance_ledger`; its exports: `finance_exports`;
the charts: `finance_charts`.)

Every figure is a SQL aggregate in a fixed number of queries, never a loop over ledger
entries: a procurement's `committed_fen` and `paid_fen` are the running sums of its ledger
(kept by `budget.services.ledger`), so the views per round, envelope, kind and state add up
procurements grouped in SQL (a few dozen groups at most). What a procurement holds of its
envelope and fund is its cap while open and what it paid once closed or cancelled
(`procurement_caps._reserved`), so "remaining" is the budget minus that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from tortoise.expressions import F, Q
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from budget.models import (
    Envelope,
    Procurement,
    ProcurementKind,
    ProcurementStatus,
    Round,
)
from budget.services.procurement_caps import _reserved
from core.i18n import _, local_today

S = ProcurementStatus
FINISHED = (S.CLOSED, S.CANCELLED)
DELIVERED = (S.DELIVERED, S.CLOSED)
# not delivered yet: late once past the planned end
UNDELIVERED = (S.PLANNED, S.TENDERING, S.CONTRACTED, S.IN_PROGRESS)


# --- figures of a group of procurements -------------------------------------------------------


@dataclass
class Figures:
    """Sums over some procurements (a round, an envelope, a kind). `budget_fen` is the fund or
    the envelope's budget (None for a kind, which has none)."""

    budget_fen: int | None = None
    count: int = 0
    capped_fen: int = 0
    committed_fen: int = 0
    paid_fen: int = 0
    reserved_fen: int = 0  # caps of open ones, paid of finished ones
    returned_fen: int = 0  # cap − paid of finished ones
    late: int = 0  # past the planned end, not delivered (nor closed or cancelled)
    delivered_late: int = 0  # delivered after the planned end
    states: dict[ProcurementStatus, int] = field(default_factory=dict)

    def add(self, row: Mapping) -> None:
        """Add one grouped row (one status) of `_grouped`."""
        status = ProcurementStatus(row["status"])
        cap, paid = int(row["cap"] or 0), int(row["paid"] or 0)
        self.count += row["n"]
        self.capped_fen += cap
        self.committed_fen += int(row["committed"] or 0)
        self.paid_fen += paid
        self.reserved_fen += int(row["reserved"] or 0)
        if status.finished:
            self.returned_fen += cap - paid
        self.late += int(row["late"] or 0)
        self.delivered_late += int(row["delivered_late"] or 0)
        self.states[status] = self.states.get(status, 0) + row["n"]

    @property
    def remaining_fen(self) -> int | None:
        """The budget not held by any procurement (None without a budget)."""
        return None if self.budget_fen is None else self.budget_fen - self.reserved_fen

    @property
    def unpaid_fen(self) -> int:
        """Held by open procurements and not paid yet."""
        return self.reserved_fen - self.paid_fen

    @property
    def undelivered(self) -> int:
        return sum(self.states.get(s, 0) for s in UNDELIVERED)

    @property
    def on_time(self) -> int:
        """Not delivered yet and not past the planned end."""
        return self.undelivered - self.late

    @property
    def delivered(self) -> int:
        return sum(self.states.get(s, 0) for s in DELIVERED)

    @property
    def delivered_on_time(self) -> int:
        return self.delivered - self.delivered_late

    @property
    def cancelled(self) -> int:
        return self.states.get(S.CANCELLED, 0)

    def state_counts(self) -> list[tuple[ProcurementStatus, int]]:
        """Every state in the order of a procurement's life, with its count (zeros too)."""
        return [(s, self.states.get(s, 0)) for s in ProcurementStatus]


def _aggregates(today: date) -> dict:
    # counted with COUNT(CASE WHEN … THEN id END): a SUM of literal 1s is a SUM of text
    # parameters on PostgreSQL
    late = Q(status__in=list(UNDELIVERED), planned_end__lt=today)
    delivered_late = Q(status__in=list(DELIVERED), delivered_on__gt=F("planned_end"))
    return {
        "n": Count("id"),
        "cap": Sum("cap_fen"),
        "committed": Sum("committed_fen"),
        "paid": Sum("paid_fen"),
        "reserved": Sum(_reserved()),
        "late": Count("id", _filter=late),
        "delivered_late": Count("id", _filter=delivered_late),
    }


SUMS = ("n", "cap", "committed", "paid", "reserved", "late", "delivered_late")


async def _grouped(queryset: QuerySet, *by: str) -> list[dict]:
    """One query: the sums of `queryset`'s procurements per (`by`…, status)."""
    return await (
        queryset.annotate(**_aggregates(local_today()))
        .group_by(*by, "status")
        .values(
            *by, "status", "n", "cap", "committed", "paid", "reserved", "late", "delivered_late"
        )
    )


def is_late(procurement: Procurement, today: date) -> bool:
    return procurement.status in UNDELIVERED and procurement.planned_end < today


# --- all rounds ------------------------------------------------------------------------------


@dataclass
class RoundLine:
    round: Round
    figures: Figures


async def overview() -> list[RoundLine]:
    """Each of the district's rounds that has procurements, newest first (two queries)."""
    rows = await _grouped(Procurement.filter(round__is_study=False), "round_id")
    by_round: dict[int, list[dict]] = {}
    for row in rows:
        by_round.setdefault(row["round_id"], []).append(row)
    lines = []
    for rnd in await Round.filter(id__in=list(by_round), is_study=False):
        figures = Figures(budget_fen=rnd.fund_fen)
        for row in by_round[rnd.id]:
            figures.add(row)
        lines.append(RoundLine(rnd, figures))
    return lines


# --- one round -------------------------------------------------------------------------------


@dataclass
class EnvelopeLine:
    envelope: Envelope
    label: str
    figures: Figures


@dataclass
class RoundFinance:
    round: Round
    total: Figures
    envelopes: list[EnvelopeLine]
    kinds: list[tuple[ProcurementKind, Figures]]


async def round_finance(rnd: Round) -> RoundFinance:
    """A round's money per envelope (its area, or district-wide) and per kind, with the
    procurements in each state and the late ones (two queries)."""
    envelopes = await Envelope.filter(round_id=rnd.id).select_related("area")
    envelopes.sort(key=lambda e: (e.area is None, e.area.name if e.area else "", e.id))
    lines = {
        e.id: EnvelopeLine(
            e, e.area.name if e.area else _("District-wide"), Figures(budget_fen=e.budget_fen)
        )
        for e in envelopes
    }
    kinds = {k: Figures() for k in ProcurementKind}
    total = Figures(budget_fen=rnd.fund_fen)
    for row in await _grouped(Procurement.filter(round_id=rnd.id), "envelope_id", "kind"):
        total.add(row)
        kinds[ProcurementKind(row["kind"])].add(row)
        if row["envelope_id"] in lines:
            lines[row["envelope_id"]].figures.add(row)
    return RoundFinance(rnd, total, list(lines.values()), list(kinds.items()))


def round_procurements(rnd: Round) -> QuerySet[Procurement]:
    """The round's procurements with their areas, in the order they were converted."""
    return Procurement.filter(round_id=rnd.id).select_related("area").order_by("id")


@dataclass
class Report:
    round: Round
    total: Figures
    procurements: list[Procurement]


async def round_report(rnd: Round) -> Report:
    """The final report: every procurement planned vs paid, and the round's totals (two
    queries)."""
    total = Figures(budget_fen=rnd.fund_fen)
    for row in await _grouped(Procurement.filter(round_id=rnd.id)):
        total.add(row)
    return Report(rnd, total, list(await round_procurements(rnd)))


def delivery(procurement: Procurement, today: date) -> str:
    """on_time | late (delivered after the planned end) | overdue | open | cancelled."""
    status = procurement.status_enum
    if status == S.CANCELLED:
        return "cancelled"
    if status in DELIVERED:
        late = procurement.delivered_on and procurement.delivered_on > procurement.planned_end
        return "late" if late else "on_time"
    return "overdue" if procurement.planned_end < today else "open"


def returned_fen(procurement: Procurement) -> int | None:
    """What a finished procurement gave back of its cap (None while it is open)."""
    if procurement.status_enum.finished:
        return procurement.cap_fen - procurement.paid_fen
    return None
