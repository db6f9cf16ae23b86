"""The public pages of the money: a round's spending page and a procurement's page, read
without an account; no resident is ever named."""

from __future__ import annotations

import re
from datetime import timedelta

from budget.models import Phase, Rating
from budget.services import disclosure
from core.i18n import local_today
from tests.budget.disclosure_setup import stages_round
from tests.budget.money import funded_round
from tests.helpers import login, make_round, page_text

RESIDENT_NAMES = ("Li Ming", "Wang Fang", "resident", "westie")


def assert_no_resident(html: str) -> None:
    """Neither display names nor usernames of the residents (as whole words: "residents" is
    a word of the page)."""
    for name in RESIDENT_NAMES:
        assert not re.search(rf"\b{re.escape(name)}\b", html), name


async def rate(st, procurement, user, score, comment=""):
    return await Rating.create(procurement=procurement, user=user, score=score, comment=comment)


async def test_spending_page_shows_the_money_to_anyone(client, db, settings):
    st = await stages_round(settings.upload_dir)
    fr = st.fr
    await rate(st, st.closed, fr.resident, 5, "Lovely benches")
    await rate(st, st.delivered, fr.west_resident, 2)

    response = await client.get(f"/budget/rounds/{fr.round.id}/spending")
    assert response.status_code == 200
    text = page_text(response.text)
    # totals: fund, caps of the procurements not cancelled, committed, paid
    assert "Fund ¥200,000" in text
    # 60,000 + 25,000 + 40,000 + 10,000
    assert "Caps of the procurements not cancelled ¥135,000" in text
    assert "Committed ¥114,000" in text  # 50,000 + 24,000 + 40,000 (benches released 0)
    assert "Paid ¥100,000" in text  # 50,000 + 10,000 + 40,000
    # delivery: benches on time; cleaning delivered late, lamps overdue; racks open
    assert "Delivered on time 1" in text
    assert "Late 2 (1 delivered late, 1 not delivered yet)" in text
    assert "Open 1" in text
    assert "(1 cancelled)" in text
    # satisfaction: one of two ratings is 4 or 5
    assert "50.0% of 2 ratings are 4 or 5 out of 5" in text
    # beneficiaries: the proposals' (100 each by default, racks 40), cancelled left out
    assert "Beneficiaries 340" in text
    # each procurement with its figures
    assert "Benches by the canal Closed Engineering works East Gate ¥60,000 ¥50,000 ¥50,000" in text
    assert "Harbour Works Ltd" in text
    assert "Mobile library Cancelled Goods and equipment District-wide ¥20,000 ¥0 ¥0" in text
    assert "Delivered late" in text and "Late: not delivered" in text
    assert "100.0% (1)" in text and "0.0% (1)" in text
    assert_no_resident(response.text)
    assert f"/budget/rounds/{fr.round.id}/ocds.json" in response.text


async def test_spending_totals_agree_with_the_rows(db):
    """The SQL aggregates count delivery the same way as the per-row (Python) rule."""
    st = await stages_round()
    rnd = st.fr.round
    totals = await disclosure.round_totals(rnd)
    page = await disclosure.spending_rows(rnd, 1, totals.procurements)
    kinds = [row.delivery for row in page.items]
    D = disclosure.Delivery
    assert totals.on_time == kinds.count(D.ON_TIME) == 1
    assert totals.delivered_late == kinds.count(D.DELIVERED_LATE) == 1
    assert totals.overdue == kinds.count(D.OVERDUE) == 1
    assert totals.open == kinds.count(D.OPEN) == 1
    assert totals.cancelled == kinds.count(D.CANCELLED) == 1
    assert totals.paid_fen == sum(row.paid_fen for row in page.items)
    assert totals.committed_fen == sum(row.committed_fen for row in page.items)


def test_delivery_rule():
    today = local_today()
    end = today - timedelta(days=1)
    D = disclosure.Delivery
    assert disclosure.delivery_of("delivered", end, end, today) == D.ON_TIME
    assert disclosure.delivery_of("closed", end, today, today) == D.DELIVERED_LATE
    assert disclosure.delivery_of("in_progress", end, None, today) == D.OVERDUE
    assert disclosure.delivery_of("planned", today, None, today) == D.OPEN
    assert disclosure.delivery_of("cancelled", end, end, today) == D.CANCELLED


async def test_spending_page_of_a_round_without_published_results_is_not_found(client, db):
    rnd = await make_round("Still voting", phase=Phase.VOTING)
    assert (await client.get(f"/budget/rounds/{rnd.id}/spending")).status_code == 404
    assert (await client.get(f"/budget/rounds/{rnd.id}/ocds.json")).status_code == 404
    assert (await client.get("/budget/rounds/99999/spending")).status_code == 404


