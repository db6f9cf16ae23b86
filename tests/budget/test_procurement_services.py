"""Procurement services: converting, moving along, the ledger, caps, milestones, documents, and
every refusal (nothing written when refused)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from budget.models import (
    CapChange,
    CapChangeStatus,
    LedgerEntry,
    Milestone,
    Phase,
    Procurement,
    ProcurementDocument,
    ProcurementEvent,
)
from budget.services import ledger, procurement_caps, procurement_files, procurements, rounds
from budget.services.photos import Upload
from core.errors import Conflict, PermissionDenied, ValidationError
from core.i18n import local_today
from core.models import AuditEntry
from tests.budget.money import contract, convert, funded_round, pay
from tests.helpers import tiny_png


async def _entries(p) -> list[tuple[str, int]]:
    return [(e.kind, e.amount_fen) for e in await LedgerEntry.filter(procurement_id=p.id)]


async def _reload(p) -> Procurement:
    return await Procurement.get(id=p.id)


# --- converting ------------------------------------------------------------------------------


async def test_convert_defaults_to_the_approved_cost_and_maps_the_category(db):
    fr = await funded_round()
    lamps = await convert(fr, fr.lamps)
    assert (lamps.cap_fen, lamps.kind, lamps.status) == (25_000_00, "goods", "planned")
    assert lamps.envelope_id == fr.east_envelope.id and lamps.area_id == fr.east.id
    library = await convert(fr, fr.library)
    assert library.envelope_id == fr.district_envelope.id and library.area_id is None
    assert await ProcurementEvent.filter(procurement_id=lamps.id, to_status="planned").exists()
    entry = await AuditEntry.get(action="procurement.converted", subject_id=lamps.id)
    assert entry.subject_type == "procurement" and entry.detail["cap_fen"] == 25_000_00


async def test_a_cap_beyond_the_envelope_is_refused_saying_by_how_much(db):
    fr = await funded_round()
    await convert(fr, fr.benches)  # ¥60,000 of East's ¥100,000
    with pytest.raises(ValidationError) as refused:
        await convert(fr, fr.lamps, cap_fen=45_000_00)
    assert "exceed the envelope's budget by ¥5,000" in refused.value.errors["cap"]
    assert "At most ¥40,000 is left" in refused.value.errors["cap"]
    assert await Procurement.filter(proposal_id=fr.lamps.id).count() == 0


async def test_converting_twice_and_by_the_wrong_people_is_refused(db):
    fr = await funded_round()
    await convert(fr, fr.benches, cap_fen=10_000_00)
    with pytest.raises(ValidationError) as twice:
        await convert(fr, fr.benches, cap_fen=10_000_00)
    assert "already a procurement" in twice.value.message
    await fr.lamps.fetch_related("round")
    values = procurements.conversion_defaults(fr.lamps, fr.finance, fr.round)
    for who in (fr.council, fr.resident, None):
        with pytest.raises(PermissionDenied):
            await procurements.convert_proposal(who, fr.lamps.id, values)
    with pytest.raises(PermissionDenied):  # not funded
        await procurements.convert_proposal(fr.finance, fr.pond.id, values)
    assert await Procurement.all().count() == 1


async def test_converting_before_the_results_are_published_is_refused(db):
    fr = await funded_round(phase=Phase.RESULTS)
    fr.round.results_published_at = None
    await fr.round.save()
    with pytest.raises(PermissionDenied):
        await convert(fr, fr.benches)


async def test_bad_conversion_input_names_each_field(db):
    fr = await funded_round()
    with pytest.raises(ValidationError) as refused:
        await procurements.convert_proposal(
            fr.finance,
            fr.benches.id,
            {
                "title": "",
                "kind": "weapons",
                "officer": str(fr.council.id),
                "planned_start": "2026-09-01",
                "planned_end": "2026-08-01",
                "cap": "1.234",
            },
        )
    assert set(refused.value.errors) == {"title", "kind", "officer", "planned_end", "cap"}
    assert await Procurement.all().count() == 0


async def test_convert_round_converts_all_or_none(db):
    fr = await funded_round()
    await convert(fr, fr.benches, cap_fen=80_000_00)  # East keeps ¥20,000: lamps (¥25,000) fail
    with pytest.raises(ValidationError) as refused:
        await procurements.convert_round(fr.finance, fr.round.id)
    assert "Solar lamps" in refused.value.message
    assert await Procurement.all().count() == 1
    fr2 = await funded_round_again(fr)
    created = await procurements.convert_round(fr.finance, fr2.id)
    assert sorted(p.title for p in created) == ["Lake clean-up", "Mobile library", "Solar lamps"]


async def funded_round_again(fr):
    """The same round after lowering the benches' cap so that everything fits."""
    benches = await Procurement.get(proposal_id=fr.benches.id)
    await procurement_caps.lower_cap(fr.finance, benches.id, {"cap": "60000"})
    return fr.round


