"""The public iCalendar feed of meetings (`/meetings.ics`, `?area=` for one area's meetings
and the district-wide ones), built with the `icalendar` package.

One VEVENT per meeting, not per occurrence: a recurring meeting carries its RRULE and the
calendar program expands it. Times are written in Asia/Shanghai (DTSTART;TZID=…) with a
VTIMEZONE, so a subscriber abroad still sees 19:00 in the district. The UID names the meeting
and a fixed domain (never the request's host), DTSTAMP is the meeting's last change and
SEQUENCE rises when its time, place or recurrence changes: two requests give the same events
and a change replaces the event instead of adding one.

A meeting cancelled before its first occurrence is STATUS:CANCELLED; a series cancelled
part-way ends (UNTIL) with its last held occurrence, so the meetings that did take place stay
in subscribers' calendars.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import icalendar

from consult.models import Meeting
from consult.rules import recurrence
from consult.services.meeting_pages import meetings_query
from core.i18n import _

# The UIDs' domain is the deployment's setting (CALENDAR_DOMAIN), never the request's host: the
# same UIDs whatever host or proxy serves the feed, and two districts' meetings never clash.
UID_DOMAIN = "meetings.yishi"
PRODID = "-//yishi//meetings//ZH"
# Meetings whose last occurrence ended more than this long ago leave the feed.
KEEP_PAST = timedelta(days=400)
_VTIMEZONE_FROM = date(2000, 1, 1)  # Shanghai has kept +08:00 without summer time since 1991


def uid(meeting_id: int, domain: str = UID_DOMAIN) -> str:
    return f"meeting-{meeting_id}@{domain}"


def _vtimezone() -> icalendar.Timezone:
    return icalendar.Timezone.from_tzid(
        recurrence.DISTRICT_TZ.key, first_date=_VTIMEZONE_FROM, last_date=date(2038, 1, 1)
    )


def _event(meeting: Meeting, page_url: str, now: datetime, domain: str) -> icalendar.Event | None:
    moments = recurrence.occurrences(meeting.starts_at, meeting.rrule)
    duration = timedelta(minutes=meeting.duration_minutes)
    if moments[-1] + duration < now - KEEP_PAST:
        return None
    rrule, status = meeting.rrule, "CONFIRMED"
    notes = [meeting.description] if meeting.description else []
    if meeting.cancelled_at is not None:
        held = [m for m in moments if m < meeting.cancelled_at]
        notes.append(_("Cancelled: {reason}", reason=meeting.cancel_reason))
        if held:
            moments = tuple(held)
            rrule = recurrence.truncated(meeting.rrule, meeting.starts_at, meeting.cancelled_at)
        else:
            status = "CANCELLED"
    notes.append(page_url)
    start = meeting.starts_at.astimezone(recurrence.DISTRICT_TZ)
    event = icalendar.Event()
    event.add("uid", uid(meeting.id, domain))
    event.add("dtstamp", meeting.updated_at.astimezone(UTC))
    event.add("sequence", meeting.sequence)
    event.add("dtstart", start)
    event.add("dtend", start + duration)
    if rrule:
        event.add("rrule", icalendar.vRecur.from_ical(rrule))
    event.add("summary", meeting.title)
    event.add(
        "location", meeting.area.name + " · " + meeting.place if meeting.area else meeting.place
    )
    event.add("description", "\n\n".join(notes))
    event.add("url", page_url)
    event.add("status", status)
    return event


def build_calendar(
    meetings: list[Meeting],
    name: str,
    page_url: Callable[[int], str],
    now: datetime | None = None,
    domain: str = UID_DOMAIN,
) -> bytes:
    """The feed of `meetings` (with their `area` loaded); UIDs `meeting-<id>@<domain>`."""
    now = now or datetime.now(UTC)
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", recurrence.DISTRICT_TZ.key)
    cal.add_component(_vtimezone())
    for meeting in meetings:
        event = _event(meeting, page_url(meeting.id), now, domain)
        if event is not None:
            cal.add_component(event)
    return cal.to_ical()


async def feed_meetings(area_id: int | None) -> list[Meeting]:
    """The meetings of the feed, in one query: an area's and the district-wide ones (every
    meeting when no area is given), with their area."""
    horizon = datetime.now(UTC) - KEEP_PAST - timedelta(days=366 * recurrence.MAX_YEARS)
    return (
        await meetings_query(area_id)
        .filter(starts_at__gte=horizon)
        .select_related("area")
        .order_by("starts_at", "id")
    )
