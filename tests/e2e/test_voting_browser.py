"""In a real browser (Chromium via Playwright), with JavaScript on and off: a resident casts a
budget-limited ballot, watches the running total (htmx) or updates it by hand (no JS), is
told when an envelope is over budget with the choices kept, and checks the receipt."""

from __future__ import annotations

import re

from budget.models import Ballot, BallotChoice, Phase, ProposalStatus
from tests.helpers import PASSWORD, make_area, make_proposal, make_round, make_user

FEASIBLE = ProposalStatus.FEASIBLE


async def test_cast_a_budget_limited_ballot(page):  # noqa: F811
    from playwright.async_api import expect

    east = await make_area("East Gate")
    rnd = await make_round(
        phase=Phase.VOTING, fund_fen=150_000_00, envelopes={east: 100_000_00, None: 50_000_00}
    )
    alice = await make_user("alice", area=east)
    benches = await make_proposal(rnd, alice, "Benches", 40_000_00, east, FEASIBLE)
    lights = await make_proposal(rnd, alice, "Lights", 50_000_00, east, FEASIBLE)
    garden = await make_proposal(rnd, alice, "Garden", 40_000_00, east, FEASIBLE)
    library = await make_proposal(rnd, alice, "Library", 30_000_00, None, FEASIBLE)

    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.goto(f"/budget/rounds/{rnd.id}/ballot")
    summary = page.locator("#ballot-summary")

    async def totals() -> str:
        if not page.js_enabled:  # no htmx: the "Update the totals" button does it
            await page.click("button[name=preview]")
        return " ".join((await summary.inner_text()).replace("CN¥", "¥").split())

    await page.check(f"#project-{benches.id}")
    await page.check(f"#project-{lights.id}")
    await page.check(f"#project-{library.id}")
    if page.js_enabled:  # the three ticks settle in any order: wait for the last state
        await expect(summary).to_contain_text(re.compile(r"2 chosen.*90,000.*1 chosen", re.S))
    text = await totals()
    assert "2 chosen, ¥90,000 of ¥100,000" in text and "¥10,000 left" in text
    assert "1 chosen, ¥30,000 of ¥50,000" in text

    await page.check(f"#project-{garden.id}")
    if page.js_enabled:
        await expect(summary).to_contain_text("130,000")
    text = await totals()
    assert "You chose 3 projects costing ¥130,000; this envelope has ¥100,000." in text

    # casting anyway: refused on the page, choices kept
    await page.click("form.ballot button.primary")
    await page.wait_for_selector(".error-summary")
    assert await page.is_checked(f"#project-{garden.id}")
    assert await page.is_checked(f"#project-{library.id}")
    assert await Ballot.all().count() == 0

    await page.uncheck(f"#project-{garden.id}")
    if page.js_enabled:  # let the running total settle before leaving the page
        await expect(summary).to_contain_text(re.compile(r"2 chosen.*1 chosen", re.S))
    await page.click("form.ballot button.primary")
    await page.wait_for_selector("#receipt-code")
    code = (await page.inner_text("#receipt-code")).strip()
    assert re.fullmatch(r"[A-Z2-9]{5}-[A-Z2-9]{5}", code)
    ballot = await Ballot.get(voter_id=alice.id)
    assert set(
        await BallotChoice.filter(ballot_id=ballot.id).values_list("proposal_id", flat=True)
    ) == {benches.id, lights.id, library.id}

    await page.click("text=Check this receipt")
    await page.wait_for_selector(".receipt-found")
    assert "This ballot is recorded" in await page.inner_text(".receipt-found")


async def test_over_budget_bar_and_total_after_back(page):  # noqa: F811
    """Over budget the bar is marked (red) like the text; after opening a project and going
    Back, the total is that of the ticks the browser restored, not "0 chosen"."""
    import pytest
    from playwright.async_api import expect

    if not page.js_enabled:
        pytest.skip("the running total and its refresh are htmx's; without it, a button")
    east = await make_area("East Gate")
    rnd = await make_round(phase=Phase.VOTING, fund_fen=100_000_00, envelopes={east: 100_000_00})
    alice = await make_user("alice", area=east)
    benches = await make_proposal(rnd, alice, "Benches", 60_000_00, east, FEASIBLE)
    lights = await make_proposal(rnd, alice, "Lights", 50_000_00, east, FEASIBLE)

    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.goto(f"/budget/rounds/{rnd.id}/ballot")
    summary = page.locator("#ballot-summary")
    await page.check(f"#project-{benches.id}")
    await page.check(f"#project-{lights.id}")
    await expect(summary).to_contain_text("2 chosen")
    meter = summary.locator("meter")
    await expect(meter).to_have_class("over")
    described = await meter.get_attribute("aria-describedby")
    assert "this envelope has" in await page.inner_text(f"#{described}")
    # the stylesheet's meter.over rules apply (outline and red bar in the accent colour)
    assert await meter.evaluate("m => getComputedStyle(m).outlineStyle") == "solid"

    await page.click(f"a[href$='/budget/proposals/{lights.id}']")
    await page.wait_for_url(f"**/budget/proposals/{lights.id}")
    await page.go_back()
    await page.wait_for_url(f"**/budget/rounds/{rnd.id}/ballot")
    assert await page.is_checked(f"#project-{benches.id}")
    assert await page.is_checked(f"#project-{lights.id}")
    await expect(summary).to_contain_text("2 chosen, ¥110,000 of ¥100,000")
