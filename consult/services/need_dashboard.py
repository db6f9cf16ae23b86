"""The public needs dashboard and its open data: what was received, answered, resolved and how
satisfied residents were, per month, area and channel, for a selection (the last twelve months
or a calendar year; all areas or one; all channels or one). No personal data: only the counts
kept per month, area and channel (`NeedStat`) and the response-time histograms
(`NeedResponseTime`) are read, never the needs.

**One query per page**, whatever the number of needs (need_selection.read): the areas (the
filter, the names), the first and last month with figures (the years offered), the counts
summed by SQL (per month and channel and per area: a few dozen rows; the CSV: its totals) and
the kept rows the page may reuse.

**Kept, provably current.** Two things cost too much to make on every request, so they are
kept in `NeedDashboardCache` (the database, shared by the workers; no process keeps
anything): the medians (merged from the histograms: tens of thousands of rows for a year of a
busy district), the CSV's text (a row per month, area and channel) and the page's figures as
HTML (consult.routes.need_dashboard: also stamped with the locale, the site's address and a
digest of the code, template and translations that rendered it). A kept row is used only
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

import csv
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from budget.services.finance_exports import FORMULA_STARTS
from consult.models import NeedChannel
from consult.rules.need_stats import NeedCounts, total
from consult.services.need_medians import days, forget, keep, medians
from consult.services.need_selection import (
    FORMAT,
    Filters,
    Read,
    Selection,
    read,
    require_selection,
)
from core.db import select_named

__all__ = [
    "CSV_COLUMNS",
    "FORMAT",
    "Dashboard",
    "Filters",
    "Line",
    "csv_file",
    "dashboard",
    "data_stamp",
    "keep",
    "read_dashboard",
    "forget",
]

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
CHANNELS = list(NeedChannel)


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


async def read_dashboard(params: Mapping[str, str], kinds: tuple[str, ...]) -> tuple[Filters, Read]:
    """The filters of a query string, its selection's counts, and the kept rows of `kinds`
    and of the medians: the page's one query."""
    return await read(params, "dashboard", ("groups", *kinds))


def data_stamp(form: Filters, got: Read) -> str:
    """What the page's figures and the CSV depend on (see the module's docstring): the
    selection's counts and medians, the areas' names, whether any need was ever counted."""
    c = got.totals
    names = hashlib.blake2b(repr(form.areas).encode(), digest_size=8).hexdigest()
    counts = c.received + c.answered + c.resolved + c.rated + c.satisfied
    return f"{counts}:{got.medians_stamp()}:{names}:{int(form.has_figures)}"


async def dashboard(form: Filters, got: Read) -> Dashboard:
    """The figures of a selection (read by `read_dashboard`): one more query to fetch kept
    medians that the first did not bring, one more to recompute them after an answer."""
    selection = form.selection
    assert selection is not None
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
    return Dashboard(selection, overall, months, channels, areas)


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
    stamp = data_stamp(form, got)
    key = selection.key("csv")
    if key in got.kept and got.kept[key][0] == stamp:
        return selection, json.loads(got.kept[key][1])["csv"]
    text = csv_text(await csv_rows(selection, got))
    await keep(key, stamp, {"csv": text})
    return selection, text
