"""The public needs dashboard (/needs) and its open data (/needs/stats.csv), at the site root
(`root_routes`): anyone, no sign-in, no personal data. The figures come from
consult.services.need_dashboard; here the filters are read, the charts drawn and the page or
the CSV written."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from babel.dates import format_skeleton
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette_babel import get_locale

from budget.services.finance_charts import Series
from consult.models import NeedChannel
from consult.services import need_charts
from consult.services import need_dashboard as svc
from core.i18n import _, format_number, label
from core.web import render, with_user


@functools.lru_cache(maxsize=512)
def _month_text(month: str, skeleton: str, locale: str) -> str:
    return format_skeleton(skeleton, date(int(month[:4]), int(month[5:7]), 1), locale=locale)


def month_label(month: str) -> str:
    """ "2026-11" as "2026年11月" / "Nov 2026"."""
    return _month_text(month, "yMMM", str(get_locale()))


def month_short(month: str) -> str:
    """ "2026-11" as "11月" / "Nov" (under a chart's columns)."""
    return _month_text(month, "MMM", str(get_locale()))


def pct(rate: Decimal | float | None) -> str:
    """A rate (one decimal) as shown: "97.6%", or "—" when there is none."""
    return "—" if rate is None else f"{rate}%"


def days_text(value: Decimal | None) -> str:
    return "—" if value is None else str(value)


class Rows:
    """For the template: a table's lines as `<tr>`s, written in one pass (a year of months,
    the channels, twenty areas: the figures of a hundred cells are the page's main cost when
    a template writes them one by one). Names are escaped; figures need no escaping."""

    def __init__(self, request: Request, form: svc.Filters) -> None:
        self.group = format_number(1000)[1]  # the locale's group separator
        self.area_url = str(request.url_for("needs_dashboard"))
        self.keep = "".join(
            f"&amp;{name}={value}"
            for name, value in (("year", form.year), ("channel", form.channel))
            if value
        )
        self.area_names = form.area_names

    def num(self, n: int) -> str:
        return f"{n:,}".replace(",", self.group)

    def cells(self, line: svc.Line) -> str:
        c = line.counts
        values = (
            self.num(c.received),
            self.num(c.answered),
            days_text(line.median_days),
            self.num(c.resolved),
            pct(c.resolution_rate),
            self.num(c.rated),
            self.num(c.satisfied),
            pct(c.satisfaction_rate),
        )
        return "".join(f'<td class="num">{v}</td>' for v in values)

    def months(self, lines: list[svc.Line]) -> Markup:
        return Markup(
            "".join(
                f'<tr data-month="{m.key}"><th scope="row">{escape(month_label(m.key))}</th>'
                f"{self.cells(m)}</tr>"
                for m in lines
            )
        )

    def channels(self, lines: list[svc.Line]) -> Markup:
        return Markup(
            "".join(
                f'<tr data-channel="{c.key}"><th scope="row">{escape(_channel_label(c.key))}'
                f"</th>{self.cells(c)}</tr>"
                for c in lines
            )
        )

    def areas(self, lines: list[svc.Line]) -> Markup:
        return Markup(
            "".join(
                f'<tr data-area="{a.key}"><th scope="row"><a href="{self.area_url}?area={a.key}'
                f'{self.keep}">{escape(self.area_names.get(int(a.key), ""))}</a></th>'
                f"{self.cells(a)}</tr>"
                for a in lines
            )
        )

    def total(self, line: svc.Line) -> Markup:
        return Markup(self.cells(line))

    def received_by_channel(self, months: list[svc.Line], lines: list[svc.Line]) -> Markup:
        """The cross table: a row per month, the needs received through each channel."""
        channels = [c.key for c in lines]
        out = []
        for m in months:
            got = {c.key: c.counts.received for c in m.sub}
            cells = "".join(f'<td class="num">{self.num(got.get(k, 0))}</td>' for k in channels)
            out.append(
                f'<tr data-month="{m.key}"><th scope="row">{escape(month_label(m.key))}</th>'
                f"{cells}</tr>"
            )
        return Markup("".join(out))


CHANNEL_BY_VALUE = {c.value: c for c in NeedChannel}


def _channel_label(key: str) -> str:
    return label(CHANNEL_BY_VALUE[key])


def _charts(
    data: svc.Dashboard, area_names: dict[int, str], num: Callable[[int], str]
) -> dict[str, Markup]:
    """The page's charts; each says what it shows and that the table under it has the figures
    (`num` writes a count in the locale's way)."""
    received = Series("received", _("Received"))
    answered = Series("answered", _("Answered"))
    resolved = Series("resolved", _("Resolved"))
    satisfied = Series("satisfied", _("Satisfaction rate"))
    resolution = Series("resolution", _("Resolution rate"))
    points = [need_charts.Point(month_label(m.key), month_short(m.key)) for m in data.months]
    first, last = month_label(data.months[0].key), month_label(data.months[-1].key)
    busiest = max(data.months, key=lambda m: m.counts.received)
    table_note = _("The table below gives every figure.")
    charts = {
        "months": need_charts.columns(
            "chart-months",
            _("Needs received, answered and resolved per month"),
            _(
                "From %(first)s to %(last)s, %(received)s needs were received, %(answered)s "
                "answered and %(resolved)s resolved; the most in %(busiest)s (%(most)s)."
            )
            % {
                "first": first,
                "last": last,
                "received": num(data.total.counts.received),
                "answered": num(data.total.counts.answered),
                "resolved": num(data.total.counts.resolved),
                "busiest": month_label(busiest.key),
                "most": num(busiest.counts.received),
            }
            + " "
            + table_note,
            [received, answered, resolved],
            points,
            [[m.counts.received, m.counts.answered, m.counts.resolved] for m in data.months],
            num,
        ),
        "rates": need_charts.percent_lines(
            "chart-rates",
            _("Satisfaction and resolution rates per month"),
            _(
                "Over the period, %(satisfied)s of ratings were 4 or 5 and %(resolved)s of "
                "the needs were resolved; a month without ratings has no point."
            )
            % {
                "satisfied": pct(data.total.counts.satisfaction_rate),
                "resolved": pct(data.total.counts.resolution_rate),
            }
            + " "
            + table_note,
            [satisfied, resolution],
            points,
            [
                [
                    None if r is None else float(r)
                    for r in (m.counts.satisfaction_rate, m.counts.resolution_rate)
                ]
                for m in data.months
            ],
            lambda v: pct(v),
        ),
    }
    charts["channels"] = need_charts.bars(
        "chart-channels",
        _("Needs received and resolved by channel"),
        " ".join(
            _("%(channel)s: %(received)s received, %(resolved)s resolved.")
            % {
                "channel": _channel_label(c.key),
                "received": num(c.counts.received),
                "resolved": num(c.counts.resolved),
            }
            for c in data.channels
        )
        + " "
        + table_note,
        [received, resolved],
        [(_channel_label(c.key), [c.counts.received, c.counts.resolved]) for c in data.channels],
        num,
    )
    if data.areas:
        busiest = max(data.areas, key=lambda a: a.counts.received)
        charts["areas"] = need_charts.bars(
            "chart-areas",
            _("Needs received and resolved by area"),
            _("%(areas)s areas; the most needs in %(area)s (%(n)s).")
            % {
                "areas": num(len(data.areas)),
                "area": area_names.get(int(busiest.key), ""),
                "n": num(busiest.counts.received),
            }
            + " "
            + table_note,
            [received, resolved],
            [
                (area_names.get(int(a.key), a.key), [a.counts.received, a.counts.resolved])
                for a in data.areas
            ],
            num,
        )
    return charts


def _context(request: Request, form: svc.Filters) -> dict:
    return {
        "form": form,
        "channels": list(NeedChannel),
        "channel_label": _channel_label,
        "pct": pct,
        "rows": Rows(request, form),
    }


# What the kept figures were rendered by: a kept page is used only by the same code,
# template and translations (a new release renders them anew).
_RENDERED_BY = (
    "templates/consult/needs_dashboard_results.html",
    "consult/routes/need_dashboard.py",
    "consult/services/need_charts.py",
    "consult/services/need_dashboard.py",
    "consult/rules/need_stats.py",
    "budget/services/finance_charts.py",
)
ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def _code_digest(locale: str) -> str:
    """A digest of the files that render the figures in `locale` (read once per process)."""
    digest = hashlib.blake2b(digest_size=8)
    for name in (*_RENDERED_BY, f"locales/{locale}/LC_MESSAGES/messages.mo"):
        path = ROOT / name
        digest.update(path.read_bytes() if path.exists() else b"-")
    return digest.hexdigest()


def _csv_url(request: Request, form: svc.Filters) -> str:
    query = urlencode(
        [(name, value) for name, value in (("area", form.area), ("year", form.year),
         ("channel", form.channel)) if value]
    )  # fmt: skip
    return str(request.url_for("needs_stats_csv")) + (f"?{query}" if query else "")


@with_user
async def needs_dashboard(request: Request) -> Response:
    """The public dashboard: headline figures of the selection, charts, and the same figures
    in tables per month, per month and channel, per channel and per area.

    The figures' HTML (the page less its layout and filters) is kept like the medians, for
    the selection, the locale and the year asked for, with a stamp of the data it shows
    (svc.data_stamp), the site's address and the code that rendered it: one query, then
    only the layout to render, while nothing changed."""
    locale = str(get_locale())
    kind = f"page-{locale}-{request.query_params.get('year', '')[:4]}"
    form, got = await svc.read_dashboard(request.query_params, (kind,))
    ctx = _context(request, form)
    if form.selection is None:
        return render(request, "consult/needs_dashboard.html", ctx, status_code=422)
    key = form.selection.key(kind)
    site = hashlib.blake2b(str(request.base_url).encode(), digest_size=4).hexdigest()
    stamp = f"{svc.FORMAT}:{svc.data_stamp(form, got)}:{_code_digest(locale)}:{site}"
    kept = got.kept.get(key)
    if kept is not None and kept[0] == stamp:
        html = json.loads(kept[1])["html"]
    else:
        data = await svc.dashboard(form, got)
        ctx.update(
            data=data,
            charts=None if data.empty else _charts(data, form.area_names, ctx["rows"].num),
            csv_url=_csv_url(request, form),
        )
        template = request.app.state.templates.get_template("consult/needs_dashboard_results.html")
        html = template.render({"request": request, **ctx})
        await svc.keep(key, stamp, {"html": html})
    ctx["results"] = Markup(html)
    return render(request, "consult/needs_dashboard.html", ctx)


async def needs_csv(request: Request) -> Response:
    """The dashboard's figures as open data: one row per month, area and channel with needs
    (svc.CSV_COLUMNS), the dashboard's filters in the query string. UTF-8 with a byte-order
    mark, so that Excel shows the Chinese area names; the channel as its code (online …)."""
    selection, text = await svc.csv_file(request.query_params)
    period = str(selection.year) if selection.year else f"{selection.first}_{selection.last}"
    return Response(
        text.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="needs-{period}.csv"'},
    )


root_routes = [
    Route("/needs", needs_dashboard, name="needs_dashboard"),
    Route("/needs/stats.csv", needs_csv, name="needs_stats_csv"),
]
