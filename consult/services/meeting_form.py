"""The meeting form: what a council member types (a local date and time, a duration, a
recurrence in the friendly fields or as an RRULE) read into a meeting, with a message next to
each field it cannot read; and the form of an existing meeting for its edit page."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from consult.models import Meeting, MeetingKind
from consult.rules import recurrence
from consult.rules.recurrence import RecurrenceError
from core.forms import parse_date, parse_int, text
from core.i18n import _, local_today
from core.models import Area

MAX_TITLE = 200
MAX_PLACE = 200
MAX_DESCRIPTION = 5000
MAX_REASON = 200  # Meeting.cancel_reason
MAX_RRULE = 200  # Meeting.rrule
DISTRICT = "district"  # the area field's value for a district-wide meeting
ADVANCED = "advanced"  # the repeat field's value for a raw RRULE
# A meeting may be put on record up to a year after it was held, and planned up to five
# years ahead (a series then lasts at most five more years: `recurrence.MAX_YEARS`).
EARLIEST = timedelta(days=366)
LATEST_YEARS = 5

FORM_FIELDS = (
    "title",
    "kind",
    "description",
    "place",
    "area",
    "date",
    "time",
    "duration",
    "repeat",
    "weekday",
    "monthday",
    "nth",
    "ends",
    "count",
    "until",
    "rrule",
)


@dataclass
class MeetingInput:
    title: str
    kind: str
    description: str
    place: str
    area_id: int | None
    starts_at: datetime  # the first occurrence, aware UTC
    duration_minutes: int
    rrule: str


def blank_values() -> dict[str, str]:
    """What the scheduling form shows first: a 90-minute meeting at 19:00, once."""
    values = {k: "" for k in FORM_FIELDS}
    values.update(kind=MeetingKind.TALK.value, time="19:00", duration="90", repeat="none")
    values.update(ends="count", count="12")
    return values


def form_values(meeting: Meeting) -> dict[str, str]:
    """The edit form of `meeting`: its rule in the friendly fields when they can say it, else
    in the advanced field."""
    local = meeting.starts_at.astimezone(recurrence.DISTRICT_TZ)
    values = blank_values()
    values.update(
        title=meeting.title,
        kind=str(meeting.kind),
        description=meeting.description,
        place=meeting.place,
        area=str(meeting.area_id) if meeting.area_id else DISTRICT,
        date=local.date().isoformat(),
        time=local.strftime("%H:%M"),
        duration=str(meeting.duration_minutes),
        count="",
    )
    fields = recurrence.friendly(meeting.rrule)
    if fields is None:
        values.update(repeat=ADVANCED, rrule=meeting.rrule)
        return values
    values.update(
        repeat=fields.repeat,
        weekday=fields.weekday,
        monthday=str(fields.monthday or ""),
        nth=str(fields.nth or ""),
        ends="until" if fields.until else "count",
        count=str(fields.count or ""),
        until=fields.until.isoformat() if fields.until else "",
    )
    return values


# --- reading the form ------------------------------------------------------------------------

_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：]\d{2})?$")


def parse_time(value: object, field: str, errors: dict[str, str]) -> time | None:
    raw = str(value or "").strip()
    match = _TIME.match(raw)
    if match and int(match.group(1)) < 24 and int(match.group(2)) < 60:
        return time(int(match.group(1)), int(match.group(2)))
    errors[field] = (
        _("This field is required.") if not raw else _("Enter a time as HH:MM, for example 19:00.")
    )
    return None


def _choice(value: object, allowed: tuple[str, ...], field: str, errors: dict[str, str]) -> str:
    result = str(value or "").strip()
    if result not in allowed:
        errors[field] = _("Choose one of the options.")
    return result


def recurrence_message(exc: RecurrenceError) -> str:
    """A refused rule in words (the advanced field's message)."""
    p = exc.params
    match exc.code:
        case recurrence.MALFORMED:
            return _(
                "“{part}” is not a rule part: write NAME=VALUE parts separated by semicolons.",
                part=p["part"],
            )
        case recurrence.UNKNOWN_PART:
            return _(
                "{part} is not allowed in a meeting's recurrence; use FREQ, INTERVAL, COUNT, "
                "UNTIL, BYMONTH, BYMONTHDAY, BYDAY, BYSETPOS or WKST.",
                part=p["part"],
            )
        case recurrence.REPEATED_PART:
            return _("{part} is given twice.", part=p["part"])
        case recurrence.NO_FREQ:
            return _("The rule needs FREQ: DAILY, WEEKLY, MONTHLY or YEARLY.")
        case recurrence.BAD_FREQ:
            return _(
                "FREQ={value} is not allowed: meetings repeat DAILY, WEEKLY, MONTHLY or YEARLY.",
                value=p["value"],
            )
        case recurrence.BAD_VALUE:
            return _("{part}={value} is not valid.", part=p["part"], value=p["value"])
        case recurrence.NEVER_ENDS:
            return _(
                "A recurrence must end: add COUNT (how many meetings) or UNTIL (the last day)."
            )
        case recurrence.COUNT_AND_UNTIL:
            return _("Give COUNT or UNTIL, not both.")
        case recurrence.TOO_MANY:
            return _("A series has at most {max} meetings.", max=recurrence.MAX_COUNT)
        case recurrence.TOO_LONG:
            return _(
                "A series lasts at most {years} years: end it sooner.", years=recurrence.MAX_YEARS
            )
        case recurrence.NO_OCCURRENCE:
            return _("This recurrence gives no meeting on or after the chosen date.")
    return _("This recurrence is not valid.")


def _friendly_field(exc: RecurrenceError, ends: str) -> str:
    """Which field of the friendly form a refused rule is about."""
    if exc.code in (recurrence.TOO_MANY, recurrence.TOO_LONG, recurrence.NO_OCCURRENCE):
        return "until" if ends == "until" else "count"
    if exc.code == recurrence.NEVER_ENDS:
        return "ends"
    return "repeat"


def _rule_from_form(
    form: Mapping[str, Any], first: date, errors: dict[str, str]
) -> tuple[str, str] | None:
    """(the RRULE the form asks for, the field its errors go to), or None (errors set)."""
    repeat = _choice(form.get("repeat"), (*recurrence.REPEATS, ADVANCED), "repeat", errors)
    if repeat == ADVANCED:
        raw = text(form.get("rrule"), "rrule", errors, max_length=MAX_RRULE)
        return (raw, "rrule") if raw else None
    if repeat == recurrence.ONCE or "repeat" in errors:
        return ("", "repeat") if "repeat" not in errors else None
    weekday = _choice(form.get("weekday"), ("", *recurrence.WEEKDAYS), "weekday", errors)
    monthday = _choice(
        form.get("monthday"), ("", "-1", *map(str, range(1, 32))), "monthday", errors
    )
    nth = _choice(form.get("nth"), ("", "1", "2", "3", "4", "-1"), "nth", errors)
    ends = _choice(form.get("ends"), ("count", "until"), "ends", errors)
    count = until = None
    if ends == "count":
        count = parse_int(form.get("count"), "count", errors, minimum=1)
    elif ends == "until":
        until = parse_date(form.get("until"), "until", errors, required=True)
    if errors:
        return None
    try:
        rule = recurrence.build_rrule(
            repeat,
            first=first,
            weekday=weekday,
            monthday=int(monthday) if monthday else None,
            nth=int(nth) if nth else None,
            count=count,
            until=until,
        )
    except RecurrenceError as exc:
        errors[_friendly_field(exc, ends)] = recurrence_message(exc)
        return None
    return rule, ("until" if ends == "until" else "count")


def _friendly_message(exc: RecurrenceError) -> str:
    if exc.code == recurrence.NO_OCCURRENCE:
        return _("The series would end before its first meeting.")
    return recurrence_message(exc)


async def parse_meeting(
    form: Mapping[str, Any], errors: dict[str, str], conn: Any, *, keep_date: date | None = None
) -> MeetingInput | None:
    """The meeting a form describes; None with `errors` set when it cannot be. `keep_date`
    (an edit's current first date) is allowed even if it is now more than a year ago."""
    title = text(form.get("title"), "title", errors, max_length=MAX_TITLE)
    kind = _choice(form.get("kind"), tuple(k.value for k in MeetingKind), "kind", errors)
    description = text(
        form.get("description"), "description", errors, required=False, max_length=MAX_DESCRIPTION
    )
    place = text(form.get("place"), "place", errors, max_length=MAX_PLACE)
    area_id = await _parse_area(form.get("area"), errors, conn)
    day = parse_date(form.get("date"), "date", errors, required=True)
    at = parse_time(form.get("time"), "time", errors)
    duration = parse_int(form.get("duration"), "duration", errors, minimum=15, maximum=1440)
    today = local_today()
    if day is not None and day != keep_date:
        if day < today - EARLIEST:
            errors["date"] = _("A meeting can be put on record up to a year after it was held.")
        elif day > recurrence.add_years(today, LATEST_YEARS):
            errors["date"] = _("Plan meetings at most {years} years ahead.", years=LATEST_YEARS)
    rule = _rule_from_form(form, day or today, errors)
    if errors or rule is None or day is None or at is None or duration is None:
        return None
    value, field = rule
    try:
        series = recurrence.check(value, recurrence.local_moment(day, at))
    except RecurrenceError as exc:
        errors[field] = recurrence_message(exc) if field == "rrule" else _friendly_message(exc)
        return None
    return MeetingInput(
        title=title,
        kind=kind,
        description=description,
        place=place,
        area_id=area_id,
        starts_at=series.first,
        duration_minutes=duration,
        rrule=series.rrule,
    )


async def _parse_area(value: object, errors: dict[str, str], conn: Any) -> int | None:
    raw = str(value or "").strip()
    if raw == DISTRICT:
        return None
    area_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
    if area_id is None or not await Area.filter(id=area_id).using_db(conn).exists():
        errors["area"] = _("Choose an area, or the whole district.")
        return None
    return area_id
