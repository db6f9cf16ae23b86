"""The needs dashboard's charts, drawn on the server as inline SVG: pure geometry, no I/O.

Two shapes: columns (a group per month, a column per series: received, answered, resolved)
and lines of percentages (satisfaction and resolution per month, 0–100 %, a gap where a month
has no figure); bars by channel and by area come from budget's `bar_chart`. Every chart has a
`<title>` (its accessible name) and a `<desc>` (a sentence summing it up, and where the
figures are: the table under it, the source of truth); every column and point has its own
`<title>` with its value. The viewBox scales the drawing to the container (a 360-px phone
too); colours come from CSS classes (`chart-<series>`), never from style attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup

from budget.services.finance_charts import Series, shorten
from core.i18n import labelled

WIDTH = 480  # narrower than finance's 640: the labels stay readable on a phone
LEFT = 62  # the y axis' labels ("10,000")
TOP = 12
PLOT_HEIGHT = 200
BOTTOM = 28  # the x labels
LEGEND = 26


def _esc(text: str) -> str:
    return (
        str(text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at least `value` (the top of an axis); 1 for 0."""
    step = 1
    while True:
        for m in (1, 2, 5):
            if m * step >= value:
                return m * step
        step *= 10


@dataclass(frozen=True)
class Point:
    label: str  # in full, for the tooltip ("2026年11月")
    short: str  # under the axis ("11月")


def _frame(ident: str, title: str, desc: str, height: int) -> list[str]:
    ident = _esc(ident)
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc" focusable="false" class="needs-chart">',
        f'<title id="{ident}-title">{_esc(title)}</title>',
        f'<desc id="{ident}-desc">{_esc(desc)}</desc>',
    ]


def _legend(series: Sequence[Series], y: int) -> list[str]:
    out = []
    step = (WIDTH - LEFT) // max(1, len(series))
    for i, s in enumerate(series):
        x = LEFT + i * step
        out.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" class="chart-{_esc(s.key)}"/>'
            f'<text x="{x + 16}" y="{y}" class="chart-legend">{_esc(s.label)}</text>'
        )
    return out


def _axis(top_value: int, ticks: int, fmt: Callable[[int], str]) -> list[str]:
    """Horizontal grid lines with their values, from 0 to `top_value`."""
    out = []
    for i in range(ticks + 1):
        value = top_value * i // ticks
        y = TOP + PLOT_HEIGHT - PLOT_HEIGHT * i // ticks
        out.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{WIDTH}" y2="{y}" class="chart-grid"/>'
            f'<text x="{LEFT - 4}" y="{y + 4}" text-anchor="end" class="chart-value">'
            f"{_esc(fmt(value))}</text>"
        )
    return out


def _x_labels(points: Sequence[Point], centre: Callable[[int], float]) -> list[str]:
    y = TOP + PLOT_HEIGHT + 18
    return [
        f'<text x="{centre(i):.0f}" y="{y}" text-anchor="middle" class="chart-label">'
        f"{_esc(p.short)}</text>"
        for i, p in enumerate(points)
    ]


def columns(
    ident: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    points: Sequence[Point],
    values: Sequence[Sequence[int]],
    fmt: Callable[[int], str],
) -> Markup:
    """Grouped columns: for each point (a month) one column per series, scaled to a round
    top value; `values[i][j]` is point i's value of series j."""
    height = TOP + PLOT_HEIGHT + BOTTOM + LEGEND
    top_value = nice_ceiling(max((v for row in values for v in row), default=0))
    n = max(1, len(points))
    group = (WIDTH - LEFT) / n
    width = max(2.0, min(18.0, (group - 6) / max(1, len(series))))
    out = _frame(ident, title, desc, height)
    out += _axis(top_value, 4, fmt)

    def centre(i: int) -> float:
        return LEFT + group * i + group / 2

    for i, (point, row) in enumerate(zip(points, values, strict=True)):
        x0 = centre(i) - width * len(series) / 2
        for j, (s, value) in enumerate(zip(series, row, strict=True)):
            h = round(PLOT_HEIGHT * value / top_value) if value > 0 else 0
            if value > 0 and h == 0:
                h = 1  # a value that exists is never invisible
            out.append(
                f'<rect x="{x0 + j * width:.1f}" y="{TOP + PLOT_HEIGHT - h}" width="{width:.1f}"'
                f' height="{h}" class="chart-{_esc(s.key)}"><title>'
                f"{labelled(_esc(point.label) + ' · ' + _esc(s.label), _esc(fmt(value)))}"
                f"</title></rect>"
            )
    out += _x_labels(points, centre)
    out += _legend(series, height - 6)
    out.append("</svg>")
    return Markup("".join(out))


