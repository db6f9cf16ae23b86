"""Charts of the finance view, drawn on the server as SVG: pure geometry, no I/O.

A chart is horizontal bars, one group per row (an envelope, a kind, a state), one bar per
series (budget, capped, committed, paid). `svg` writes a `Chart` as an inline `<svg>` (made
here in one pass rather than by a template: a few hundred attributes per chart) with a
`<title>` and the values written beside the bars, so it reads without JavaScript; the page puts
the same figures in a table next to it. Colours come from CSS classes (`chart-<series>`), never
from style attributes (the CSP forbids them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from markupsafe import Markup

from core.i18n import labelled

WIDTH = 640  # the viewBox's width; the SVG scales to its container
LABEL_WIDTH = 170  # the row labels on the left
VALUE_ROOM = 110  # after the longest bar, for its value
BAR_HEIGHT = 14
BAR_GAP = 3
GROUP_GAP = 14
TOP = 8
LABEL_ROOM = 22  # narrow characters that fit in LABEL_WIDTH


def shorten(text: str, room: int) -> str:
    """`text` cut to `room` narrow characters (a CJK character takes two), with "…"."""

    def width(ch: str) -> int:
        return 2 if ord(ch) >= 0x2E80 else 1

    if sum(width(ch) for ch in text) <= room:
        return text
    used, out = 0, []
    for ch in text:
        used += width(ch)
        if used > room - 1:
            break
        out.append(ch)
    return "".join(out) + "…"


@dataclass(frozen=True)
class Series:
    key: str  # the CSS class is chart-<key>
    label: str


@dataclass(slots=True)
class Bar:
    series: Series
    value: int
    text: str  # the value as shown (money, a count)
    y: int
    width: int

    @property
    def text_x(self) -> int:
        return LABEL_WIDTH + self.width + 4

    @property
    def text_y(self) -> int:
        return self.y + BAR_HEIGHT - 3


@dataclass(frozen=True)
class Group:
    label: str  # in full (the SVG's tooltip)
    y: int  # the label's baseline
    bars: list[Bar]

    @property
    def short_label(self) -> str:
        """What fits left of the bars (a wide character counts twice)."""
        return shorten(self.label, LABEL_ROOM)


@dataclass
class Chart:
    title: str
    series: list[Series]
    groups: list[Group] = field(default_factory=list)
    height: int = 0
    width: int = WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def legend_y(self) -> int:
        return self.height - 6

    def legend(self) -> list[tuple[Series, int]]:
        """(series, x) of each legend entry, left to right under the bars."""
        step = (self.width - self.label_width) // max(1, len(self.series))
        return [(s, self.label_width + i * step) for i, s in enumerate(self.series)]


def bar_chart(
    title: str,
    series: Sequence[Series],
    rows: Sequence[tuple[str, Sequence[int]]],
    fmt: Callable[[int], str],
) -> Chart:
    """Bars for `rows` (label, one value per series), scaled to the largest value; `fmt`
    writes a value. Negative values (never expected) are drawn as empty bars."""
    series = list(series)
    largest = max((v for _label, values in rows for v in values), default=0)
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    chart = Chart(title=title, series=series)
    y = TOP
    for label, values in rows:
        bars = []
        for i, (s, value) in enumerate(zip(series, values, strict=True)):
            width = round(room * value / largest) if largest > 0 and value > 0 else 0
            if value > 0 and width == 0:
                width = 1  # a value that exists is never invisible
            bars.append(Bar(s, value, fmt(value), y + i * (BAR_HEIGHT + BAR_GAP), width))
        group_height = len(series) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP
        chart.groups.append(Group(label, y + group_height // 2 + 5, bars))
        y += group_height + GROUP_GAP
    chart.height = y + 24  # the legend
    return chart


def _esc(text: str) -> str:
    """`markupsafe.escape`'s text as a plain str: the same entities, without making a Markup
    object per value (a chart writes hundreds)."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
        .replace("'", "&#39;")
    )


def svg(chart: Chart, ident: str) -> Markup:
    """The chart as inline SVG; every text escaped, `ident` names its title for
    aria-labelledby."""
    lw, bh = chart.label_width, chart.bar_height
    ident = _esc(ident)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {chart.width} {chart.height}"'
        f' role="img" aria-labelledby="{ident}-title" focusable="false">',
        f'<title id="{ident}-title">{_esc(chart.title)}</title>',
        f'<line x1="{lw}" y1="0" x2="{lw}" y2="{chart.height - 22}" class="chart-axis"/>',
    ]
    # each series' class and label escaped once per chart, not once per bar
    keys = {s.key: (_esc(s.key), _esc(s.label)) for s in chart.series}
    for group in chart.groups:
        label = _esc(group.label)
        out.append(
            f'<text x="{lw - 6}" y="{group.y}" text-anchor="end" class="chart-label">'
            f"<title>{label}</title>{_esc(group.short_label)}</text>"
        )
        for bar in group.bars:
            text = _esc(bar.text)
            key, series = keys[bar.series.key]
            out.append(
                f'<rect x="{lw}" y="{bar.y}" width="{bar.width}" height="{bh}"'
                f' class="chart-{key}"><title>{labelled(label + " · " + series, text)}'
                f"</title></rect>"
                f'<text x="{bar.text_x}" y="{bar.text_y}" class="chart-value">'
                f"{text}</text>"
            )
    if len(chart.series) > 1:
        for series, x in chart.legend():
            out.append(
                f'<rect x="{x}" y="{chart.legend_y - 10}" width="12" height="12"'
                f' class="chart-{_esc(series.key)}"/><text x="{x + 16}" y="{chart.legend_y}"'
                f' class="chart-legend">{_esc(series.label)}</text>'
            )
    out.append("</svg>")
    return Markup("\n".join(out))
