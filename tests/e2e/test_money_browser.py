"""In a real browser, with JavaScript on and off: a finance officer converts a funded proposal,
records the contract, pays, marks it delivered; a resident of its area rates it; anyone, signed
out, sees the payment on the public page. Then the public page read on a 360-px phone."""

from __future__ import annotations

from datetime import timedelta

from budget.models import LedgerEntry, Procurement, Rating
from core.i18n import local_today
from tests.budget.money import funded_round
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


async def test_from_funded_proposal_to_payment_and_rating(page, tmp_path):
    fr = await funded_round()
    yesterday = (local_today() - timedelta(days=1)).isoformat()

    # the finance officer converts the benches from the proposal's page
    await _sign_in(page, "finance")
    await page.goto(f"/budget/proposals/{fr.benches.id}")
    await page.click("text=Convert to a procurement")
    assert await page.input_value("#convert-cap") == "60000"  # the approved cost
    await page.fill("#convert-cap", "58000")
    await page.click("form button:has-text('Convert')")
    await page.wait_for_selector("h3:has-text('Ledger')")
    p = await Procurement.get(proposal_id=fr.benches.id)
    assert (p.cap_fen, p.status) == (58_000_00, "planned")

    # tendering, then the contract (which commits its amount)
    await page.click("text=Move to: Tendering")
    await page.click("main form button:has-text('Move to: Tendering')")
    await page.wait_for_selector(".flash")
    await page.click("text=Move to: Contracted")
    await page.fill("#move-supplier_name", "海口市琼山区红旗建设工程有限公司")
    await page.fill("#move-contract_ref", "HT-2026-017")
    await page.fill("#move-contract_date", yesterday)
    await page.fill("#move-contract_amount", "58001")  # above the cap: refused, kept
    await page.click("main form button:has-text('Move to: Contracted')")
    await page.wait_for_selector("text=above the cap")
    assert await page.input_value("#move-contract_ref") == "HT-2026-017"
    await page.fill("#move-contract_amount", "55000")
    await page.click("main form button:has-text('Move to: Contracted')")
    await page.wait_for_selector("h2:has-text('Contract')")

    # a payment of ¥20,000
    await page.select_option("#entry-kind", "pay")
    await page.fill("#entry-amount", "20000")
    await page.fill("#entry-entry_date", yesterday)
    await page.fill("#entry-document_ref", "FP-88001")
    await page.click("form button:has-text('Record')")
    await page.wait_for_selector("td:has-text('FP-88001')")
    p = await Procurement.get(id=p.id)
    assert (p.committed_fen, p.paid_fen) == (55_000_00, 20_000_00)
    assert await LedgerEntry.filter(procurement_id=p.id).count() == 2

    # in progress, then delivered
    await page.click("text=Move to: In progress")
    await page.click("main form button:has-text('Move to: In progress')")
    await page.wait_for_selector("text=Move to: Delivered")
    await page.click("text=Move to: Delivered")
    await page.fill("#move-delivered_on", yesterday)
    await page.click("main form button:has-text('Move to: Delivered')")
    await page.wait_for_selector("text=Move to: Closed")
    assert (await Procurement.get(id=p.id)).status == "delivered"
    # the workspace on a phone: its ledger table scrolls in its own box, the page does not
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.reload()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 360
    await page.set_viewport_size({"width": 1280, "height": 800})
    await _sign_out(page)

    # a resident of East rates it
    await _sign_in(page, "resident")
    await page.goto(f"/budget/procurements/{p.id}")
    await page.click("label[for=score-5]")
    await page.fill("#comment", "长椅很结实，老人们每天都坐。")
    await page.click("button:has-text('Save my rating')")
    await page.wait_for_selector("text=Your rating")
    rating = await Rating.get(procurement_id=p.id)
    assert (rating.score, rating.user_id) == (5, fr.resident.id)
    await _sign_out(page)

    # anyone sees the payment and the rating, never who rated
    await page.goto(f"/budget/procurements/{p.id}")
    body = await page.inner_text("main")
    assert "¥20,000" in body and "¥55,000" in body and "¥58,000" in body
    assert "长椅很结实" in body
    assert "Li Ming" not in body, body  # the rater (and the proposal's author)
    await page.screenshot(path=str(tmp_path / "procurement.png"), full_page=True)

    # on a phone: nothing wider than the screen
    await page.set_viewport_size({"width": 360, "height": 740})
    for url in (f"/budget/procurements/{p.id}", f"/budget/rounds/{fr.round.id}/spending"):
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (url, width)