def percent_lines(
    ident: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    points: Sequence[Point],
    values: Sequence[Sequence[float | None]],
    fmt: Callable[[float | None], str],
) -> Markup:
    """A line per series over the points, on a 0–100 % scale; a None breaks the line (a month
    without ratings has no satisfaction rate, which is not 0 %)."""
    height = TOP + PLOT_HEIGHT + BOTTOM + LEGEND
    n = max(1, len(points))
    step = (WIDTH - LEFT) / n
    out = _frame(ident, title, desc, height)
    out += _axis(100, 4, lambda v: f"{v}%")

    def centre(i: int) -> float:
        return LEFT + step * i + step / 2

    def y_of(value: float) -> float:
        return TOP + PLOT_HEIGHT - PLOT_HEIGHT * float(value) / 100

    for j, s in enumerate(series):
        key = _esc(s.key)
        segment: list[str] = []
        segments = [segment]
        for i, row in enumerate(values):
            if row[j] is None:
                segment = []
                segments.append(segment)
                continue
            segment.append(f"{centre(i):.1f},{y_of(row[j]):.1f}")
        for seg in segments:
            if len(seg) > 1:
                out.append(f'<polyline points="{" ".join(seg)}" class="chart-line-{key}"/>')
        for i, (point, row) in enumerate(zip(points, values, strict=True)):
            if row[j] is not None:
                out.append(
                    f'<circle cx="{centre(i):.1f}" cy="{y_of(row[j]):.1f}" r="4"'
                    f' class="chart-{key}"><title>'
                    f"{labelled(_esc(point.label) + ' · ' + _esc(s.label), _esc(fmt(row[j])))}"
                    f"</title></circle>"
                )
    out += _x_labels(points, centre)
    out += _legend(series, height - 6)
    out.append("</svg>")
    return Markup("".join(out))


BAR_LABEL = 120  # room for a row's label left of its bars
BAR = 16
BAR_GAP = 3
ROW_GAP = 12
VALUE_ROOM = 70  # after the longest bar, for its value


def bars(
    ident: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    rows: Sequence[tuple[str, Sequence[int]]],
    fmt: Callable[[int], str],
) -> Markup:
    """Horizontal bars: for each row (a channel, an area) one bar per series, its value written
    after it, scaled to the largest value."""
    largest = max((v for _label, values in rows for v in values), default=0)
    room = WIDTH - BAR_LABEL - VALUE_ROOM
    group = len(series) * (BAR + BAR_GAP) - BAR_GAP
    height = TOP + len(rows) * (group + ROW_GAP) + LEGEND
    out = _frame(ident, title, desc, height)
    out.append(
        f'<line x1="{BAR_LABEL}" y1="0" x2="{BAR_LABEL}" y2="{height - LEGEND}"'
        ' class="chart-axis"/>'
    )
    y = TOP
    for label, values in rows:
        text = _esc(label)
        out.append(
            f'<text x="{BAR_LABEL - 6}" y="{y + group // 2 + 5}" text-anchor="end"'
            f' class="chart-label"><title>{text}</title>{_esc(shorten(label, 14))}</text>'
        )
        for j, (s, value) in enumerate(zip(series, values, strict=True)):
            width = round(room * value / largest) if largest and value > 0 else 0
            if value > 0 and width == 0:
                width = 1
            top = y + j * (BAR + BAR_GAP)
            shown = _esc(fmt(value))
            out.append(
                f'<rect x="{BAR_LABEL}" y="{top}" width="{width}" height="{BAR}"'
                f' class="chart-{_esc(s.key)}"><title>'
                f"{labelled(text + ' · ' + _esc(s.label), shown)}</title>"
                f'</rect><text x="{BAR_LABEL + width + 4}" y="{top + BAR - 3}"'
                f' class="chart-value">{shown}</text>'
            )
        y += group + ROW_GAP
    out += _legend(series, height - 6)
    out.append("</svg>")
    return Markup("".join(out))
