"""The dashboard's arithmetic (consult.rules.need_stats): rates, the median response time from
an hours histogram, sums across months, areas and channels. Hand-worked cases, then
properties against the plain way (statistics.median of the expanded list)."""

from __future__ import annotations

import statistics
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from consult.rules.need_stats import (
    NeedCounts,
    hours_to_days,
    last_twelve_months,
    median_days,
    median_hours,
    merge,
    months_between,
    percent,
    total,
    year_months,
)

# --- rates -------------------------------------------------------------------------------------


def test_the_citys_figures_come_out_as_published():
    # 158,835 requests, 97.6 % resolved, 97.8 % satisfied
    counts = NeedCounts(
        received=158_835, answered=158_835, resolved=155_023, rated=1000, satisfied=978
    )
    assert counts.resolution_rate == Decimal("97.6")  # 97.5999… → 97.6
    assert counts.satisfaction_rate == Decimal("97.8")
    assert counts.response_rate == Decimal("100.0")


def test_rates_round_half_up_to_one_decimal():
    assert percent(1, 3) == Decimal("33.3")
    assert percent(2, 3) == Decimal("66.7")
    assert percent(1, 8) == Decimal("12.5")  # exact
    assert percent(1, 16) == Decimal("6.3")  # 6.25 → 6.3 (half up, not to even)
    assert percent(3, 16) == Decimal("18.8")  # 18.75 → 18.8
    assert percent(1951, 2000) == Decimal("97.6")  # 97.55 → 97.6
    assert percent(0, 5) == Decimal("0.0")
    assert percent(5, 5) == Decimal("100.0")


def test_a_rate_without_a_denominator_is_none():
    assert percent(0, 0) is None
    empty = NeedCounts()
    assert empty.response_rate is None
    assert empty.resolution_rate is None
    assert empty.satisfaction_rate is None
    # received but nobody rated yet: rates of receipt exist, satisfaction does not
    some = NeedCounts(received=4, answered=3, resolved=1)
    assert (some.response_rate, some.resolution_rate) == (Decimal("75.0"), Decimal("25.0"))
    assert some.satisfaction_rate is None


def test_satisfaction_counts_only_the_rated():
    # 10 received, 4 rated, 3 of them 4–5: 75 %, not 30 %
    assert NeedCounts(received=10, rated=4, satisfied=3).satisfaction_rate == Decimal("75.0")


def test_rows_add_up_across_channels_and_months():
    online = NeedCounts(10, 9, 7, 5, 4)
    phone = NeedCounts(3, 3, 2, 1, 0)
    assert online + phone == NeedCounts(13, 12, 9, 6, 4)
    assert total([online, phone, NeedCounts()]) == NeedCounts(13, 12, 9, 6, 4)
    assert total([]) == NeedCounts()
    # the rate of the sum, not the mean of the rates: (9+3)/(10+3)
    assert total([online, phone]).response_rate == Decimal("92.3")


# --- the median response time ------------------------------------------------------------------


def test_median_of_an_odd_count_is_the_middle_one():
    # 1 h, 5 h, 5 h, 30 h, 100 h → 5 h
    assert median_hours({1: 1, 5: 2, 30: 1, 100: 1}) == 5
    assert median_days({1: 1, 5: 2, 30: 1, 100: 1}) == Decimal("0.2")  # 5/24 = 0.208


def test_median_of_an_even_count_averages_the_two_middles():
    # 2 h, 10 h, 40 h, 50 h → (10 + 40) / 2 = 25 h = 1.04 days → 1.0
    hist = {2: 1, 10: 1, 40: 1, 50: 1}
    assert median_hours(hist) == 25
    assert median_days(hist) == Decimal("1.0")
    # 11 h and 12 h in the middle: 11.5 h, a half hour kept exactly
    assert median_hours({11: 1, 12: 1}) == Fraction(23, 2)


