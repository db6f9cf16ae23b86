"""The needs dashboard's selection (months, area, channel) read from a query string, and the
one query a page runs (`read`): the areas, the first and last month with figures, the
selection's counts summed by SQL, and the rows kept for it (consult.services.need_dashboard
says what is kept and why it is never stale)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from consult.models import NeedChannel
from consult.rules.need_stats import NeedCounts, last_twelve_months, months_between, year_months
from consult.services.need_stats import stat_month
from core.db import select_named
from core.errors import NotFound, ValidationError
from core.i18n import _

FORMAT = 1  # of what is kept: raise it when the medians or the CSV are computed differently
FIRST_YEAR = 2000  # the earliest year the filter accepts (no district counted needs before)
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
_SPAN = (  # MIN and MAX apart: each one reads a single index entry
    "SELECT 's', (SELECT MIN(month) FROM need_stat), (SELECT MAX(month) FROM need_stat),"
    f" {_NO_ID}, {_ZEROS}, {_NO_ID}, {_NO_TEXT}"
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
