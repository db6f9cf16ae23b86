"""The finance officer's and the council's procurement pages through the app: converting funded
proposals, the workspace (status, ledger, milestones, documents, cap), moving a procurement from
planned to closed, recording and reversing money, and every refusal (the role, the state, bad
input) with nothing written."""

from __future__ import annotations

import re

from budget.models import (
    CapChange,
    CapChangeStatus,
    EntryKind,
    LedgerEntry,
    Milestone,
    Procurement,
    ProcurementDocument,
    ProcurementEvent,
    ProcurementStatus,
)
from budget.services import procurements
from core.i18n import local_today
from tests.budget.money import FundedRound, contract, convert, funded_round, pay
from tests.helpers import app_client, login, page_text, post_form, tiny_png

CONTRACT = {
    "supplier_name": "Harbour Works Ltd",
    "supplier_code": "",
    "contract_ref": "HT-2026-001",
    "contract_date": "2026-07-01",
    "contract_amount": "50000",
}


def manage_url(p: Procurement) -> str:
    return f"/budget/procurements/{p.id}/manage"


def field_value(html: str, ident: str) -> str | None:
    """The value an input with this id shows."""
    match = re.search(rf'<input id="{re.escape(ident)}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else None


async def finance_in(client) -> FundedRound:
    fr = await funded_round()
    await login(client, "finance")
    return fr


async def contracted(fr: FundedRound, amount_fen: int = 50_000_00) -> Procurement:
    p = await convert(fr, fr.benches)
    return await contract(fr, p, amount_fen)


# --- converting ------------------------------------------------------------------------------


async def test_a_finance_officer_converts_a_funded_proposal_with_the_defaults(client, db):
    fr = await finance_in(client)

    page = await client.get(f"/budget/proposals/{fr.lamps.id}")
    assert "Convert to a procurement" in page_text(page.text)

    form = await client.get(f"/budget/proposals/{fr.lamps.id}/convert")
    assert form.status_code == 200
    assert field_value(form.text, "convert-title") == "Solar lamps"
    assert field_value(form.text, "convert-cap") == "25000"  # the revised cost
    assert field_value(form.text, "convert-planned_start") == "2026-06-15"
    assert 'value="goods" selected' in form.text
    assert "¥100,000" in page_text(form.text)  # what the East envelope still leaves

    response = await post_form(
        client,
        f"/budget/proposals/{fr.lamps.id}/convert",
        {
            "title": "Solar lamps for the East Gate paths",
            "kind": "goods",
            "officer": str(fr.finance.id),
            "planned_start": "2026-07-01",
            "planned_end": "2026-09-30",
            "cap": "24000.50",
        },
    )
    assert response.status_code == 303
    p = await Procurement.get(proposal_id=fr.lamps.id)
    assert response.headers["location"].endswith(manage_url(p))
    assert (p.title, p.cap_fen, p.officer_id, p.status) == (
        "Solar lamps for the East Gate paths",
        24_000_50,
        fr.finance.id,
        ProcurementStatus.PLANNED,
    )
    workspace = page_text((await client.get(manage_url(p))).text)
    assert "Solar lamps for the East Gate paths" in workspace
    assert "Converted by Fang Cai" in workspace
    assert "¥24,000.50" in workspace

    # the proposal now points at its procurement instead of offering to convert it
    page = page_text((await client.get(f"/budget/proposals/{fr.lamps.id}")).text)
    assert "Funded: follow its procurement, payments and residents' ratings" in page
    assert "Convert to a procurement" not in page


async def test_a_bad_conversion_form_keeps_what_was_typed(client, db):
    fr = await finance_in(client)
    response = await post_form(
        client,
        f"/budget/proposals/{fr.benches.id}/convert",
        {
            "title": "Benches",
            "kind": "works",
            "officer": "",
            "planned_start": "2026-07-01",
            "planned_end": "2026-06-01",
            "cap": "120000",
        },
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "The planned end cannot be before the start." in text
    assert field_value(response.text, "convert-cap") == "120000"
    assert await Procurement.all().count() == 0

    # a cap above what the envelope leaves says how much is left
    response = await post_form(
        client,
        f"/budget/proposals/{fr.benches.id}/convert",
        {
            "title": "Benches",
            "kind": "works",
            "planned_start": "2026-07-01",
            "planned_end": "2026-08-01",
            "cap": "120000",
        },
    )
    assert response.status_code == 422
    assert "At most ¥100,000 is left." in page_text(response.text)
    assert await Procurement.all().count() == 0


async def test_converting_twice_is_refused(client, db):
    fr = await finance_in(client)
    values = procurements.conversion_defaults(fr.benches, fr.finance, fr.round)
    first = await post_form(client, f"/budget/proposals/{fr.benches.id}/convert", values)
    assert first.status_code == 303
    again = await post_form(client, f"/budget/proposals/{fr.benches.id}/convert", values)
    assert again.status_code == 422
    assert "Benches by the canal is already a procurement." in page_text(again.text)
    assert await Procurement.filter(proposal_id=fr.benches.id).count() == 1
    # the form is not offered again: it leads to the procurement
    response = await client.get(f"/budget/proposals/{fr.benches.id}/convert")
    assert response.status_code == 303
    p = await Procurement.get(proposal_id=fr.benches.id)
    assert response.headers["location"].endswith(manage_url(p))


async def test_converting_a_whole_round(client, db):
    fr = await finance_in(client)
    assert "Convert funded proposals" in page_text(
        (await client.get(f"/budget/rounds/{fr.round.id}")).text
    )
    page = await client.get(f"/budget/rounds/{fr.round.id}/convert")
    assert page.status_code == 200
    text = page_text(page.text)
    for title in ("Benches by the canal", "Solar lamps", "Lake clean-up", "Mobile library"):
        assert title in text
    assert "Koi pond" not in text  # not funded
    assert "Convert all 4" in text

    response = await post_form(client, f"/budget/rounds/{fr.round.id}/convert")
    assert response.status_code == 303
    caps = dict(await Procurement.all().values_list("proposal_id", "cap_fen"))
    assert caps == {
        fr.benches.id: 60_000_00,
        fr.lamps.id: 25_000_00,
        fr.cleaning.id: 40_000_00,
        fr.library.id: 20_000_00,
    }
    page = page_text((await client.get(f"/budget/rounds/{fr.round.id}/convert")).text)
    assert "Every funded proposal of this round is a procurement." in page
    # nothing left: a second round conversion creates nothing
    await post_form(client, f"/budget/rounds/{fr.round.id}/convert")
    assert await Procurement.all().count() == 4


async def test_residents_and_the_council_may_not_convert_nor_record_money(app, client, db):
    fr = await funded_round()
    p = await contracted(fr)
    entries = await LedgerEntry.all().count()
    values = procurements.conversion_defaults(fr.lamps, fr.finance, fr.round)
    payment = {"kind": "pay", "amount": "100", "entry_date": "2026-08-01"}
    for username in ("resident", "council"):
        async with app_client(app) as c:
            await login(c, username)
            assert (await c.get(f"/budget/proposals/{fr.lamps.id}/convert")).status_code == 403
            response = await post_form(c, f"/budget/proposals/{fr.lamps.id}/convert", values)
            assert response.status_code == 403
            response = await post_form(c, f"/budget/rounds/{fr.round.id}/convert")
            assert response.status_code == 403
            response = await post_form(c, f"/budget/procurements/{p.id}/entries", payment)
            assert response.status_code == 403
            page = page_text((await c.get(f"/budget/proposals/{fr.lamps.id}")).text)
            assert "Convert to a procurement" not in page
    assert await Procurement.all().count() == 1
    assert await LedgerEntry.all().count() == entries

    async with app_client(app) as c:
        await login(c, "resident")
        assert (await c.get(manage_url(p))).status_code == 403
    async with app_client(app) as c:  # the council reads the workspace, without money forms
        await login(c, "council")
        response = await c.get(manage_url(p))
        assert response.status_code == 200
        assert "Harbour Works Ltd" in page_text(response.text)
        assert "Record an entry" not in page_text(response.text)
        assert f"/budget/procurements/{p.id}/entries" not in response.text
    # the public is sent to sign in
    response = await client.get(manage_url(p))
    assert response.status_code == 303 and "/login" in response.headers["location"]


# --- the whole path --------------------------------------------------------------------------


async def test_the_whole_path_from_planned_to_closed_through_the_pages(client, db):
    fr = await finance_in(client)
    p = await convert(fr, fr.benches)
    base = f"/budget/procurements/{p.id}"
    payment = {"kind": "pay", "amount": "100", "entry_date": "2026-08-01"}
    response = await post_form(client, f"{base}/entries", payment)
    assert response.status_code == 422  # no contract yet
    assert "Money moves only once the contract is recorded." in page_text(response.text)
    assert field_value(response.text, "entry-amount") == "100"

    page = await client.get(manage_url(p))
    assert f"{base}/move/tendering" in page.text and f"{base}/move/cancelled" in page.text
    assert f"{base}/move/contracted" not in page.text  # only the next states are offered
    assert "Money moves only once the contract is recorded." in page_text(page.text)

    assert (await client.get(f"{base}/move/tendering")).status_code == 200
    assert (await post_form(client, f"{base}/move/tendering")).status_code == 303

    form = await client.get(f"{base}/move/contracted")
    assert form.status_code == 200
    assert field_value(form.text, "move-contract_date") == local_today().isoformat()
    response = await post_form(client, f"{base}/move/contracted", CONTRACT)
    assert response.status_code == 303

    response = await post_form(
        client,
        f"{base}/entries",
        {
            "kind": "pay",
            "amount": "20,000",
            "entry_date": "2026-08-01",
            "document_ref": "FP-001",
            "note": "First instalment",
        },
    )
    assert response.status_code == 303
    assert (await post_form(client, f"{base}/move/in_progress")).status_code == 303
    response = await post_form(client, f"{base}/move/delivered", {"delivered_on": "2026-10-01"})
    assert response.status_code == 303
    await pay(fr, p, 25_000_00, "2026-10-15")

    closing = await client.get(f"{base}/move/closed")
    assert "releases the unspent commitment of ¥5,000" in page_text(closing.text)
    assert (await post_form(client, f"{base}/move/closed")).status_code == 303

    p = await Procurement.get(id=p.id)
    assert (p.status, p.committed_fen, p.paid_fen) == (
        ProcurementStatus.CLOSED,
        45_000_00,
        45_000_00,
    )
    assert p.delivered_on.isoformat() == "2026-10-01"
    kinds = await LedgerEntry.filter(procurement_id=p.id).values_list("kind", "amount_fen")
    assert [(EntryKind(k), a) for k, a in kinds] == [
        (EntryKind.COMMIT, 50_000_00),
        (EntryKind.PAY, 20_000_00),
        (EntryKind.PAY, 25_000_00),
        (EntryKind.RELEASE, 5_000_00),
    ]
    steps = await ProcurementEvent.filter(procurement_id=p.id).values_list("to_status", flat=True)
    assert steps == ["planned", "tendering", "contracted", "in_progress", "delivered", "closed"]

    page = await client.get(manage_url(p))
    text = page_text(page.text)
    assert "Closed" in text
    assert "Contract with Harbour Works Ltd" in text
    assert "First instalment" in text and "FP-001" in text
    assert "¥20,000" in text and "¥25,000" in text and "¥5,000" in text
    assert "Unspent commitment returned on closing" in text
    assert "Delivered → Closed, by Fang Cai" in text
    assert "/move/" not in page.text  # a closed procurement goes nowhere
    assert "Record an entry" not in text


async def test_a_step_not_offered_is_refused_with_a_clear_page(client, db):
    fr = await finance_in(client)
    p = await convert(fr, fr.benches)
    response = await client.get(f"/budget/procurements/{p.id}/move/delivered")
    assert response.status_code == 422
    assert "can only become: Tendering, Cancelled" in page_text(response.text)
    response = await post_form(
        client, f"/budget/procurements/{p.id}/move/delivered", {"delivered_on": "2026-10-01"}
    )
    assert response.status_code == 422
    assert (await Procurement.get(id=p.id)).status == ProcurementStatus.PLANNED
    assert (await client.get(f"/budget/procurements/{p.id}/move/nowhere")).status_code == 404


async def test_a_contract_above_the_cap_is_refused_with_the_form_kept(client, db):
    fr = await finance_in(client)
    p = await convert(fr, fr.benches)
    await procurements.move_procurement(fr.finance, p.id, "tendering", {})
    response = await post_form(
        client,
        f"/budget/procurements/{p.id}/move/contracted",
        {**CONTRACT, "contract_amount": "70000", "supplier_code": "bad"},
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "The contract is ¥10,000 above the cap of ¥60,000." in text
    assert "A unified social credit code has 18 characters" in text
    assert field_value(response.text, "move-contract_amount") == "70000"
    assert field_value(response.text, "move-supplier_name") == "Harbour Works Ltd"
    p = await Procurement.get(id=p.id)
    assert (p.status, p.committed_fen) == (ProcurementStatus.TENDERING, 0)
    assert await LedgerEntry.all().count() == 0


# --- the ledger: bad input -------------------------------------------------------------------


async def test_a_payment_over_what_is_committed_is_refused(client, db):
    fr = await finance_in(client)
    p = await contracted(fr, 30_000_00)
    response = await post_form(
        client,
        f"/budget/procurements/{p.id}/entries",
        {"kind": "pay", "amount": "40000", "entry_date": "2026-08-01", "note": "Too much"},
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "This would pay or release ¥10,000 more than is committed and unpaid." in text
    assert field_value(response.text, "entry-amount") == "40000"
    assert "Too much" in response.text
    assert not await LedgerEntry.filter(kind=EntryKind.PAY).exists()
    assert (await Procurement.get(id=p.id)).paid_fen == 0


async def test_bad_amounts_and_dates_are_refused(client, db):
    fr = await finance_in(client)
    p = await contracted(fr)
    url = f"/budget/procurements/{p.id}/entries"
    cases = [
        ({"amount": "100", "entry_date": "2099-01-01"}, "The date cannot be in the future."),
        ({"amount": "1.234", "entry_date": "2026-08-01"}, "at most two decimals"),
        ({"amount": "-5", "entry_date": "2026-08-01"}, "The amount must be more than zero."),
        ({"amount": "0", "entry_date": "2026-08-01"}, "The amount must be more than zero."),
        ({"amount": "lots", "entry_date": "2026-08-01"}, "Enter an amount in yuan"),
    ]
    for data, message in cases:
        response = await post_form(client, url, {"kind": "pay", **data})
        assert response.status_code == 422, data
        assert message in page_text(response.text), data
        assert field_value(response.text, "entry-amount") == data["amount"]
        assert field_value(response.text, "entry-entry_date") == data["entry_date"]
    assert not await LedgerEntry.filter(kind=EntryKind.PAY).exists()


async def test_the_entry_form_swaps_the_money_block_with_htmx(client, db):
    fr = await finance_in(client)
    p = await contracted(fr)
    url = f"/budget/procurements/{p.id}/entries"
    hx = {"HX-Request": "true"}
    response = await post_form(
        client, url, {"kind": "pay", "amount": "1000", "entry_date": "2026-08-01"}, headers=hx
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="money"' in response.text
    assert "Payment of ¥1,000 recorded in the ledger." in page_text(response.text)
    assert (await Procurement.get(id=p.id)).paid_fen == 1_000_00
    response = await post_form(
        client, url, {"kind": "pay", "amount": "1.234", "entry_date": "2026-08-01"}, headers=hx
    )
    assert response.status_code == 422
    assert "<html" not in response.text
    assert field_value(response.text, "entry-amount") == "1.234"


async def test_reversals(client, db):
    fr = await finance_in(client)
    p = await contracted(fr)
    payment = await pay(fr, p, 10_000_00)
    page = await client.get(manage_url(p))
    assert f"/budget/ledger/{payment.id}/reverse" in page.text

    form = await client.get(f"/budget/ledger/{payment.id}/reverse")
    assert form.status_code == 200 and "Reverse this entry" in page_text(form.text)
    response = await post_form(
        client, f"/budget/ledger/{payment.id}/reverse", {"entry_date": "2026-08-02", "note": ""}
    )
    assert response.status_code == 422  # a reason is required
    response = await post_form(
        client,
        f"/budget/ledger/{payment.id}/reverse",
        {"entry_date": "2026-08-02", "note": "Paid to the wrong account"},
    )
    assert response.status_code == 303
    assert (await Procurement.get(id=p.id)).paid_fen == 0
    reversal = await LedgerEntry.get(reverses_id=payment.id)

    text = page_text((await client.get(manage_url(p))).text)
    assert "Paid to the wrong account" in text and "reversed" in text

    # the same entry again, and the reversal itself: refused, nothing written
    for entry in (payment, reversal):
        page = await client.get(f"/budget/ledger/{entry.id}/reverse")
        assert "already reversed, or is itself a reversal" in page_text(page.text)
        assert "Reverse this entry" not in page_text(page.text)
        response = await post_form(
            client,
            f"/budget/ledger/{entry.id}/reverse",
            {"entry_date": "2026-08-03", "note": "Again"},
        )
        assert response.status_code == 422
        assert "already reversed, or is itself a reversal" in page_text(response.text)
    assert await LedgerEntry.filter(kind=EntryKind.REVERSAL).count() == 1


async def test_a_cancelled_procurement_cannot_be_paid(client, db):
    fr = await finance_in(client)
    p = await contracted(fr, 30_000_00)
    url = f"/budget/procurements/{p.id}/move/cancelled"
    response = await post_form(client, url, {"reason": ""})
    assert response.status_code == 422
    assert (await Procurement.get(id=p.id)).status == ProcurementStatus.CONTRACTED
    page = await client.get(url)
    assert "releases the unspent commitment of ¥30,000" in page_text(page.text)
    response = await post_form(client, url, {"reason": "The supplier went bankrupt."})
    assert response.status_code == 303

    response = await post_form(
        client,
        f"/budget/procurements/{p.id}/entries",
        {"kind": "pay", "amount": "100", "entry_date": "2026-08-01"},
    )
    assert response.status_code == 403
    assert not await LedgerEntry.filter(kind=EntryKind.PAY).exists()
    p = await Procurement.get(id=p.id)
    assert (p.status, p.committed_fen, p.paid_fen) == (ProcurementStatus.CANCELLED, 0, 0)
    text = page_text((await client.get(manage_url(p))).text)
    assert "The supplier went bankrupt." in text
    assert "Commitment returned on cancelling" in text
    assert "Record an entry" not in text


# --- milestones, documents, the cap ----------------------------------------------------------


async def test_milestones(client, db):
    fr = await finance_in(client)
    p = await contracted(fr)
    url = f"/budget/procurements/{p.id}/milestones"
    response = await post_form(client, url, {"title": "", "planned_date": "2026-09-01"})
    assert response.status_code == 422
    assert field_value(response.text, "milestone-planned_date") == "2026-09-01"
    assert await Milestone.all().count() == 0
    response = await post_form(client, url, {"title": "Foundations", "planned_date": "2026-09-01"})
    assert response.status_code == 303
    milestone = await Milestone.get(title="Foundations")
    response = await post_form(
        client, f"/budget/milestones/{milestone.id}/done", {"done_date": "2099-01-01"}
    )
    assert response.status_code == 422
    assert field_value(response.text, f"done-{milestone.id}-done_date") == "2099-01-01"
    response = await post_form(
        client, f"/budget/milestones/{milestone.id}/done", {"done_date": "2026-09-03"}
    )
    assert response.status_code == 303
    assert (await Milestone.get(id=milestone.id)).done_date.isoformat() == "2026-09-03"
    assert "Foundations" in page_text((await client.get(manage_url(p))).text)


async def test_documents(app, client, db):
    fr = await finance_in(client)
    p = await contracted(fr)
    url = f"/budget/procurements/{p.id}/documents"

    fake = [("file", ("contract.pdf", b"just some text, not a PDF", "application/pdf"))]
    response = await post_form(
        client, url, {"kind": "contract", "title": "The contract", "public": "on"}, files=fake
    )
    assert response.status_code == 422
    assert "contract.pdf is not a PDF, JPEG or PNG file." in page_text(response.text)
    assert field_value(response.text, "document-title") == "The contract"
    assert await ProcurementDocument.all().count() == 0

    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    response = await post_form(
        client,
        url,
        {"kind": "contract", "title": "The contract", "public": "on"},
        files=[("file", ("contract.pdf", pdf, "application/pdf"))],
    )
    assert response.status_code == 303
    response = await post_form(
        client,
        url,
        {"kind": "invoice", "title": "Invoice 1"},
        files=[("file", ("invoice.png", tiny_png(), "image/png"))],
    )
    assert response.status_code == 303
    public = await ProcurementDocument.get(title="The contract")
    private = await ProcurementDocument.get(title="Invoice 1")
    assert public.public and not private.public

    page = await client.get(manage_url(p))
    assert f"/budget/documents/{public.id}" in page.text
    own = await client.get(f"/budget/documents/{private.id}")
    assert own.status_code == 200 and own.content.startswith(b"\xff\xd8\xff")  # re-encoded

    async with app_client(app) as anonymous:
        response = await anonymous.get(f"/budget/documents/{public.id}")
        assert response.status_code == 200
        assert response.content == pdf
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("inline;")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert (await anonymous.get(f"/budget/documents/{private.id}")).status_code == 404

        response = await post_form(
            client, f"/budget/documents/{public.id}/visibility", {"public": "0"}
        )
        assert response.status_code == 303
        assert (await anonymous.get(f"/budget/documents/{public.id}")).status_code == 404

    async with app_client(app) as resident:
        await login(resident, "resident")
        response = await post_form(
            resident, f"/budget/documents/{private.id}/visibility", {"public": "1"}
        )
        assert response.status_code == 403
        assert (await resident.get(f"/budget/documents/{private.id}")).status_code == 404
    assert not (await ProcurementDocument.get(id=private.id)).public


async def test_lowering_the_cap(client, db):
    fr = await finance_in(client)
    p = await contracted(fr, 50_000_00)
    url = f"/budget/procurements/{p.id}/cap"
    response = await post_form(client, url, {"cap": "40000"})
    assert response.status_code == 422
    assert "cannot be lower than what is committed (¥50,000)" in page_text(response.text)
    assert field_value(response.text, "cap_lower-cap") == "40000"
    assert (await post_form(client, url, {"cap": "55000"})).status_code == 303
    assert (await Procurement.get(id=p.id)).cap_fen == 55_000_00


async def test_cap_raises_requested_by_finance_and_decided_by_the_council(app, client, db):
    fr = await finance_in(client)
    p = await contracted(fr)
    url = f"/budget/procurements/{p.id}/cap-requests"
    response = await post_form(client, url, {"new_cap": "50000", "reason": "More benches"})
    assert response.status_code == 422  # not a raise
    assert "A raise must be above the current cap of ¥60,000." in page_text(response.text)
    response = await post_form(client, url, {"new_cap": "70000", "reason": "Steel went up"})
    assert response.status_code == 303
    change = await CapChange.get(procurement_id=p.id)
    assert (change.status, change.new_cap_fen) == (CapChangeStatus.PENDING, 70_000_00)

    page = await client.get(manage_url(p))
    assert "Request the raise" not in page_text(page.text)  # one request at a time
    response = await post_form(client, url, {"new_cap": "80000", "reason": "And more"})
    assert response.status_code == 422
    assert "A request is already waiting" in page_text(response.text)
    assert field_value(response.text, "cap_request-new_cap") == "80000"
    assert await CapChange.filter(procurement_id=p.id).count() == 1

    decide = f"/budget/cap-changes/{change.id}/decide"
    response = await post_form(client, decide, {"decision": "approve"})
    assert response.status_code == 403  # finance does not decide

    async with app_client(app) as council:
        await login(council, "council")
        page = await council.get(manage_url(p))
        assert decide in page.text and "Steel went up" in page_text(page.text)
        response = await post_form(council, decide, {"decision": "approve"})
        assert response.status_code == 303
        assert (await Procurement.get(id=p.id)).cap_fen == 70_000_00
        assert (await CapChange.get(id=change.id)).status == CapChangeStatus.APPROVED
        response = await post_form(council, decide, {"decision": "refuse", "decision_note": "x"})
        assert response.status_code == 409  # already decided

        # a second request, refused: a note is required to refuse
        response = await post_form(client, url, {"new_cap": "90000", "reason": "Even more"})
        assert response.status_code == 303
        second = await CapChange.filter(procurement_id=p.id, status="pending").first()
        decide = f"/budget/cap-changes/{second.id}/decide"
        response = await post_form(council, decide, {"decision": "refuse", "decision_note": ""})
        assert response.status_code == 422
        assert "This field is required." in page_text(response.text)
        assert (await CapChange.get(id=second.id)).status == CapChangeStatus.PENDING
        response = await post_form(
            council, decide, {"decision": "refuse", "decision_note": "Not in this year's fund."}
        )
        assert response.status_code == 303
        assert (await CapChange.get(id=second.id)).status == CapChangeStatus.REFUSED
        assert (await Procurement.get(id=p.id)).cap_fen == 70_000_00
        text = page_text((await council.get(manage_url(p))).text)
        assert "Not in this year's fund." in text and "Refused" in text and "Approved" in text

    # a raise beyond what the envelope leaves is refused on approval, saying by how much
    response = await post_form(client, url, {"new_cap": "150000", "reason": "Everything"})
    third = await CapChange.filter(procurement_id=p.id, status="pending").first()
    async with app_client(app) as council:
        await login(council, "council")
        response = await post_form(
            council, f"/budget/cap-changes/{third.id}/decide", {"decision": "approve"}
        )
        assert response.status_code == 422
        assert "exceed the envelope's budget by ¥50,000" in page_text(response.text)
    assert (await Procurement.get(id=p.id)).cap_fen == 70_000_00


async def test_editing_a_procurement(client, db):
    fr = await finance_in(client)
    p = await convert(fr, fr.benches)
    url = f"/budget/procurements/{p.id}/edit"
    form = await client.get(url)
    assert field_value(form.text, "edit-title") == "Benches by the canal"
    data = {
        "title": "Canal benches",
        "kind": "works",
        "officer": str(fr.finance.id),
        "planned_start": "2026-07-01",
        "planned_end": "",
    }
    response = await post_form(client, url, data)
    assert response.status_code == 422
    assert field_value(response.text, "edit-title") == "Canal benches"
    assert (await Procurement.get(id=p.id)).title == "Benches by the canal"
    response = await post_form(client, url, {**data, "planned_end": "2026-10-01"})
    assert response.status_code == 303
    p = await Procurement.get(id=p.id)
    assert (p.title, p.planned_end.isoformat()) == ("Canal benches", "2026-10-01")


async def test_the_pages_follow_the_house_rules_in_every_state(client, db):
    """Every input labelled, every POST form with its token, no inline style or script: the
    pages test_pages.py cannot reach (conversion) and the refused forms (422)."""
    from tests.test_pages import audit_html

    fr = await finance_in(client)
    p = await contracted(fr, 30_000_00)
    await pay(fr, p, 1_000_00)
    base = f"/budget/procurements/{p.id}"
    pages = [
        await client.get(f"/budget/rounds/{fr.round.id}/convert"),
        await client.get(f"/budget/proposals/{fr.lamps.id}/convert"),
        await post_form(client, f"/budget/proposals/{fr.lamps.id}/convert", {"cap": "x"}),
        await client.get(f"{base}/move/in_progress"),
        await client.get(f"{base}/move/cancelled"),
        await post_form(client, f"{base}/entries", {"kind": "pay", "amount": "1.234"}),
        await post_form(client, f"{base}/milestones", {"title": ""}),
        await post_form(client, f"{base}/documents", {"title": ""}),
        await post_form(client, f"{base}/cap", {"cap": "1"}),
        await post_form(client, f"{base}/cap-requests", {"new_cap": "1"}),
    ]
    await procurements.move_procurement(fr.finance, p.id, "in_progress", {})
    pages.append(await client.get(f"{base}/move/delivered"))
    await procurements.move_procurement(
        fr.finance, p.id, "delivered", {"delivered_on": "2026-10-01"}
    )
    pages.append(await client.get(f"{base}/move/closed"))
    lamps = await convert(fr, fr.lamps)
    await procurements.move_procurement(fr.finance, lamps.id, "tendering", {})
    pages.append(await client.get(f"/budget/procurements/{lamps.id}/move/contracted"))
    pages.append(await post_form(client, f"/budget/procurements/{lamps.id}/move/contracted"))
    for response in pages:
        assert response.status_code in (200, 422), response.url
        assert audit_html(response.text) == [], response.url
