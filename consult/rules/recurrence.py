"""Meetings' recurrence: RFC 5545 RRULE values, checked, bounded and expanded in the
district's time zone. Pure: no I/O, no database, no translation.

A meeting is stored as its first occurrence (aware UTC) and an RRULE value without the
"RRULE:" prefix ("" for a one-off meeting). The rule is read in Asia/Shanghai, so "monthly on
the 16th at 19:00" stays at 19:00 local time whatever the UTC offset does.

What a council may write (and what `check` refuses, as a `RecurrenceError` with a code and
numbers; turning it into a sentence is the caller's job):

- FREQ is DAILY, WEEKLY, MONTHLY or YEARLY (a meeting every hour is a typo);
- only the parts a meeting needs: FREQ, INTERVAL, COUNT, UNTIL, BYMONTH, BYMONTHDAY, BYDAY,
  BYSETPOS, WKST; each once, each with a valid value;
- it must end: COUNT or UNTIL (not both, RFC 5545), and within bounds: at most
  `MAX_COUNT` (120) occurrences, the last no later than `MAX_YEARS` (5) years after the first.
  Councils are elected for five years; a series longer than that is rewritten by the next.

UNTIL may be written as a day (20261231: until the end of that day, local time), a local time
(20261231T190000) or a UTC time (20261231T110000Z); it is stored in the UTC form, which RFC
5545 requires when DTSTART has a time zone.

The first occurrence is the first date of the rule at or after the chosen start: "monthly on
the 16th from 1 January" starts on 16 January. Stored that way, DTSTART is always an occurrence
and every calendar program counts COUNT the same.

Invalid dates are skipped, as RFC 5545 says: "monthly on the 31st" has no meeting in February,
April, June, September or November (seven a year). "The last day of the month" is
BYMONTHDAY=-1.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

DISTRICT_TZ = ZoneInfo("Asia/Shanghai")
_Day = TypeVar("_Day", date, datetime)

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
PARTS = ("FREQ", "INTERVAL", "BYMONTH", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST", "COUNT", "UNTIL")
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")  # index = date.weekday()
MAX_COUNT = 120
MAX_YEARS = 5
MAX_INTERVAL = 12

# What the friendly form offers (`build_rrule`).
ONCE = "none"
WEEKLY = "weekly"
MONTHLY_DAY = "monthly_day"  # on day N of the month (-1: the last day)
MONTHLY_WEEKDAY = "monthly_weekday"  # on the Nth weekday of the month (-1: the last)
REPEATS = (ONCE, WEEKLY, MONTHLY_DAY, MONTHLY_WEEKDAY)

# Error codes (params in brackets).
MALFORMED = "malformed"  # a part is not NAME=VALUE [part]
UNKNOWN_PART = "unknown_part"  # [part]
REPEATED_PART = "repeated_part"  # [part]
NO_FREQ = "no_freq"
BAD_FREQ = "bad_freq"  # [value]
BAD_VALUE = "bad_value"  # [part, value]
NEVER_ENDS = "never_ends"  # neither COUNT nor UNTIL
COUNT_AND_UNTIL = "count_and_until"
TOO_MANY = "too_many"  # [count, max]
TOO_LONG = "too_long"  # [years]
NO_OCCURRENCE = "no_occurrence"  # the rule gives no date at or after the start


class RecurrenceError(ValueError):
    """A rule refused: `code` (above) and `params` for the message."""

    def __init__(self, code: str, **params: object) -> None:
        self.code = code
        self.params = params
        super().__init__(f"{code} {params}" if params else code)


@dataclass(frozen=True)
class Series:
    """A checked rule: its stored form and the occurrences it gives (aware UTC)."""

    rrule: str
    occurrences: tuple[datetime, ...]

    @property
    def first(self) -> datetime:
        return self.occurrences[0]

    @property
    def last(self) -> datetime:
        return self.occurrences[-1]


# --- reading a rule ---------------------------------------------------------------------------

_BYDAY = re.compile(r"^([+-]?)(\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")
_INT = re.compile(r"^[+-]?\d{1,4}$")
_UNTIL = re.compile(r"^(\d{8})(T(\d{6})(Z?))?$")


def parse_parts(value: str) -> dict[str, str]:
    """NAME → VALUE of an RRULE value (an "RRULE:" prefix and case are forgiven), each name
    checked to be known and given once; the values are checked by `check`."""
    text = value.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for raw in text.split(";"):
        raw = raw.strip()
        if not raw:
            continue
        name, sep, part_value = raw.partition("=")
        name, part_value = name.strip().upper(), part_value.strip().upper()
        if not sep or not name or not part_value:
            raise RecurrenceError(MALFORMED, part=raw)
        if name not in PARTS:
            raise RecurrenceError(UNKNOWN_PART, part=name)
        if name in parts:
            raise RecurrenceError(REPEATED_PART, part=name)
        parts[name] = part_value
    if "FREQ" not in parts:
        raise RecurrenceError(NO_FREQ)
    return parts


def _ints(name: str, value: str, low: int, high: int, *, signed: bool) -> list[int]:
    numbers = []
    for item in value.split(","):
        if not _INT.match(item):
            raise RecurrenceError(BAD_VALUE, part=name, value=value)
        n = int(item)
        if n == 0 or abs(n) < low or abs(n) > high or (n < 0 and not signed):
            raise RecurrenceError(BAD_VALUE, part=name, value=value)
        numbers.append(n)
    return numbers


def _until_utc(value: str) -> datetime:
    """UNTIL as aware UTC: a day means until the end of that day, local time."""
    match = _UNTIL.match(value)
    if not match:
        raise RecurrenceError(BAD_VALUE, part="UNTIL", value=value)
    day, _t, clock, zulu = match.groups()
    try:
        if clock is None:
            d = datetime.strptime(day, "%Y%m%d").date()
            return end_of_local_day(d)
        moment = datetime.strptime(day + clock, "%Y%m%d%H%M%S")
    except ValueError:
        raise RecurrenceError(BAD_VALUE, part="UNTIL", value=value) from None
    if zulu:
        return moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=DISTRICT_TZ).astimezone(UTC)


def _checked_values(parts: dict[str, str]) -> dict[str, str]:
    """The parts with their values checked, and UNTIL in its UTC form."""
    if parts["FREQ"] not in FREQUENCIES:
        raise RecurrenceError(BAD_FREQ, value=parts["FREQ"])
    out = dict(parts)
    for name, value in parts.items():
        if name == "INTERVAL":
            _ints(name, value, 1, MAX_INTERVAL, signed=False)
            if "," in value:
                raise RecurrenceError(BAD_VALUE, part=name, value=value)
        elif name == "COUNT":
            if not (value.isascii() and value.isdigit()) or len(value) > 6 or int(value) < 1:
                raise RecurrenceError(BAD_VALUE, part=name, value=value)
            if int(value) > MAX_COUNT:
                raise RecurrenceError(TOO_MANY, count=int(value), max=MAX_COUNT)
        elif name == "BYMONTH":
            _ints(name, value, 1, 12, signed=False)
        elif name == "BYMONTHDAY":
            _ints(name, value, 1, 31, signed=True)
        elif name == "BYSETPOS":
            _ints(name, value, 1, 366, signed=True)
        elif name == "BYDAY":
            for item in value.split(","):
                match = _BYDAY.match(item)
                if not match:
                    raise RecurrenceError(BAD_VALUE, part=name, value=value)
                if match.group(2) is not None:
                    n = int(match.group(2))
                    # an ordinal weekday ("3FR") only makes sense within a month or a year
                    limit = {"MONTHLY": 5, "YEARLY": 53}.get(parts["FREQ"], 0)
                    if n == 0 or n > limit:
                        raise RecurrenceError(BAD_VALUE, part=name, value=value)
        elif name == "WKST":
            if value not in WEEKDAYS:
                raise RecurrenceError(BAD_VALUE, part=name, value=value)
        elif name == "UNTIL":
            out[name] = _until_utc(value).strftime("%Y%m%dT%H%M%SZ")
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise RecurrenceError(NEVER_ENDS)
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError(COUNT_AND_UNTIL)
    return out


def _joined(parts: dict[str, str]) -> str:
    """The stored form: the parts in a fixed order (INTERVAL=1 left out)."""
    if parts.get("INTERVAL") == "1":
        parts = {k: v for k, v in parts.items() if k != "INTERVAL"}
    return ";".join(f"{name}={parts[name]}" for name in PARTS if name in parts)


def _expand(start: datetime, rrule: str, limit: int) -> list[datetime]:
    """Up to `limit` occurrences at or after `start`, in UTC, expanded in local time."""
    local = start.astimezone(DISTRICT_TZ).replace(microsecond=0)
    found = []
    for moment in rrulestr("RRULE:" + rrule, dtstart=local):
        found.append(moment.astimezone(UTC))
        if len(found) >= limit:
            break
    return found


def check(value: str, start: datetime) -> Series:
    """Check a rule for a series chosen to start at `start` (aware); "" is a one-off meeting.

    Returns the rule in its stored form and its occurrences, the first being the first date of
    the rule at or after `start`. Raises `RecurrenceError`."""
    if start.tzinfo is None:
        raise ValueError("start must be aware")
    start = start.astimezone(UTC).replace(microsecond=0)
    if not value.strip():
        return Series("", (start,))
    parts = _checked_values(parse_parts(value))
    rrule = _joined(parts)
    try:
        found = _expand(start, rrule, MAX_COUNT + 1)
    except ValueError:  # what dateutil still refuses (a combination it cannot expand)
        raise RecurrenceError(MALFORMED, part=value.strip()) from None
    if not found:
        raise RecurrenceError(NO_OCCURRENCE)
    if len(found) > MAX_COUNT:
        raise RecurrenceError(TOO_MANY, count=len(found), max=MAX_COUNT)
    if found[-1] > add_years(found[0], MAX_YEARS):
        raise RecurrenceError(TOO_LONG, years=MAX_YEARS)
    return Series(rrule, tuple(found))


def add_years(moment: _Day, years: int) -> _Day:
    """The same day `years` later (a date or a datetime; 29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


# --- expanding a stored rule -----------------------------------------------------------------


@functools.lru_cache(maxsize=2048)
def occurrences(start: datetime, rrule: str) -> tuple[datetime, ...]:
    """Every occurrence (aware UTC) of a stored meeting: `start` is its first occurrence and
    `rrule` was checked when it was stored, so there are at most `MAX_COUNT`."""
    if not rrule:
        return (start.astimezone(UTC),)
    return tuple(_expand(start, rrule, MAX_COUNT))


def between(
    start: datetime, rrule: str, after: datetime | None = None, before: datetime | None = None
) -> list[datetime]:
    """The occurrences that start at or after `after` and before `before` (either open)."""
    return [
        moment
        for moment in occurrences(start, rrule)
        if (after is None or moment >= after) and (before is None or moment < before)
    ]


def is_occurrence(start: datetime, rrule: str, moment: datetime) -> bool:
    return moment.astimezone(UTC) in occurrences(start, rrule)


def truncated(rrule: str, start: datetime, before: datetime) -> str:
    """The rule ending with its last occurrence before `before` ("" when there is none, or
    one): what a calendar shows of a series cancelled part-way."""
    held = between(start, rrule, before=before)
    if not rrule or len(held) < 2:
        return ""
    parts = {k: v for k, v in parse_parts(rrule).items() if k not in ("COUNT", "UNTIL")}
    parts["UNTIL"] = held[-1].strftime("%Y%m%dT%H%M%SZ")
    return _joined(parts)


# --- local time ------------------------------------------------------------------------------


def local_moment(day: date, at: time) -> datetime:
    """A local date and time in the district as aware UTC."""
    return datetime.combine(day, at, tzinfo=DISTRICT_TZ).astimezone(UTC)


def end_of_local_day(day: date) -> datetime:
    """The last second of a local day, in UTC (what UNTIL=<day> means)."""
    return local_moment(day, time(23, 59, 59))


def local_date(moment: datetime) -> date:
    return moment.astimezone(DISTRICT_TZ).date()


def occurrence_key(moment: datetime) -> str:
    """An occurrence in a URL: its UTC time, as iCalendar writes it (20260116T110000Z)."""
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_occurrence_key(key: str) -> datetime | None:
    try:
        return datetime.strptime(key, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


# --- the friendly form -----------------------------------------------------------------------


def nth_of_month(day: date) -> int:
    """Which weekday of its month `day` is: 1–4, or -1 for the last (a fifth Friday)."""
    n = (day.day - 1) // 7 + 1
    return -1 if n == 5 else n


def build_rrule(
    repeat: str,
    *,
    first: date,
    weekday: str = "",
    monthday: int | None = None,
    nth: int | None = None,
    count: int | None = None,
    until: date | None = None,
) -> str:
    """The RRULE of the friendly form: one-off, weekly on a weekday, monthly on day N (-1: the
    last day), or monthly on the Nth weekday (-1: the last); ending after `count` times or on
    the day `until`. What is left blank is taken from `first`, the date of the first meeting.
    The result still goes through `check`."""
    if repeat == ONCE:
        return ""
    if repeat not in REPEATS:
        raise RecurrenceError(BAD_FREQ, value=repeat)
    weekday = weekday or WEEKDAYS[first.weekday()]
    if weekday not in WEEKDAYS:
        raise RecurrenceError(BAD_VALUE, part="BYDAY", value=weekday)
    if repeat == WEEKLY:
        parts = ["FREQ=WEEKLY", f"BYDAY={weekday}"]
    elif repeat == MONTHLY_DAY:
        parts = ["FREQ=MONTHLY", f"BYMONTHDAY={monthday or first.day}"]
    else:
        parts = ["FREQ=MONTHLY", f"BYDAY={nth or nth_of_month(first)}{weekday}"]
    if count is not None and until is not None:
        raise RecurrenceError(COUNT_AND_UNTIL)
    if count is not None:
        parts.append(f"COUNT={count}")
    elif until is not None:
        parts.append("UNTIL=" + end_of_local_day(until).strftime("%Y%m%dT%H%M%SZ"))
    else:
        raise RecurrenceError(NEVER_ENDS)
    return ";".join(parts)


@dataclass(frozen=True)
class Friendly:
    """A stored rule read back into the friendly form's fields (for the edit form)."""

    repeat: str
    weekday: str = ""
    monthday: int | None = None
    nth: int | None = None
    count: int | None = None
    until: date | None = None


def friendly(rrule: str) -> Friendly | None:
    """The friendly fields that build `rrule`, or None when the form cannot say it (it then
    shows the rule in the advanced field)."""
    if not rrule:
        return Friendly(ONCE)
    parts = parse_parts(rrule)
    ends = {k: parts.pop(k) for k in ("COUNT", "UNTIL") if k in parts}
    count = int(ends["COUNT"]) if "COUNT" in ends else None
    until = local_date(_until_utc(ends["UNTIL"])) if "UNTIL" in ends else None
    if "UNTIL" in ends and end_of_local_day(until) != _until_utc(ends["UNTIL"]):
        return None  # an UNTIL in the middle of a day: only the advanced field says that
    keys = set(parts)
    if keys == {"FREQ", "BYDAY"} and parts["FREQ"] == "WEEKLY" and parts["BYDAY"] in WEEKDAYS:
        return Friendly(WEEKLY, weekday=parts["BYDAY"], count=count, until=until)
    if keys == {"FREQ", "BYMONTHDAY"} and parts["FREQ"] == "MONTHLY":
        day = parts["BYMONTHDAY"]
        if _INT.match(day) and (1 <= int(day) <= 31 or int(day) == -1):
            return Friendly(MONTHLY_DAY, monthday=int(day), count=count, until=until)
    if keys == {"FREQ", "BYDAY"} and parts["FREQ"] == "MONTHLY":
        match = _BYDAY.match(parts["BYDAY"])
        if match and match.group(2):
            n = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
            if n in (1, 2, 3, 4, -1):
                return Friendly(
                    MONTHLY_WEEKDAY, weekday=match.group(3), nth=n, count=count, until=until
                )
    return None


# --- describing a rule -----------------------------------------------------------------------


@dataclass(frozen=True)
class Shape:
    """What a rule says, for a sentence in any language: `kind` is "weekly" (on `weekdays`),
    "monthly_day" (on `monthdays`), "monthly_weekday" (the `nth` `weekdays[0]`), "daily",
    "yearly", or "custom" (anything else: the page shows the rule itself)."""

    kind: str
    interval: int = 1
    weekdays: tuple[str, ...] = ()
    monthdays: tuple[int, ...] = ()
    nth: int | None = None
    count: int | None = None
    until: date | None = None  # the local day of UNTIL


def shape(rrule: str) -> Shape:
    parts = parse_parts(rrule)
    count = int(parts.pop("COUNT")) if "COUNT" in parts else None
    until = local_date(_until_utc(parts.pop("UNTIL"))) if "UNTIL" in parts else None
    interval = int(parts.pop("INTERVAL", "1"))
    parts.pop("WKST", None)
    freq = parts.pop("FREQ")
    ends = {"interval": interval, "count": count, "until": until}
    keys = set(parts)
    if freq == "DAILY" and not keys:
        return Shape("daily", **ends)
    if freq == "YEARLY" and not keys:
        return Shape("yearly", **ends)
    if freq == "WEEKLY" and keys <= {"BYDAY"}:
        days = tuple(parts.get("BYDAY", "").split(",")) if parts.get("BYDAY") else ()
        if all(d in WEEKDAYS for d in days):
            return Shape("weekly", weekdays=days, **ends)
    if freq == "MONTHLY" and keys == {"BYMONTHDAY"}:
        return Shape(
            "monthly_day", monthdays=tuple(int(d) for d in parts["BYMONTHDAY"].split(",")), **ends
        )
    if freq == "MONTHLY" and not keys:
        return Shape("monthly_day", **ends)  # on the day of the first meeting
    if freq == "MONTHLY" and keys == {"BYDAY"} and "," not in parts["BYDAY"]:
        match = _BYDAY.match(parts["BYDAY"])
        if match and match.group(2):
            n = int(match.group(2)) * (-1 if match.group(1) == "-" else 1)
            return Shape("monthly_weekday", weekdays=(match.group(3),), nth=n, **ends)
    return Shape("custom", **ends)


def default_until(first: date) -> date:
    """A year after the first meeting: the form's suggestion for a series end."""
    return first + timedelta(days=365)
