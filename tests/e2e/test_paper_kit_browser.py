"""In a real browser, with JavaScript on and off: a grid worker switches between two rounds in
voting on the paper-ballot page, tells two residents of the same name apart by household,
confirms the person, enters the paper ballot and gets the receipt slip with its QR code; the
printable ballot shows its QR code without any CSP complaint."""

from __future__ import annotations

import re

from budget.models import Ballot, Channel, Phase, ProposalStatus
from core.models import Role
from tests.helpers import PASSWORD, make_area, make_proposal, make_round, make_user

FEASIBLE = ProposalStatus.FEASIBLE


async def test_paper_ballot_journey_with_round_switch(page):  # noqa: F811
    from playwright.async_api import expect

    east = await make_area("East Gate")
    spring = await make_round(
        "Spring round", phase=Phase.VOTING, envelopes={east: 100_000_00, None: 50_000_00}
    )
    autumn = await make_round(
        "Autumn round", phase=Phase.VOTING, envelopes={east: 100_000_00, None: 50_000_00}
    )
    alice = await make_user("alice", area=east)
    await make_proposal(spring, alice, "Spring benches", 40_000_00, east, FEASIBLE)
    lights = await make_proposal(autumn, alice, "Autumn lights", 50_000_00, east, FEASIBLE)
    await make_user("grid", role=Role.GRID_WORKER, area=east)
    tang1 = await make_user("tang1", area=east, display_name="Tang Jiahao")
    tang2 = await make_user("tang2", area=east, display_name="Tang Jiahao")
    tang1.household = "Building 3, room 201"
    tang2.household = "Building 7, room 502"
    await tang1.save()
    await tang2.save()

    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", "grid")
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.goto("/budget/paper")
    await expect(page.locator("#residents")).to_contain_text("Choose a round first.")

    async def choose_round(rnd) -> None:
        await page.select_option("#round", str(rnd.id))
        if not page.js_enabled:  # no htmx: the form's own button
            await page.click("#round-form button[type=submit]")
        await expect(page.locator("#round-body")).to_contain_text("Building 7, room 502")

    await choose_round(autumn)
    rows = page.locator("#residents tbody tr")
    await expect(rows).to_have_count(3)  # alice and the two Tang Jiahao
    await choose_round(spring)
    await expect(
        page.locator(f"a[href$='/rounds/{spring.id}/paper/{tang2.id}/confirm']")
    ).to_be_visible()
    await choose_round(autumn)
    await page.click(f"a[href$='/rounds/{autumn.id}/paper/{tang2.id}/confirm']")

    await expect(page.locator("h1")).to_have_text("Is this the person?")
    await expect(page.locator("dl.paper-confirm")).to_contain_text("Building 7, room 502")
    await page.click("text=Yes, enter their paper ballot")
    await page.check(f"#project-{lights.id}")
    await page.click("form.ballot button.primary")
    await page.wait_for_selector("#receipt-code")
    await expect(page.locator(".receipt-slip svg.qr")).to_be_visible()
    if page.js_enabled:
        await expect(page.locator("button[data-print]")).to_be_visible()
    ballot = await Ballot.get(voter_id=tang2.id)
    assert ballot.round_id == autumn.id and ballot.channel == Channel.PAPER
    assert not await Ballot.filter(voter_id=tang1.id).exists()

    await page.goto(f"/budget/rounds/{autumn.id}/paper/kit")
    await expect(page.locator("svg.qr")).to_be_visible()
    await expect(page.locator("table.paper-kit-projects")).to_contain_text("Autumn lights")
    await page.goto(f"/budget/rounds/{autumn.id}/paper/kit/roll")
    row = page.locator("table.paper-kit-roll tr", has_text="Building 7, room 502")
    await expect(row).to_have_text(re.compile(r"Building 7, room 502\s*Voted\s*$"))