def test_median_when_both_middles_fall_in_one_hour():
    assert median_hours({3: 2, 9: 2}) == 6  # positions 2 and 3: 3 h and 9 h
    assert median_hours({3: 1, 9: 3}) == 9  # positions 2 and 3: both 9 h
    assert median_hours({48: 7}) == 48
    assert median_days({48: 7}) == Decimal("2.0")


def test_median_ignores_empty_hours_and_is_none_without_answers():
    assert median_hours({}) is None
    assert median_days({}) is None
    assert median_hours({5: 0, 7: 0}) is None
    assert median_hours({5: 0, 7: 1}) == 7


def test_days_round_half_up_to_one_decimal():
    assert hours_to_days(0) == Decimal("0.0")
    assert hours_to_days(1) == Decimal("0.0")  # 0.0417
    assert hours_to_days(36) == Decimal("1.5")
    assert hours_to_days(Fraction(3, 2)) == Decimal("0.1")  # 1.5 h = 0.0625 → 0.1
    assert hours_to_days(Fraction(6, 5) * 1) == Decimal("0.1")  # 0.05 → 0.1 (half up)
    assert hours_to_days(168) == Decimal("7.0")
    assert hours_to_days(None) is None


def test_the_median_of_merged_months_is_not_the_median_of_their_medians():
    march = {1: 3}  # median 1 h
    april = {10: 1, 20: 1}  # median 15 h
    assert median_hours(merge([march, april])) == 1  # 1, 1, 1, 10, 20
    assert merge([march, april]) == {1: 3, 10: 1, 20: 1}


# --- months ------------------------------------------------------------------------------------


def test_months():
    assert last_twelve_months("2026-11") == ("2025-12", "2026-11")
    assert last_twelve_months("2026-12") == ("2026-01", "2026-12")
    assert last_twelve_months("2026-01") == ("2025-02", "2026-01")
    assert year_months(2025) == ("2025-01", "2025-12")
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert months_between("2026-03", "2026-03") == ["2026-03"]
    assert months_between("2026-04", "2026-03") == []
    assert len(months_between(*last_twelve_months("2026-07"))) == 12


# --- properties --------------------------------------------------------------------------------

histograms = st.dictionaries(st.integers(0, 2000), st.integers(0, 40), max_size=30)


def _expand(histogram) -> list[int]:
    return [hours for hours, count in histogram.items() for _ in range(count)]


@given(histograms)
def test_median_equals_the_median_of_the_expanded_list(histogram):
    times = _expand(histogram)
    got = median_hours(histogram)
    if not times:
        assert got is None
    else:
        assert got == Fraction(statistics.median(times))
        assert min(times) <= got <= max(times)


@given(st.lists(histograms, max_size=5))
def test_merging_histograms_is_concatenating_their_lists(parts):
    merged = merge(parts)
    assert sorted(_expand(merged)) == sorted(t for h in parts for t in _expand(h))


@given(histograms)
def test_days_are_the_median_hours_over_24_to_a_tenth(histogram):
    hours = median_hours(histogram)
    days = median_days(histogram)
    if hours is None:
        assert days is None
    else:
        assert abs(Fraction(days) - hours / 24) <= Fraction(1, 20)


counts = st.builds(
    lambda r, a, s, t, sat: NeedCounts(r + a + s, a + s, s, t + sat, sat),
    *(st.integers(0, 10_000) for _ in range(5)),
)


@given(st.lists(counts, max_size=8))
def test_rates_of_a_sum_stay_between_0_and_100_and_are_exact(rows):
    summed = total(rows)
    for name in ("received", "answered", "resolved", "rated", "satisfied"):
        assert getattr(summed, name) == sum(getattr(r, name) for r in rows)
    for rate, part, whole in (
        (summed.response_rate, summed.answered, summed.received),
        (summed.resolution_rate, summed.resolved, summed.received),
        (summed.satisfaction_rate, summed.satisfied, summed.rated),
    ):
        if whole == 0:
            assert rate is None
        else:
            assert Decimal(0) <= rate <= Decimal(100)
            assert abs(Fraction(rate) - Fraction(100 * part, whole)) <= Fraction(1, 20)
