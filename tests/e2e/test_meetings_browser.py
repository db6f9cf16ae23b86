"""In a real browser, with JavaScript on and off: a council member schedules a monthly
public-opinion talk on the 16th (after a refused rule that never ends), records the minutes of
its first meeting with a follow-up action about a proposal and marks it done; the proposal's
page shows the action; the list of meetings reads on a 360-px phone."""

from __future__ import annotations

from datetime import timedelta

from consult.models import FollowUpAction, Meeting, MeetingRecord
from core.i18n import local_today
from tests.consult.meetings_setup import sixteenth, town
from tests.helpers import PASSWORD


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def test_a_council_member_schedules_a_talk_and_records_its_minutes(page, tmp_path):
    t = await town()
    first = sixteenth(1)  # last month's 16th: the first talk is over

    await _sign_in(page, "council")
    await page.goto("/consult/meetings")
    await page.click("text=Schedule a meeting")
    await page.fill("#title", "东门社区民情恳谈会")
    await page.select_option("#kind", "talk")
    await page.fill("#place", "东门社区党群服务中心二楼会议室")
    await page.select_option("#area", str(t.east.id))
    await page.fill("#date", first.isoformat())
    await page.fill("#time", "19:00")
    # a rule of one's own that never ends: refused, what was typed kept
    await page.check("#repeat-advanced")
    await page.fill("#rrule", "FREQ=MONTHLY;BYMONTHDAY=16")
    await page.click("form button:has-text('Schedule the meeting')")
    await page.wait_for_selector("#rrule-error")
    assert "must end" in await page.inner_text("#rrule-error")
    assert await page.input_value("#title") == "东门社区民情恳谈会"
    assert await Meeting.all().count() == 0
    # the friendly way: every month on the same day, 12 times
    await page.fill("#rrule", "")
    await page.check("#repeat-monthly_day")
    await page.check("#ends-count")
    await page.fill("#count", "12")
    await page.click("form button:has-text('Schedule the meeting')")
    await page.wait_for_selector("h1:has-text('东门社区民情恳谈会')")
    assert "Every month on day 16, 12 times in all" in await page.inner_text("main")
    meeting = await Meeting.get(title="东门社区民情恳谈会")
    assert meeting.rrule == "FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12"

    # the first talk (the earliest held, listed last): attendance and minutes
    await page.locator("a:has-text('Record attendance and minutes')").last.click()
    await page.wait_for_selector("h2:has-text('Attendance and minutes')")
    assert f"{first:%B} {first.day}, {first.year}" in await page.inner_text("h1")
    await page.fill("#attendance", "37")
    await page.fill("#minutes", "居民反映主干道没有休息座椅。\n会议商定：街道城管科现场踏勘。")
    await page.click("form button:has-text('Save the minutes')")
    await page.wait_for_selector("text=37 attended")
    rec = await MeetingRecord.get(meeting_id=meeting.id)
    assert (rec.attendance, rec.minutes.splitlines()[0]) == (37, "居民反映主干道没有休息座椅。")

    # a follow-up action about the proposal
    due = (local_today() + timedelta(days=20)).isoformat()
    await page.fill("#title", "确定休息座椅的安装位置")
    await page.fill("#owner", "街道城管科")
    await page.fill("#due_on", due)
    await page.select_option("#link", "proposal")
    await page.fill("#number", str(t.proposal.id))
    await page.click("form button:has-text('Add the action')")
    await page.wait_for_selector("li.follow-up:has-text('确定休息座椅的安装位置')")
    act = await FollowUpAction.get(record_id=rec.id)
    assert (act.subject_type, act.subject_id) == ("proposal", t.proposal.id)

    # marked done: in place with JavaScript, by a new page without
    await page.click("li.follow-up button:has-text('Mark as done')")
    await page.wait_for_selector("li.follow-up .badge.done")
    assert (await FollowUpAction.get(id=act.id)).done_at is not None
    if page.js_enabled:
        assert "/at/" in page.url  # still the same page: the item was swapped in place

    # the proposal's page shows the action, for anyone
    await page.goto(f"/budget/proposals/{t.proposal.id}")
    panel = await page.inner_text("section.meeting-panel")
    assert "确定休息座椅的安装位置" in panel and "街道城管科" in panel and "Done" in panel
    await page.screenshot(path=str(tmp_path / "proposal.png"), full_page=True)

    # the list of meetings on a phone: nothing wider than the screen
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.goto("/consult/meetings")
    held = await page.inner_text("ul.occurrences.past")
    assert "Minutes" in held and "37 attended" in held  # the marker of the talk held
    await page.screenshot(path=str(tmp_path / "meetings-360.png"), full_page=True)
    for url in ("/consult/meetings", f"/consult/meetings/{meeting.id}"):
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (url, width)
