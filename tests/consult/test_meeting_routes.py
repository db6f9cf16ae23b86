"""The meeting pages as residents and the council use them, without JavaScript (POST → 303)
and with htmx (fragments in place): scheduling, the list, a meeting's page, an occurrence's
page, agenda items, minutes and follow-up actions, and who may do what."""

from __future__ import annotations

from datetime import timedelta

from consult.models import AgendaItem, FollowUpAction, Meeting, MeetingRecord
from core.i18n import local_today
from core.models import AuditEntry
from tests.consult.meetings_setup import key, meeting_form, schedule, sixteenth, town
from tests.helpers import app_client, bare_request, login, page_text, post_form
from tests.test_pages import audit_html

HX = {"HX-Request": "true"}


async def test_a_council_member_schedules_a_monthly_talk_on_the_16th_without_javascript(client, db):
    t = await town()
    await login(client, "council")
    form = await client.get("/consult/meetings/new")
    assert form.status_code == 200 and not audit_html(form.text)
    data = meeting_form(title="Dongmen talk", area=str(t.east.id), date=sixteenth(-1).isoformat())
    response = await post_form(client, "/consult/meetings/new", data)
    assert response.status_code == 303
    meeting = await Meeting.get(title="Dongmen talk")
    assert response.headers["location"].endswith(f"/consult/meetings/{meeting.id}")
    assert meeting.rrule == "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12"
    assert (meeting.area_id, meeting.duration_minutes, meeting.sequence) == (t.east.id, 90, 0)

    page = await client.get(f"/consult/meetings/{meeting.id}")
    text = page_text(page.text)
    assert "The meeting has been scheduled." in text
    assert "Every month on day 16, 12 times in all" in text
    assert "19:00–20:30" in text
    assert "East Gate" in text and "Community centre, room 2" in text
    assert not audit_html(page.text)
    entry = await AuditEntry.get(action="meeting.scheduled")
    assert entry.public and entry.subject_id == meeting.id


async def test_the_recurrence_is_written_in_chinese_too(app, db):
    t = await town()
    meeting = await schedule(t.council, area=str(t.east.id))
    async with app_client(app) as c:
        c.headers["Accept-Language"] = "zh-CN"
        text = page_text((await c.get(f"/consult/meetings/{meeting.id}")).text)
    assert "每月16日，共12次" in text
    assert "19:00–20:30" in text


async def test_a_refused_form_keeps_what_was_typed_and_writes_nothing(client, db):
    await town()
    await login(client, "council")
    cases = [
        ({"title": ""}, "title", "This field is required."),
        ({"repeat": "advanced", "rrule": "FREQ=MONTHLY;BYMONTHDAY=16"}, "rrule", "must end"),
        ({"repeat": "advanced", "rrule": "FREQ=HOURLY;COUNT=3"}, "rrule", "FREQ=HOURLY"),
        ({"count": "200"}, "count", "at most 120 meetings"),
        ({"ends": "until", "until": ""}, "until", "This field is required."),
        ({"time": "7pm"}, "time", "HH:MM"),
        ({"area": "999999"}, "area", "Choose an area"),
        ({"date": (local_today() - timedelta(days=400)).isoformat()}, "date", "up to a year"),
    ]
    for changes, field, message in cases:
        data = meeting_form(**{"title": "Talk about the canal", **changes})
        response = await post_form(client, "/consult/meetings/new", data)
        assert response.status_code == 422, changes
        assert message in response.text, (changes, page_text(response.text)[:400])
        assert f'id="{field}-error"' in response.text or f"#{field}" in response.text
        if changes.get("title") != "":
            assert 'value="Talk about the canal"' in response.text
        if "rrule" in changes:
            assert f'value="{changes["rrule"]}"' in response.text
    assert await Meeting.all().count() == 0
    assert await AuditEntry.filter(action__startswith="meeting.").count() == 0


