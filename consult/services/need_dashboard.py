"""The public needs dashboard and its open data: what was received, answered, resolved and how
satisfied residents were, per month, area and channel, for a selection (the last twelve months
or a calendar year; all areas or one; all channels or one). No personal data: only the counts
kept per month, area and channel (`NeedStat`) and the response-time histograms
(`NeedResponseTime`) are read, never the needs.

**One query per page**, whatever the number of needs (`read`): the areas (the filter, the
names), the first and last month with figures (the years offered), the selection's counts
summed by SQL (per month and channel and per area: a few dozen rows; the CSV: its totals) and
the kept rows the page may reuse.

**Kept, provably current.** Two things cost too much to make on every request, so they are
kept in `NeedDashboardCache` (the database, shared by the workers; no process keeps
anything): the medians (merged from the histograms: tens of thousands of rows for a year of a
busy district) and the CSV's text (a row per month, area and channel). A kept row is used only
when its *stamp*, read in the page's query before anything is computed, still holds:

- medians: the selection's `answered` total and the smallest id of its counts rows. A
  histogram changes only by one more answer, in the transaction that adds it to `answered`
  (need_stats.count_answered); nothing subtracts. So an unchanged total means unchanged
  histograms. `recount_need_stats` writes every counts row again under new ids (ids are never
  reused), which changes the smallest id.
- the CSV: also the sum of all five counts of the selection (each step of a need adds to one
  of them, nothing subtracts) and a digest of the areas' names.
- both: FORMAT, raised when what is kept changes shape.

Data committed after the stamp was read and before the part was computed gives a row whose
stamp is older than its data: the next page finds the stamp changed and computes it again,
never the other way round. If a service ever removes or moves a response time or lowers a
count, it must delete the selection's rows here (`forget`).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError

from budget.services.finance_exports import FORMULA_STARTS
from consult.models import NeedChannel, NeedDashboardCache
from consult.rules.need_stats import (
    NeedCounts,
    last_twelve_months,
    median_days,
    months_between,
    total,
    year_months,
)
from consult.services.need_stats import stat_month
from core.db import select_named
from core.errors import NotFound, ValidationError
from core.i18n import _

CSV_COLUMNS = (
    "month",
    "area",
    "channel",
    "received",
    "answered",
    "resolved",
    "rated",
    "satisfied",
    "median_response_days",
)
FORMAT = 1  # of what is kept: raise it when the medians or the CSV are computed differently
FIRST_YEAR = 2000  # the earliest year the filter accepts (no district counted needs before)
CHANNELS = list(NeedChannel)
ALL = "*"


# --- the selection -------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    first: str  # "2025-12"
    last: str  # "2026-11"
    area_id: int | None = None  # None: every area
    channel: NeedChannel | None = None  # None: every channel
    year: int | None = None  # None: the last twelve months

    @property
    def months(self) -> list[str]:
        return months_between(self.first, self.last)

    def key(self, kind: str) -> str:
        area = ALL if self.area_id is None else str(self.area_id)
        channel = ALL if self.channel is None else self.channel.value
        return f"{kind}:{self.first}:{self.last}:{area}:{channel}"

    def where(self) -> tuple[str, dict[str, Any]]:
        """The SQL condition on a counts or histogram table, and its parameters."""
        sql = "month BETWEEN :first AND :last"
        params: dict[str, Any] = {"first": self.first, "last": self.last}
        if self.area_id is not None:
            sql += " AND area_id = :area"
            params["area"] = self.area_id
        if self.channel is not None:
            sql += " AND channel = :channel"
            params["channel"] = self.channel.value
        return sql, params


@dataclass
class Filters:
    """The filter form as typed (kept on a 422), its errors, and the selection it makes."""

    area: str = ""
    year: str = ""
    channel: str = ""
    areas: list[tuple[int, str]] = field(default_factory=list)  # (id, name), by name
    years: list[int] = field(default_factory=list)  # with figures, newest first
    has_figures: bool = False  # any need ever counted (else the page says "no needs yet")
    errors: dict[str, str] = field(default_factory=dict)
    selection: Selection | None = None

    @property
    def area_names(self) -> dict[int, str]:
        return dict(self.areas)


def current_month() -> str:
    return stat_month(datetime.now(UTC))


def parse_filters(params: Mapping[str, str], now: str) -> Filters:
    """The filters of a query string (`now`: the current month), without the database. A value
    no form offers (a word for an area, a year like 99999999999, an unknown channel) gets the
    reason beside its field and no selection; whether the area exists is checked by `read`."""
    form = Filters(
        area=str(params.get("area") or "").strip(),
        year=str(params.get("year") or "").strip(),
        channel=str(params.get("channel") or "").strip(),
    )
    area_id = None
    if form.area:
        if not (form.area.isascii() and form.area.isdigit()):
            form.errors["area"] = _("“%(value)s” is not an area: choose one from the list.") % {
                "value": form.area[:40]
            }
        elif len(form.area) > 9:
            area_id = 0  # no area has such a number: 404
        else:
            area_id = int(form.area)
    year = None
    if form.year:
        top = int(now[:4])
        if not (form.year.isascii() and form.year.isdigit() and len(form.year) == 4) or not (
            FIRST_YEAR <= int(form.year) <= top
        ):
            form.errors["year"] = _("Choose a year from %(first)s to %(last)s.") % {
                "first": FIRST_YEAR,
                "last": top,
            }
        else:
            year = int(form.year)
    channel = None
    if form.channel:
        try:
            channel = NeedChannel(form.channel)
        except ValueError:
            form.errors["channel"] = _("Choose a channel from the list.")
    if not form.errors:
        first, last = year_months(year) if year else last_twelve_months(now)
        form.selection = Selection(first, last, area_id, channel, year)
    return form


def require_selection(form: Filters) -> Selection:
    if form.selection is None:
        raise ValidationError(errors=form.errors)
    return form.selection


# --- the one query of a page ---------------------------------------------------------------

# Every branch has the same columns: kind, month, channel, area, the five counts, the
# smallest counts row id, text.
_NO_TEXT = "CAST(NULL AS TEXT)"
_NO_ID = "CAST(NULL AS INTEGER)"
_ZEROS = "0, 0, 0, 0, 0"
_SUMS = "SUM(received), SUM(answered), SUM(resolved), SUM(rated), SUM(satisfied), MIN(id)"
_AREAS = (
    f"SELECT 'r', CAST(NULL AS VARCHAR(7)), CAST(NULL AS VARCHAR(16)), id, {_ZEROS}, {_NO_ID},"
    " name FROM area"
)
_SPAN = (
    f"SELECT 's', MIN(month), MAX(month), {_NO_ID}, {_ZEROS}, {_NO_ID}, {_NO_TEXT} FROM need_stat"
)


def _page_sql(selection: Selection | None, shape: str, keys: list[str]) -> tuple[str, dict]:
    """The SQL of a page's one query: the areas, the first and last month with figures and,
    for a selection, its counts (`shape` "dashboard": per month and channel and per area;
    "csv": the totals only) and the kept rows of `keys` (key, stamp and value as text)."""
    branches = [_AREAS, _SPAN]
    params: dict[str, Any] = {}
    if selection is not None:
        where, params = selection.where()
        if shape == "dashboard":
            branches.append(
                f"SELECT 'm', month, channel, {_NO_ID}, {_SUMS}, {_NO_TEXT} FROM need_stat"
                f" WHERE {where} GROUP BY month, channel"
            )
            branches.append(
                "SELECT 'a', CAST(NULL AS VARCHAR(7)), CAST(NULL AS VARCHAR(16)), area_id,"
                f" {_SUMS}, {_NO_TEXT} FROM need_stat WHERE {where} GROUP BY area_id"
            )
        else:
            branches.append(
                "SELECT 't', CAST(NULL AS VARCHAR(7)), CAST(NULL AS VARCHAR(16)), "
                f"{_NO_ID}, {_SUMS}, {_NO_TEXT} FROM need_stat WHERE {where}"
            )
        names = []
        for i, key in enumerate(keys):
            params[f"key_{'abcdefgh'[i]}"] = key
            names.append(f":key_{'abcdefgh'[i]}")
        if names:
            branches.append(
                "SELECT 'k', CAST(NULL AS VARCHAR(7)), CAST(NULL AS VARCHAR(16)),"
                f" {_NO_ID}, {_ZEROS}, {_NO_ID}, key || ' ' || stamp || ' ' ||"
                f" CAST(value AS TEXT) FROM need_dashboard_cache WHERE key IN ({', '.join(names)})"
            )
    return " UNION ALL ".join(branches), params


@dataclass
class Read:
    """What a page's query brought back about its selection."""

    by_month: dict[tuple[str, str], NeedCounts] = field(default_factory=dict)  # (month, ch)
    by_area: dict[int, NeedCounts] = field(default_factory=dict)
    totals: NeedCounts = field(default_factory=NeedCounts)
    first_stat_id: int | None = None
    kept: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (stamp, JSON text)

    def medians_stamp(self) -> str:
        """What the medians depend on (see the module's docstring)."""
        return f"{FORMAT}:{self.totals.answered}:{self.first_stat_id}"


