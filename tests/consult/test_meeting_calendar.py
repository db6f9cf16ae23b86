"""The public iCalendar feed /meetings.ics, read back with the `icalendar` package: one VEVENT
per meeting, recurring ones with their RRULE, times in Asia/Shanghai with a VTIMEZONE, UIDs
that do not change between requests, and the area filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar

from consult.services import meetings
from core.i18n import local_today
from tests.consult.meetings_setup import at, meeting_form, schedule, sixteenth, town
from tests.querycount import count_queries


def _events(body: bytes) -> dict[str, icalendar.Event]:
    cal = icalendar.Calendar.from_ical(body)
    return {str(e["SUMMARY"]): e for e in cal.walk("VEVENT")}


async def _three_meetings():
    t = await town()
    talk = await schedule(t.council, title="East talk", area=str(t.east.id))
    west = await schedule(
        t.council,
        title="West council meeting",
        kind="council",
        area=str(t.west.id),
        repeat="none",
        date=(local_today() + timedelta(days=10)).isoformat(),
        time="09:30",
        duration="60",
    )
    briefing = await schedule(
        t.council,
        title="District briefing",
        kind="briefing",
        monthday="5",
        date=(local_today() + timedelta(days=1)).isoformat(),
        ends="until",
        until=(local_today() + timedelta(days=200)).isoformat(),
        count="",
    )
    return t, talk, west, briefing


async def test_the_feed_has_one_event_per_meeting_in_shanghai_time_with_stable_uids(client, db):
    t, talk, west, briefing = await _three_meetings()
    first = await client.get("/meetings.ics")
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(first.content)
    assert str(cal["VERSION"]) == "2.0" and "yishi" in str(cal["PRODID"])
    assert str(cal["X-WR-CALNAME"]) == "Community meetings of the district"
    zones = [str(z["TZID"]) for z in cal.walk("VTIMEZONE")]
    assert zones == ["Asia/Shanghai"]

    events = _events(first.content)
    assert sorted(events) == ["District briefing", "East talk", "West council meeting"]
    e = events["East talk"]
    assert dict(e["RRULE"]) == {"FREQ": ["MONTHLY"], "BYMONTHDAY": [16], "COUNT": [12]}
    assert e["DTSTART"].params["TZID"] == "Asia/Shanghai"
    assert e["DTEND"].params["TZID"] == "Asia/Shanghai"
    start = e.decoded("DTSTART")
    assert (start.date(), start.hour, start.minute) == (sixteenth(2), 19, 0)
    assert e.decoded("DTEND") - start == timedelta(minutes=90)
    assert str(e["UID"]) == f"meeting-{talk.id}@meetings.yishi"
    assert int(e["SEQUENCE"]) == 0 and str(e["STATUS"]) == "CONFIRMED"
    assert str(e["LOCATION"]) == "East Gate · Community centre, room 2"
    assert f"http://testserver/consult/meetings/{talk.id}" in str(e["DESCRIPTION"])

    w = events["West council meeting"]
    assert "RRULE" not in w
    assert w.decoded("DTSTART").hour == 9 and w.decoded("DTSTART").minute == 30
    b = events["District briefing"]
    until = (local_today() + timedelta(days=200)).strftime("%Y%m%dT155959Z")  # 23:59:59 local
    assert b["RRULE"].to_ical().decode() == f"FREQ=MONTHLY;UNTIL={until};BYMONTHDAY=5"

    # a second request, even through another host name, gives the same events
    second = await client.get("/meetings.ics", headers={"Host": "calendar.example.org"})
    assert {str(ev["UID"]) for ev in _events(second.content).values()} == {
        str(ev["UID"]) for ev in events.values()
    }
    again = await client.get("/meetings.ics")
    assert again.content == first.content
    # a validator: unchanged means 304
    etag = first.headers["etag"]
    cached = await client.get("/meetings.ics", headers={"If-None-Match": etag})
    assert cached.status_code == 304 and not cached.content


async def test_an_area_feed_has_its_meetings_and_the_district_wide_ones(client, db):
    t, *_ = await _three_meetings()
    east = await client.get(f"/meetings.ics?area={t.east.id}")
    assert east.status_code == 200
    assert sorted(_events(east.content)) == ["District briefing", "East talk"]
    cal = icalendar.Calendar.from_ical(east.content)
    assert str(cal["X-WR-CALNAME"]) == "Meetings in East Gate"
    west = await client.get(f"/meetings.ics?area={t.west.id}")
    assert sorted(_events(west.content)) == ["District briefing", "West council meeting"]

    bad = await client.get("/meetings.ics?area=east")
    assert bad.status_code == 400
    assert "The area of the calendar must be given by its number." in bad.text
    unknown = await client.get("/meetings.ics?area=999999")
    assert unknown.status_code == 404 and "There is no such area." in unknown.text


async def test_changes_and_cancellations_reach_subscribers(client, db):
    t, talk, west, briefing = await _three_meetings()
    await meetings.edit_meeting(
        t.council, talk.id, meeting_form(title="East talk", area=str(t.east.id), time="19:30")
    )
    await meetings.cancel_meeting(t.council, west.id, {"reason": "The hall is closed"})
    await meetings.cancel_meeting(t.council, talk.id, {"reason": "Merged with the briefing"})
    events = _events((await client.get("/meetings.ics")).content)

    w = events["West council meeting"]  # cancelled before it took place
    assert str(w["STATUS"]) == "CANCELLED" and int(w["SEQUENCE"]) == 1
    assert "Cancelled: The hall is closed" in str(w["DESCRIPTION"])

    e = events["East talk"]  # cancelled part-way: it ends with the last talk held
    assert str(e["STATUS"]) == "CONFIRMED" and int(e["SEQUENCE"]) == 2
    now = datetime.now(UTC)
    held = max(at(d, 19, 30) for d in (sixteenth(0), sixteenth(1)) if at(d, 19, 30) < now)
    assert dict(e["RRULE"]) == {"FREQ": ["MONTHLY"], "BYMONTHDAY": [16], "UNTIL": [held]}
    assert "Cancelled: Merged with the briefing" in str(e["DESCRIPTION"])


async def test_the_feed_is_one_query_whatever_the_number_of_meetings(client, db):
    t, *_ = await _three_meetings()
    for n in range(6):
        await schedule(t.council, title=f"Talk {n}", area=str(t.west.id))
    with count_queries() as queries:
        response = await client.get("/meetings.ics")
    assert response.status_code == 200 and len(_events(response.content)) == 9
    assert len(queries) == 1, queries
    with count_queries() as queries:
        await client.get(f"/meetings.ics?area={t.west.id}")
    assert len(queries) == 2, queries  # the area (its name), then the meetings


async def test_the_uids_name_the_deployments_calendar_domain(settings, db):
    """CALENDAR_DOMAIN (Settings.calendar_domain) names the UIDs, whatever host serves the
    feed: two districts' meetings never share a UID in one subscriber's calendar."""
    from app import create_app
    from tests.helpers import app_client

    t = await town()
    talk = await schedule(t.council, title="Talk")
    settings.calendar_domain = "calendar.dongmen.example"
    async with app_client(create_app(settings)) as client:
        response = await client.get("/meetings.ics", headers={"Host": "other.example"})
    assert response.status_code == 200
    assert [str(e["UID"]) for e in _events(response.content).values()] == [
        f"meeting-{talk.id}@calendar.dongmen.example"
    ]