async def test_only_the_council_schedules_and_changes_meetings_the_public_reads(client, db):
    t = await town()
    meeting = await schedule(t.council)
    anonymous = await client.get("/consult/meetings/new")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    assert (await client.get(f"/consult/meetings/{meeting.id}")).status_code == 200
    assert (await client.get("/consult/meetings")).status_code == 200
    await login(client, "resident")
    for path in ("/consult/meetings/new", f"/consult/meetings/{meeting.id}/edit"):
        response = await client.get(path)
        assert response.status_code == 403
        assert "Only council members schedule and change meetings." in response.text
    posts = {
        "/consult/meetings/new": meeting_form(),
        f"/consult/meetings/{meeting.id}/edit": meeting_form(title="Taken over"),
        f"/consult/meetings/{meeting.id}/cancel": {"reason": "No"},
        f"/consult/meetings/{meeting.id}/agenda": {"title": "Mine"},
        f"/consult/meetings/{meeting.id}/at/{key(sixteenth(2))}/minutes": {
            "attendance": "3",
            "minutes": "x",
        },
    }
    for path, data in posts.items():
        response = await post_form(client, path, data)
        assert response.status_code == 403, path
    assert await Meeting.all().count() == 1
    assert (await Meeting.get(id=meeting.id)).title == "Public-opinion talk"
    assert await AgendaItem.all().count() == 0 and await MeetingRecord.all().count() == 0
    # the admin may, like the council
    await login(client, "admin")
    assert (await client.get("/consult/meetings/new")).status_code == 200


async def test_404_for_a_meeting_or_an_occurrence_that_does_not_exist(client, db):
    t = await town()
    meeting = await schedule(t.council)
    assert (await client.get("/consult/meetings/999999")).status_code == 404
    wrong_day = key(sixteenth(2) + timedelta(days=1))
    assert (await client.get(f"/consult/meetings/{meeting.id}/at/{wrong_day}")).status_code == 404
    assert (await client.get(f"/consult/meetings/{meeting.id}/at/yesterday")).status_code == 404
    assert (
        await client.get(f"/consult/meetings/{meeting.id}/at/{key(sixteenth(2))}")
    ).status_code == 200


def _local_date_text(day) -> str:
    """How an English page writes a day in `when` ("Wednesday, December 16, 2026")."""
    return f"{day:%B} {day.day}, {day.year}"


async def test_the_list_expands_series_marks_minutes_and_filters_by_area_and_kind(client, db):
    t = await town()
    talk = await schedule(t.council, title="East talk", area=str(t.east.id))
    await schedule(
        t.council,
        title="West council meeting",
        kind="council",
        area=str(t.west.id),
        repeat="none",
        date=(local_today() + timedelta(days=10)).isoformat(),
    )
    await schedule(
        t.council,
        title="District briefing",
        kind="briefing",
        repeat="monthly_day",
        monthday="5",
        date=(local_today() + timedelta(days=1)).isoformat(),
    )
    await post_minutes(t, talk, sixteenth(1))

    response = await client.get("/consult/meetings")
    assert response.status_code == 200 and not audit_html(response.text)
    text = page_text(response.text)
    upcoming, held = text.split("Coming up (next three months)")[1].split("Held", 1)
    for months in (-1, -2):  # the next two talks are listed ...
        assert _local_date_text(sixteenth(months)) in upcoming
    assert _local_date_text(sixteenth(-4)) not in upcoming  # ... not those past three months
    assert upcoming.count("District briefing") >= 2  # expanded: once per month
    assert "West council meeting" in upcoming
    # held, latest first, with a minutes marker where minutes were recorded
    assert held.index(_local_date_text(sixteenth(1))) < held.index(_local_date_text(sixteenth(2)))
    assert "Minutes 25 attended" in held and "No minutes yet" in held

    west = page_text((await client.get(f"/consult/meetings?area={t.west.id}")).text)
    assert "West council meeting" in west and "District briefing" in west
    assert "East talk" not in west
    assert (
        f'href="http://testserver/meetings.ics?area={t.west.id}"'
        in (await client.get(f"/consult/meetings?area={t.west.id}")).text
    )
    council_only = page_text((await client.get("/consult/meetings?kind=council")).text)
    assert "West council meeting" in council_only
    assert "East talk" not in council_only and "District briefing" not in council_only
    # nonsense filters are ignored, not an error
    assert (await client.get("/consult/meetings?area=x&kind=party&page=zz")).status_code == 200

    # htmx gets only the results
    fragment = await client.get(f"/consult/meetings?area={t.east.id}", headers=HX)
    assert "<html" not in fragment.text and "East talk" in fragment.text


