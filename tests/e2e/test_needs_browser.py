"""In a real browser, with JavaScript on and off: a resident raises a need with a photo, a
council member finds it on the list, answers it and resolves it, the resident rates the
answer and has been notified of each step. Then the need pages on a 360-px phone."""

from __future__ import annotations

import re

from consult.models import Need, NeedState
from core.models import Notification, Role
from tests.helpers import PASSWORD, make_area, make_user, tiny_png


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def _sign_out(page) -> None:
    await page.click("button:has-text('Sign out')")
    await page.wait_for_selector("text=Sign in")


async def test_a_need_raised_answered_resolved_and_rated(page, tmp_path):
    east = await make_area("东门社区")
    alice = await make_user("alice", area=east, display_name="张伟")
    await make_user("council", role=Role.COUNCIL, display_name="陈建国")
    photo = tmp_path / "lamp.png"
    photo.write_bytes(tiny_png())

    # the resident raises a need
    await _sign_in(page, "alice")
    await page.goto("/consult/needs/new")
    await page.fill("#title", "3号楼北门路灯不亮")
    await page.fill("#body", "路灯坏了一个多月，晚上很黑。")
    await page.fill("#place", "3号楼北门")
    await page.select_option("#category", "roads")
    await page.set_input_files("#photos", str(photo))
    await page.click("form[action$='/consult/needs/new'] button[type=submit]")
    await page.wait_for_selector("text=The need is received.")
    need = await Need.get(resident_id=alice.id)
    assert need.number in await page.inner_text("#need-number")
    assert await page.locator(".photos img").count() == 1
    await _sign_out(page)

    # the council finds it on its list and answers it
    await _sign_in(page, "council")
    await page.goto("/consult/needs")
    await page.click(f"text={need.title}")
    await page.click("a:has-text('Answer')")
    await page.check("#answer-accepted")
    await page.fill("#owner", "物业服务中心")
    await page.click("button:has-text('Send the answer')")  # no due date: refused, kept
    await page.wait_for_selector("#due_on-error")
    assert await page.input_value("#owner") == "物业服务中心"
    await page.fill("#due_on", "2099-12-31")
    await page.click("button:has-text('Send the answer')")
    await page.wait_for_selector("text=is answered; its resident is told.")
    await page.click("a:has-text('Resolve')")
    await page.fill("#resolution_note", "已更换灯泡。")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("button:has-text('Resolve the need')")
    await page.wait_for_selector("text=is resolved; its resident is told.")
    assert (await Need.get(id=need.id)).state == NeedState.RESOLVED
    await _sign_out(page)

    # the resident rates the answer, and was told of each step
    await _sign_in(page, "alice")
    await page.goto(f"/consult/needs/{need.id}")
    await page.check("#rating-5")
    await page.fill("#rating_comment", "很快就修好了，谢谢！")
    await page.click("button:has-text('Send my rating')")
    await page.wait_for_selector("text=your rating is recorded")
    await page.wait_for_selector("text=5 out of 5")
    timeline = await page.inner_text(".need-timeline")
    assert re.search(r"Received.*Answered.*Resolved.*Rated", timeline, re.S)
    row = await Need.get(id=need.id)
    assert (row.rating, row.rating_comment) == (5, "很快就修好了，谢谢！")
    kinds = (
        await Notification.filter(user_id=alice.id).order_by("id").values_list("kind", flat=True)
    )
    assert kinds == ["need_answered", "need_resolved"]
    # … and reads them in the header and the notifications list, which then marks them read
    assert (await page.inner_text(".notifications-link .count")).strip() == "2"
    await page.click(".notifications-link")
    listed = await page.inner_text("main")
    assert f"Your need {need.number} was answered" in listed
    assert f"Your need {need.number} was resolved" in listed
    await page.goto(f"/consult/needs/{need.id}")
    assert await page.locator(".notifications-link .count").count() == 0

    # the pages fit a phone
    await page.set_viewport_size({"width": 360, "height": 740})
    for url in (f"/consult/needs/{need.id}", "/consult/needs/mine", "/consult/needs/new"):
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (url, width)
