"""Property test through the services and the database: whatever sequence of conversions,
contracts, commitments, payments, releases, reversals, cap changes, closings and cancellations
officers try (refused ones included), every procurement keeps paid ≤ committed ≤ cap, the
envelopes and the fund are never overspent, and the finance view's and the ledger's totals
equal the sums of the ledger entries."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.models import Envelope, LedgerEntry, Procurement, ProposalStatus
from budget.services import finance, finance_ledger, ledger, procurement_caps, procurements
from core.errors import DomainError
from tests.budget.money import funded_round
from tests.conftest import empty_database
from tests.helpers import make_proposal

steps = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "convert",
                "contract",
                "commit",
                "pay",
                "release",
                "reverse",
                "lower",
                "raise",
                "close",
                "cancel",
            ]
        ),  # fmt: skip
        st.integers(min_value=0, max_value=7),  # which proposal / procurement / entry
        st.integers(min_value=1, max_value=60_000),  # yuan
    ),
    min_size=1,
    max_size=25,
)


def _yuan(value: int) -> str:
    return str(value)


async def _step(fr, proposals, op: str, index: int, amount: int) -> None:
    procs = await Procurement.filter(round_id=fr.round.id).order_by("id")
    p = procs[index % len(procs)] if procs else None
    day = "2026-08-01"
    match op:
        case "convert":
            proposal = proposals[index % len(proposals)]
            await proposal.fetch_related("round")
            values = procurements.conversion_defaults(proposal, fr.finance, fr.round)
            values["cap"] = _yuan(amount)
            await procurements.convert_proposal(fr.finance, proposal.id, values)
        case _ if p is None:
            return
        case "contract":
            if p.status == "planned":
                await procurements.move_procurement(fr.finance, p.id, "tendering", {})
            contract = {"supplier_name": "S", "contract_ref": "C", "contract_date": day}
            contract["contract_amount"] = _yuan(amount)
            await procurements.move_procurement(fr.finance, p.id, "contracted", contract)
        case "commit" | "pay" | "release":
            await ledger.record_entry(
                fr.finance, p.id, {"kind": op, "amount": _yuan(amount), "entry_date": day}
            )
        case "reverse":
            entries = await LedgerEntry.filter(procurement_id=p.id).order_by("id")
            if entries:
                entry = entries[amount % len(entries)]
                await ledger.reverse_entry(fr.finance, entry.id, {"entry_date": day, "note": "x"})
        case "lower":
            await procurement_caps.lower_cap(fr.finance, p.id, {"cap": _yuan(amount)})
        case "raise":
            change = await procurement_caps.request_cap_raise(
                fr.finance, p.id, {"new_cap": _yuan(p.cap_fen // 100 + amount), "reason": "r"}
            )
            await procurement_caps.decide_cap_change(fr.council, change.id, True, {})
        case "close":
            for target in ("in_progress", "delivered", "closed"):
                form = {"delivered_on": day}
                await procurements.move_procurement(fr.finance, p.id, target, form)
        case "cancel":
            await procurements.move_procurement(fr.finance, p.id, "cancelled", {"reason": "r"})


def _effects(entries: list[LedgerEntry]) -> tuple[int, int, int]:
    """(committed, paid, released) as the entries say, a reversal undoing its target."""
    kinds = {e.id: (e.kind, e.amount_fen) for e in entries}
    committed = paid = released = 0
    for e in entries:
        kind, amount, sign = e.kind, e.amount_fen, 1
        if kind == "reversal":
            kind, amount, sign = *kinds[e.reverses_id], -1
        if kind == "commit":
            committed += sign * amount
        elif kind == "pay":
            paid += sign * amount
        elif kind == "release":
            committed -= sign * amount
            released += sign * amount
    return committed, paid, released


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=steps)
async def test_any_sequence_of_money_operations_keeps_the_invariants(db, ops):
    await empty_database()
    fr = await funded_round()
    extra = [
        await make_proposal(
            fr.round, None, f"Planter {i}", 30_000_00, area, ProposalStatus.FUNDED, "equipment"
        )
        for i, area in enumerate([fr.east, fr.west, None])
    ]
    proposals = [fr.benches, fr.lamps, fr.cleaning, fr.library, *extra]
    for op, index, amount in ops:
        try:
            await _step(fr, proposals, op, index, amount)
        except DomainError:
            pass  # refused: nothing may have been written, which the checks below see

    procs = await Procurement.filter(round_id=fr.round.id)
    all_entries = await LedgerEntry.filter(procurement__round_id=fr.round.id).order_by("id")
    for p in procs:
        assert 0 <= p.paid_fen <= p.committed_fen <= p.cap_fen
        committed, paid, _released = _effects([e for e in all_entries if e.procurement_id == p.id])
        assert (p.committed_fen, p.paid_fen) == (committed, paid)
    for envelope in await Envelope.filter(round_id=fr.round.id):
        held = sum(p.reserved_fen for p in procs if p.envelope_id == envelope.id)
        assert held <= envelope.budget_fen
    assert sum(p.reserved_fen for p in procs) <= fr.round.fund_fen

    view = await finance.round_finance(fr.round)
    committed, paid, released = _effects(all_entries)
    assert (view.total.committed_fen, view.total.paid_fen) == (committed, paid)
    assert view.total.capped_fen == sum(p.cap_fen for p in procs)
    assert sum(line.figures.paid_fen for line in view.envelopes) == paid
    assert sum(figures.committed_fen for _kind, figures in view.kinds) == committed
    filters, _problems = finance_ledger.LedgerFilters.parse({"round": str(fr.round.id)})
    totals = await finance_ledger.ledger_totals(filters)
    assert totals.count == len(all_entries)
    assert (totals.committed_fen - totals.released_fen, totals.paid_fen) == (committed, paid)
    assert totals.released_fen == released