async def test_the_list_says_when_there_is_nothing_and_pages_long_histories(client, db):
    t = await town()
    text = page_text((await client.get("/consult/meetings")).text)
    assert "No meetings are planned for the next three months yet." in text
    assert "No meetings have been held yet." in text
    none_here = page_text((await client.get(f"/consult/meetings?area={t.east.id}")).text)
    assert "No meetings of this kind or area in the next three months." in none_here

    first = local_today() - timedelta(weeks=35)
    await schedule(
        t.council,
        title="Weekly grid chat",
        repeat="weekly",
        date=first.isoformat(),
        count="40",
    )
    page1 = page_text((await client.get("/consult/meetings")).text)
    assert "Page 1 of 2" in page1
    held1 = page1.split("Held", 1)[1]
    assert held1.count("Weekly grid chat") == 20
    page2 = page_text((await client.get("/consult/meetings?page=2")).text)
    held2 = page2.split("Held", 1)[1]
    assert held2.count("Weekly grid chat") in (15, 16)  # 35 or 36 held, depending on the hour
    assert _local_date_text(first) in held2


async def test_the_list_and_a_meeting_page_run_the_same_queries_for_1_or_12_meetings(client, db):
    from tests.querycount import count_queries

    t = await town()

    async def queries(path: str) -> int:
        with count_queries() as seen:
            assert (await client.get(path)).status_code == 200
        return len(seen)

    one = await schedule(t.council, area=str(t.east.id))
    await post_minutes(t, one, sixteenth(1))
    few = (await queries("/consult/meetings"), await queries(f"/consult/meetings/{one.id}"))
    for n in range(11):
        m = await schedule(t.council, title=f"Talk {n}", area=str(t.west.id))
        await post_minutes(t, m, sixteenth(1))
    many = (await queries("/consult/meetings"), await queries(f"/consult/meetings/{one.id}"))
    assert few == many
    assert many[0] <= 4, many


async def post_minutes(t, meeting, day, attendance: int = 25, minutes: str = "We talked."):
    from consult.services import meeting_records
    from tests.consult.meetings_setup import at

    return await meeting_records.record_minutes(
        t.council, meeting.id, at(day), {"attendance": str(attendance), "minutes": minutes}
    )


async def test_editing_the_time_raises_the_sequence_and_a_new_title_does_not(client, db):
    t = await town()
    meeting = await schedule(t.council, area=str(t.east.id))
    await login(client, "council")
    form = await client.get(f"/consult/meetings/{meeting.id}/edit")
    assert 'value="Public-opinion talk"' in form.text and not audit_html(form.text)
    assert 'id="repeat-monthly_day" name="repeat" value="monthly_day" checked' in form.text
    data = meeting_form(title="East Gate talk", area=str(t.east.id))
    response = await post_form(client, f"/consult/meetings/{meeting.id}/edit", data)
    assert response.status_code == 303
    meeting = await Meeting.get(id=meeting.id)
    assert (meeting.title, meeting.sequence) == ("East Gate talk", 0)

    data = meeting_form(title="East Gate talk", area=str(t.east.id), time="19:30")
    assert (
        await post_form(client, f"/consult/meetings/{meeting.id}/edit", data)
    ).status_code == 303
    meeting = await Meeting.get(id=meeting.id)
    assert meeting.sequence == 1
    assert meeting.starts_at.astimezone().minute == 30
    entry = await AuditEntry.filter(action="meeting.edited").order_by("-id").first()
    assert entry.detail["changed"] == ["starts_at"] and entry.public


async def test_an_edit_may_not_drop_a_meeting_that_has_minutes(client, db):
    t = await town()
    meeting = await schedule(t.council)
    await post_minutes(t, meeting, sixteenth(2))
    await login(client, "council")
    data = meeting_form(monthday="17")  # every 17th: the 16th with minutes would vanish
    response = await post_form(client, f"/consult/meetings/{meeting.id}/edit", data)
    assert response.status_code == 422
    assert "has minutes or its own agenda: the series must keep it" in response.text
    assert (await Meeting.get(id=meeting.id)).rrule == "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12"
    # fewer meetings from the same first one is fine
    response = await post_form(
        client, f"/consult/meetings/{meeting.id}/edit", meeting_form(count="6")
    )
    assert response.status_code == 303
    assert (await Meeting.get(id=meeting.id)).rrule.endswith("COUNT=6")