def _counts(row: Any) -> NeedCounts:
    return NeedCounts(*(int(row[i] or 0) for i in range(4, 9)))


async def read(
    params: Mapping[str, str], shape: str, kinds: tuple[str, ...]
) -> tuple[Filters, Read]:
    """The filters of a query string and, when they make a selection, its counts and kept
    rows: one query. An area number that names no area is 404."""
    now = current_month()
    form = parse_filters(params, now)
    keys = [form.selection.key(kind) for kind in kinds] if form.selection else []
    rows = await select_named(*_page_sql(form.selection, shape, keys))
    out = Read()
    areas: list[tuple[int, str]] = []
    ids: list[int] = []
    first_month = last_month = None
    for row in rows:
        kind = row[0]
        if kind == "m":
            counts = _counts(row)
            out.by_month[(row[1], str(row[2]))] = counts
            out.totals = out.totals + counts
            if row[9] is not None:
                ids.append(int(row[9]))
        elif kind == "a":
            out.by_area[int(row[3])] = _counts(row)
        elif kind == "t":
            out.totals = _counts(row)
            if row[9] is not None:
                ids.append(int(row[9]))
        elif kind == "k":
            key, stamp, value = str(row[10]).split(" ", 2)
            out.kept[key] = (stamp, value)
        elif kind == "r":
            areas.append((int(row[3]), str(row[10])))
        elif kind == "s":
            first_month, last_month = row[1], row[2]
    out.first_stat_id = min(ids, default=None)
    form.areas = sorted(areas, key=lambda a: a[1])
    form.has_figures = first_month is not None
    first_year = int(first_month[:4]) if first_month else int(now[:4])
    last_year = max(int(now[:4]), int(last_month[:4]) if last_month else 0)
    form.years = list(range(last_year, first_year - 1, -1))
    if form.selection and form.selection.area_id is not None:
        if form.selection.area_id not in form.area_names:
            raise NotFound(_("There is no such area."))
    return form, out