async def test_spending_page_before_any_conversion(client, db):
    fr = await funded_round()
    response = await client.get(f"/budget/rounds/{fr.round.id}/spending")
    assert response.status_code == 200
    assert "have not become procurements yet" in page_text(response.text)
    # the export says so in JSON
    export = await client.get(f"/budget/rounds/{fr.round.id}/ocds.json")
    assert export.status_code == 404
    assert export.headers["content-type"].startswith("application/json")
    assert "no procurements" in export.json()["error"]


async def test_procurement_page_shows_money_payments_and_public_documents_only(
    client, db, settings
):
    st = await stages_round(settings.upload_dir)
    response = await client.get(f"/budget/procurements/{st.running.id}")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Solar lamps" in text and "In progress" in text
    assert "Budget cap ¥25,000" in text
    assert "Committed ¥24,000" in text
    assert "Paid ¥10,000" in text
    # the payment that stands, not the one reversed
    assert "Aug 20, 2026 ¥10,000" in text
    assert "Aug 21, 2026" not in text
    assert "Supplier Harbour Works Ltd" in text
    assert "91440300MA5EXAMPLE" in text
    assert f"HT-{st.running.id:04d}" in text
    assert "Contract amount ¥24,000" in text
    assert "Lamps installed" in text
    # the public document is listed and linked; the private one is not
    assert "Signed lamp contract" in text
    assert "Internal invoice scan" not in text
    assert "/budget/documents/" in response.text
    # the proposal it came from, and the path back to the round's spending
    assert f'href="http://testserver/budget/proposals/{st.fr.lamps.id}"' in response.text
    assert f"/budget/rounds/{st.fr.round.id}/spending" in response.text
    # history by date and state, without who moved it
    assert "Planned" in text and "Tendering" in text and "Contracted" in text
    assert "Fang Cai" not in text
    assert_no_resident(response.text)
    assert "Manage this procurement" not in text


async def test_cancelled_procurement_shows_its_reason(client, db):
    st = await stages_round()
    text = page_text((await client.get(f"/budget/procurements/{st.cancelled.id}")).text)
    assert "Cancelled: No supplier answered the tender" in text
    assert "Nothing paid yet." in text


async def test_finance_and_council_get_a_link_to_the_workspace(app, client, db):
    st = await stages_round()
    await login(client, "finance")
    response = await client.get(f"/budget/procurements/{st.running.id}")
    assert "Manage this procurement" in page_text(response.text)
    assert f"/budget/procurements/{st.running.id}/manage" in response.text
    await login(client, "council")
    response = await client.get(f"/budget/procurements/{st.running.id}")
    assert "Manage this procurement" in page_text(response.text)


async def test_unknown_procurement_is_not_found(client, db):
    assert (await client.get("/budget/procurements/424242")).status_code == 404


async def test_round_results_and_proposal_pages_link_to_the_money(client, db):
    st = await stages_round()
    rnd = st.fr.round
    spending = f"/budget/rounds/{rnd.id}/spending"
    assert spending in (await client.get(f"/budget/rounds/{rnd.id}")).text
    assert spending in (await client.get(f"/budget/rounds/{rnd.id}/results")).text
    proposal_page = await client.get(f"/budget/proposals/{st.fr.lamps.id}")
    assert f"/budget/procurements/{st.running.id}" in proposal_page.text
    # a proposal that was not funded links to no procurement
    assert (
        "/budget/procurements/" not in (await client.get(f"/budget/proposals/{st.fr.pond.id}")).text
    )


async def test_results_page_links_to_the_money_only_once_procurements_exist(client, db):
    fr = await funded_round()
    results = await client.get(f"/budget/rounds/{fr.round.id}/results")
    assert f"/budget/rounds/{fr.round.id}/spending" not in results.text


async def test_spending_page_paginates(client, db):
    st = await stages_round()
    disclosure_size = disclosure.SPENDING_PAGE_SIZE
    try:
        disclosure.SPENDING_PAGE_SIZE = 2
        first = page_text((await client.get(f"/budget/rounds/{st.fr.round.id}/spending")).text)
        third = page_text(
            (await client.get(f"/budget/rounds/{st.fr.round.id}/spending?page=3")).text
        )
    finally:
        disclosure.SPENDING_PAGE_SIZE = disclosure_size
    assert "Benches by the canal" in first and "Bike racks" not in first
    assert "Page 1 of 3" in first
    assert "Bike racks" in third and "Benches by the canal" not in third
    # the totals are the whole round's on every page
    assert "Paid ¥100,000" in third
