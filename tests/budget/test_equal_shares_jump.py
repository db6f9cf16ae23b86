"""add1 jumps over increments that cannot change the outcome: it must land exactly where
walking one increment at a time lands (same share, same steps, same payments), and on rounds
where walking takes thousands of increments it must run MES far fewer times."""

from __future__ import annotations

import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.rules import Election, compute_outcome, mes_vector, verify_certificate
from budget.rules import equal_shares as es
from budget.rules.mes_common import Run, prepare
from tests.fixtures.regen_pabutools import pabutools_from_election, run_pabutools


def sparse_election(
    seed: int, voters: int, projects: int, budget: int, approve: float, utility: str = "cost"
) -> Election:
    """Few approvals per voter and a large budget: the share must rise a long way before the
    outcome is exhaustive or too dear (the case that made walking one unit at a time hang)."""
    rng = random.Random(seed)
    costs = {f"p{i:03d}": rng.randint(20, 300) * 100 for i in range(projects)}
    ballots = []
    for _ in range(voters):
        if utility == "cost":
            ballots.append({p: 1 for p in costs if rng.random() < approve})
        else:
            ballots.append({p: rng.randint(1, 5) for p in costs if rng.random() < approve})
    return Election(budget=budget, costs=costs, ballots=ballots, utility=utility)


def add1_both_ways(
    election: Election, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[Run, int], tuple[Run, int], int]:
    """(jumping result, walking result, MES runs made by the jumping add1)."""
    prep = prepare(election)
    runs = 0
    real_run = es._run

    def counted(*args, **kwargs):
        nonlocal runs
        runs += 1
        return real_run(*args, **kwargs)

    monkeypatch.setattr(es, "_run", counted)
    jumped = es._add1(prep, election, jump=True)
    jumped_runs = runs
    monkeypatch.setattr(es, "_run", real_run)
    walked = es._add1(prep, election, jump=False)
    return jumped, walked, jumped_runs


def same_run(a: tuple[Run, int], b: tuple[Run, int]) -> bool:
    """Same increments, share and steps (a certified run keeps the prices of the run it was
    certified from: only the projects bought matter, the payments are recorded afresh)."""
    (run_a, k_a), (run_b, k_b) = a, b
    return (k_a, run_a.share, [s.project for s in run_a.steps]) == (
        k_b,
        run_b.share,
        [s.project for s in run_b.steps],
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_jumping_lands_where_walking_does_with_far_fewer_runs(seed, monkeypatch):
    election = sparse_election(seed, voters=30, projects=90, budget=400_000, approve=0.04)
    misses = len(es.JUMP_MISSES)
    jumped, walked, runs = add1_both_ways(election, monkeypatch)
    increments = walked[1]
    assert increments > 1_000  # walking really is long here
    assert same_run(jumped, walked)
    assert runs < increments / 5
    assert len(es.JUMP_MISSES) == misses


def test_jumping_on_points_ballots(monkeypatch):
    election = sparse_election(
        3, voters=30, projects=60, budget=300_000, approve=0.06, utility="points"
    )
    jumped, walked, runs = add1_both_ways(election, monkeypatch)
    assert same_run(jumped, walked)
    assert runs <= walked[1] + 1


def test_long_round_is_counted_fast_and_certified():
    """60 voters, 240 projects, 1.5 million: walking took 12,000 increments (two minutes)."""
    election = sparse_election(1, voters=60, projects=240, budget=1_500_000, approve=0.02)
    outcome = compute_outcome("equal-shares", election)
    assert outcome.increments > 10_000
    verify_certificate(election, outcome)


def test_jumping_matches_pabutools_on_a_long_round():
    pytest.importorskip("pabutools")
    election = sparse_election(4, voters=20, projects=40, budget=150_000, approve=0.08)
    instance, profile = pabutools_from_election(election)
    for rule in ("mes-add1", "equal-shares"):
        expected = run_pabutools(instance, profile, rule, False, unit=election.unit)
        outcome = compute_outcome(rule, election)
        assert outcome.increments > 100
        assert sorted(outcome.selected) == sorted(expected)


@st.composite
def wide_elections(draw: st.DrawFn) -> Election:
    """More voters and money than the small property elections, so that jumps happen."""
    utility = draw(st.sampled_from(["cost", "points"]))
    n = draw(st.integers(2, 8))
    names = [f"x{i}" for i in range(n)]
    costs = {p: draw(st.sampled_from([0, 50, 100, 100, 200, 300, 450, 600])) for p in names}
    ballots = []
    for _ in range(draw(st.integers(1, 12))):
        chosen = draw(st.lists(st.sampled_from(names), unique=True, max_size=3))
        if utility == "cost":
            ballots.append(dict.fromkeys(chosen, 1))
        else:
            ballots.append({p: draw(st.integers(1, 4)) for p in chosen})
    budget = draw(st.integers(100, 3_000))
    unit = draw(st.sampled_from([1, 1, 2, Fraction(1, 2)]))
    return Election(budget=budget, costs=costs, ballots=ballots, utility=utility, unit=unit)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wide_elections())
def test_jumping_equals_walking(election: Election) -> None:
    prep = prepare(election)
    if prep.n_voters == 0:
        return
    misses = len(es.JUMP_MISSES)
    assert same_run(es._add1(prep, election, jump=True), es._add1(prep, election, jump=False))
    assert len(es.JUMP_MISSES) == misses


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(wide_elections())
def test_jumping_equals_walking_with_the_numpy_replay(election: Election) -> None:
    """Large approval counts replay with numpy (`mes_jump._ArrayReplay`): force it."""
    if election.utility != "cost":
        return
    prep = prepare(election)
    if prep.n_voters == 0:
        return
    prep.vectors = mes_vector.ApprovalVectors(prep)
    misses = len(es.JUMP_MISSES)
    jumped = es._add1(prep, election, jump=True)
    assert same_run(jumped, es._add1(prep, election, jump=False))
    assert len(es.JUMP_MISSES) == misses


def test_numpy_replay_jumps_on_a_long_round(monkeypatch):
    monkeypatch.setattr(es, "VECTOR_MIN_GROUPS", 0)
    election = sparse_election(2, voters=30, projects=90, budget=400_000, approve=0.04)
    jumped, walked, runs = add1_both_ways(election, monkeypatch)
    assert same_run(jumped, walked)
    assert runs < walked[1] / 5