# --- moving along ----------------------------------------------------------------------------


async def test_the_whole_path_commits_pays_and_releases(db):
    fr = await funded_round()
    p = await convert(fr, fr.benches)
    with pytest.raises(ValidationError) as out_of_order:
        await procurements.move_procurement(fr.finance, p.id, "delivered", {})
    assert "can only become: Tendering, Cancelled" in out_of_order.value.message
    p = await contract(fr, p, 55_000_00)
    assert (p.supplier_name, p.contract_amount_fen, p.status) == (
        "Harbour Works Ltd",
        55_000_00,
        "contracted",
    )
    await pay(fr, p, 30_000_00)
    await procurements.move_procurement(fr.finance, p.id, "in_progress", {})
    day = (local_today() - timedelta(days=1)).isoformat()
    await procurements.move_procurement(fr.finance, p.id, "delivered", {"delivered_on": day})
    await pay(fr, p, 20_000_00)
    p = await procurements.move_procurement(fr.finance, p.id, "closed", {})
    assert await _entries(p) == [
        ("commit", 55_000_00),
        ("pay", 30_000_00),
        ("pay", 20_000_00),
        ("release", 5_000_00),
    ]
    p = await _reload(p)
    assert (p.committed_fen, p.paid_fen, p.reserved_fen) == (50_000_00, 50_000_00, 50_000_00)
    assert [e.to_status for e in await ProcurementEvent.filter(procurement_id=p.id)] == [
        "planned", "tendering", "contracted", "in_progress", "delivered", "closed",
    ]  # fmt: skip
    with pytest.raises(PermissionDenied):  # closed: no more money
        await pay(fr, p, 1_00)


async def test_a_contract_above_the_cap_and_a_future_date_are_refused(db):
    fr = await funded_round()
    p = await convert(fr, fr.benches)
    await procurements.move_procurement(fr.finance, p.id, "tendering", {})
    future = (local_today() + timedelta(days=2)).isoformat()
    with pytest.raises(ValidationError) as refused:
        await procurements.move_procurement(
            fr.finance,
            p.id,
            "contracted",
            {
                "supplier_name": "A",
                "supplier_code": "123",
                "contract_ref": "X",
                "contract_date": future,
                "contract_amount": "60000.01",
            },
        )
    assert set(refused.value.errors) == {"supplier_code", "contract_date", "contract_amount"}
    assert "¥0.01 above the cap" in refused.value.errors["contract_amount"]
    p = await _reload(p)
    assert p.status == "tendering" and await _entries(p) == []


async def test_cancelling_needs_a_reason_and_releases_the_commitment(db):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.cleaning), 35_000_00)
    await pay(fr, p, 5_000_00)
    with pytest.raises(ValidationError) as refused:
        await procurements.move_procurement(fr.finance, p.id, "cancelled", {"reason": " "})
    assert "reason" in refused.value.errors
    p = await procurements.move_procurement(
        fr.finance, p.id, "cancelled", {"reason": "The supplier went bankrupt."}
    )
    assert p.cancel_reason == "The supplier went bankrupt."
    assert (await _entries(p))[-1] == ("release", 30_000_00)
    p = await _reload(p)
    assert (p.committed_fen, p.paid_fen, p.reserved_fen) == (5_000_00, 5_000_00, 5_000_00)
    # the money went back: the West envelope has room again for a raise elsewhere
    room = await procurement_caps.room_left(fr.round, fr.west_envelope)
    assert room == 45_000_00
    with pytest.raises(PermissionDenied):
        await pay(fr, p, 1_00)


# --- the ledger --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-5", "more than zero"),
        ("0", "more than zero"),
        ("abc", "Enter an amount"),
        ("1.234", "at most two decimals"),
        ("", "required"),
    ],
)
async def test_bad_amounts_are_refused_next_to_the_field(db, amount, message):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.benches), 50_000_00)
    with pytest.raises(ValidationError) as refused:
        await ledger.record_entry(
            fr.finance, p.id, {"kind": "pay", "amount": amount, "entry_date": "2026-08-01"}
        )
    assert message in refused.value.errors["amount"]
    assert len(await _entries(p)) == 1  # only the contract's commitment


