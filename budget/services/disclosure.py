"""What the public sees of the money: a round's spending page and a procurement's page.

Everything here is public (no account needed) and names no resident: ratings are shown
with their score, comment and date only, a procurement's history with its dates and states
(no actor), and nothing is read from a resident's account.

The spending page's totals come from SQL aggregation and its rows from one page of
procurements with their ratings' counts, so the number of queries does not depend on the
number of procurements (`tests/budget/test_disclosure_queries.py`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from tortoise import connections

from budget.models import (
    EntryKind,
    LedgerEntry,
    Milestone,
    Procurement,
    ProcurementDocument,
    ProcurementEvent,
    ProcurementKind,
    ProcurementStatus,
    Rating,
    Round,
)
from budget.rules.ledger import satisfaction_rate
from core.db import select_named
from core.errors import NotFound
from core.i18n import DISPLAY_TIMEZONE, _, local_today
from core.i18n import lazy_gettext as _l
from core.prepared import Prepared
from core.web.pagination import Page

SPENDING_PAGE_SIZE = 50
RATINGS_PAGE_SIZE = 50

S = ProcurementStatus


class Delivery(StrEnum):
    """Where a procurement stands against its planned end."""

    ON_TIME = "on_time"  # delivered by the planned end
    DELIVERED_LATE = "delivered_late"  # delivered after it
    OVERDUE = "overdue"  # not delivered, the planned end has passed
    OPEN = "open"  # not delivered yet, still in time
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(DELIVERY_LABELS[self])


DELIVERY_LABELS = {
    Delivery.ON_TIME: _l("Delivered on time"),
    Delivery.DELIVERED_LATE: _l("Delivered late"),
    Delivery.OVERDUE: _l("Late: not delivered"),
    Delivery.OPEN: _l("Open"),
    Delivery.CANCELLED: _l("Cancelled"),
}


def delivery_of(status: str, planned_end: date, delivered_on: date | None, today: date) -> Delivery:
    """Pure: the delivery state of one procurement (the SQL of `round_totals` counts the
    same way)."""
    if status == S.CANCELLED:
        return Delivery.CANCELLED
    if delivered_on is not None:
        return Delivery.ON_TIME if delivered_on <= planned_end else Delivery.DELIVERED_LATE
    return Delivery.OVERDUE if planned_end < today else Delivery.OPEN


# --- a round ------------------------------------------------------------------------------


# its SQL built once per database: the spending page is hot
_PUBLIC_ROUND = Prepared(lambda rid: Round.filter(id=rid, is_study=False).limit(2))


async def public_round(round_id: int) -> Round:
    """A district round whose results are published (procurements exist only from then on);
    404 for anything else, imported elections included (they have no money)."""
    rnd = await _PUBLIC_ROUND.first(round_id)
    if rnd is None:
        raise NotFound(_("This round does not exist."))
    if rnd.results_published_at is None:
        raise NotFound(_("The results of this round are not yet published."))
    return rnd


@dataclass
class RoundTotals:
    fund_fen: int
    procurements: int = 0
    capped_fen: int = 0  # caps of the procurements not cancelled
    committed_fen: int = 0
    paid_fen: int = 0
    on_time: int = 0
    delivered_late: int = 0
    overdue: int = 0
    open: int = 0
    cancelled: int = 0
    beneficiaries: int = 0  # of the projects not cancelled
    beneficiaries_served: int = 0  # of the projects delivered
    ratings: int = 0
    good_ratings: int = 0  # 4 or 5

    @property
    def late(self) -> int:
        return self.delivered_late + self.overdue

    @property
    def delivered(self) -> int:
        return self.on_time + self.delivered_late

    @property
    def satisfaction(self) -> float | None:
        return _satisfaction(self.ratings, self.good_ratings)


def _satisfaction(ratings: int, good: int) -> float | None:
    return satisfaction_rate({5: good, 1: ratings - good})


_TOTALS_SQL = """
SELECT
  COUNT(*),
  SUM(CASE WHEN p.status = 'cancelled' THEN 0 ELSE p.cap_fen END),
  SUM(p.committed_fen),
  SUM(p.paid_fen),
  SUM(CASE WHEN p.status <> 'cancelled' AND p.delivered_on IS NOT NULL
           AND p.delivered_on <= p.planned_end THEN 1 ELSE 0 END),
  SUM(CASE WHEN p.status <> 'cancelled' AND p.delivered_on IS NOT NULL
           AND p.delivered_on > p.planned_end THEN 1 ELSE 0 END),
  SUM(CASE WHEN p.status <> 'cancelled' AND p.delivered_on IS NULL
           AND p.planned_end < :today THEN 1 ELSE 0 END),
  SUM(CASE WHEN p.status <> 'cancelled' AND p.delivered_on IS NULL
           AND p.planned_end >= :today THEN 1 ELSE 0 END),
  SUM(CASE WHEN p.status = 'cancelled' THEN 1 ELSE 0 END),
  SUM(CASE WHEN p.status = 'cancelled' THEN 0 ELSE pr.beneficiaries END),
  SUM(CASE WHEN p.status <> 'cancelled' AND p.delivered_on IS NOT NULL
           THEN pr.beneficiaries ELSE 0 END),
  (SELECT COUNT(*) FROM "rating" r JOIN "procurement" rp ON rp.id = r.procurement_id
   WHERE rp.round_id = :round),
  (SELECT COUNT(*) FROM "rating" r JOIN "procurement" rp ON rp.id = r.procurement_id
   WHERE rp.round_id = :round AND r.score >= 4)
