"""What the meeting tests start from: two areas, a council member, an admin, a resident, a
budgeting round with a proposal, and meetings scheduled through the service, dated relative
to today (a monthly series on the 16th whose first meetings are already over)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from budget.models import Phase, Proposal, Round
from consult.models import Meeting
from consult.rules import recurrence
from consult.services import meetings
from core.i18n import local_today
from core.models import Area, Role, User
from tests.helpers import make_area, make_proposal, make_round, make_user


@dataclass
class Town:
    east: Area
    west: Area
    council: User
    admin: User
    resident: User
    round: Round
    proposal: Proposal


async def town() -> Town:
    east = await make_area("East Gate")
    west = await make_area("West River")
    council = await make_user("council", role=Role.COUNCIL, display_name="Chen Jianguo")
    admin = await make_user("admin", role=Role.ADMIN)
    resident = await make_user("resident", area=east, display_name="Zhang Wei")
    rnd = await make_round("2026 micro-projects", phase=Phase.VOTING)
    proposal = await make_proposal(rnd, resident, "Benches by the canal", area=east)
    return Town(east, west, council, admin, resident, rnd, proposal)


def sixteenth(months_back: int) -> date:
    """The 16th of the month `months_back` months before this one (negative: ahead)."""
    today = local_today()
    month = today.year * 12 + today.month - 1 - months_back
    return date(month // 12, month % 12 + 1, 16)


def meeting_form(**changes: str) -> dict[str, str]:
    """A monthly public-opinion talk on the 16th at 19:00, 12 times, in no area yet."""
    form = {
        "title": "Public-opinion talk",
        "kind": "talk",
        "description": "Bring your questions about the neighbourhood.",
        "place": "Community centre, room 2",
        "area": "district",
        "date": sixteenth(2).isoformat(),
        "time": "19:00",
        "duration": "90",
        "repeat": "monthly_day",
        "weekday": "",
        "monthday": "",
        "nth": "",
        "ends": "count",
        "count": "12",
        "until": "",
        "rrule": "",
    }
    form.update(changes)
    return form


async def schedule(user: User, **changes: str) -> Meeting:
    return await meetings.schedule_meeting(user, meeting_form(**changes))


def at(day: date, hour: int = 19, minute: int = 0) -> datetime:
    """A local time in the district as aware UTC."""
    return recurrence.local_moment(day, time(hour, minute))


def key(day: date, hour: int = 19) -> str:
    return recurrence.occurrence_key(at(day, hour))


async def seed_for_pages(council: User, proposal: Proposal) -> dict:
    """For tests/test_pages.py: a monthly talk with an agenda item, minutes of its first
    meeting and an action about `proposal` (ids for the routes' path parameters)."""
    from consult.services import meeting_agenda, meeting_records

    meeting = await schedule(council)
    link = {"link": "proposal", "number": str(proposal.id)}
    item = await meeting_agenda.add_agenda_item(council, meeting.id, {"title": "Benches", **link})
    first = at(sixteenth(2))
    await meeting_records.record_minutes(
        council, meeting.id, first, {"attendance": "20", "minutes": "Talked."}
    )
    action = await meeting_records.add_action(
        council,
        meeting.id,
        first,
        {"title": "Survey", "owner": "Office", "due_on": local_today().isoformat(), **link},
    )
    return {
        "meeting_id": meeting.id,
        "agenda_id": item.id,
        "action_id": action.id,
        "occurrence": recurrence.occurrence_key(first),
    }