async def test_over_payment_future_dates_and_wrong_roles_are_refused(db):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.benches), 50_000_00)
    with pytest.raises(ValidationError) as over:
        await pay(fr, p, 50_000_01)
    assert "¥0.01 more than is committed" in over.value.errors["amount"]
    future = (local_today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError) as later:
        await ledger.record_entry(
            fr.finance, p.id, {"kind": "pay", "amount": "10", "entry_date": future}
        )
    assert "future" in later.value.errors["entry_date"]
    with pytest.raises(ValidationError) as over_cap:
        await ledger.record_entry(
            fr.finance, p.id, {"kind": "commit", "amount": "10000.01", "entry_date": "2026-08-01"}
        )
    assert "¥0.01 more than the cap of ¥60,000" in over_cap.value.errors["amount"]
    for who in (fr.council, fr.resident):
        with pytest.raises(PermissionDenied):
            await ledger.record_entry(
                who, p.id, {"kind": "pay", "amount": "10", "entry_date": "2026-08-01"}
            )
    assert len(await _entries(p)) == 1
    p = await _reload(p)
    assert (p.committed_fen, p.paid_fen) == (50_000_00, 0)


async def test_a_reversal_undoes_one_entry_once_and_cannot_itself_be_reversed(db):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.benches), 50_000_00)
    wrong = await pay(fr, p, 12_000_00)
    with pytest.raises(ValidationError) as no_reason:
        await ledger.reverse_entry(fr.finance, wrong.id, {"entry_date": "2026-08-02"})
    assert "note" in no_reason.value.errors
    reversal = await ledger.reverse_entry(
        fr.finance, wrong.id, {"entry_date": "2026-08-02", "note": "Paid the wrong invoice."}
    )
    assert (reversal.kind, reversal.amount_fen, reversal.reverses_id) == (
        "reversal",
        12_000_00,
        wrong.id,
    )
    assert (await _reload(p)).paid_fen == 0
    for target in (wrong, reversal):
        with pytest.raises(ValidationError) as twice:
            await ledger.reverse_entry(
                fr.finance, target.id, {"entry_date": "2026-08-02", "note": "again"}
            )
        assert "already reversed" in twice.value.errors["note"]
    assert len(await _entries(p)) == 3
    assert await AuditEntry.filter(action="ledger.reversal", subject_id=p.id).count() == 1


# --- caps --------------------------------------------------------------------------------------


async def test_lowering_a_cap_below_what_is_committed_is_refused(db):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.benches), 50_000_00)
    with pytest.raises(ValidationError) as refused:
        await procurement_caps.lower_cap(fr.finance, p.id, {"cap": "49999"})
    assert "lower than what is committed (¥50,000)" in refused.value.errors["cap"]
    with pytest.raises(ValidationError):  # a raise goes through the council
        await procurement_caps.lower_cap(fr.finance, p.id, {"cap": "70000"})
    p = await procurement_caps.lower_cap(fr.finance, p.id, {"cap": "50000"})
    assert (await _reload(p)).cap_fen == 50_000_00


async def test_a_raise_is_requested_then_approved_only_if_it_fits(db):
    fr = await funded_round()
    benches = await convert(fr, fr.benches)  # ¥60,000
    await convert(fr, fr.lamps)  # ¥25,000: East has ¥15,000 left
    with pytest.raises(ValidationError):
        await procurement_caps.request_cap_raise(
            fr.finance, benches.id, {"new_cap": "60000", "reason": "more"}
        )
    with pytest.raises(PermissionDenied):
        await procurement_caps.request_cap_raise(
            fr.council, benches.id, {"new_cap": "80000", "reason": "more"}
        )
    too_much = await procurement_caps.request_cap_raise(
        fr.finance, benches.id, {"new_cap": "80000", "reason": "Steel prices rose."}
    )
    with pytest.raises(ValidationError):  # one request at a time
        await procurement_caps.request_cap_raise(
            fr.finance, benches.id, {"new_cap": "70000", "reason": "again"}
        )
    with pytest.raises(PermissionDenied):  # finance does not approve its own request
        await procurement_caps.decide_cap_change(fr.finance, too_much.id, True, {})
    with pytest.raises(ValidationError) as refused:
        await procurement_caps.decide_cap_change(fr.council, too_much.id, True, {})
    assert "exceed the envelope's budget by ¥5,000" in refused.value.errors["decision_note"]
    assert (await _reload(benches)).cap_fen == 60_000_00
    with pytest.raises(ValidationError):  # refusing needs a note
        await procurement_caps.decide_cap_change(fr.council, too_much.id, False, {})
    await procurement_caps.decide_cap_change(
        fr.council, too_much.id, False, {"decision_note": "Find a cheaper supplier."}
    )
    assert (await CapChange.get(id=too_much.id)).status == CapChangeStatus.REFUSED
    with pytest.raises(Conflict):
        await procurement_caps.decide_cap_change(fr.council, too_much.id, True, {})
    fits = await procurement_caps.request_cap_raise(
        fr.finance, benches.id, {"new_cap": "75000", "reason": "Steel prices rose."}
    )
    await procurement_caps.decide_cap_change(fr.council, fits.id, True, {})
    assert (await _reload(benches)).cap_fen == 75_000_00
    assert await AuditEntry.filter(
        action="procurement.cap_raise_approved", subject_id=benches.id
    ).exists()


