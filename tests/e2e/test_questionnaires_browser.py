"""In a real browser, with JavaScript on and off, on a 360-px phone: a resident answers a
questionnaire (a missing required answer is refused with the answers kept), changes an
answer; after the questionnaire closes, its results page shows the chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consult.models import Answer, Questionnaire, QuestionnaireResponse
from tests.consult.questionnaire_setup import world
from tests.helpers import PASSWORD


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def _fits(page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, (page.url, width)


async def test_a_resident_answers_changes_and_sees_the_chart(page, tmp_path):
    w = await world()
    url = f"/consult/questionnaires/{w.q.id}"
    await page.set_viewport_size({"width": 360, "height": 740})
    await _sign_in(page, "alice")
    await page.goto("/consult/questionnaires")
    await page.click("text=Community safety")
    await page.wait_for_selector("h1:has-text('Community safety')")
    await _fits(page)

    # a required question left blank: refused, what was chosen is kept
    await page.check(f"#q{w.multiple.id}-{w.options['Fraud']}")
    await page.fill(f"#q{w.text.id}", "更多巡逻")
    await page.click("button:has-text('Send my answers')")
    await page.wait_for_selector(f"#q{w.single.id}-error")
    assert "Please answer this question." in await page.inner_text(f"#q{w.single.id}-error")
    assert await page.is_checked(f"#q{w.multiple.id}-{w.options['Fraud']}")
    assert await page.input_value(f"#q{w.text.id}") == "更多巡逻"
    assert await QuestionnaireResponse.all().count() == 0

    await page.check(f"#q{w.single.id}-{w.options['Mostly']}")
    await page.check(f"#q{w.scale.id}-4")
    await page.click("button:has-text('Send my answers')")
    await page.wait_for_selector("text=Thank you: your answers are saved.")
    await page.wait_for_selector("#answered")
    assert "you can change your answers until" in await page.inner_text("#answered")
    await _fits(page)

    # change an answer: the form shows the previous ones
    assert await page.is_checked(f"#q{w.single.id}-{w.options['Mostly']}")
    await page.check(f"#q{w.single.id}-{w.options['Yes']}")
    await page.click("button:has-text('Save my changed answers')")
    await page.wait_for_selector("text=Your changed answers are saved.")
    single = await Answer.get(question_id=w.single.id)
    assert single.option_id == w.options["Yes"]
    assert await QuestionnaireResponse.all().count() == 1

    # it closes: the results page shows the chart and the same figures in a table
    await Questionnaire.filter(id=w.q.id).update(closes_at=datetime.now(UTC) - timedelta(seconds=1))
    await page.goto(url)
    await page.click("text=See the results")
    await page.wait_for_selector(f"#result-{w.single.id} svg")
    assert await page.locator("figure.q-chart svg").count() == 3  # two choices and a scale
    box = await page.locator(f"#result-{w.single.id} svg").bounding_box()
    assert 0 < box["width"] <= 360
    table = await page.inner_text(f"#result-{w.single.id} table")
    assert "Yes" in table and "100.0%" in table
    await _fits(page)
    await page.screenshot(path=str(tmp_path / "questionnaire-results.png"), full_page=True)
