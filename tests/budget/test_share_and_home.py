"""Share and find, and where `/` leads: a finance officer's home is their work (the finance
view with the funded proposals to convert and the open procurements), everyone else's the
rounds; a proposal's and a round's page offer their link and a QR code (an SVG image of the
page's own address); the proposal list folds its filters behind one "Filter" control."""

from __future__ import annotations

import io

import segno

from budget.models import ProcurementStatus
from tests.budget.money import convert, funded_round
from tests.helpers import PASSWORD, login, make_round, page_text, post_form


async def test_the_finance_officers_home_is_their_work(client, db):
    fr = await funded_round()
    benches = await convert(fr, fr.benches)
    await login(client, "finance")
    home = await client.get("/")
    assert home.status_code == 302
    assert home.headers["location"].endswith("/budget/finance")
    text = page_text((await client.get("/budget/finance")).text)
    assert "To act on" in text
    # still to convert: the lamps, the cleaning and the library; the benches are a procurement
    assert fr.lamps.title in text and fr.library.title in text
    assert benches.title in text and "Planned" in text and "Yours" in text
    assert text.index(fr.lamps.title) < text.index(benches.title)


async def test_signing_in_leads_a_finance_officer_to_the_finance_view(client, db):
    await funded_round()
    response = await post_form(client, "/login", {"username": "finance", "password": PASSWORD})
    assert response.status_code == 303
    again = await client.get(response.headers["location"])
    assert again.headers["location"].endswith("/budget/finance")


async def test_others_go_to_the_rounds_and_see_no_work_list(client, db):
    fr = await funded_round()
    await convert(fr, fr.benches)
    assert (await client.get("/")).headers["location"].endswith("/budget/")
    await login(client, "council")
    assert (await client.get("/")).headers["location"].endswith("/budget/")
    text = page_text((await client.get("/budget/finance")).text)
    assert "To act on" not in text and fr.round.title in text


async def test_nothing_to_do_says_so(client, db):
    fr = await funded_round()
    for p in (fr.benches, fr.lamps, fr.cleaning, fr.library):
        proc = await convert(fr, p)
        proc.status = ProcurementStatus.CANCELLED
        await proc.save(update_fields=["status"])
    await login(client, "finance")
    text = page_text((await client.get("/budget/finance")).text)
    assert "Nothing waits for you" in text


async def test_a_proposal_and_a_round_share_their_link_and_qr_code(client, db):
    fr = await funded_round()
    page = await client.get(f"/budget/proposals/{fr.benches.id}")
    link = f"http://testserver/budget/proposals/{fr.benches.id}"
    assert f'value="{link}"' in page.text
    assert f"/budget/proposals/{fr.benches.id}/qr.svg" in page.text
    qr = await client.get(f"/budget/proposals/{fr.benches.id}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.text.startswith("<svg") and "style=" not in qr.text and "<script" not in qr.text
    # the code is the page's address: segno makes the same one
    buf = io.BytesIO()
    segno.make(link, error="m", micro=False).save(
        buf, kind="svg", scale=4, border=2, xmldecl=False, svgclass=None, lineclass=None
    )
    assert qr.content == buf.getvalue()

    rnd = await client.get(f"/budget/rounds/{fr.round.id}")
    assert f'value="http://testserver/budget/rounds/{fr.round.id}"' in rnd.text
    assert (await client.get(f"/budget/rounds/{fr.round.id}/qr.svg")).status_code == 200
    assert (await client.get("/budget/rounds/999999/qr.svg")).status_code == 404
    assert (await client.get("/budget/proposals/999999/qr.svg")).status_code == 404


async def test_a_private_studys_qr_code_is_not_found(client, db):
    rnd = await make_round(title="Study", is_study=True)
    assert (await client.get(f"/budget/rounds/{rnd.id}/qr.svg")).status_code == 404


async def test_the_filters_fold_unless_one_is_chosen(client, db):
    await funded_round()
    plain = await client.get("/budget/proposals")
    assert '<details class="filter-toggle">' in plain.text
    chosen = await client.get("/budget/proposals?category=equipment")
    assert '<details class="filter-toggle" open>' in chosen.text