# --- the medians ---------------------------------------------------------------------------


def _days(histogram: Counter[int]) -> str | None:
    """The median response time as the page and the CSV show it ("1.3"), None if none."""
    value = median_days(histogram)
    return None if value is None else str(value)


def compute_medians(rows: list[tuple[str, int, str, int, int]]) -> tuple[dict, dict]:
    """(group medians, cell medians) in days ("1.3") from the selection's histogram rows (month,
    area, channel, hours, count): groups are the whole selection, each month, each month and
    channel, each channel, each area; cells are each month, area and channel (the CSV's rows).
    Pure: run off the event loop."""
    cells: dict[str, Counter[int]] = defaultdict(Counter)
    for month, area, channel, hours, count in rows:
        cells[f"{month}|{area}|{channel}"][int(hours)] += int(count)
    groups: dict[str, Counter[int]] = defaultdict(Counter)
    for key, histogram in cells.items():
        month, area, channel = key.split("|")
        for group in ("all", f"m|{month}", f"mc|{month}|{channel}", f"c|{channel}", f"a|{area}"):
            groups[group].update(histogram)
    return (
        {g: _days(h) for g, h in groups.items()},
        {c: _days(h) for c, h in cells.items()},
    )


async def _keep(key: str, stamp: str, value: Any) -> None:
    """Store (or replace) a computed part of a selection for `stamp`: any worker may, the last
    write wins, and a row whose stamp no longer holds is made again, never used."""
    updated = await NeedDashboardCache.filter(key=key).update(stamp=stamp, value=value)
    if not updated:
        try:
            await NeedDashboardCache.create(key=key, stamp=stamp, value=value)
        except IntegrityError:  # another worker created it meanwhile
            await NeedDashboardCache.filter(key=key).update(stamp=stamp, value=value)


async def medians(selection: Selection, got: Read, kind: str) -> dict[str, str | None]:
    """The selection's medians of `kind` ("groups": for the page; "cells": per month, area and
    channel, for the CSV): the kept ones when their stamp holds, else computed from the
    histograms (one more query) and kept."""
    stamp = got.medians_stamp()
    if got.totals.answered == 0:
        return {}  # nothing answered: every median is None
    key = selection.key(kind)
    if key not in got.kept:
        kept = await select_named(
            "SELECT stamp, CAST(value AS TEXT) FROM need_dashboard_cache WHERE key = :key",
            {"key": key},
        )
        if kept:
            got.kept[key] = (str(kept[0][0]), str(kept[0][1]))
    if key in got.kept and got.kept[key][0] == stamp:
        return json.loads(got.kept[key][1])
    where, params = selection.where()
    rows = await select_named(
        f"SELECT month, area_id, channel, hours, count FROM need_response_time WHERE {where}",
        params,
    )
    # tens of thousands of rows merged in pure Python (~0.1 s): off the event loop
    groups, cells = await asyncio.to_thread(compute_medians, [tuple(r) for r in rows])
    await _keep(selection.key("groups"), stamp, groups)
    await _keep(selection.key("cells"), stamp, cells)
    return groups if kind == "groups" else cells


