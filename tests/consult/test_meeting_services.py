"""The meeting services on their own: what the friendly form and the advanced rule store,
the first occurrence, the checks of each change, and one record per occurrence under
concurrent saves."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from consult.models import AgendaItem, FollowUpAction, Meeting, MeetingRecord
from consult.rules import recurrence
from consult.services import meeting_agenda, meeting_records, meetings
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import local_today
from core.models import AuditEntry
from tests.consult.meetings_setup import at, meeting_form, schedule, sixteenth, town


def _next_weekday(weekday: int) -> date:
    day = local_today() + timedelta(days=1)
    return day + timedelta(days=(weekday - day.weekday()) % 7)


async def test_the_friendly_form_stores_weekly_and_nth_weekday_rules(db):
    t = await town()
    wednesday = _next_weekday(2)
    weekly = await schedule(
        t.council, repeat="weekly", date=wednesday.isoformat(), weekday="", count="4"
    )
    assert weekly.rrule == "FREQ=WEEKLY;BYDAY=WE;COUNT=4"
    assert recurrence.local_date(weekly.starts_at) == wednesday
    # "every Friday" from a Wednesday: the first meeting is that Friday
    fridays = await schedule(
        t.council, repeat="weekly", date=wednesday.isoformat(), weekday="FR", count="4"
    )
    assert recurrence.local_date(fridays.starts_at) == wednesday + timedelta(days=2)
    third = await schedule(
        t.council, repeat="monthly_weekday", date=wednesday.isoformat(), nth="3", weekday="FR"
    )
    assert third.rrule == "FREQ=MONTHLY;BYDAY=3FR;COUNT=12"
    first = recurrence.local_date(third.starts_at)
    assert first.weekday() == 4 and 15 <= first.day <= 21 and first >= wednesday
    last_day = await schedule(t.council, monthday="-1", count="3")
    assert last_day.rrule == "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3"
    once = await schedule(t.council, repeat="none")
    assert once.rrule == "" and not once.recurring


async def test_the_advanced_rule_is_normalised_and_starts_on_its_first_date(db):
    t = await town()
    meeting = await schedule(
        t.council,
        repeat="advanced",
        rrule="RRULE:freq=monthly;bymonthday=16;count=3",
        date=(sixteenth(-1) - timedelta(days=6)).isoformat(),
    )
    assert meeting.rrule == "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=3"
    assert meeting.starts_at == at(sixteenth(-1))
    values = meetings.form_values(meeting)
    assert (values["repeat"], values["monthday"], values["count"]) == ("monthly_day", "16", "3")
    odd = await schedule(t.council, repeat="advanced", rrule="FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4")
    assert meetings.form_values(odd)["repeat"] == "advanced"
    assert meetings.form_values(odd)["rrule"] == "FREQ=WEEKLY;BYDAY=MO,TH;COUNT=4"


async def test_an_edit_keeps_occurrences_with_their_own_agenda(db):
    t = await town()
    meeting = await schedule(t.council)
    await meeting_agenda.add_agenda_item(
        t.council,
        meeting.id,
        {"title": "Parking", "occurrence": recurrence.occurrence_key(at(sixteenth(-1)))},
    )
    with pytest.raises(ValidationError) as caught:
        await meetings.edit_meeting(t.council, meeting.id, meeting_form(time="20:00"))
    assert "date" in caught.value.errors
    same = await meetings.edit_meeting(t.council, meeting.id, meeting_form(title="Talk"))
    assert (same.title, same.sequence) == ("Talk", 0)
    place = await meetings.edit_meeting(t.council, meeting.id, meeting_form(place="Library"))
    assert place.sequence == 1


async def test_refusals_of_each_change(db):
    t = await town()
    meeting = await schedule(t.council)
    with pytest.raises(PermissionDenied):
        await meetings.schedule_meeting(t.resident, meeting_form())
    with pytest.raises(PermissionDenied):
        await meetings.schedule_meeting(None, meeting_form())
    with pytest.raises(NotFound):
        await meetings.edit_meeting(t.council, 999999, meeting_form())
    with pytest.raises(NotFound):
        await meeting_agenda.remove_agenda_item(t.council, 999999)
    with pytest.raises(NotFound):
        await meeting_records.set_action_done(t.council, 999999, True)
    with pytest.raises(PermissionDenied):
        await meeting_records.record_minutes(
            t.resident, meeting.id, at(sixteenth(1)), {"attendance": "1", "minutes": "x"}
        )
    with pytest.raises(ValidationError):
        await meeting_records.record_minutes(
            t.council, meeting.id, None, {"attendance": "1", "minutes": "x"}
        )
    with pytest.raises(ValidationError):
        await meeting_agenda.move_agenda_item(t.council, 1, "sideways")
    with pytest.raises(Conflict):
        await meeting_records.add_action(
            t.council,
            meeting.id,
            at(sixteenth(1)),
            {"title": "x", "owner": "y", "due_on": local_today().isoformat()},
        )
    await meetings.cancel_meeting(t.council, meeting.id, {"reason": "Hall closed"})
    with pytest.raises(PermissionDenied) as caught:
        await meeting_agenda.add_agenda_item(t.council, meeting.id, {"title": "Late"})
    assert "cancelled" in caught.value.message
    # what happened before the cancellation is still recorded; nothing after it
    await meeting_records.record_minutes(
        t.council, meeting.id, at(sixteenth(1)), {"attendance": "8", "minutes": "Held."}
    )
    future = max(recurrence.occurrences(meeting.starts_at, meeting.rrule))
    with pytest.raises(PermissionDenied) as caught:
        await meeting_records.record_minutes(
            t.council, meeting.id, future, {"attendance": "8", "minutes": "x"}
        )
    assert "cancelled before it took place" in caught.value.message
    assert await AgendaItem.all().count() == 0 and await MeetingRecord.all().count() == 1


async def test_moving_the_first_item_up_changes_nothing_and_marking_done_twice_once(db):
    t = await town()
    meeting = await schedule(t.council)
    a = await meeting_agenda.add_agenda_item(t.council, meeting.id, {"title": "A"})
    b = await meeting_agenda.add_agenda_item(t.council, meeting.id, {"title": "B"})
    assert (a.position, b.position) == (0, 1)
    await meeting_agenda.move_agenda_item(t.council, a.id, "up")
    await meeting_agenda.move_agenda_item(t.council, b.id, "down")
    order = await AgendaItem.filter(meeting_id=meeting.id).order_by("position", "id")
    assert [i.title for i in order] == ["A", "B"]

    await meeting_records.record_minutes(
        t.council, meeting.id, at(sixteenth(1)), {"attendance": "8", "minutes": "Held."}
    )
    act = await meeting_records.add_action(
        t.council,
        meeting.id,
        at(sixteenth(1)),
        {"title": "x", "owner": "y", "due_on": local_today().isoformat()},
    )
    await meeting_records.set_action_done(t.council, act.id, True)
    await meeting_records.set_action_done(t.council, act.id, True)
    assert (await FollowUpAction.get(id=act.id)).done_at is not None
    assert await AuditEntry.filter(action="meeting.action_done").count() == 1


async def test_two_saves_of_the_same_minutes_at_once_keep_one_record(db):
    t = await town()
    meeting = await schedule(t.council)
    moment = at(sixteenth(1))
    results = await asyncio.gather(
        *(
            meeting_records.record_minutes(
                t.council, meeting.id, moment, {"attendance": str(n), "minutes": f"Version {n}"}
            )
            for n in range(8)
        )
    )
    assert len({r.id for r in results}) == 1
    rec = await MeetingRecord.get(meeting_id=meeting.id)
    assert rec.minutes == f"Version {rec.attendance}"
    assert await MeetingRecord.filter(meeting_id=meeting.id).count() == 1
    actions = await AuditEntry.filter(action__startswith="meeting.minutes").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["meeting.minutes_changed"] * 7 + ["meeting.minutes_recorded"]


async def test_a_meeting_is_scheduled_with_a_public_audit_entry(db):
    t = await town()
    meeting = await schedule(t.council, area=str(t.west.id))
    entry = await AuditEntry.get(action="meeting.scheduled")
    assert entry.public and entry.actor_id == t.council.id
    assert entry.detail["rrule"] == meeting.rrule and entry.detail["area_id"] == t.west.id
    assert await Meeting.filter(created_by_id=t.council.id).count() == 1