FROM "procurement" p JOIN "proposal" pr ON pr.id = p.proposal_id
WHERE p.round_id = :round
"""


async def round_totals(rnd: Round, today: date | None = None) -> RoundTotals:
    """The round's money, delivery and satisfaction in one aggregate query."""
    today = today or local_today()
    rows = await select_named(_TOTALS_SQL, {"today": today, "round": rnd.id})
    numbers = [int(v or 0) for v in tuple(rows[0])] if rows else [0] * 13
    return RoundTotals(rnd.fund_fen, *numbers[:11], ratings=numbers[11], good_ratings=numbers[12])


@dataclass
class SpendingRow:
    id: int
    title: str
    status: ProcurementStatus
    kind: ProcurementKind
    area: str | None  # None: district-wide
    cap_fen: int
    committed_fen: int
    paid_fen: int
    supplier: str
    planned_end: date
    delivered_on: date | None
    delivery: Delivery
    ratings: int = 0
    good_ratings: int = 0

    @property
    def satisfaction(self) -> float | None:
        return _satisfaction(self.ratings, self.good_ratings)


async def rating_counts(procurement_ids: list[int]) -> dict[int, tuple[int, int]]:
    """procurement id → (ratings, ratings of 4 or 5), in one grouped query."""
    if not procurement_ids:
        return {}
    conn = connections.get("default")
    marks = ", ".join(
        "?" if conn.capabilities.dialect == "sqlite" else f"${i}"
        for i in range(1, len(procurement_ids) + 1)
    )
    sql = (
        "SELECT procurement_id, COUNT(*), SUM(CASE WHEN score >= 4 THEN 1 ELSE 0 END) "
        f'FROM "rating" WHERE procurement_id IN ({marks}) GROUP BY procurement_id'
    )
    _n, rows = await conn.execute_query(sql, list(procurement_ids))
    return {int(r[0]): (int(r[1]), int(r[2] or 0)) for r in (tuple(row) for row in rows)}


# one page of a round's procurements with their ratings' counts, in one query (plain SQL: the
# spending page is hot, and building an ORM query and converting its rows cost more than
# running it)
_ROWS_SQL = """SELECT p.id, p.title, p.status, p.kind, a.name, p.cap_fen, p.committed_fen,
  p.paid_fen, p.supplier_name, p.planned_end, p.delivered_on,
  (SELECT COUNT(*) FROM "rating" r WHERE r.procurement_id = p.id),
  (SELECT COUNT(*) FROM "rating" r WHERE r.procurement_id = p.id AND r.score >= 4)
FROM "procurement" p LEFT JOIN "area" a ON a.id = p.area_id
WHERE p.round_id = :round ORDER BY p.id LIMIT :limit OFFSET :offset"""
_STATUSES = {s.value: s for s in ProcurementStatus}
_KINDS = {k.value: k for k in ProcurementKind}


