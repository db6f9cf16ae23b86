"""The figures of the public needs dashboard, as pure arithmetic: no I/O, no ORM.

- **response rate** = answered / received, **resolution rate** = resolved / received,
  **satisfaction rate** = satisfied / rated (a rating of 4 or 5 counts as satisfied). A rate
  is a percentage with one decimal, rounded half up (97.55 → 97.6), computed exactly from the
  whole numbers; `None` (shown "—") when its denominator is 0.
- **median response time**: the median of the answered needs' response times in whole hours
  (each need counted once, from the histogram hours → how many needs): for an odd count the
  middle one, for an even count the mean of the lower and the upper middle. Shown in days:
  hours / 24, rounded half up to one decimal. `None` when nothing was answered.
- Counts of months, areas and channels add up (`NeedCounts.__add__`, `total`), histograms
  merge by adding counts per hour (`merge`): a median is taken from the merged histogram, never
  from medians (a median of medians is not the median).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from decimal import Decimal
from fractions import Fraction

Histogram = Mapping[int, int]  # whole hours from receipt to answer → how many needs


@dataclass(frozen=True, slots=True)
class NeedCounts:
    """What the dashboard counts of the needs received in some months, areas and channels."""

    received: int = 0
    answered: int = 0
    resolved: int = 0
    rated: int = 0
    satisfied: int = 0

    def __add__(self, other: NeedCounts) -> NeedCounts:
        return NeedCounts(
            self.received + other.received,
            self.answered + other.answered,
            self.resolved + other.resolved,
            self.rated + other.rated,
            self.satisfied + other.satisfied,
        )

    @property
    def response_rate(self) -> Decimal | None:
        return percent(self.answered, self.received)

    @property
    def resolution_rate(self) -> Decimal | None:
        return percent(self.resolved, self.received)

    @property
    def satisfaction_rate(self) -> Decimal | None:
        return percent(self.satisfied, self.rated)


COUNT_NAMES = tuple(f.name for f in fields(NeedCounts))


def total(rows: Iterable[NeedCounts]) -> NeedCounts:
    """The sum of some rows (months, areas, channels): every count added."""
    out = NeedCounts()
    for row in rows:
        out = out + row
    return out


def _round_half_up(numerator: int, denominator: int) -> int:
    """The whole number nearest to numerator / denominator (both ≥ 0), halves rounded up."""
    return (2 * numerator + denominator) // (2 * denominator)


def percent(part: int, whole: int) -> Decimal | None:
    """part / whole as a percentage with one decimal, rounded half up; None when whole is 0."""
    if whole <= 0:
        return None
    return Decimal(_round_half_up(1000 * part, whole)).scaleb(-1)


def merge(histograms: Iterable[Histogram]) -> Counter[int]:
    """Histograms of several months, areas or channels as one (counts added per hour)."""
    out: Counter[int] = Counter()
    for histogram in histograms:
        for hours, count in histogram.items():
            if count:
                out[hours] += count
    return out


def median_hours(histogram: Histogram) -> Fraction | None:
    """The median of the response times the histogram holds (hours; a half for an even count
    whose two middle times differ), or None when it holds none."""
    n = sum(count for count in histogram.values() if count > 0)
    if n == 0:
        return None
    lower_at, upper_at = (n + 1) // 2, n // 2 + 1  # 1-based positions of the two middles
    lower = upper = None
    seen = 0
    for hours in sorted(h for h, count in histogram.items() if count > 0):
        seen += histogram[hours]
        if lower is None and seen >= lower_at:
            lower = hours
        if seen >= upper_at:
            upper = hours
            break
    assert lower is not None and upper is not None
    return Fraction(lower + upper, 2)


def hours_to_days(hours: Fraction | int | None) -> Decimal | None:
    """Hours as days with one decimal, rounded half up (36 h → 1.5, 1 h → 0.0)."""
    if hours is None:
        return None
    hours = Fraction(hours)
    tenths = _round_half_up(10 * hours.numerator, 24 * hours.denominator)
    return Decimal(tenths).scaleb(-1)


def median_days(histogram: Histogram) -> Decimal | None:
    """The median response time in days with one decimal, None when nothing was answered."""
    return hours_to_days(median_hours(histogram))


# --- months -----------------------------------------------------------------------------------


def month_of(year: int, month: int) -> str:
    """The key of a month as the counts store it: "2026-03"."""
    return f"{year:04d}-{month:02d}"


def months_between(first: str, last: str) -> list[str]:
    """Every month from `first` to `last` ("2025-12" … "2026-11"), both included."""
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while (key := month_of(year, month)) <= last:
        out.append(key)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def last_twelve_months(current: str) -> tuple[str, str]:
    """(first, last) of the twelve months ending with `current` (included)."""
    year, month = int(current[:4]), int(current[5:7])
    first_year, first_month = (year, month - 11) if month == 12 else (year - 1, month + 1)
    return month_of(first_year, first_month), current


def year_months(year: int) -> tuple[str, str]:
    """(first, last) month of a calendar year."""
    return month_of(year, 1), month_of(year, 12)
