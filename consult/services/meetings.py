"""Meetings: a council schedules one, one-off or recurring, edits it and cancels it with a
reason. Each is one transaction with its audit entry (public: meetings are public).

The form says when in the district's terms (a local date and time, "monthly on the 16th,
12 times") or, in its advanced field, as an RRULE; `consult.rules.recurrence` checks and
expands the rule. The meeting is stored from its first occurrence (aware UTC).

An edit that changes the time, the place or the recurrence raises the meeting's iCalendar
SEQUENCE, so that calendar programs take the change. It may not drop an occurrence that
already has minutes or its own agenda items.

The form is read in `meeting_form`, agendas are in `meeting_agenda`, minutes and follow-up
actions in `meeting_records`, what the pages read in `meeting_pages`, the calendar feed in
`meeting_calendar`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from consult.models import AgendaItem, Meeting, MeetingRecord
from consult.permissions import can
from consult.rules import recurrence
from consult.services.meeting_form import (
    DISTRICT,
    FORM_FIELDS,
    MAX_REASON,
    blank_values,
    form_values,
    parse_meeting,
)
from core.audit import record
from core.db import lock_rows
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import text
from core.i18n import _, format_day
from core.models import User

__all__ = [
    "DISTRICT",
    "FORM_FIELDS",
    "blank_values",
    "cancel_meeting",
    "edit_meeting",
    "form_values",
    "get_meeting",
    "refusal",
    "schedule_meeting",
]

# --- changing meetings -----------------------------------------------------------------------


def refusal(user: User | None, meeting: Meeting | None = None) -> str:
    if meeting is not None and meeting.cancelled_at is not None and can(user, "schedule_meeting"):
        return _("This meeting was cancelled; it can no longer be changed.")
    return _("Only council members schedule and change meetings.")


async def _locked_meeting(conn: Any, meeting_id: int) -> Meeting:
    found = await lock_rows(conn, Meeting, [meeting_id])
    if not found:
        raise NotFound(_("This meeting does not exist."))
    return found[0]


async def schedule_meeting(user: User | None, form: Mapping[str, Any]) -> Meeting:
    """A council member schedules a meeting (one transaction)."""
    if not can(user, "schedule_meeting"):
        raise PermissionDenied(refusal(user))
    errors: dict[str, str] = {}
    async with in_transaction() as conn:
        data = await parse_meeting(form, errors, conn)
        if errors or data is None:
            raise ValidationError(errors=errors)
        meeting = await Meeting.create(**vars(data), created_by=user, using_db=conn)
        await record(
            user,
            "meeting.scheduled",
            meeting,
            using_db=conn,
            public=True,
            title=meeting.title,
            starts_at=meeting.starts_at.isoformat(),
            rrule=meeting.rrule or None,
            area_id=meeting.area_id,
        )
    return meeting


async def _kept_occurrences(conn: Any, meeting: Meeting) -> set[datetime]:
    """The occurrences a change must keep: those with minutes or their own agenda items."""
    recorded = (
        await MeetingRecord.filter(meeting_id=meeting.id)
        .using_db(conn)
        .values_list("occurrence_at", flat=True)
    )
    planned = (
        await AgendaItem.filter(meeting_id=meeting.id, occurrence_at__not_isnull=True)
        .using_db(conn)
        .values_list("occurrence_at", flat=True)
    )
    return {moment.astimezone(UTC) for moment in [*recorded, *planned]}


async def edit_meeting(user: User | None, meeting_id: int, form: Mapping[str, Any]) -> Meeting:
    """A council member changes a meeting; a new time, place or recurrence raises its
    SEQUENCE. One transaction."""
    errors: dict[str, str] = {}
    async with in_transaction() as conn:
        meeting = await _locked_meeting(conn, meeting_id)
        if not can(user, "edit_meeting", meeting):
            raise PermissionDenied(refusal(user, meeting))
        first_day = recurrence.local_date(meeting.starts_at)
        data = await parse_meeting(form, errors, conn, keep_date=first_day)
        if errors or data is None:
            raise ValidationError(errors=errors)
        new = set(recurrence.occurrences(data.starts_at, data.rrule))
        lost = sorted(m for m in await _kept_occurrences(conn, meeting) if m not in new)
        if lost:
            raise ValidationError(
                errors={
                    "date": _(
                        "The meeting of {day} has minutes or its own agenda: the series must "
                        "keep it.",
                        day=format_day(recurrence.local_date(lost[0])),
                    )
                }
            )
        before = {
            "starts_at": meeting.starts_at,
            "duration_minutes": meeting.duration_minutes,
            "place": meeting.place,
            "rrule": meeting.rrule,
        }
        for name, value in vars(data).items():
            setattr(meeting, name, value)
        changed = sorted(k for k, v in before.items() if getattr(meeting, k) != v)
        if changed:
            meeting.sequence += 1
        await meeting.save(using_db=conn)
        await record(
            user,
            "meeting.edited",
            meeting,
            using_db=conn,
            public=True,
            changed=changed or None,
            starts_at=meeting.starts_at.isoformat(),
            rrule=meeting.rrule or None,
            sequence=meeting.sequence,
        )
    return meeting


async def cancel_meeting(user: User | None, meeting_id: int, form: Mapping[str, Any]) -> Meeting:
    """A council member cancels a meeting (a series: its meetings not yet begun) with a reason
    shown on its page and in the calendar. One transaction."""
    errors: dict[str, str] = {}
    reason = text(form.get("reason"), "reason", errors, max_length=MAX_REASON)
    async with in_transaction() as conn:
        meeting = await _locked_meeting(conn, meeting_id)
        if not can(user, "cancel_meeting", meeting):
            raise PermissionDenied(refusal(user, meeting))
        now = datetime.now(UTC)
        if not recurrence.between(meeting.starts_at, meeting.rrule, after=now):
            raise PermissionDenied(_("This meeting has already taken place: nothing to cancel."))
        if errors:
            raise ValidationError(errors=errors)
        meeting.cancelled_at = now
        meeting.cancel_reason = reason
        meeting.sequence += 1
        await meeting.save(using_db=conn)
        await record(user, "meeting.cancelled", meeting, using_db=conn, public=True, reason=reason)
    return meeting


async def get_meeting(meeting_id: int) -> Meeting:
    meeting = await Meeting.get_or_none(id=meeting_id).select_related("area")
    if meeting is None:
        raise NotFound(_("This meeting does not exist."))
    return meeting