def _day(value: date | str | None) -> date | None:
    """A date column as a date (SQLite gives its text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


async def spending_rows(
    rnd: Round, page: int | None, total: int, today: date | None = None
) -> Page:
    """One page of the round's procurements (`total` of them, known from the totals), each
    with its area, delivery state and ratings: one query whatever the page."""
    today = today or local_today()
    pages = max(1, math.ceil(total / SPENDING_PAGE_SIZE))
    number = min(max(1, page or 1), pages)
    params = {
        "round": rnd.id,
        "limit": SPENDING_PAGE_SIZE,
        "offset": (number - 1) * SPENDING_PAGE_SIZE,
    }
    rows = await select_named(_ROWS_SQL, params)
    items = []
    for row in rows:
        (
            pid,
            title,
            status,
            kind,
            area,
            cap,
            committed,
            paid,
            supplier,
            end,
            delivered,
            n,
            good,
        ) = tuple(row)
        end, delivered = _day(end), _day(delivered)
        items.append(
            SpendingRow(
                id=pid,
                title=title,
                status=_STATUSES[status],
                kind=_KINDS[kind],
                area=area,
                cap_fen=int(cap),
                committed_fen=int(committed),
                paid_fen=int(paid),
                supplier=supplier,
                planned_end=end,
                delivered_on=delivered,
                delivery=delivery_of(status, end, delivered, today),
                ratings=int(n),
                good_ratings=int(good),
            )
        )
    return Page(items=items, number=number, size=SPENDING_PAGE_SIZE, total=total)


# --- a procurement ------------------------------------------------------------------------


async def public_procurement(procurement_id: int) -> Procurement:
    """A procurement with its round, area and proposal (all public once it exists)."""
    procurement = await Procurement.get_or_none(id=procurement_id).select_related(
        "round", "area", "proposal"
    )
    if procurement is None or procurement.round.is_study:
        raise NotFound(_("This procurement does not exist."))
    return procurement


@dataclass
class Payment:
    id: int
    entry_date: date
    amount_fen: int


async def payments_of(procurement_ids: list[int]) -> dict[int, list[Payment]]:
    """procurement id → its payments that stand (a reversed payment and its reversal cancel
    out, so the payments add up to what is paid), in date order. One query."""
    rows = await (
        LedgerEntry.filter(
            procurement_id__in=procurement_ids, kind__in=[EntryKind.PAY, EntryKind.REVERSAL]
        )
        .order_by("entry_date", "id")
        .values_list("id", "procurement_id", "kind", "amount_fen", "entry_date", "reverses_id")
    )
    reversed_ids = {r[5] for r in rows if r[2] == EntryKind.REVERSAL and r[5] is not None}
    payments: dict[int, list[Payment]] = {pid: [] for pid in procurement_ids}
    for entry_id, pid, kind, amount, day, _reverses in rows:
        if kind == EntryKind.PAY and entry_id not in reversed_ids:
            payments[pid].append(Payment(entry_id, day, amount))
    return payments


def local_date(moment: datetime) -> date:
    """The district's date of an aware moment (a rating given at 01:00 in Shanghai is
    dated that day, not the day before as in UTC)."""
    return moment.astimezone(ZoneInfo(DISPLAY_TIMEZONE)).date()


@dataclass
class StatusStep:
    day: date
    status: ProcurementStatus


@dataclass
class RatingLine:
    id: int
    score: int
    comment: str
    hidden_reason: str
    created_at: datetime
    updated_at: datetime

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_reason)

    @property
    def created_on(self) -> date:
        return local_date(self.created_at)

    @property
    def changed_on(self) -> date | None:
        """The day it was last changed, when not the day it was given."""
        day = local_date(self.updated_at)
        return day if day != self.created_on else None


@dataclass
class ProcurementPage:
    procurement: Procurement
    history: list[StatusStep]
    milestones: list[Milestone]
    payments: list[Payment]
    documents: list[ProcurementDocument]
    ratings: Page
    rating_count: int
    good_ratings: int
    delivery: Delivery

    @property
    def satisfaction(self) -> float | None:
        return _satisfaction(self.rating_count, self.good_ratings)


async def procurement_page(
    procurement: Procurement, ratings_page: int | None = None, today: date | None = None
) -> ProcurementPage:
    """What the public page of a procurement shows; never who did what (dates and states)."""
    today = today or local_today()
    pid = procurement.id
    events = (
        await ProcurementEvent.filter(procurement_id=pid)
        .order_by("id")
        .values_list("created_at", "to_status")
    )
    milestones = await Milestone.filter(procurement_id=pid).order_by("planned_date", "id")
    payments = (await payments_of([pid]))[pid]
    documents = await ProcurementDocument.filter(procurement_id=pid, public=True).order_by("id")
    n, good = (await rating_counts([pid])).get(pid, (0, 0))
    pages = max(1, math.ceil(n / RATINGS_PAGE_SIZE))
    number = min(max(1, ratings_page or 1), pages)
    rows = (
        await Rating.filter(procurement_id=pid)
        .order_by("-created_at", "-id")
        .offset((number - 1) * RATINGS_PAGE_SIZE)
        .limit(RATINGS_PAGE_SIZE)
        .values_list("id", "score", "comment", "hidden_reason", "created_at", "updated_at")
    )
    ratings = Page(
        items=[RatingLine(*row) for row in rows],
        number=number,
        size=RATINGS_PAGE_SIZE,
        total=n,
    )
    return ProcurementPage(
        procurement=procurement,
        history=[StatusStep(local_date(at), ProcurementStatus(status)) for at, status in events],
        milestones=list(milestones),
        payments=payments,
        documents=list(documents),
        ratings=ratings,
        rating_count=n,
        good_ratings=good,
        delivery=delivery_of(
            procurement.status, procurement.planned_end, procurement.delivered_on, today
        ),
    )


async def procurement_id_of(proposal_id: int) -> int | None:
    """The procurement a (funded) proposal became, if any, for a link from its page."""
    ids = await Procurement.filter(proposal_id=proposal_id).values_list("id", flat=True)
    return ids[0] if ids else None


async def round_has_procurements(round_id: int) -> bool:
    return await Procurement.filter(round_id=round_id).exists()
