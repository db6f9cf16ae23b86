"""In a real browser on a 360-px phone, with JavaScript on and off: a resident follows a
proposal, the council moves its round to the next phase, and the resident sees the count in
the header, opens the list (the count goes to 0) and follows the notification to the round."""

from __future__ import annotations

from budget.models import Phase
from core.models import Follow, Notification, Role
from tests.helpers import PASSWORD, make_area, make_proposal, make_round, make_user


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def _sign_out(page) -> None:
    await page.click("button:has-text('Sign out')")
    await page.wait_for_selector("text=Sign in")


async def _fits_the_phone(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, (page.url, width)


async def test_follow_a_proposal_and_see_the_phase_change_in_the_notifications(page, tmp_path):
    east = await make_area("东门社区")
    alice = await make_user("alice", area=east, display_name="张伟")
    author = await make_user("bob", area=east, display_name="周丽")
    await make_user("chair", role=Role.COUNCIL, display_name="李秀英")
    rnd = await make_round("2026年度社区微实事项目", phase=Phase.PROPOSING)
    proposal = await make_proposal(rnd, author, "适老化休息座椅安装", area=east)
    await page.set_viewport_size({"width": 360, "height": 740})

    # the resident follows the proposal from its page
    await _sign_in(page, "alice")
    await page.goto(f"/budget/proposals/{proposal.id}")
    await _fits_the_phone(page)
    assert await page.locator(".notifications-link .count").count() == 0
    await page.click(f"#follow-proposal-{proposal.id} button:has-text('Follow')")
    await page.wait_for_selector(f"#follow-proposal-{proposal.id} button:has-text('Unfollow')")
    # with JavaScript the button changed in place; without, the form came back to the page
    assert page.url.endswith(f"/budget/proposals/{proposal.id}")
    await page.screenshot(path=str(tmp_path / "followed.png"))
    if not page.js_enabled:
        await page.wait_for_selector("text=You follow “适老化休息座椅安装”")
    assert await Follow.exists(user_id=alice.id, subject_type="proposal", subject_id=proposal.id)
    await _sign_out(page)

    # the council moves the round to reviewing
    await _sign_in(page, "chair")
    await page.goto(f"/budget/rounds/{rnd.id}")
    await page.click("text=Move to next phase")
    page.on("dialog", lambda dialog: dialog.accept())
    await page.click("form button:has-text('Move to Reviewing')")
    await page.wait_for_selector("text=is now in the phase Reviewing")
    assert await page.locator(".notifications-link .count").count() == 0  # not told himself
    await _sign_out(page)

    # the resident sees the count, opens the list: the count goes to 0
    await _sign_in(page, "alice")
    await page.goto("/budget/")
    assert await page.inner_text(".notifications-link .count") == "1"
    assert "1 unread" in await page.inner_text(".notifications-link")
    await page.screenshot(path=str(tmp_path / "badge.png"))
    await page.click(".notifications-link")
    await page.wait_for_selector("h1:has-text('Notifications')")
    await _fits_the_phone(page)
    item = page.locator("li.notification").first
    assert "“2026年度社区微实事项目” moved to a new phase: Reviewing" in await item.inner_text()
    assert "unread" in (await item.get_attribute("class"))
    assert await page.locator(".notifications-link .count").count() == 0
    await page.screenshot(path=str(tmp_path / "notifications.png"), full_page=True)

    # the notification leads to the round
    await item.locator("a").click()
    await page.wait_for_selector("h1:has-text('2026年度社区微实事项目')")
    assert page.url.endswith(f"/budget/rounds/{rnd.id}")
    assert await page.locator(".notifications-link .count").count() == 0
    assert (await Notification.get(user_id=alice.id)).read_at is not None
