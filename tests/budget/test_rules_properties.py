"""Property-based tests of the outcome rules on random small elections: within the budget,
deterministic, certificates hold, equal shares leaves nothing affordable unfunded, and every
rule selects exactly what pabutools selects."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.rules import RULES, Election, compute_outcome, verify_certificate
from tests.fixtures.regen_pabutools import pabutools_from_election, run_pabutools

PROJECTS = ["a", "b", "c", "d", "e", "f", "10", "9"]  # "10" < "9": ids tie-break as text


@st.composite
def elections(draw: st.DrawFn, utility: str | None = None) -> Election:
    utility = utility or draw(st.sampled_from(["cost", "points"]))
    n = draw(st.integers(1, 6))
    names = PROJECTS[:n]
    # small costs from a few values so that ties in votes and in prices are frequent
    costs = {p: draw(st.sampled_from([0, 5, 10, 10, 20, 30, 45, 60])) for p in names}
    budget = draw(st.integers(0, 120))
    n_voters = draw(st.integers(0, 8))
    ballots = []
    for _ in range(n_voters):
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=n))
        if utility == "cost":
            ballots.append(dict.fromkeys(chosen, 1))
        else:
            ballots.append({p: draw(st.integers(1, 4)) for p in chosen})
    unit = draw(st.sampled_from([1, 1, 5, Fraction(1, 2)]))
    return Election(budget=budget, costs=costs, ballots=ballots, utility=utility, unit=unit)


FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(elections(), st.sampled_from(RULES))
def test_within_budget_deterministic_certified(election: Election, rule: str) -> None:
    outcome = compute_outcome(rule, election)
    assert outcome.total_cost <= election.budget
    assert outcome.total_cost == sum(election.costs[p] for p in outcome.selected)
    assert len(set(outcome.selected)) == len(outcome.selected)
    assert compute_outcome(rule, election) == outcome
    verify_certificate(election, outcome)


@FAST
@given(elections())
def test_equal_shares_is_exhaustive(election: Election) -> None:
    outcome = compute_outcome("equal-shares", election)
    left = election.budget - outcome.total_cost
    for project, cost in election.costs.items():
        if project not in outcome.selected:
            assert cost > left, f"{project} costs {cost} and {left} is left"


@FAST
@given(elections(), st.sampled_from(RULES))
def test_same_as_pabutools(election: Election, rule: str) -> None:
    pytest.importorskip("pabutools")
    instance, profile = pabutools_from_election(election)
    expected = run_pabutools(
        instance, profile, rule, election.utility == "points", unit=election.unit
    )
    outcome = compute_outcome(rule, election)
    assert sorted(outcome.selected) == sorted(expected)