def days(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


# --- the dashboard -------------------------------------------------------------------------


@dataclass
class Line:
    """A row of a table: a month, a channel within a month, a channel, an area, the total."""

    key: str
    counts: NeedCounts
    median_days: Decimal | None
    sub: list[Line] = field(default_factory=list)


@dataclass
class Dashboard:
    selection: Selection
    total: Line
    months: list[Line]  # every month of the selection, each with its channels' lines
    channels: list[Line]  # channels with needs
    areas: list[Line]  # areas with needs (when every area is selected), by name

    @property
    def empty(self) -> bool:
        return self.total.counts.received == 0


async def dashboard(params: Mapping[str, str]) -> tuple[Filters, Dashboard | None]:
    """The filters of a query string and the figures of their selection (None when the
    filters are refused): one query, one more to fetch kept medians that the first did not
    bring, one more to recompute them after an answer changed them."""
    form, got = await read(params, "dashboard", ("groups",))
    if form.selection is None:
        return form, None
    selection = form.selection
    med = await medians(selection, got, "groups")
    by_month = got.by_month
    months = []
    for month in selection.months:
        sub = [
            Line(c.value, by_month[(month, c.value)], days(med.get(f"mc|{month}|{c.value}")))
            for c in CHANNELS
            if (month, c.value) in by_month
        ]
        months.append(Line(month, total(s.counts for s in sub), days(med.get(f"m|{month}")), sub))
    channels = []
    for c in CHANNELS:
        rows = [counts for (_m, ch), counts in by_month.items() if ch == c.value]
        if rows:
            channels.append(Line(c.value, total(rows), days(med.get(f"c|{c.value}"))))
    areas = []
    if selection.area_id is None:
        names = form.area_names
        areas = [
            Line(str(a), counts, days(med.get(f"a|{a}")))
            for a, counts in sorted(got.by_area.items(), key=lambda kv: names.get(kv[0], ""))
        ]
    overall = Line("all", got.totals, days(med.get("all")))
    return form, Dashboard(selection, overall, months, channels, areas)


# --- open data -----------------------------------------------------------------------------


async def csv_rows(selection: Selection, got: Read) -> list[list[str]]:
    """The CSV's rows (header first): one per month, area and channel with needs, by month,
    area name and channel."""
    where, params = selection.where()
    rows = await select_named(
        "SELECT month, area_id, area.name, channel, received, answered, resolved, rated,"
        " satisfied FROM need_stat JOIN area ON area.id = need_stat.area_id"
        f" WHERE {where} AND received > 0 ORDER BY month, area.name, channel",
        params,
    )
    med = await medians(selection, got, "cells")
    out = [list(CSV_COLUMNS)]
    for month, area, name, channel, *counts in rows:
        median = med.get(f"{month}|{area}|{channel}")
        out.append([month, _cell(str(name)), str(channel), *map(str, counts), median or ""])
    return out


def _cell(text: str) -> str:
    """A CSV cell a spreadsheet would not run as a formula (an area named "=1+1")."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_text(rows: list[list[str]]) -> str:
    """The rows as CSV text, starting with a byte-order mark: UTF-8 that Excel (in Chinese
    too) opens with the area names readable; other tools skip the mark."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


async def csv_file(params: Mapping[str, str]) -> tuple[Selection, str]:
    """The selection of a query string and its CSV (see `csv_text`); refused filters raise
    ValidationError (422), an unknown area NotFound (404). The text is kept while the
    selection's counts, medians and area names stay as they were: one query when it holds."""
    form, got = await read(params, "csv", ("csv",))
    selection = require_selection(form)
    names = hashlib.blake2b(repr(form.areas).encode(), digest_size=8).hexdigest()
    c = got.totals
    stamp = f"{c.received + c.answered + c.resolved + c.rated + c.satisfied}:"
    stamp += f"{got.medians_stamp()}:{names}"
    key = selection.key("csv")
    if key in got.kept and got.kept[key][0] == stamp:
        return selection, json.loads(got.kept[key][1])["csv"]
    text = csv_text(await csv_rows(selection, got))
    await _keep(key, stamp, {"csv": text})
    return selection, text


async def forget() -> None:
    """Drop everything kept (for a change that does not only add to the counts)."""
    await NeedDashboardCache.all().delete()
