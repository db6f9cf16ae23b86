"""The numpy MES run (approval ballots with many distinct ballots) makes exactly the same
steps, at the same exact prices, with the same payments and money left as the pure-Python
run: on random elections (ties in prices are frequent) and on real Pabulib files."""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.pabulib import election_from_pb, parse_pb
from budget.rules import Election, compute_outcome, mes_common, mes_python, mes_vector
from budget.rules import equal_shares as es
from budget.rules.election import money
from tests.fixtures.pabulib_files import real_file


def as_data(run: mes_common.Run) -> tuple:
    return (
        [(s.project, s.price) for s in run.steps],
        {p: [(g.amount, g.voters) for g in groups] for p, groups in run.payments.items()},
        run.money_left,
    )


def both(election: Election, share) -> tuple[tuple, tuple]:
    prep = mes_common.prepare(election)
    return (
        as_data(mes_python.run_python(prep, share, record=True)),
        as_data(es._run_vector(prep, share, record=True)),
    )


def test_same_margin_as_the_python_run():
    assert mes_vector.MARGIN is mes_python.MARGIN is mes_common.MARGIN


@st.composite
def approval_elections(draw: st.DrawFn) -> Election:
    n = draw(st.integers(1, 7))
    names = [f"p{i}" for i in range(n)]
    costs = {p: draw(st.sampled_from([0, 10, 20, 20, 30, 60, 90])) for p in names}
    ballots = [
        dict.fromkeys(draw(st.lists(st.sampled_from(names), unique=True, max_size=n)), 1)
        for _ in range(draw(st.integers(1, 14)))
    ]
    return Election(budget=draw(st.integers(0, 200)), costs=costs, ballots=ballots)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(approval_elections(), st.sampled_from([0, 1, 3, Fraction(7, 2), 25]))
def test_vector_run_equals_python_run(election: Election, extra) -> None:
    share = money(Fraction(election.budget) / len(election.ballots) + extra)
    python, vector = both(election, share)
    assert vector == python


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(approval_elections(), st.sampled_from([5, 10, 15, 20, 30, Fraction(20, 3), 45]))
def test_vector_run_equals_python_run_when_money_equals_price(election: Election, share) -> None:
    """Shares that divide the costs: supporters often have exactly the price left."""
    python, vector = both(election, share)
    assert vector == python


@pytest.mark.parametrize(
    "stem, increments",
    [
        ("Netherlands_Amsterdam_309", (0, 4)),
        ("Poland_Lodz_2022", (0, 57)),
        ("US_Stanford_Dataset_PB_Cambridge_2015_vote_approvals", (0, 30)),
    ],
)
def test_vector_run_equals_python_run_on_real_files(stem, increments):
    election = election_from_pb(parse_pb(real_file(f"{stem}.pb").read_text()))
    for k in increments:
        share = money(Fraction(election.budget) / len(election.ballots) + k)
        python, vector = both(election, share)
        assert vector == python
        assert len(vector[0]) > 3


def test_a_project_costing_less_than_the_margin_whose_supporters_spent_all(monkeypatch):
    """B costs 1 fen against a share of 10^10: within the float margin. Once A's purchase
    leaves B's only supporters with nothing, its estimate has no class with money; it used to
    raise (an argmax of nothing) instead of leaving the call to the exact check."""
    election = Election(
        budget=2 * 10**10, costs={"A": 2 * 10**10, "B": 1}, ballots=[{"A": 1, "B": 1}, {"A": 1}]
    )
    monkeypatch.setattr(es, "VECTOR_MIN_GROUPS", 0)
    python, vector = both(election, money(Fraction(election.budget, 2)))
    assert vector == python
    assert [p for p, _price in vector[0]] == [0]  # A only: B's supporters have nothing left
    assert compute_outcome("mes-add1", election).selected == ["A"]


def test_large_approval_counts_use_the_vector_run(monkeypatch):
    election = election_from_pb(parse_pb(real_file("Netherlands_Amsterdam_309.pb").read_text()))
    calls = []
    monkeypatch.setattr(es, "run_python", lambda *a, **k: calls.append(a))
    outcome = compute_outcome("mes", election)
    assert calls == [] and len(outcome.selected) > 10


def test_a_price_too_close_to_estimate_is_still_bought_when_it_becomes_the_cheapest():
    """`cheapest` puts back a project it priced exactly after an estimate of inf (floats too
    close to call) with its exact price as the lower bound: once the others cost more, it is
    bought. Before, it went back with inf and a dearer project was bought."""
    estimates = {0: (math.inf, "a"), 1: (0.3, "b"), 2: (0.6, "c")}
    exact_rho = {0: Fraction(1, 2), 1: Fraction(3, 10), 2: Fraction(3, 5)}
    heap = [(0.1, 0), (0.2, 1), (0.35, 2)]
    heapq.heapify(heap)
    active = [True, True, True]

    def estimate(p):
        return estimates[p]

    def exact(p, _rho_f, _data):
        return exact_rho[p]

    first = mes_common.cheapest(heap, active, estimate, exact, [1, 1, 1])
    second = mes_common.cheapest(heap, active, estimate, exact, [1, 1, 1])
    assert (first[0], first[1]) == (1, Fraction(3, 10))
    assert (second[0], second[1]) == (0, Fraction(1, 2))
