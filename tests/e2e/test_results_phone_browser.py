"""On a 360-px phone, in Chinese, with JavaScript on and off: the results and the rule
comparison fit the screen (no sideways scrolling), each project is a card whose title reads
across the card (never one character per line), and the round in brief comes first."""

from __future__ import annotations

from budget.models import ProposalStatus
from budget.services import results as svc
from tests.budget.test_results_services import counted_round
from tests.helpers import PASSWORD, make_proposal

LONG_TITLE = "东门社区老旧小区加装无障碍坡道和扶手以及楼道照明改造工程"


async def _overflow(page) -> tuple[int, int]:
    return await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


async def test_results_and_comparison_read_on_a_phone(page):  # noqa: F811
    rnd, council, p, (east, _west) = await counted_round()
    await make_proposal(rnd, None, LONG_TITLE, 99_000_00, east, ProposalStatus.FEASIBLE)
    await svc.compute_results(council, rnd.id)
    await svc.publish_results(council, rnd.id)
    await page.set_viewport_size({"width": 360, "height": 740})

    await page.goto(f"/budget/rounds/{rnd.id}/results")
    width, inner = await _overflow(page)
    assert width <= inner, (width, inner)
    summary = page.locator(".round-summary")
    assert "本轮概况" in await summary.inner_text()
    # the summary comes before the first project
    first_card = page.locator("table.project-cards tr[id^=project-]").first
    assert (await summary.bounding_box())["y"] < (await first_card.bounding_box())["y"]
    assert await first_card.evaluate("e => getComputedStyle(e).display") != "table-row"
    title = page.locator(f"tr#project-{p['A'].id} td.title")
    # a card is as wide as the screen allows: a title is not squeezed into a column
    assert (await title.bounding_box())["width"] > 250
    why = page.locator(f"tr#project-{p['A'].id} td.why")
    assert (await why.bounding_box())["width"] > 250
    long_row = page.locator("tr[id^=project-]", has_text=LONG_TITLE)
    box = await long_row.locator("td.title").bounding_box()
    assert box["width"] > 250 and box["x"] + box["width"] <= 360
    number = page.locator(f"tr#project-{p['A'].id} td.number")
    assert await number.get_attribute("data-label") == "编号"
    # the card opens with its title
    assert (await title.bounding_box())["y"] < (await number.bounding_box())["y"]

    await page.goto("/login")
    await page.fill("#username", "council")
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.goto(f"/budget/rounds/{rnd.id}/results/compare")
    width, inner = await _overflow(page)
    assert width <= inner, (width, inner)
    card = page.locator("table.project-cards tbody tr").first
    assert await card.evaluate("e => getComputedStyle(e).display") != "table-row"
    assert (await card.locator("td.title").bounding_box())["width"] > 250
