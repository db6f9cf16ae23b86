"""Needs for the dashboard's tests, written as the steps write them (the need, then each step's
counts in a transaction: consult.services.need_stats), and the page's tables read back."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from itertools import count

from tortoise.transactions import in_transaction

from consult.models import Need, NeedCategory, NeedChannel, NeedState
from consult.services import need_stats

_numbers = count(1)
SECRET_WORDS = ("Wang Xiaoming", "Leaking pipe at No. 7", "behind the boiler room")


async def add_need(
    area,
    channel: NeedChannel = NeedChannel.ONLINE,
    *,
    created: datetime | None = None,
    hours: float | None = None,
    resolved: bool = False,
    rating: int | None = None,
    resident=None,
) -> Need:
    """A need received at `created` (default: an hour ago), answered `hours` later, then
    resolved and rated if asked, each step counted as the services count it."""
    created = created or datetime.now(UTC) - timedelta(hours=1)
    need = await Need.create(
        number=f"T{next(_numbers):07d}",
        resident=resident,
        area=area,
        channel=channel,
        category=NeedCategory.ROADS,
        title=SECRET_WORDS[1],
        body="Water everywhere",
        place=SECRET_WORDS[2],
        created_at=created,
    )
    async with in_transaction() as conn:
        await need_stats.count_received(conn, need)
    if hours is not None:
        need.answered_at = created + timedelta(hours=hours)
        need.state = NeedState.ACCEPTED
        await need.save()
        async with in_transaction() as conn:
            await need_stats.count_answered(conn, need)
    if resolved:
        need.resolved_at = need.answered_at or created
        need.state = NeedState.RESOLVED
        await need.save()
        async with in_transaction() as conn:
            await need_stats.count_resolved(conn, need)
    if rating is not None:
        need.rating = rating
        need.rated_at = datetime.now(UTC)
        await need.save()
        async with in_transaction() as conn:
            await need_stats.count_rated(conn, need, rating)
    return need


class _Tables(HTMLParser):
    """Every table with an id: its rows as (the row's data- attributes, cell texts)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[tuple[dict, list[str]]]] = {}
        self.current: str | None = None
        self.row: tuple[dict, list[str]] | None = None
        self.cell: list[str] | None = None
        self.section = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and a.get("id"):
            self.current = a["id"]
            self.tables[self.current] = []
        elif tag in ("thead", "tbody", "tfoot"):
            self.section = tag
        elif tag == "tr" and self.current and self.section != "thead":
            data = {k[5:]: v for k, v in a.items() if k.startswith("data-")}
            self.row = (data, [])
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None and self.cell is not None:
            self.row[1].append(" ".join("".join(self.cell).split()))
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.current].append(self.row)
            self.row = None
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def tables(html: str) -> dict[str, list[tuple[dict, list[str]]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def figures(cells: list[str]) -> dict[str, str]:
    """A table line's eight figures by the CSV's names (rates as shown)."""
    names = (
        "received",
        "answered",
        "median_response_days",
        "resolved",
        "resolution_rate",
        "rated",
        "satisfied",
        "satisfaction_rate",
    )
    return dict(zip(names, (c.replace(",", "") for c in cells[1:]), strict=True))


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))
