"""The finance view: what each round, envelope and kind of procurement holds, commits and
pays, how many procurements are in each state and how many are late; and the round's final
report. (The ledger's filters and totals: `finance_ledger`; its exports: `finance_exports`;
the charts: `finance_charts`.)

Every figure is a SQL aggregate in a fixed number of queries, never a loop over ledger
entries: a procurement's `committed_fen` and `paid_fen` are the running sums of its ledger
(kept by `budget.services.ledger`), so the views per round, envelope, kind and state add up
procurements grouped in SQL (a few dozen groups at most). What a procurement holds of its
envelope and fund is its cap while open and what it paid once closed or cancelled
(`procurement_caps._reserved`), so "remaining" is the budget minus that. The grouped queries
are plain SQL (`_SUMS`), with the dialect's placeholders from `core.db.select_named`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from budget.models import (
    Procurement,
    ProcurementKind,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Round,
)
from core.db import select_named
from core.i18n import _, local_today

S = ProcurementStatus
FINISHED = (S.CLOSED, S.CANCELLED)
DELIVERED = (S.DELIVERED, S.CLOSED)
# not delivered yet: late once past the planned end
UNDELIVERED = (S.PLANNED, S.TENDERING, S.CONTRACTED, S.IN_PROGRESS)
_STATUSES = {s.value: s for s in ProcurementStatus}
_KINDS = {k.value: k for k in ProcurementKind}


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

    def add(self, state: ProcurementStatus, sums: tuple[int, ...]) -> None:
        """Add the sums of one grouped row (procurements of one state; see `_SUMS`)."""
        n, cap, committed, paid, reserved, late, delivered_late = sums
        self.count += n
        self.capped_fen += cap
        self.committed_fen += committed
        self.paid_fen += paid
        self.reserved_fen += reserved
        if state in FINISHED:
            self.returned_fen += cap - paid
        self.late += late
        self.delivered_late += delivered_late
        self.states[state] = self.states.get(state, 0) + n

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


def _in(statuses: tuple[ProcurementStatus, ...]) -> str:
    """An SQL list of our own status values (constants, never input)."""
    return ", ".join(f"'{s.value}'" for s in statuses)


# The sums of a group of procurements. What one holds (reserved) is its cap while open and
# what it paid once closed or cancelled, as `procurement_caps._reserved` says. Written as
# SQL rather than built by the ORM: the finance view is a hot page, and building this query
# and converting its rows cost more than running it.
_SUMS = f"""COUNT(*), SUM(p.cap_fen), SUM(p.committed_fen), SUM(p.paid_fen),
  SUM(CASE WHEN p.status IN ({_in(FINISHED)}) THEN p.paid_fen ELSE p.cap_fen END),
  SUM(CASE WHEN p.status IN ({_in(UNDELIVERED)}) AND p.planned_end < :today
      THEN 1 ELSE 0 END),
  SUM(CASE WHEN p.status IN ({_in(DELIVERED)}) AND p.delivered_on > p.planned_end
      THEN 1 ELSE 0 END)"""

_BY_ROUND = f"""SELECT p.round_id, p.status, {_SUMS}
FROM "procurement" p JOIN "round" r ON r.id = p.round_id
WHERE NOT r.is_study GROUP BY p.round_id, p.status"""

_BY_ENVELOPE_AND_KIND = f"""SELECT p.envelope_id, p.kind, p.status, {_SUMS}
FROM "procurement" p WHERE p.round_id = :round GROUP BY p.envelope_id, p.kind, p.status"""

_OF_ROUND = f"""SELECT p.status, {_SUMS}
FROM "procurement" p WHERE p.round_id = :round GROUP BY p.status"""


async def _grouped(sql: str, keys: int, **params: object) -> list[tuple]:
    """The rows of one grouped query (`today` is the district's): its `keys` first columns,
    the state, then the sums as ints."""
    rows = await select_named(sql, {"today": local_today(), **params})
    out = []
    for row in rows:
        row = tuple(row)
        sums = tuple(int(v or 0) for v in row[keys + 1 :])
        out.append((*row[:keys], _STATUSES[row[keys]], sums))
    return out


# --- all rounds ------------------------------------------------------------------------------


@dataclass
class RoundLine:
    round: Round
    figures: Figures


async def overview() -> list[RoundLine]:
    """Each of the district's rounds that has procurements, newest first (two queries)."""
    by_round: dict[int, list[tuple]] = {}
    for round_id, state, sums in await _grouped(_BY_ROUND, 1):
        by_round.setdefault(int(round_id), []).append((state, sums))
    lines = []
    for rnd in await Round.filter(id__in=list(by_round), is_study=False):
        figures = Figures(budget_fen=rnd.fund_fen)
        for state, sums in by_round[rnd.id]:
            figures.add(state, sums)
        lines.append(RoundLine(rnd, figures))
    return lines


# --- one round -------------------------------------------------------------------------------


@dataclass
class EnvelopeLine:
    envelope_id: int
    label: str  # its area, or district-wide
    figures: Figures


@dataclass
class RoundFinance:
    round: Round
    total: Figures
    envelopes: list[EnvelopeLine]
    kinds: list[tuple[ProcurementKind, Figures]]


# The round page's figures in one statement: the sums per envelope and kind (a few dozen
# groups, whatever the number of procurements), what finished ones returned summed in SQL,
# then the count per state, then the envelopes (id, area, budget). Cast so that PostgreSQL's
# sums come back as ints, not Decimals.
_RETURNED = f"CASE WHEN p.status IN ({_in(FINISHED)}) THEN p.cap_fen - p.paid_fen ELSE 0 END"
_ROUND_FIGURES = f"""SELECT 0, p.envelope_id, p.kind, COUNT(*),
  CAST(SUM(p.cap_fen) AS BIGINT), CAST(SUM(p.committed_fen) AS BIGINT),
  CAST(SUM(p.paid_fen) AS BIGINT),
  CAST(SUM(CASE WHEN p.status IN ({_in(FINISHED)}) THEN p.paid_fen ELSE p.cap_fen END) AS BIGINT),
  CAST(SUM({_RETURNED}) AS BIGINT),
  CAST(SUM(CASE WHEN p.status IN ({_in(UNDELIVERED)}) AND p.planned_end < :today
      THEN 1 ELSE 0 END) AS BIGINT),
  CAST(SUM(CASE WHEN p.status IN ({_in(DELIVERED)}) AND p.delivered_on > p.planned_end
      THEN 1 ELSE 0 END) AS BIGINT)
FROM "procurement" p WHERE p.round_id = :round GROUP BY p.envelope_id, p.kind
UNION ALL
SELECT 1, NULL, p.status, COUNT(*), 0, 0, 0, 0, 0, 0, 0
FROM "procurement" p WHERE p.round_id = :round GROUP BY p.status
UNION ALL
SELECT 2, e.id, a.name, e.budget_fen, 0, 0, 0, 0, 0, 0, 0
FROM "envelope" e LEFT JOIN "area" a ON a.id = e.area_id WHERE e.round_id = :round"""


def _add_sums(figures: Figures, sums: tuple) -> None:
    """Add one group's sums (count, capped, committed, paid, reserved, returned, late,
    delivered late: the columns of `_ROUND_FIGURES`)."""
    n, cap, committed, paid, reserved, returned, late, delivered_late = sums
    figures.count += n
    figures.capped_fen += cap
    figures.committed_fen += committed
    figures.paid_fen += paid
    figures.reserved_fen += reserved
    figures.returned_fen += returned
    figures.late += late
    figures.delivered_late += delivered_late


async def round_finance(rnd: Round) -> RoundFinance:
    """A round's money per envelope (its area, or district-wide) and per kind, with the
    procurements in each state and the late ones (one query)."""
    rows = await select_named(_ROUND_FIGURES, {"today": local_today(), "round": rnd.id})
    rows = [tuple(row) for row in rows]
    envelopes = sorted(
        ((eid, area, budget) for part, eid, area, budget, *_zeros in rows if part == 2),
        key=lambda e: (e[1] is None, e[1] or "", e[0]),
    )
    district = _("District-wide")
    lines = {
        eid: EnvelopeLine(eid, area or district, Figures(budget_fen=budget))
        for eid, area, budget in envelopes
    }
    kinds = {k: Figures() for k in ProcurementKind}
    total = Figures(budget_fen=rnd.fund_fen)
    for row in rows:
        if row[0] == 1:  # a state's count
            total.states[_STATUSES[row[2]]] = row[3]
        elif row[0] == 0:  # the sums of an envelope and kind
            sums = row[3:]
            _add_sums(total, sums)
            _add_sums(kinds[_KINDS[row[2]]], sums)
            line = lines.get(row[1])
            if line is not None:
                _add_sums(line.figures, sums)
    # a kind's and an envelope's states are not shown; the round's are, in life order
    total.states = {s: total.states[s] for s in ProcurementStatus if s in total.states}
    return RoundFinance(rnd, total, list(lines.values()), list(kinds.items()))


# what a list of procurements shows, in the order they were converted
_LINES = """SELECT p.id, p.title, a.name, p.kind, p.status, p.cap_fen, p.committed_fen,
  p.paid_fen, p.planned_end, p.delivered_on
FROM "procurement" p LEFT JOIN "area" a ON a.id = p.area_id
WHERE p.round_id = :round ORDER BY p.id LIMIT :limit OFFSET :offset"""


def _day(value: date | str | None) -> date | None:
    """A date column as a date (SQLite gives its text)."""
    return date.fromisoformat(value) if isinstance(value, str) else value


@dataclass(slots=True)
class Line:
    """One procurement in a list: its money, state and delivery (area None: district-wide)."""

    id: int
    title: str
    area: str | None
    kind: ProcurementKind
    status: ProcurementStatus
    cap_fen: int
    committed_fen: int
    paid_fen: int
    planned_end: date
    delivered_on: date | None
    delivery: str  # on_time | late | overdue | open | cancelled

    @property
    def late(self) -> bool:
        """Past the planned end and not delivered (the finance view's "late")."""
        return self.delivery == "overdue"

    @property
    def returned_fen(self) -> int | None:
        """What a finished procurement gave back of its cap (None while it is open)."""
        return self.cap_fen - self.paid_fen if self.status.finished else None


def delivery(
    status: ProcurementStatus, planned_end: date, delivered_on: date | None, today: date
) -> str:
    """on_time | late (delivered after the planned end) | overdue (not delivered, past the
    planned end) | open | cancelled."""
    if status == S.CANCELLED:
        return "cancelled"
    if status in DELIVERED:
        return "late" if delivered_on and delivered_on > planned_end else "on_time"
    return "overdue" if planned_end < today else "open"


async def procurement_lines(rnd: Round, offset: int = 0, limit: int | None = None) -> list[Line]:
    """The round's procurements in the order they were converted (one query)."""
    today = local_today()
    params = {"round": rnd.id, "limit": 2**31 - 1 if limit is None else limit, "offset": offset}
    rows = await select_named(_LINES, params)
    lines = []
    for row in rows:
        pid, title, area, kind, status, cap, committed, paid, end, delivered = tuple(row)
        status, end, delivered = _STATUSES[status], _day(end), _day(delivered)
        lines.append(
            Line(
                pid,
                title,
                area,
                _KINDS[kind],
                status,
                int(cap),
                int(committed),
                int(paid),
                end,
                delivered,
                delivery(status, end, delivered, today),
            )
        )
    return lines


@dataclass
class Report:
    round: Round
    total: Figures
    procurements: list[Line]


async def round_report(rnd: Round) -> Report:
    """The final report: every procurement planned vs paid, and the round's totals (two
    queries)."""
    total = Figures(budget_fen=rnd.fund_fen)
    for state, sums in await _grouped(_OF_ROUND, 0, round=rnd.id):
        total.add(state, sums)
    return Report(rnd, total, await procurement_lines(rnd))


# --- what a finance officer has to do ---------------------------------------------------------


@dataclass
class Work:
    """The finance officer's home: funded proposals of published rounds not converted yet, and
    the open procurements (the officer's own first, each group by planned end, soonest first)
    and which of them are late."""

    to_convert: list = field(default_factory=list)
    open: list = field(default_factory=list)
    late: set[int] = field(default_factory=set)


WORK_LIMIT = 50


async def work_for(user_id: int | None) -> Work:
    """At most WORK_LIMIT of each: what is waiting for a finance officer."""
    to_convert = (
        await Proposal.filter(
            status=ProposalStatus.FUNDED,
            procurement__id__isnull=True,
            round__is_study=False,
            round__results_published_at__not_isnull=True,
        )
        .select_related("round", "area")
        .order_by("round_id", "id")
        .limit(WORK_LIMIT)
    )
    rows = (
        await Procurement.filter(status__not_in=[s.value for s in FINISHED])
        .select_related("round")
        .order_by("planned_end", "id")
        .limit(WORK_LIMIT)
    )
    rows.sort(key=lambda p: p.officer_id != user_id)  # stable: theirs first, each by due date
    today = local_today()
    late = {p.id for p in rows if p.status in UNDELIVERED and p.planned_end < today}
    return Work(to_convert=to_convert, open=rows, late=late)