async def test_cancelling_asks_for_a_reason_and_shows_it_everywhere(client, db):
    t = await town()
    meeting = await schedule(t.council, area=str(t.east.id))
    await login(client, "council")
    confirm = await client.get(f"/consult/meetings/{meeting.id}/cancel")
    assert confirm.status_code == 200 and "Yes, cancel the meeting" in confirm.text
    assert not audit_html(confirm.text)
    no_reason = await post_form(client, f"/consult/meetings/{meeting.id}/cancel", {"reason": " "})
    assert no_reason.status_code == 422 and "This field is required." in no_reason.text
    assert (await Meeting.get(id=meeting.id)).cancelled_at is None

    response = await post_form(
        client, f"/consult/meetings/{meeting.id}/cancel", {"reason": "The hall is being repaired"}
    )
    assert response.status_code == 303
    meeting = await Meeting.get(id=meeting.id)
    assert meeting.cancelled_at is not None and meeting.sequence == 1
    text = page_text((await client.get(f"/consult/meetings/{meeting.id}")).text)
    assert "Reason: The hall is being repaired" in text
    assert "Cancel the meeting" not in text  # no second cancellation, no edit
    upcoming = page_text((await client.get("/consult/meetings")).text).split("Held")[0]
    assert "Cancelled" in upcoming
    # held meetings before the cancellation still count
    held = page_text((await client.get("/consult/meetings")).text).split("Held", 1)[1]
    assert _local_date_text(sixteenth(2)) in held
    again = await post_form(client, f"/consult/meetings/{meeting.id}/cancel", {"reason": "x"})
    assert again.status_code == 403
    edit = await post_form(client, f"/consult/meetings/{meeting.id}/edit", meeting_form())
    assert edit.status_code == 403
    assert "This meeting was cancelled; it can no longer be changed." in edit.text


async def test_a_meeting_over_cannot_be_cancelled(client, db):
    t = await town()
    meeting = await schedule(t.council, repeat="none")  # one-off, two months ago
    await login(client, "council")
    response = await post_form(client, f"/consult/meetings/{meeting.id}/cancel", {"reason": "Late"})
    assert response.status_code == 403
    assert "already taken place" in response.text


