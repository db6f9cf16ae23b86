"""What happened at a meeting: attendance and minutes of one occurrence, and the follow-up
actions decided there (who does what by when, done or not), which also show on the proposal,
round or deliberation round they are about (`subject_items`, for the panel).

Minutes are recorded only for an occurrence of the meeting that has begun and was not
cancelled; one record per occurrence (the database refuses a second), which a council member
may correct later. Actions belong to a record. Each change is one transaction with a public
audit entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from consult.models import AgendaItem, FollowUpAction, Meeting, MeetingRecord, SubjectType
from consult.permissions import can
from consult.rules import recurrence
from consult.services import notices
from consult.services.meeting_agenda import parse_subject
from core.audit import record
from core.db import select_named
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import parse_date, parse_int, text
from core.i18n import _, format_day, format_dt
from core.models import User

MAX_MINUTES = 20_000
MAX_ATTENDANCE = 100_000
MAX_ACTION = 200  # FollowUpAction.title
MAX_OWNER = 100  # FollowUpAction.owner


def held_occurrence(meeting: Meeting, moment: datetime | None, now: datetime) -> datetime:
    """`moment` checked to be an occurrence of `meeting` that has begun and was not cancelled:
    422 when it is no occurrence of it, 403 when it has not happened."""
    if moment is None or not recurrence.is_occurrence(meeting.starts_at, meeting.rrule, moment):
        raise ValidationError(_("This meeting does not take place at that time."))
    if meeting.cancelled_at is not None and moment >= meeting.cancelled_at:
        raise PermissionDenied(_("This meeting was cancelled before it took place."))
    if moment > now:
        raise PermissionDenied(
            _(
                "Minutes are recorded once the meeting has begun; this one begins on {when}.",
                when=format_dt(moment, "short"),
            )
        )
    return moment


async def _meeting(conn: Any, meeting_id: int, user: User | None, action: str) -> Meeting:
    meeting = await Meeting.get_or_none(id=meeting_id).using_db(conn)
    if meeting is None:
        raise NotFound(_("This meeting does not exist."))
    if not can(user, action, meeting):
        raise PermissionDenied(_("Only council members record what happened at meetings."))
    return meeting


async def record_minutes(
    user: User | None, meeting_id: int, occurrence: datetime | None, form: Mapping[str, Any]
) -> MeetingRecord:
    """A council member records (or corrects) the attendance and minutes of an occurrence
    that has begun. One transaction; two at once keep one record, the second a correction."""
    try:
        return await _record_minutes(user, meeting_id, occurrence, form)
    except IntegrityError:  # the other request created the record first: correct it instead
        return await _record_minutes(user, meeting_id, occurrence, form)


async def _record_minutes(
    user: User | None, meeting_id: int, occurrence: datetime | None, form: Mapping[str, Any]
) -> MeetingRecord:
    errors: dict[str, str] = {}
    attendance = parse_int(
        form.get("attendance"), "attendance", errors, minimum=0, maximum=MAX_ATTENDANCE
    )
    minutes = text(form.get("minutes"), "minutes", errors, max_length=MAX_MINUTES)
    async with in_transaction() as conn:
        meeting = await _meeting(conn, meeting_id, user, "record_minutes")
        moment = held_occurrence(meeting, occurrence, datetime.now(UTC))
        if errors or attendance is None:
            raise ValidationError(errors=errors)
        rec = (
            await MeetingRecord.filter(meeting_id=meeting.id, occurrence_at=moment)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if rec is None:
            rec = await MeetingRecord.create(
                meeting_id=meeting.id,
                occurrence_at=moment,
                attendance=attendance,
                minutes=minutes,
                recorded_by=user,
                using_db=conn,
            )
            await notices.tell_minutes_published(conn, meeting, rec, user)
            action, old = "meeting.minutes_recorded", {}
        else:
            old = {"old_attendance": rec.attendance, "old_minutes": rec.minutes}
            rec.attendance, rec.minutes = attendance, minutes
            await rec.save(using_db=conn)
            action = "meeting.minutes_changed"
        await record(
            user,
            action,
            meeting,
            using_db=conn,
            public=True,
            occurrence=moment.isoformat(),
            attendance=attendance,
            **old,
        )
    return rec


async def add_action(
    user: User | None, meeting_id: int, occurrence: datetime | None, form: Mapping[str, Any]
) -> FollowUpAction:
    """A council member adds a follow-up action to the minutes of an occurrence."""
    errors: dict[str, str] = {}
    title = text(form.get("title"), "title", errors, max_length=MAX_ACTION)
    owner = text(form.get("owner"), "owner", errors, max_length=MAX_OWNER)
    due_on = parse_date(form.get("due_on"), "due_on", errors, required=True)
    async with in_transaction() as conn:
        meeting = await _meeting(conn, meeting_id, user, "manage_actions")
        moment = held_occurrence(meeting, occurrence, datetime.now(UTC))
        rec = await MeetingRecord.get_or_none(meeting_id=meeting.id, occurrence_at=moment).using_db(
            conn
        )
        if rec is None:
            raise Conflict(_("Record the attendance and minutes first: actions belong to them."))
        subject = await parse_subject(form, errors, conn)
        held_on = recurrence.local_date(moment)
        if due_on is not None and due_on < held_on:
            errors["due_on"] = _(
                "The due date cannot be before the meeting ({day}).", day=format_day(held_on)
            )
        if errors or due_on is None:
            raise ValidationError(errors=errors)
        act = await FollowUpAction.create(
            meeting_id=meeting.id,
            record_id=rec.id,
            title=title,
            owner=owner,
            due_on=due_on,
            subject_type=subject.type if subject else None,
            subject_id=subject.id if subject else None,
            using_db=conn,
        )
        await record(
            user,
            "meeting.action_added",
            meeting,
            using_db=conn,
            public=True,
            follow_up=act.id,
            title=title,
            owner=owner,
            due_on=due_on.isoformat(),
            subject_type=str(subject.type) if subject else None,
            subject_id=subject.id if subject else None,
        )
    return act


async def set_action_done(user: User | None, action_id: int, done: bool) -> FollowUpAction:
    """A council member marks an action done, or not done after all (undo)."""
    async with in_transaction() as conn:
        act = await FollowUpAction.filter(id=action_id).using_db(conn).select_for_update().first()
        if act is None:
            raise NotFound(_("This follow-up action does not exist."))
        meeting = await _meeting(conn, act.meeting_id, user, "manage_actions")
        if (act.done_at is not None) == done:
            return act  # already so (a second click)
        act.done_at = datetime.now(UTC) if done else None
        await act.save(using_db=conn, update_fields=["done_at"])
        await record(
            user,
            "meeting.action_done" if done else "meeting.action_reopened",
            meeting,
            using_db=conn,
            public=True,
            follow_up=act.id,
            title=act.title,
        )
    return act


async def subject_items(
    subject_type: str, subject_id: int
) -> tuple[list[Any], list[FollowUpAction]]:
    """The agenda items about a subject (with their meeting) and the follow-up actions about
    it (with their meeting and record): two indexed queries, for a panel on its page. Most
    subjects have neither: one plain indexed probe answers them first (building the ORM's
    joins alone costs more than the probe runs, on every proposal page)."""
    kind = SubjectType(subject_type)
    probe = (
        "SELECT 1 FROM agenda_item WHERE subject_type = :t AND subject_id = :id"
        " UNION ALL SELECT 1 FROM follow_up_action WHERE subject_type = :t AND subject_id = :id"
        " LIMIT 1"
    )
    if not await select_named(probe, {"t": str(kind), "id": subject_id}):
        return [], []
    agenda = await AgendaItem.filter(subject_type=kind, subject_id=subject_id).select_related(
        "meeting"
    )
    actions = await FollowUpAction.filter(subject_type=kind, subject_id=subject_id).select_related(
        "meeting", "record"
    )
    return list(agenda), list(actions)
