"""In a real browser, with JavaScript on and off: a resident comments on a clause of a
convention in consultation; the council opens the ratification vote; the resident votes; the
council closes the vote and the page shows the outcome with its figures. Then a 360-px phone."""

from __future__ import annotations

from consult.models import Comment, Convention, ConventionState, RatificationVoter
from tests.consult.convention_setup import consulting, district
from tests.helpers import PASSWORD


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def _sign_out(page) -> None:
    await page.click("button:has-text('Sign out')")
    await page.wait_for_selector("text=Sign in")


async def test_comment_on_a_clause_ratify_and_see_the_outcome(page, tmp_path):
    s = await district()
    c = await consulting(s, turnout_percent="30")
    url = f"/consult/conventions/{c.id}"

    # the resident comments on the dog-keeping clause
    await _sign_in(page, "alice")
    await page.goto(url)
    await page.click("#clauses li:nth-child(2) .clause-comments a")
    await page.wait_for_selector("h1:has-text('文明养犬')")
    await page.check("#comment-stance-for")
    await page.fill("#comment-body", "建议写明牵引绳的长度。")
    await page.click("#comment-form button:has-text('Post comment')")
    await page.wait_for_selector(".comment-body:has-text('建议写明牵引绳的长度。')")
    assert await Comment.filter(subject_type="clause").count() == 1
    await page.goto(url)
    assert "1 comment" in await page.inner_text("#clauses li:nth-child(2)")
    await _sign_out(page)

    # the council opens the ratification vote (a confirmation page first)
    await _sign_in(page, "council")
    await page.goto(url)
    await page.click("a:has-text('Open the ratification vote')")
    await page.wait_for_selector("text=The text can no longer change")
    await page.click("form button:has-text('Open the ratification vote')")
    await page.wait_for_selector("text=The ratification vote on")
    await _sign_out(page)

    # the resident votes, once
    await _sign_in(page, "alice")
    await page.goto(url)
    await page.check("#choice-yes")
    await page.click("button:has-text('Cast my vote')")
    await page.wait_for_selector("text=You have voted.")
    assert "Cast my vote" not in await page.inner_text("main")
    assert await RatificationVoter.filter(convention_id=c.id).count() == 1
    await _sign_out(page)

    # the council closes the vote: adopted, with the figures
    await _sign_in(page, "council")
    await page.goto(f"{url}/close")
    await page.click("form button:has-text('Close the vote')")
    await page.wait_for_selector("h2:has-text('Outcome of the vote')")
    figures = await page.inner_text("#vote")
    assert "Ratified: the convention is adopted." in figures
    assert "Eligible residents\n3" in figures or "Eligible residents 3" in figures
    assert "33.3%" in figures and "at least 30% needed" in figures
    assert (await Convention.get(id=c.id)).state == ConventionState.ADOPTED

    # on a phone: nothing wider than the screen
    await page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/consult/conventions", url, f"{url}/versions/1"):
        await page.goto(path)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (path, width)
    await page.goto(url)
    await page.screenshot(path=str(tmp_path / "convention.png"), full_page=True)
