"""The council's list of needs: by default those waiting for an answer, oldest first (the
overdue ones lead); filtered by area, category, state, channel and "overdue" (not answered 7
days after receipt), searched by title or tracking number, a page at a time.

Kept fast on hundreds of thousands of needs: every filter and sort stays on the indexes
(state, created_at) and (area_id, state, created_at); a page reads its rows in one query (the
areas come from the filter's list, already loaded); and the count stops at COUNT_CAP — past
it the page says "more than 1,000" rather than counting every need on every view.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import RawSQL

from consult.models import Need, NeedCategory, NeedChannel, NeedState
from consult.rules import needs as rules
from core.prepared import page_of_rows
from core.web.pagination import Page

PAGE_SIZE = 25
COUNT_CAP = 1000  # the count shown stops here ("more than 1,000")
WAITING = NeedState.RECEIVED.value  # the default: needs waiting for an answer
ANY_STATE = "all"
SORTS = ("oldest", "newest")
LIST_FIELDS = (
    "id",
    "number",
    "title",
    "area_id",
    "category",
    "channel",
    "state",
    "created_at",
    "answered_at",
    "entered_by_id",
)


@dataclass
class NeedFilters:
    state: str = WAITING  # a NeedState value, or ANY_STATE
    area: int | None = None
    category: str = ""
    channel: str = ""
    overdue: bool = False
    q: str = ""
    sort: str = "oldest"

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> NeedFilters:
        """Filters from the query string; a value that means nothing is ignored."""
        state = params.get("state", WAITING)
        if state != ANY_STATE and state not in NeedState._value2member_map_:
            state = WAITING
        area = params.get("area", "")
        category = params.get("category", "")
        channel = params.get("channel", "")
        sort = params.get("sort", "oldest")
        return cls(
            state=state,
            area=int(area) if area.isascii() and area.isdigit() and len(area) <= 9 else None,
            category=category if category in NeedCategory._value2member_map_ else "",
            channel=channel if channel in NeedChannel._value2member_map_ else "",
            overdue=params.get("overdue", "") in ("1", "on", "true"),
            q=params.get("q", "").strip()[:120],
            sort=sort if sort in SORTS else "oldest",
        )

    @property
    def active(self) -> bool:
        """Narrowed beyond the default view."""
        return bool(
            self.state != WAITING
            or self.area
            or self.category
            or self.channel
            or self.overdue
            or self.q
        )


class ListedNeed:
    """A need as the list shows it, from a row of LIST_FIELDS (plain values, not a model: the
    list is the council's busiest page), with its age in days and whether it is overdue."""

    __slots__ = (*LIST_FIELDS, "age_days", "overdue")

    def __init__(self, row: Sequence[Any], now: datetime) -> None:
        (self.id, self.number, self.title, self.area_id, category, channel, state,
         created_at, answered_at, self.entered_by_id) = row  # fmt: skip
        # Raw rows hold the stored text (SQLite) or the driver's values (PostgreSQL).
        self.category = NeedCategory(category)
        self.channel = NeedChannel(channel)
        self.state = NeedState(state)
        self.created_at = _moment(created_at)
        self.answered_at = _moment(answered_at)
        self.age_days = rules.age_days(self.created_at, now)
        self.overdue = rules.is_overdue(self.created_at, self.answered_at, now)


def _moment(value: datetime | str | None) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


def ordering(filters: NeedFilters) -> tuple[str, str]:
    return ("-created_at", "-id") if filters.sort == "newest" else ("created_at", "id")


def filtered_needs(filters: NeedFilters, now: datetime):
    """The needs that match, in the list's order."""
    return matching(filters, now).order_by(*ordering(filters))


def matching(filters: NeedFilters, now: datetime):
    """The needs that match, in no order of ours. "Overdue" means waiting for an answer and
    received more than 7 days ago, whatever state filter was chosen with it."""
    qs = Need.all()
    if filters.overdue:
        qs = qs.filter(state=NeedState.RECEIVED, created_at__lt=rules.overdue_before(now))
    elif filters.state != ANY_STATE:
        qs = qs.filter(state=filters.state)
    if filters.area:
        qs = qs.filter(area_id=filters.area)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.q:
        number = rules.normalize_number(filters.q)
        qs = qs.filter(number=number) if number else qs.filter(title__icontains=filters.q)
    return qs


async def list_page(filters: NeedFilters, number: int | None, now: datetime | None = None) -> Page:
    """A page of needs, each with `age_days` and `overdue` set; `page.total` is capped at
    COUNT_CAP + 1 and `page.more` says so. Two queries whatever the size of the table."""
    now = now or datetime.now(UTC)
    qs = filtered_needs(filters, now)
    if filters.q and rules.normalize_number(filters.q) is None:
        # Words in titles: no index helps. Read the matching ids in one unordered pass
        # (stopping at the cap), then the page among them: ordered by date with a limit, both
        # databases would walk the date index and look up every row when few titles match.
        # (Tortoise adds the model's default order to a query unless it is annotated.)
        unordered = matching(filters, now).annotate(unordered=RawSQL("1"))
        ids = await unordered.limit(COUNT_CAP + 1).values_list("id", flat=True)
        qs = Need.filter(id__in=list(ids)).order_by(*ordering(filters))
        total = len(ids)
        pages = max(1, -(-min(total, COUNT_CAP) // PAGE_SIZE))
        number = min(max(1, number or 1), pages)
        rows = await qs.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE).values_list(*LIST_FIELDS)
    else:
        rows, total, number = await page_of_rows(
            qs, LIST_FIELDS, size=PAGE_SIZE, number=number or 1, cap=COUNT_CAP
        )
    items = [ListedNeed(row, now) for row in rows]
    page = Page(items=items, number=number, size=PAGE_SIZE, total=min(total, COUNT_CAP))
    page.more = total > COUNT_CAP
    return page