async def test_agenda_items_link_to_a_proposal_by_number_and_are_reordered_and_removed(client, db):
    t = await town()
    meeting = await schedule(t.council, area=str(t.east.id))
    await login(client, "council")
    url = f"/consult/meetings/{meeting.id}/agenda"
    response = await post_form(
        client, url, {"title": "Benches: where?", "link": "proposal", "number": str(t.proposal.id)}
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/consult/meetings/{meeting.id}#agenda")
    await post_form(client, url, {"title": "The round's timetable", "link": f"round:{t.round.id}"})
    await post_form(client, url, {"title": "Any other business"})
    next_one = key(sixteenth(-1))
    await post_form(client, url, {"title": "Only in the next talk", "occurrence": next_one})

    page = await client.get(f"/consult/meetings/{meeting.id}")
    text = page_text(page.text)
    assert not audit_html(page.text)
    assert f"Proposal #{t.proposal.id}: Benches by the canal" in text
    assert "Budgeting round: 2026 micro-projects" in text
    assert f'href="http://testserver/budget/proposals/{t.proposal.id}"' in page.text
    standing = text.split("At every meeting")[1]
    assert standing.index("Benches: where?") < standing.index("Any other business")
    assert "Only in the next talk" in text.split("On ")[1]

    items = await AgendaItem.filter(meeting_id=meeting.id, occurrence_at__isnull=True).order_by(
        "position"
    )
    last = items[-1]
    response = await post_form(
        client, f"/consult/meetings/agenda/{last.id}/move", {"direction": "up"}
    )
    assert response.status_code == 303
    order = await AgendaItem.filter(meeting_id=meeting.id, occurrence_at__isnull=True).order_by(
        "position", "id"
    )
    assert [i.title for i in order] == [
        "Benches: where?",
        "Any other business",
        "The round's timetable",
    ]
    assert [i.position for i in order] == [0, 1, 2]
    response = await post_form(client, f"/consult/meetings/agenda/{order[0].id}/remove")
    assert response.status_code == 303
    assert await AgendaItem.filter(meeting_id=meeting.id).count() == 3
    actions = await AuditEntry.filter(action__startswith="meeting.agenda").values_list(
        "action", flat=True
    )
    assert sorted(set(actions)) == [
        "meeting.agenda_added",
        "meeting.agenda_moved",
        "meeting.agenda_removed",
    ]


async def test_a_bad_agenda_item_is_refused_with_the_typed_text_kept(client, db):
    from budget.services.pabulib_import import import_pabulib
    from tests.budget.test_pabulib_io import SMALL_FILE

    t = await town()
    meeting = await schedule(t.council)
    study = await import_pabulib(t.council, "tiny.pb", SMALL_FILE.encode())
    await login(client, "council")
    url = f"/consult/meetings/{meeting.id}/agenda"
    cases = [
        (
            {"title": "Benches", "link": "proposal", "number": "999999"},
            "There is no proposal number 999999.",
        ),
        ({"title": "Benches", "link": "proposal", "number": ""}, "Give the proposal&#39;s number"),
        (
            {"title": "Benches", "link": f"round:{study.id}"},
            "Choose what it is about from the list.",
        ),
        (
            {"title": "Benches", "link": "deliberation:999"},
            "Choose what it is about from the list.",
        ),
        ({"title": "", "link": ""}, "This field is required."),
        ({"title": "Benches", "occurrence": key(sixteenth(2), 18)}, "Choose one of this meeting"),
    ]
    for data, message in cases:
        response = await post_form(client, url, data)
        assert response.status_code == 422, data
        assert message in response.text, (data, page_text(response.text)[-600:])
        if data["title"]:
            assert 'value="Benches"' in response.text
    assert await AgendaItem.all().count() == 0
    # with htmx: the agenda block alone, with the message
    response = await post_form(client, url, cases[0][0], headers=HX)
    assert response.status_code == 422
    assert "<html" not in response.text and "There is no proposal number 999999." in response.text


async def test_htmx_agenda_changes_come_back_in_place(client, db):
    t = await town()
    meeting = await schedule(t.council)
    await login(client, "council")
    response = await post_form(
        client, f"/consult/meetings/{meeting.id}/agenda", {"title": "Parking"}, headers=HX
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="agenda-section"' in response.text
    assert "Parking" in response.text and "Add an agenda item" in response.text


async def test_minutes_and_actions_after_a_meeting_show_on_the_meeting_and_the_proposal(client, db):
    t = await town()
    meeting = await schedule(t.council, area=str(t.east.id))
    held = key(sixteenth(1))
    await login(client, "council")
    page = await client.get(f"/consult/meetings/{meeting.id}/at/{held}")
    assert "Record attendance and minutes" in page.text and not audit_html(page.text)
    assert "Add a follow-up action" not in page.text  # minutes first

    minutes = "Residents asked for benches.\nThe street office will look at the canal path."
    response = await post_form(
        client,
        f"/consult/meetings/{meeting.id}/at/{held}/minutes",
        {"attendance": "34", "minutes": minutes},
    )
    assert response.status_code == 303
    rec = await MeetingRecord.get(meeting_id=meeting.id)
    assert (rec.attendance, rec.minutes) == (34, minutes)

    due = (local_today() + timedelta(days=30)).isoformat()
    response = await post_form(
        client,
        f"/consult/meetings/{meeting.id}/at/{held}/actions",
        {
            "title": "Survey the canal path",
            "owner": "Street office, urban management",
            "due_on": due,
            "link": "proposal",
            "number": str(t.proposal.id),
        },
    )
    assert response.status_code == 303 and response.headers["location"].endswith("#actions")
    act = await FollowUpAction.get(record_id=rec.id)
    assert (act.subject_type, act.subject_id, act.done_at) == ("proposal", t.proposal.id, None)

    page = await client.get(f"/consult/meetings/{meeting.id}")
    text = page_text(page.text)
    assert "34 attended" in text
    assert "Residents asked for benches." in text and "canal path." in text
    assert "Survey the canal path" in text and "In progress" in text

    # the proposal's page shows the action (and nothing when there is none)
    proposal_page = await client.get(f"/budget/proposals/{t.proposal.id}")
    ptext = page_text(proposal_page.text)
    assert "At community meetings" in ptext
    assert "Survey the canal path Street office, urban management, by" in ptext
    assert "decided at Public-opinion talk" in ptext

    # done, then undone again, without JavaScript
    done_url = f"/consult/meetings/actions/{act.id}/done"
    back = f"/consult/meetings/{meeting.id}/at/{held}#actions"
    response = await post_form(client, done_url, {"done": "1", "next": back})
    assert response.status_code == 303 and response.headers["location"] == back
    assert (await FollowUpAction.get(id=act.id)).done_at is not None
    assert "Done" in page_text((await client.get(f"/budget/proposals/{t.proposal.id}")).text)
    response = await post_form(client, done_url, {"done": "0", "next": "https://evil.example/"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/consult/meetings/{meeting.id}")
    assert (await FollowUpAction.get(id=act.id)).done_at is None
    # with htmx: the action alone, in place
    response = await post_form(client, done_url, {"done": "1"}, headers=HX)
    assert response.status_code == 200 and response.text.lstrip().startswith("<li")
    assert "Done" in response.text and "Undo" in response.text
    assert [
        e.action for e in await AuditEntry.filter(action__startswith="meeting.").order_by("id")
    ] == [
        "meeting.scheduled",
        "meeting.minutes_recorded",
        "meeting.action_added",
        "meeting.action_done",
        "meeting.action_reopened",
        "meeting.action_done",
    ]


async def test_minutes_are_refused_before_the_meeting_and_for_a_time_it_does_not_meet(client, db):
    t = await town()
    meeting = await schedule(t.council)
    await login(client, "council")
    future = key(sixteenth(-1))
    response = await post_form(
        client,
        f"/consult/meetings/{meeting.id}/at/{future}/minutes",
        {"attendance": "10", "minutes": "Too early"},
    )
    assert response.status_code == 403
    assert "Minutes are recorded once the meeting has begun" in response.text
    page = await client.get(f"/consult/meetings/{meeting.id}/at/{future}")
    assert "Record attendance and minutes" not in page.text
    assert "The minutes will be published after the meeting." in page.text

    not_a_date = key(sixteenth(1) + timedelta(days=2))
    response = await post_form(
        client,
        f"/consult/meetings/{meeting.id}/at/{not_a_date}/minutes",
        {"attendance": "10", "minutes": "Wrong day"},
    )
    assert response.status_code == 422
    assert "This meeting does not take place at that time." in response.text
    assert await MeetingRecord.all().count() == 0

    held = key(sixteenth(1))
    response = await post_form(
        client,
        f"/consult/meetings/{meeting.id}/at/{held}/minutes",
        {"attendance": "-3", "minutes": "Kept text"},
    )
    assert response.status_code == 422
    assert (
        "Enter a number of at least 0." in response.text and "Kept text</textarea>" in response.text
    )
    assert await MeetingRecord.all().count() == 0


async def test_actions_need_minutes_and_a_due_date_from_the_meeting_on(client, db):
    t = await town()
    meeting = await schedule(t.council)
    held = key(sixteenth(1))
    await login(client, "council")
    url = f"/consult/meetings/{meeting.id}/at/{held}/actions"
    data = {
        "title": "Fix the lights",
        "owner": "Property company",
        "due_on": local_today().isoformat(),
    }
    response = await post_form(client, url, data)
    assert response.status_code == 409
    assert "Record the attendance and minutes first" in response.text
    await post_minutes(t, meeting, sixteenth(1))
    early = (sixteenth(1) - timedelta(days=1)).isoformat()
    response = await post_form(client, url, {**data, "due_on": early})
    assert response.status_code == 422
    assert "The due date cannot be before the meeting" in response.text
    assert 'value="Fix the lights"' in response.text and 'value="Property company"' in response.text
    assert await FollowUpAction.all().count() == 0
    await login(client, "resident")
    assert (await post_form(client, url, data)).status_code == 403


async def test_an_overdue_action_is_marked_on_the_proposal_page(client, db):
    from consult.services import meeting_records
    from tests.consult.meetings_setup import at

    t = await town()
    meeting = await schedule(t.council)
    await post_minutes(t, meeting, sixteenth(2))
    await meeting_records.add_action(
        t.council,
        meeting.id,
        at(sixteenth(2)),
        {
            "title": "Paint the benches",
            "owner": "Grid worker Liu",
            "due_on": (sixteenth(2) + timedelta(days=7)).isoformat(),
            "link": f"round:{t.round.id}",
        },
    )
    text = page_text((await client.get(f"/budget/rounds/{t.round.id}")).text)
    assert "Paint the benches" in text and "Overdue" in text
    assert "At community meetings" not in page_text(
        (await client.get(f"/budget/proposals/{t.proposal.id}")).text
    )


async def test_the_panel_reads_three_indexed_queries_or_one(app, db):
    from consult.routes.meetings import panel
    from consult.services import meeting_agenda, meeting_records
    from tests.consult.meetings_setup import at
    from tests.querycount import count_queries

    t = await town()
    link = {"link": "proposal", "number": str(t.proposal.id)}
    for n in range(5):
        m = await schedule(t.council, title=f"Talk {n}")
        await post_minutes(t, m, sixteenth(1))
        await meeting_agenda.add_agenda_item(t.council, m.id, {"title": "Benches", **link})
        await meeting_records.add_action(
            t.council,
            m.id,
            at(sixteenth(1)),
            {"title": "Act", "owner": "Office", "due_on": local_today().isoformat(), **link},
        )
    request = bare_request(app)
    with count_queries() as queries:
        html = await panel(request, "proposal", t.proposal.id)
    assert len(queries) == 3, queries  # the probe, the agenda items, the actions
    assert html.count("Talk ") == 10  # five agenda items, five actions
    with count_queries() as queries:
        assert await panel(request, "proposal", 999999) == ""
    assert len(queries) == 1, queries  # the probe alone
    assert await panel(request, "meeting", 1) == ""


async def test_meeting_pages_have_unique_ids_for_every_role(client, db):
    from collections import Counter
    from html.parser import HTMLParser

    from tests.consult.meetings_setup import seed_for_pages

    class Ids(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.ids: Counter = Counter()

        def handle_starttag(self, tag, attrs):
            ident = dict(attrs).get("id")
            if ident:
                self.ids[ident] += 1

    t = await town()
    ids = await seed_for_pages(t.council, t.proposal)
    m, occ = ids["meeting_id"], ids["occurrence"]
    paths = [
        "/consult/meetings",
        f"/consult/meetings/{m}",
        f"/consult/meetings/{m}/at/{occ}",
        f"/budget/proposals/{t.proposal.id}",
    ]
    for username in (None, "resident", "council"):
        if username:
            await login(client, username)
        extra = (
            ["/consult/meetings/new", f"/consult/meetings/{m}/edit"]
            if username == "council"
            else []
        )
        for path in paths + extra + ([f"/consult/meetings/{m}/cancel"] if extra else []):
            response = await client.get(path)
            assert response.status_code == 200, path
            parser = Ids()
            parser.feed(response.text)
            twice = [i for i, n in parser.ids.items() if n > 1]
            assert twice == [], (username, path, twice)
            assert not audit_html(response.text), path


async def test_an_agenda_item_about_a_deliberation_round_shows_on_its_panel(app, client, db):
    from datetime import date

    from consult.models import Deliberation
    from consult.routes.meetings import panel

    t = await town()
    waste = await Deliberation.create(
        title="Waste sorting", starts_on=date(2026, 9, 1), ends_on=date(2026, 12, 31)
    )
    meeting = await schedule(t.council, title="Waste talk")
    await login(client, "council")
    form = await client.get(f"/consult/meetings/{meeting.id}")
    assert f'value="deliberation:{waste.id}"' in form.text
    response = await post_form(
        client,
        f"/consult/meetings/{meeting.id}/agenda",
        {"title": "What residents agree on", "link": f"deliberation:{waste.id}"},
    )
    assert response.status_code == 303
    item = await AgendaItem.get(meeting_id=meeting.id)
    assert (item.subject_type, item.subject_id) == ("deliberation", waste.id)
    text = page_text((await client.get(f"/consult/meetings/{meeting.id}")).text)
    assert "Deliberation round: Waste sorting" in text

    request = bare_request(app)
    html = page_text(await panel(request, "deliberation", waste.id))
    assert "Waste talk" in html and "On the agenda: What residents agree on" in html
