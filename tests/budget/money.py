"""Shared set-up for the procurement and ledger tests: a round with published results and
funded proposals, and the people who handle its money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from budget.models import Envelope, Phase, Procurement, Proposal, ProposalStatus, Round
from budget.services import ledger, procurements
from core.models import Area, Role, User
from tests.helpers import make_area, make_proposal, make_round, make_user


@dataclass
class FundedRound:
    round: Round
    east: Area
    west: Area
    east_envelope: Envelope  # ¥100,000
    west_envelope: Envelope  # ¥50,000
    district_envelope: Envelope  # ¥50,000 (area null)
    finance: User  # username "finance"
    council: User  # "council"
    resident: User  # "resident", verified, in East
    west_resident: User  # "westie", verified, in West
    benches: Proposal  # East, engineering, ¥60,000, funded
    lamps: Proposal  # East, equipment, ¥30,000 (revised to ¥25,000), funded
    cleaning: Proposal  # West, service, ¥40,000, funded
    library: Proposal  # district-wide, equipment, ¥20,000, funded
    pond: Proposal  # East, not funded


async def funded_round(phase: Phase = Phase.IMPLEMENTING) -> FundedRound:
    east, west = await make_area("East Gate"), await make_area("West Lake")
    rnd = await make_round(
        title="2026 micro-projects",
        fund_fen=200_000_00,
        phase=phase,
        envelopes={east: 100_000_00, west: 50_000_00, None: 50_000_00},
        results_published_at=datetime(2026, 6, 1, tzinfo=UTC),
        implementing_starts=date(2026, 6, 15),
        closes=date(2026, 12, 31),
    )
    envelopes = {e.area_id: e for e in await Envelope.filter(round=rnd)}
    finance = await make_user("finance", Role.FINANCE, display_name="Fang Cai")
    council = await make_user("council", Role.COUNCIL, display_name="Chen Hui")
    resident = await make_user("resident", Role.RESIDENT, area=east, display_name="Li Ming")
    westie = await make_user("westie", Role.RESIDENT, area=west, display_name="Wang Fang")
    funded = ProposalStatus.FUNDED
    benches = await make_proposal(
        rnd, resident, "Benches by the canal", 60_000_00, east, funded, "engineering"
    )
    lamps = await make_proposal(
        rnd,
        resident,
        "Solar lamps",
        30_000_00,
        east,
        funded,
        "equipment",
        revised_cost_fen=25_000_00,
    )
    cleaning = await make_proposal(rnd, westie, "Lake clean-up", 40_000_00, west, funded, "service")
    library = await make_proposal(
        rnd, westie, "Mobile library", 20_000_00, None, funded, "equipment"
    )
    pond = await make_proposal(
        rnd, resident, "Koi pond", 70_000_00, east, ProposalStatus.NOT_FUNDED, "engineering"
    )
    return FundedRound(
        rnd,
        east,
        west,
        envelopes[east.id],
        envelopes[west.id],
        envelopes[None],
        finance,
        council,
        resident,
        westie,
        benches,
        lamps,
        cleaning,
        library,
        pond,
    )


async def convert(fr: FundedRound, proposal: Proposal, cap_fen: int | None = None) -> Procurement:
    """Convert with the form's defaults (the approved cost as cap unless `cap_fen`)."""
    await proposal.fetch_related("round")
    values = procurements.conversion_defaults(proposal, fr.finance, fr.round)
    if cap_fen is not None:
        values["cap"] = f"{cap_fen / 100:.2f}"
    return await procurements.convert_proposal(fr.finance, proposal.id, values)


async def contract(fr: FundedRound, p: Procurement, amount_fen: int) -> Procurement:
    """Tendering, then the contract (which commits `amount_fen`)."""
    await procurements.move_procurement(fr.finance, p.id, "tendering", {})
    return await procurements.move_procurement(
        fr.finance,
        p.id,
        "contracted",
        {
            "supplier_name": "Harbour Works Ltd",
            "supplier_code": "91440300MA5EXAMPLE",
            "contract_ref": f"HT-{p.id:04d}",
            "contract_date": "2026-07-01",
            "contract_amount": f"{amount_fen / 100:.2f}",
        },
    )


async def pay(fr: FundedRound, p: Procurement, amount_fen: int, day: str = "2026-08-01"):
    return await ledger.record_entry(
        fr.finance,
        p.id,
        {"kind": "pay", "amount": f"{amount_fen / 100:.2f}", "entry_date": day},
    )
