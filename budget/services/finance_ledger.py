"""The ledger as the finance view shows it: every entry, filtered by round, area, kind,
procurement, officer, entry kind and dates; its totals as one SQL aggregate (each entry by its
effect: a reversal takes back the entry it reverses); pages and chunks of rows read with their
round, procurement, area and officer in the same query.

Entries are only appended, so "every entry up to id N" is the ledger at one moment: a page
notes its N and the exports made from it list exactly what the page added up.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date

from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from budget.models import EntryKind, LedgerEntry, Procurement, ProcurementKind, Round
from core.i18n import _, label
from core.models import Area, Role, User

DISTRICT = "district"  # the area filter's value for district-wide procurements


@dataclass
class LedgerFilters:
    round_id: int | None = None
    area: str = ""  # "", DISTRICT, or an area id
    kind: str = ""  # a ProcurementKind
    procurement_id: int | None = None
    officer_id: int | None = None
    entry_kind: str = ""  # an EntryKind
    date_from: date | None = None
    date_to: date | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> tuple[LedgerFilters, list[str]]:
        """The filters of a query string, and a message for each value that was ignored."""
        problems: list[str] = []

        def as_id(name: str, what: str) -> int | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            if value.isdigit() and 0 < int(value) < 2**31:
                return int(value)
            problems.append(_("Ignored the {what} filter: not a valid choice.", what=what))
            return None

        def as_choice(name: str, choices: tuple[str, ...], what: str) -> str:
            value = (params.get(name) or "").strip()
            if value and value not in choices:
                problems.append(_("Ignored the {what} filter: not a valid choice.", what=what))
                return ""
            return value

        def as_date(name: str, what: str) -> date | None:
            value = (params.get(name) or "").strip()
            if not value:
                return None
            try:
                return date.fromisoformat(value)
            except ValueError:
                problems.append(
                    _("Ignored the {what} filter: write a date as YYYY-MM-DD.", what=what)
                )
                return None

        area = (params.get("area") or "").strip()
        if area and area != DISTRICT:
            area = str(as_id("area", _("area")) or "")
        filters = cls(
            round_id=as_id("round", _("round")),
            area=area,
            kind=as_choice("kind", tuple(k.value for k in ProcurementKind), _("kind")),
            procurement_id=as_id("procurement", _("procurement")),
            officer_id=as_id("officer", _("officer")),
            entry_kind=as_choice("entry_kind", tuple(k.value for k in EntryKind), _("entry")),
            date_from=as_date("from", _("from date")),
            date_to=as_date("to", _("to date")),
        )
        if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
            problems.append(_("The “to” date is before the “from” date: no entry can match."))
        return filters, problems

    @property
    def active(self) -> bool:
        return any(
            (
                self.round_id,
                self.area,
                self.kind,
                self.procurement_id,
                self.officer_id,
                self.entry_kind,
                self.date_from,
                self.date_to,
            )
        )


def filtered_entries(filters: LedgerFilters, upto_id: int | None = None) -> QuerySet[LedgerEntry]:
    """The entries matching `filters` (and not newer than entry `upto_id`), unordered."""
    qs = LedgerEntry.all()
    if upto_id is not None:
        qs = qs.filter(id__lte=upto_id)
    if filters.procurement_id is not None:
        qs = qs.filter(procurement_id=filters.procurement_id)
    if filters.round_id is not None:
        qs = qs.filter(procurement__round_id=filters.round_id)
    if filters.area == DISTRICT:
        qs = qs.filter(procurement__area_id__isnull=True)
    elif filters.area:
        qs = qs.filter(procurement__area_id=int(filters.area))
    if filters.kind:
        qs = qs.filter(procurement__kind=filters.kind)
    if filters.officer_id is not None:
        qs = qs.filter(officer_id=filters.officer_id)
    if filters.entry_kind:
        qs = qs.filter(kind=filters.entry_kind)
    if filters.date_from is not None:
        qs = qs.filter(entry_date__gte=filters.date_from)
    if filters.date_to is not None:
        qs = qs.filter(entry_date__lte=filters.date_to)
    return qs


async def snapshot_id() -> int:
    """The newest entry's id: entries are only appended, so "every entry up to this id" is the
    ledger as it stands now, the same for a page and the exports made from it."""
    ids = await LedgerEntry.all().order_by("-id").limit(1).values_list("id", flat=True)
    return int(ids[0]) if ids else 0


@dataclass
class LedgerTotals:
    count: int = 0
    committed_fen: int = 0  # commitments, less those reversed
    paid_fen: int = 0
    released_fen: int = 0

    @property
    def net_fen(self) -> int:
        """What stays committed: commitments less releases."""
        return self.committed_fen - self.released_fen


async def ledger_totals(filters: LedgerFilters, upto_id: int | None = None) -> LedgerTotals:
    """The totals of the matching entries, one grouped query: each entry counts by its effect
    (a reversal takes back the amount of the entry it reverses, of that entry's kind)."""
    rows = (
        await filtered_entries(filters, upto_id)
        .annotate(total=Sum("amount_fen"), n=Count("id"))
        .group_by("kind", "reverses__kind")
        .values("kind", "reverses__kind", "total", "n")
    )
    totals = LedgerTotals()
    for row in rows:
        totals.count += row["n"]
        kind, sign = row["kind"], 1
        if kind == EntryKind.REVERSAL:
            kind, sign = row["reverses__kind"], -1
        amount = sign * int(row["total"] or 0)
        match kind:
            case EntryKind.COMMIT:
                totals.committed_fen += amount
            case EntryKind.PAY:
                totals.paid_fen += amount
            case EntryKind.RELEASE:
                totals.released_fen += amount
    return totals


# what a row of the ledger (page and exports) reads, joined in the same query
ROW_FIELDS = (
    "id",
    "entry_date",
    "kind",
    "amount_fen",
    "document_ref",
    "note",
    "reverses_id",
    "reverses__kind",
    "procurement_id",
    "procurement__title",
    "procurement__kind",
    "procurement__round_id",
    "procurement__round__title",
    "procurement__area__name",
    "officer__display_name",
)
NEWEST_FIRST = ("-entry_date", "-id")


def signed_amount(row: Mapping) -> int:
    """An entry's amount as it moves its own kind's total: a reversal is negative."""
    amount = int(row["amount_fen"])
    return -amount if row["kind"] == EntryKind.REVERSAL else amount


def entry_label(row: Mapping) -> str:
    kind = EntryKind(row["kind"])
    if kind == EntryKind.REVERSAL and row.get("reverses__kind"):
        return _("Reversal ({kind})", kind=label(EntryKind(row["reverses__kind"])))
    return label(kind)


async def ledger_page(
    filters: LedgerFilters, number: int | None, size: int, total: int, upto_id: int
) -> tuple[list[dict], int]:
    """One page of the matching entries, newest first, and its number (`total`: how many
    match, from the totals; a page past the last one shows the last)."""
    pages = max(1, -(-total // size))
    number = min(max(1, number or 1), pages)
    items = await (
        filtered_entries(filters, upto_id)
        .order_by(*NEWEST_FIRST)
        .offset((number - 1) * size)
        .limit(size)
        .values(*ROW_FIELDS)
    )
    return list(items), number


async def ledger_rows(
    filters: LedgerFilters, upto_id: int, chunk: int = 2000
) -> AsyncIterator[dict]:
    """Every matching entry, newest first, read `chunk` rows at a time (for the exports)."""
    after: tuple[date, int] | None = None
    while True:
        qs = filtered_entries(filters, upto_id)
        if after is not None:
            day, entry_id = after
            qs = qs.filter(Q(entry_date__lt=day) | Q(entry_date=day, id__lt=entry_id))
        rows = await qs.order_by(*NEWEST_FIRST).limit(chunk).values(*ROW_FIELDS)
        for row in rows:
            yield row
        if len(rows) < chunk:
            return
        after = (rows[-1]["entry_date"], rows[-1]["id"])


@dataclass
class LedgerChoices:
    rounds: list[tuple[int, str]]
    areas: list[tuple[int, str]]
    officers: list[tuple[int, str]]
    procurements: list[tuple[int, str]]  # of the chosen round (and the chosen one)


async def ledger_choices(filters: LedgerFilters) -> LedgerChoices:
    """The filter form's options: at most four small queries."""
    rounds = await Round.filter(is_study=False).values_list("id", "title")
    areas = await Area.all().order_by("name").values_list("id", "name")
    officers = (
        await User.filter(role=Role.FINANCE)
        .order_by("display_name", "id")
        .values_list("id", "display_name")
    )
    procurements: list = []
    if filters.round_id is not None or filters.procurement_id is not None:
        q = Q(id=filters.procurement_id or 0)
        if filters.round_id is not None:
            q |= Q(round_id=filters.round_id)
        procurements = await Procurement.filter(q).order_by("id").values_list("id", "title")
    return LedgerChoices(list(rounds), list(areas), list(officers), list(procurements))
