"""A round whose procurements stand at every stage, for the public pages, the OCDS export and
the ratings: built on `tests.budget.money.funded_round`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from budget.models import LedgerEntry, Procurement, ProposalStatus
from budget.services import ledger, procurement_files, procurements
from budget.services.photos import Upload
from core.i18n import local_today
from tests.budget.money import FundedRound, contract, convert, funded_round, pay
from tests.helpers import make_proposal, tiny_png

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@dataclass
class Stages:
    fr: FundedRound
    # benches: works, East, contract ¥50,000, paid ¥30,000 + ¥20,000, delivered on time, closed
    closed: Procurement
    # lamps: goods, East, contract ¥24,000, paid ¥10,000 (a ¥5,000 payment reversed), in
    # progress and late (planned end 2026-11-15 passed)
    running: Procurement
    # cleaning: services, West, contract ¥40,000, paid ¥40,000, delivered late
    delivered: Procurement
    cancelled: Procurement  # library: goods, district-wide, cancelled while tendering
    planned: Procurement  # bike racks: goods, district-wide, planned, still in time
    reversed_payment: LedgerEntry  # the ¥5,000 payment on lamps that was reversed


async def move(fr: FundedRound, p: Procurement, to: str, **form: str) -> Procurement:
    return await procurements.move_procurement(fr.finance, p.id, to, form)


async def plan(fr: FundedRound, p: Procurement, end: date) -> Procurement:
    """Change the planned end (the start stays)."""
    return await procurements.edit_procurement(
        fr.finance,
        p.id,
        {
            "title": p.title,
            "kind": p.kind,
            "officer": str(fr.finance.id),
            "planned_start": p.planned_start.isoformat(),
            "planned_end": end.isoformat(),
        },
    )


async def stages_round(upload_dir=None) -> Stages:
    fr = await funded_round()
    racks = await make_proposal(
        fr.round,
        fr.resident,
        "Bike racks",
        10_000_00,
        None,
        ProposalStatus.FUNDED,
        "equipment",
        beneficiaries=40,
    )

    benches = await convert(fr, fr.benches)
    await contract(fr, benches, 50_000_00)
    await pay(fr, benches, 30_000_00, "2026-08-01")
    await pay(fr, benches, 20_000_00, "2026-09-15")
    await procurement_files.add_milestone(
        fr.finance,
        benches.id,
        {"title": "Foundations poured", "planned_date": "2026-08-15", "done_date": "2026-08-10"},
    )
    await move(fr, benches, "in_progress")
    await move(fr, benches, "delivered", delivered_on="2026-10-01")
    await move(fr, benches, "closed")

    lamps = await convert(fr, fr.lamps)
    await contract(fr, lamps, 24_000_00)
    await pay(fr, lamps, 10_000_00, "2026-08-20")
    wrong = await pay(fr, lamps, 5_000_00, "2026-08-21")
    await ledger.reverse_entry(
        fr.finance, wrong.id, {"entry_date": "2026-08-22", "note": "Paid twice by mistake"}
    )
    await move(fr, lamps, "in_progress")
    lamps = await plan(fr, lamps, date(2026, 11, 15))
    await procurement_files.add_milestone(
        fr.finance,
        lamps.id,
        {"title": "Lamps installed", "planned_date": (local_today() + timedelta(30)).isoformat()},
    )
    if upload_dir is not None:
        await procurement_files.add_document(
            fr.finance,
            lamps.id,
            {"kind": "contract", "title": "Signed lamp contract", "public": "on"},
            Upload("contract.pdf", PDF),
            upload_dir,
        )
        await procurement_files.add_document(
            fr.finance,
            lamps.id,
            {"kind": "invoice", "title": "Internal invoice scan"},
            Upload("invoice.png", tiny_png()),
            upload_dir,
        )

    cleaning = await plan(fr, await convert(fr, fr.cleaning), date(2026, 10, 15))
    await contract(fr, cleaning, 40_000_00)
    await pay(fr, cleaning, 40_000_00, "2026-09-01")
    await move(fr, cleaning, "in_progress")
    await move(fr, cleaning, "delivered", delivered_on="2026-11-01")

    library = await convert(fr, fr.library)
    await move(fr, library, "tendering")
    await move(fr, library, "cancelled", reason="No supplier answered the tender")

    planned = await plan(fr, await convert(fr, racks), local_today() + timedelta(90))

    async def fresh(p: Procurement) -> Procurement:
        return await Procurement.get(id=p.id)

    return Stages(
        fr,
        await fresh(benches),
        await fresh(lamps),
        await fresh(cleaning),
        await fresh(library),
        await fresh(planned),
        wrong,
    )
