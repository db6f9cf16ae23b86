"""Meetings' recurrence rules, against hand-worked calendars (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consult.rules import recurrence as r
from consult.rules.recurrence import RecurrenceError


def local(y: int, m: int, d: int, hh: int = 19, mm: int = 0) -> datetime:
    return r.local_moment(date(y, m, d), time(hh, mm))


def local_days(series) -> list[date]:
    return [r.local_date(moment) for moment in series]


def test_monthly_on_the_16th_at_19_local_from_a_chosen_earlier_day():
    series = r.check("FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12", local(2026, 1, 10))
    # 19:00 in Shanghai is 11:00 UTC, every month
    assert series.first == datetime(2026, 1, 16, 11, 0, tzinfo=UTC)
    assert series.last == datetime(2026, 12, 16, 11, 0, tzinfo=UTC)
    assert len(series.occurrences) == 12
    assert {m.hour for m in series.occurrences} == {11}
    assert local_days(series.occurrences)[:3] == [
        date(2026, 1, 16),
        date(2026, 2, 16),
        date(2026, 3, 16),
    ]
    assert series.rrule == "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12"


def test_the_31st_skips_the_months_without_one_and_the_last_day_does_not():
    series = r.check("FREQ=MONTHLY;BYMONTHDAY=31;COUNT=7", local(2026, 1, 31))
    assert local_days(series.occurrences) == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
        date(2026, 7, 31),
        date(2026, 8, 31),
        date(2026, 10, 31),
        date(2026, 12, 31),
    ]
    last_day = r.check("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", local(2026, 1, 31))
    assert local_days(last_day.occurrences) == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


def test_weekly_on_the_weekday_of_the_first_meeting():
    rule = r.build_rrule(r.WEEKLY, first=date(2026, 3, 4), count=3)  # a Wednesday
    assert rule == "FREQ=WEEKLY;BYDAY=WE;COUNT=3"
    series = r.check(rule, local(2026, 3, 4, 9, 30))
    assert local_days(series.occurrences) == [
        date(2026, 3, 4),
        date(2026, 3, 11),
        date(2026, 3, 18),
    ]
    assert series.first == datetime(2026, 3, 4, 1, 30, tzinfo=UTC)


def test_until_a_day_includes_that_day_and_is_stored_in_utc():
    series = r.check("RRULE:freq=weekly;byday=FR;until=20260320", local(2026, 3, 1, 9, 30))
    assert series.rrule == "FREQ=WEEKLY;BYDAY=FR;UNTIL=20260320T155959Z"  # 23:59:59 local
    assert local_days(series.occurrences) == [
        date(2026, 3, 6),
        date(2026, 3, 13),
        date(2026, 3, 20),
    ]
    # an UNTIL before that day's meeting (09:00 local) leaves it out
    earlier = r.check("FREQ=WEEKLY;BYDAY=FR;UNTIL=20260320T010000Z", local(2026, 3, 1, 9, 30))
    assert local_days(earlier.occurrences) == [date(2026, 3, 6), date(2026, 3, 13)]
    # a local time is read in Shanghai
    as_local = r.check("FREQ=WEEKLY;BYDAY=FR;UNTIL=20260320T090000", local(2026, 3, 1, 9, 30))
    assert as_local.rrule.endswith("UNTIL=20260320T010000Z")


def test_monthly_on_the_third_friday():
    rule = r.build_rrule(r.MONTHLY_WEEKDAY, first=date(2026, 1, 16), count=3)
    assert rule == "FREQ=MONTHLY;BYDAY=3FR;COUNT=3"
    series = r.check(rule, local(2026, 1, 16))
    assert local_days(series.occurrences) == [
        date(2026, 1, 16),
        date(2026, 2, 20),
        date(2026, 3, 20),
    ]
    last = r.build_rrule(r.MONTHLY_WEEKDAY, first=date(2026, 1, 30), count=2)  # a fifth Friday
    assert last == "FREQ=MONTHLY;BYDAY=-1FR;COUNT=2"
    assert local_days(r.check(last, local(2026, 1, 30)).occurrences) == [
        date(2026, 1, 30),
        date(2026, 2, 27),
    ]


def test_the_friendly_form_ends_on_a_day_or_after_a_number_of_times():
    rule = r.build_rrule(r.MONTHLY_DAY, first=date(2026, 1, 5), until=date(2026, 6, 30))
    assert rule == "FREQ=MONTHLY;BYMONTHDAY=5;UNTIL=20260630T155959Z"
    assert len(r.check(rule, local(2026, 1, 5)).occurrences) == 6
    assert r.build_rrule(r.ONCE, first=date(2026, 1, 5)) == ""
    assert r.check("", local(2026, 1, 5)).occurrences == (local(2026, 1, 5),)
    with pytest.raises(RecurrenceError) as caught:
        r.build_rrule(r.WEEKLY, first=date(2026, 1, 5))
    assert caught.value.code == r.NEVER_ENDS


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ("FREQ=MONTHLY;BYMONTHDAY=16", r.NEVER_ENDS),
        ("FREQ=HOURLY;COUNT=3", r.BAD_FREQ),
        ("BYMONTHDAY=16;COUNT=3", r.NO_FREQ),
        ("FREQ=DAILY;BYHOUR=9;COUNT=3", r.UNKNOWN_PART),
        ("FREQ=DAILY;X-NAME=1;COUNT=3", r.UNKNOWN_PART),
        ("FREQ=DAILY;FREQ=WEEKLY;COUNT=3", r.REPEATED_PART),
        ("FREQ=MONTHLY;16;COUNT=3", r.MALFORMED),
        ("FREQ=WEEKLY;COUNT=121", r.TOO_MANY),
        ("FREQ=WEEKLY;COUNT=0", r.BAD_VALUE),
        ("FREQ=WEEKLY;COUNT=ten", r.BAD_VALUE),
        ("FREQ=MONTHLY;COUNT=62", r.TOO_LONG),  # the 62nd is five years and a month later
        ("FREQ=DAILY;UNTIL=20301231", r.TOO_MANY),  # about 1,800 days
        ("FREQ=YEARLY;UNTIL=20330101", r.TOO_LONG),
        ("FREQ=WEEKLY;COUNT=3;UNTIL=20260601", r.COUNT_AND_UNTIL),
        ("FREQ=MONTHLY;BYMONTHDAY=0;COUNT=3", r.BAD_VALUE),
        ("FREQ=MONTHLY;BYMONTHDAY=32;COUNT=3", r.BAD_VALUE),
        ("FREQ=MONTHLY;BYDAY=3XX;COUNT=3", r.BAD_VALUE),
        ("FREQ=WEEKLY;BYDAY=2MO;COUNT=3", r.BAD_VALUE),  # "the second Monday" of a week
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=3", r.BAD_VALUE),
        ("FREQ=WEEKLY;UNTIL=2026-06-01;COUNT=3", r.BAD_VALUE),
        ("FREQ=WEEKLY;UNTIL=20260231", r.BAD_VALUE),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;COUNT=2", r.NO_OCCURRENCE),
        ("FREQ=WEEKLY;UNTIL=20251231", r.NO_OCCURRENCE),  # ends before it starts
    ],
)
def test_refused_rules(rule, code):
    with pytest.raises(RecurrenceError) as caught:
        r.check(rule, local(2026, 1, 16))
    assert caught.value.code == code


def test_five_years_of_monthly_meetings_is_the_longest_series():
    series = r.check("FREQ=MONTHLY;COUNT=61", local(2026, 1, 16))
    assert r.local_date(series.last) == date(2031, 1, 16)  # five years to the day
    assert r.check("FREQ=WEEKLY;COUNT=120", local(2026, 1, 16)).last < local(2028, 5, 1)


def test_the_form_reads_back_what_it_wrote_and_leaves_the_rest_to_the_advanced_field():
    assert r.friendly("") == r.Friendly(r.ONCE)
    assert r.friendly("FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12") == r.Friendly(
        r.MONTHLY_DAY, monthday=16, count=12
    )
    assert r.friendly("FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20261231T155959Z") == r.Friendly(
        r.MONTHLY_WEEKDAY, weekday="FR", nth=-1, until=date(2026, 12, 31)
    )
    assert r.friendly("FREQ=WEEKLY;BYDAY=MO;COUNT=4") == r.Friendly(r.WEEKLY, weekday="MO", count=4)
    assert r.friendly("FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4") is None
    assert r.friendly("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;COUNT=4") is None
    assert r.friendly("FREQ=WEEKLY;BYDAY=MO;UNTIL=20261231T010000Z") is None


def test_shapes_for_the_words_on_the_page():
    assert r.shape("FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12") == r.Shape(
        "monthly_day", monthdays=(16,), count=12
    )
    assert r.shape("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;UNTIL=20261231T155959Z") == r.Shape(
        "weekly", interval=2, weekdays=("MO", "TH"), until=date(2026, 12, 31)
    )
    assert r.shape("FREQ=MONTHLY;BYDAY=-1SU;COUNT=3") == r.Shape(
        "monthly_weekday", weekdays=("SU",), nth=-1, count=3
    )
    assert r.shape("FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=1;COUNT=3").kind == "custom"


def test_a_series_cancelled_part_way_ends_with_its_last_held_meeting():
    start = local(2026, 1, 16)
    rule = "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12"
    assert r.truncated(rule, start, local(2026, 4, 1)) == (
        "FREQ=MONTHLY;BYMONTHDAY=16;UNTIL=20260316T110000Z"
    )
    assert r.truncated(rule, start, local(2026, 2, 1)) == ""  # only one was held
    assert r.between(start, rule, after=local(2026, 3, 1), before=local(2026, 6, 1)) == [
        local(2026, 3, 16),
        local(2026, 4, 16),
        local(2026, 5, 16),
    ]
    assert r.is_occurrence(start, rule, local(2026, 5, 16))
    assert not r.is_occurrence(start, rule, local(2026, 5, 17))


def test_occurrence_keys_round_trip():
    moment = local(2026, 1, 16)
    assert r.occurrence_key(moment) == "20260116T110000Z"
    assert r.parse_occurrence_key("20260116T110000Z") == moment
    assert r.parse_occurrence_key("2026-01-16") is None


@given(
    repeat=st.sampled_from([r.WEEKLY, r.MONTHLY_DAY, r.MONTHLY_WEEKDAY]),
    first=st.dates(date(2025, 1, 1), date(2030, 12, 31)),
    count=st.integers(1, 130),
    hour=st.integers(0, 23),
)
def test_every_friendly_series_is_refused_or_bounded_and_keeps_its_local_time(
    repeat, first, count, hour
):
    rule = r.build_rrule(repeat, first=first, count=count)
    try:
        series = r.check(rule, r.local_moment(first, time(hour, 0)))
    except RecurrenceError as exc:
        assert exc.code in (r.TOO_MANY, r.TOO_LONG)
        return
    moments = series.occurrences
    assert len(moments) == count <= r.MAX_COUNT
    assert list(moments) == sorted(set(moments))
    assert r.local_date(moments[0]) >= first
    assert {m.astimezone(r.DISTRICT_TZ).hour for m in moments} == {hour}
    assert moments[-1] <= r.add_years(moments[0], r.MAX_YEARS)
    # stored and expanded again from its first occurrence: the same dates
    assert r.occurrences(series.first, series.rrule) == moments