# --- milestones, documents, closing the round ----------------------------------------------------


async def test_milestones_and_documents(db, tmp_path):
    fr = await funded_round()
    p = await convert(fr, fr.benches)
    with pytest.raises(ValidationError):
        await procurement_files.add_milestone(fr.finance, p.id, {"title": "", "planned_date": ""})
    milestone = await procurement_files.add_milestone(
        fr.finance, p.id, {"title": "Foundations", "planned_date": "2026-08-01"}
    )
    await procurement_files.complete_milestone(
        fr.finance, milestone.id, {"done_date": "2026-08-03"}
    )
    assert str((await Milestone.get(id=milestone.id)).done_date) == "2026-08-03"

    fake = Upload("contract.pdf", b"just text, not a PDF")
    with pytest.raises(ValidationError) as refused:
        await procurement_files.add_document(
            fr.finance, p.id, {"kind": "contract", "title": "Contract"}, fake, tmp_path
        )
    assert "not a PDF, JPEG or PNG" in refused.value.errors["file"]
    pdf = Upload("contract.pdf", b"%PDF-1.4\n%\xe2\xe3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF")
    doc = await procurement_files.add_document(
        fr.finance, p.id, {"kind": "contract", "title": "Contract", "public": "1"}, pdf, tmp_path
    )
    photo = await procurement_files.add_document(
        fr.finance,
        p.id,
        {"kind": "acceptance", "title": "Site photo"},
        Upload("site.png", tiny_png()),
        tmp_path,
    )
    assert (doc.content_type, doc.public, photo.content_type, photo.public) == (
        "application/pdf",
        True,
        "image/jpeg",  # re-encoded: an opaque PNG becomes a JPEG
        False,
    )
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(
        [doc.stored_name, photo.stored_name]
    )
    with pytest.raises(PermissionDenied):
        await procurement_files.add_document(
            fr.resident, p.id, {"kind": "invoice", "title": "x"}, pdf, tmp_path
        )
    assert await ProcurementDocument.filter(procurement_id=p.id).count() == 2


async def test_a_round_closes_only_when_every_procurement_is_finished(db):
    fr = await funded_round()
    p = await convert(fr, fr.library)
    with pytest.raises(Conflict) as blocked:
        await rounds.advance_phase(fr.council, fr.round)
    assert blocked.value.message.endswith("still open: 1.")
    assert await rounds.close_blocked_by(fr.round)
    await procurements.move_procurement(fr.finance, p.id, "cancelled", {"reason": "Not needed."})
    assert await rounds.close_blocked_by(fr.round) is None
    rnd = await rounds.advance_phase(fr.council, fr.round)
    assert rnd.phase == "closed"


async def test_a_photo_of_the_works_is_stored_without_its_gps_position(db, tmp_path):
    import io

    from PIL import Image

    from tests.budget.test_photos import GPS_IFD, jpeg_with_gps

    fr = await funded_round()
    p = await convert(fr, fr.benches)
    sent = jpeg_with_gps()
    doc = await procurement_files.add_document(
        fr.finance,
        p.id,
        {"kind": "acceptance", "title": "Benches installed", "public": "1"},
        Upload("site.jpg", sent),
        tmp_path,
    )
    stored = (tmp_path / doc.stored_name).read_bytes()
    assert doc.content_type == "image/jpeg" and doc.size == len(stored) and stored != sent
    with Image.open(io.BytesIO(stored)) as image:
        assert not image.getexif().get_ifd(GPS_IFD) and "xmp" not in image.info
    broken = Upload("site.jpg", b"\xff\xd8\xff" + b"\x00" * 200)
    with pytest.raises(ValidationError) as refused:
        await procurement_files.add_document(
            fr.finance, p.id, {"kind": "acceptance", "title": "x"}, broken, tmp_path
        )
    assert "could not be read as an image" in refused.value.errors["file"]
    assert await ProcurementDocument.filter(procurement_id=p.id).count() == 1
