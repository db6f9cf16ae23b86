"""Translated labels of enums, looked up once per locale."""

from __future__ import annotations

import contextvars
from datetime import UTC, date, datetime
from enum import StrEnum

from starlette_babel import set_locale

from core.i18n import format_day, label, load_translations


class Phase(StrEnum):
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return "Round closed"


class Status(StrEnum):
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return "Procurement closed"


def test_members_of_two_enums_with_the_same_value_keep_their_own_labels():
    load_translations()
    # in a context of its own, so that the locale set here does not reach other tests
    contextvars.copy_context().run(_labels_in_english)


def _labels_in_english() -> None:
    set_locale("en")
    assert Phase.CLOSED == Status.CLOSED  # equal as strings
    assert label(Phase.CLOSED) == "Round closed"
    assert label(Status.CLOSED) == "Procurement closed"
    assert label(Phase.CLOSED) == "Round closed"  # and again, from what was kept


def test_format_day_writes_what_babel_writes():
    """Its own formatting of plain date patterns gives Babel's text, day for day."""
    from datetime import date, timedelta

    from babel.dates import format_date

    from core.i18n import format_day

    for locale in ("en", "zh_CN"):
        for fmt in ("short", "medium", "long", "full"):
            day = date(2024, 1, 1)
            while day < date(2026, 1, 1):
                assert format_day(day, fmt, locale) == format_date(day, format=fmt, locale=locale)
                day += timedelta(days=3)


def test_format_dt_writes_what_babel_writes():
    """Its own formatting of plain date-and-time patterns gives Babel's text, in the district's
    time zone, at every hour (midnight, noon, AM and PM) across years and months."""
    from datetime import UTC, datetime, timedelta

    from babel.dates import format_datetime

    from core.i18n import DISPLAY_TIMEZONE, format_dt

    for locale in ("en", "zh_CN"):
        for fmt in ("short", "medium", "long", "full"):
            moment = datetime(2024, 12, 31, 15, 59, 7, tzinfo=UTC)
            while moment < datetime(2026, 3, 1, tzinfo=UTC):
                assert format_dt(moment, fmt, locale) == format_datetime(
                    moment, format=fmt, tzinfo=DISPLAY_TIMEZONE, locale=locale
                ), (locale, fmt, moment)
                moment += timedelta(hours=7, minutes=13, seconds=1)


def test_a_moment_is_shown_on_its_day_in_the_district():
    # 20:30 UTC on 31 March is 04:30 on 1 April in Asia/Shanghai
    moment = datetime(2026, 3, 31, 20, 30, tzinfo=UTC)
    assert format_day(moment, locale="en") == format_day(date(2026, 4, 1), locale="en")
