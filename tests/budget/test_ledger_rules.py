"""The pure rules of procurements: the state machine, the ledger (paid ≤ committed ≤ cap) and
caps (envelope, fund), with a property test over random sequences of operations."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget.models import EntryKind, ProcurementStatus
from budget.rules.ledger import (
    Limit,
    Refusal,
    Room,
    Totals,
    apply_entry,
    check_cap,
    closing_release,
    may_move,
    next_states,
    satisfaction_rate,
)

S = ProcurementStatus
C, P, R, X = EntryKind.COMMIT, EntryKind.PAY, EntryKind.RELEASE, EntryKind.REVERSAL


def test_the_forward_path_and_cancel_before_closed():
    assert next_states(S.PLANNED) == [S.TENDERING, S.CANCELLED]
    assert next_states(S.DELIVERED) == [S.CLOSED, S.CANCELLED]
    assert next_states(S.CLOSED) == [] and next_states(S.CANCELLED) == []
    assert may_move(S.TENDERING, S.CONTRACTED)
    assert not may_move(S.PLANNED, S.CONTRACTED)  # out of order
    assert not may_move(S.CONTRACTED, S.TENDERING)  # backwards
    assert not may_move(S.CLOSED, S.CANCELLED)


def test_commit_pay_release_and_their_limits():
    t = apply_entry(Totals(100), C, 80, status=S.CONTRACTED)
    assert t == Totals(100, 80, 0)
    t = apply_entry(t, P, 50, status=S.IN_PROGRESS)
    assert t == Totals(100, 80, 50)
    with pytest.raises(Refusal) as over_cap:
        apply_entry(t, C, 30, status=S.IN_PROGRESS)
    assert over_cap.value == Refusal(Limit.CAP, 10)
    with pytest.raises(Refusal) as over_committed:
        apply_entry(t, P, 31, status=S.IN_PROGRESS)
    assert over_committed.value == Refusal(Limit.COMMITTED, 1)
    with pytest.raises(Refusal) as release_paid:
        apply_entry(t, R, 31, status=S.IN_PROGRESS)
    assert release_paid.value == Refusal(Limit.COMMITTED, 1)
    assert apply_entry(t, R, 30, status=S.IN_PROGRESS) == Totals(100, 50, 50)


@pytest.mark.parametrize("amount", [0, -5])
def test_amounts_must_be_positive(amount):
    with pytest.raises(Refusal) as refused:
        apply_entry(Totals(100), C, amount, status=S.CONTRACTED)
    assert refused.value.limit == Limit.POSITIVE


def test_money_moves_only_between_contract_and_closing():
    for status in (S.PLANNED, S.TENDERING):
        with pytest.raises(Refusal) as refused:
            apply_entry(Totals(100), C, 10, status=status)
        assert refused.value.limit == Limit.STATE
    for status in (S.CLOSED, S.CANCELLED):
        with pytest.raises(Refusal) as refused:
            apply_entry(Totals(100, 10), P, 10, status=status)
        assert refused.value.limit == Limit.CLOSED
    # the automatic release on cancelling happens before the status changes, in any state
    assert (
        apply_entry(Totals(100, 10), R, 10, status=S.TENDERING, automatic=True).committed_fen == 0
    )


def test_reversals_undo_once_and_are_final():
    t = Totals(100, 80, 50)
    assert apply_entry(t, X, 50, status=S.DELIVERED, reversed_kind=P, reversed_amount_fen=50) == (
        Totals(100, 80, 0)
    )
    # undoing a commitment that was paid against is refused: paid would exceed committed
    with pytest.raises(Refusal) as refused:
        apply_entry(t, X, 80, status=S.DELIVERED, reversed_kind=C, reversed_amount_fen=80)
    assert refused.value == Refusal(Limit.PAID, 50)
    with pytest.raises(Refusal) as twice:
        apply_entry(
            t,
            X,
            50,
            status=S.DELIVERED,
            reversed_kind=P,
            reversed_amount_fen=50,
            already_reversed=True,
        )
    assert twice.value.limit == Limit.REVERSED
    with pytest.raises(Refusal) as of_a_reversal:
        apply_entry(t, X, 50, status=S.DELIVERED, reversed_kind=X, reversed_amount_fen=50)
    assert of_a_reversal.value.limit == Limit.REVERSED
    # undoing a release may not push committed above the cap
    with pytest.raises(Refusal) as over_cap:
        apply_entry(
            Totals(60, 60, 0), X, 20, status=S.DELIVERED, reversed_kind=R, reversed_amount_fen=20
        )
    assert over_cap.value == Refusal(Limit.CAP, 20)


def test_caps_fit_the_envelope_and_the_fund_and_cover_commitments():
    room = Room(
        envelope_budget_fen=100, envelope_reserved_fen=70, fund_fen=150, round_reserved_fen=140
    )
    assert room.max_cap_fen == 10
    check_cap(10, Totals(5, 5), room)
    with pytest.raises(Refusal) as fund:
        check_cap(25, Totals(5), room)
    assert fund.value == Refusal(Limit.FUND, 15)  # the envelope has room, the fund not
    with pytest.raises(Refusal) as envelope:
        check_cap(40, Totals(5), Room(100, 70, 1000, 0))
    assert envelope.value == Refusal(Limit.ENVELOPE, 10)
    with pytest.raises(Refusal) as fund_only:
        check_cap(40, Totals(5), Room(1000, 0, 150, 140))
    assert fund_only.value == Refusal(Limit.FUND, 30)
    with pytest.raises(Refusal) as below:
        check_cap(4, Totals(10, 5), Room(100, 0, 100, 0))
    assert below.value == Refusal(Limit.CAP, 1)


def test_closing_returns_what_is_unspent_and_satisfaction_counts_fours_and_fives():
    assert closing_release(Totals(100, 80, 50)) == 30
    assert closing_release(Totals(100, 50, 50)) == 0
    assert satisfaction_rate([5, 4, 3, 1]) == 0.5
    assert satisfaction_rate({5: 3, 2: 1}) == 0.75
    assert satisfaction_rate([]) is None


# --- any sequence of operations keeps the invariants ------------------------------------------

operations = st.lists(
    st.tuples(
        st.sampled_from(["commit", "pay", "release", "reverse", "cap", "new", "finish"]),
        st.integers(min_value=0, max_value=5),  # which procurement
        st.integers(min_value=-10, max_value=400),  # amount
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(operations)
def test_any_sequence_keeps_paid_le_committed_le_cap_and_caps_within_envelope_and_fund(ops):
    """A model of a round with one envelope of 1,000 fen in a fund of 1,200 (another envelope
    holds 300): procurements with entries, caps, closing. Whatever is tried, refused steps
    change nothing and accepted ones keep every invariant; totals equal the sums of entries."""
    envelope_budget, fund, other_envelope = 1000, 1200, 300
    procs: list[dict] = []  # cap, status, entries [(kind, amount, reverses_index)]

    def totals(p: dict) -> Totals:
        committed = paid = 0
        for kind, amount, target in p["entries"]:
            if kind == X:
                kind, amount, sign = p["entries"][target][0], p["entries"][target][1], -1
            else:
                sign = 1
            if kind == C:
                committed += sign * amount
            elif kind == P:
                paid += sign * amount
            elif kind == R:
                committed -= sign * amount
        return Totals(p["cap"], committed, paid)

    def reserved(p: dict) -> int:
        return totals(p).paid_fen if p["status"].finished else p["cap"]

    def room(exclude: dict | None) -> Room:
        held = sum(reserved(q) for q in procs if q is not exclude)
        return Room(envelope_budget, held, fund, held + other_envelope)

    for op, index, amount in ops:
        p = procs[index % len(procs)] if procs else None
        try:
            if op == "new" or p is None:
                check_cap(amount, Totals(amount), room(None))
                procs.append({"cap": amount, "status": S.CONTRACTED, "entries": []})
            elif op == "cap":
                check_cap(amount, totals(p), room(p))
                if p["status"].finished:
                    raise Refusal(Limit.CLOSED)
                p["cap"] = amount
            elif op == "finish":
                if p["status"].finished:
                    raise Refusal(Limit.CLOSED)
                unspent = closing_release(totals(p))
                if unspent:
                    apply_entry(totals(p), R, unspent, status=p["status"], automatic=True)
                    p["entries"].append((R, unspent, None))
                p["status"] = S.CLOSED
            elif op == "reverse":
                candidates = [
                    i
                    for i, e in enumerate(p["entries"])
                    if e[0] != X and not any(f[2] == i for f in p["entries"] if f[0] == X)
                ]
                if not candidates:
                    continue
                target = candidates[amount % len(candidates)]
                kind, value, _ = p["entries"][target]
                apply_entry(
                    totals(p),
                    X,
                    value,
                    status=p["status"],
                    reversed_kind=kind,
                    reversed_amount_fen=value,
                )
                p["entries"].append((X, value, target))
            else:
                kind = {"commit": C, "pay": P, "release": R}[op]
                after = apply_entry(totals(p), kind, amount, status=p["status"])
                p["entries"].append((kind, amount, None))
                assert after == totals(p)  # the running totals are the sums of the entries
        except Refusal:
            pass
        for q in procs:
            t = totals(q)
            assert 0 <= t.paid_fen <= t.committed_fen <= t.cap_fen
        held = sum(reserved(q) for q in procs)
        assert held <= envelope_budget
        assert held + other_envelope <= fund
