"""The demo meetings load on top of the budgeting demo and make the meeting pages live: talks
on the 16th and briefings on the 5th since half a year ago, minutes of every meeting held but
the latest 居民说事会, actions done and overdue, agendas naming the 2026 proposals."""

from __future__ import annotations

from datetime import UTC, datetime

import icalendar

from budget.demo import load_demo_data
from budget.models import Proposal
from consult.demo_meetings import load_meetings_demo
from consult.models import AgendaItem, FollowUpAction, Meeting, MeetingRecord
from consult.rules import recurrence
from core.i18n import local_today
from tests.helpers import PASSWORD, app_client, page_text


async def test_the_demo_meetings_make_the_pages_live(app, db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_meetings_demo()
    now = datetime.now(UTC)
    meetings = {m.title: m for m in await Meeting.all()}
    assert len(meetings) == 7
    for m in meetings.values():
        days = {
            recurrence.local_date(at).day for at in recurrence.occurrences(m.starts_at, m.rrule)
        }
        if m.kind == "talk":
            assert days == {16}, m.title
        elif m.kind == "briefing":
            assert days == {5}, m.title
    talk = meetings["东门社区民情恳谈会"]
    held = recurrence.between(talk.starts_at, talk.rrule, before=now)
    assert 5 <= len(held) <= 7
    records = await MeetingRecord.filter(meeting_id=talk.id)
    assert len(records) == len(held)
    assert all("居民反映的问题" in r.minutes for r in records)

    today = local_today()
    actions = await FollowUpAction.all()
    done = [a for a in actions if a.done_at is not None]
    overdue = [a for a in actions if a.done_at is None and a.due_on < today]
    assert done and overdue and len(actions) >= 20
    on_proposals = await AgendaItem.filter(subject_type="proposal").count()
    assert on_proposals >= 10

    cctv = await Proposal.get(title="东门二区楼道监控安装", round__title="2026年度社区微实事项目")
    async with app_client(app) as c:
        c.headers["Accept-Language"] = "zh-CN"
        text = page_text((await c.get(f"/budget/proposals/{cctv.id}")).text)
        assert "社区会议上的讨论" in text
        assert "议事会专题会议：东门二区楼道监控安装方案论证" in text
        assert "起草楼道监控使用和录像调取规定" in text
        listing = page_text((await c.get("/consult/meetings")).text)
        assert "全街道联户通报会" in listing and "尚无纪要" in listing
        feed = await c.get("/meetings.ics")
    assert len(icalendar.Calendar.from_ical(feed.content).walk("VEVENT")) == 7
