"""Money under concurrency: simultaneous commitments on one procurement and simultaneous cap
raises in one envelope never break paid ≤ committed ≤ cap nor the envelope's budget; exactly
those that fit succeed. On PostgreSQL these are real concurrent transactions (each from its own
pooled connection); SQLite runs them one after another in one process, and the same must hold.
"""

from __future__ import annotations

import asyncio

from budget.models import CapChange, CapChangeStatus, LedgerEntry, Procurement, ProposalStatus
from budget.services import ledger, procurement_caps
from core.errors import ValidationError
from tests.budget.money import contract, convert, funded_round
from tests.helpers import make_proposal


async def test_thirty_simultaneous_commitments_only_those_that_fit(db):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.benches), 6_000_00)  # cap ¥60,000
    # 30 commitments of ¥3,000 = ¥90,000: with ¥6,000 committed, exactly 18 fit
    form = {"kind": "commit", "amount": "3000", "entry_date": "2026-08-01"}
    outcomes = await asyncio.gather(
        *(ledger.record_entry(fr.finance, p.id, form) for _ in range(30)),
        return_exceptions=True,
    )
    accepted = [o for o in outcomes if isinstance(o, LedgerEntry)]
    refused = [o for o in outcomes if isinstance(o, ValidationError)]
    assert len(accepted) == 18 and len(refused) == 12, outcomes
    assert all("more than the cap" in e.errors["amount"] for e in refused)
    p = await Procurement.get(id=p.id)
    commits = await LedgerEntry.filter(procurement_id=p.id, kind="commit").values_list(
        "amount_fen", flat=True
    )
    assert p.committed_fen == sum(commits) == 60_000_00 == p.cap_fen


async def test_simultaneous_payments_never_pay_more_than_is_committed(db):
    fr = await funded_round()
    p = await contract(fr, await convert(fr, fr.benches), 10_000_00)
    form = {"kind": "pay", "amount": "700", "entry_date": "2026-08-01"}
    outcomes = await asyncio.gather(
        *(ledger.record_entry(fr.finance, p.id, form) for _ in range(20)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, LedgerEntry) for o in outcomes) == 14  # 14 × ¥700 ≤ ¥10,000
    p = await Procurement.get(id=p.id)
    assert p.paid_fen == 9_800_00 <= p.committed_fen


async def test_twenty_simultaneous_cap_raises_never_exceed_the_envelope(db):
    fr = await funded_round()
    # East: ¥100,000. Twenty procurements of ¥4,000 hold ¥80,000; each asks for ¥2,000 more
    extra = [
        await make_proposal(
            fr.round, None, f"Planter {i}", 4_000_00, fr.east, ProposalStatus.FUNDED, "equipment"
        )
        for i in range(20)
    ]
    procs = [await convert(fr, proposal) for proposal in extra]
    changes = [
        await procurement_caps.request_cap_raise(
            fr.finance, p.id, {"new_cap": "6000", "reason": "Bigger planters."}
        )
        for p in procs
    ]
    outcomes = await asyncio.gather(
        *(procurement_caps.decide_cap_change(fr.council, c.id, True, {}) for c in changes),
        return_exceptions=True,
    )
    approved = [o for o in outcomes if isinstance(o, CapChange)]
    assert len(approved) == 10, outcomes  # ¥20,000 of room, ¥2,000 each
    assert all(isinstance(o, ValidationError) for o in outcomes if not isinstance(o, CapChange))
    caps = await Procurement.filter(envelope_id=fr.east_envelope.id).values_list(
        "cap_fen", flat=True
    )
    assert sum(caps) == 100_000_00 == fr.east_envelope.budget_fen
    assert await CapChange.filter(status=CapChangeStatus.APPROVED).count() == 10
    assert await CapChange.filter(status=CapChangeStatus.PENDING).count() == 10
