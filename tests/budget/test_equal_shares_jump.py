"""add1 jumps over increments that cannot change the outcome: it must land exactly where
walking one increment at a time lands (same share, same steps, same payments), and on rounds
where walking takes thousands of increments it must run MES far fewer times.

When to try a jump is decided by timing runs and replays; these tests give add1 a clock that
ticks once per reading (every run and every replay then "takes" one tick), so the number of
runs and replays is the same on any machine under any load."""

from __future__ import annotations

import itertools
import logging
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


@pytest.fixture(autouse=True)
def _capture_jump_warnings(caplog: pytest.LogCaptureFixture) -> None:
    """Whatever logging set-up runs before, the warnings of `equal_shares` reach `caplog`."""
    caplog.set_level(logging.WARNING, logger=es.logger.name)


def ticking_clock():
    """A clock for `_add1` that advances by one at every reading (deterministic costs)."""
    return itertools.count().__next__


def add1_both_ways(
    election: Election, monkeypatch: pytest.MonkeyPatch
) -> tuple[tuple[Run, int], tuple[Run, int], int, int]:
    """(jumping result, walking result, MES runs and replays made by the jumping add1)."""
    prep = prepare(election)
    calls = {"runs": 0, "replays": 0}

    def counting(kind, func):
        def counted(*args, **kwargs):
            calls[kind] += 1
            return func(*args, **kwargs)

        return counted

    with monkeypatch.context() as patch:
        patch.setattr(es, "_run", counting("runs", es._run))
        patch.setattr(es, "stable_for", counting("replays", es.stable_for))
        jumped = es._add1(prep, election, jump=True, clock=ticking_clock())
    walked = es._add1(prep, election, jump=False)
    return jumped, walked, calls["runs"], calls["replays"]


def jump_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Warnings of a wrong jump bound logged so far (add1 then walks again)."""
    return [r.getMessage() for r in caplog.records if r.name == es.logger.name]


def same_run(a: tuple[Run, int], b: tuple[Run, int]) -> bool:
    """Same increments, share and steps (a certified run keeps the prices of the run it was
    certified from: only the projects bought matter, the payments are recorded afresh)."""
    (run_a, k_a), (run_b, k_b) = a, b
    return (k_a, run_a.share, [s.project for s in run_a.steps]) == (
        k_b,
        run_b.share,
        [s.project for s in run_b.steps],
    )


@pytest.mark.slow
@pytest.mark.parametrize("seed", [1, 2])
def test_jumping_lands_where_walking_does_with_far_fewer_runs(seed, monkeypatch):
    election = sparse_election(seed, voters=30, projects=90, budget=400_000, approve=0.04)
    jumped, walked, runs, replays = add1_both_ways(election, monkeypatch)
    increments = walked[1]
    assert increments > 1_000  # walking really is long here
    assert same_run(jumped, walked)
    assert runs + replays < increments / 5  # without a jump: increments + 1 runs


def test_jumping_on_points_ballots(monkeypatch):
    election = sparse_election(
        3, voters=30, projects=60, budget=300_000, approve=0.06, utility="points"
    )
    jumped, walked, runs, replays = add1_both_ways(election, monkeypatch)
    assert same_run(jumped, walked)
    assert runs + replays < walked[1] / 5


def test_long_round_is_counted_fast_and_certified(caplog):
    """60 voters, 240 projects, 1.5 million: walking took 12,000 increments (two minutes)."""
    election = sparse_election(1, voters=60, projects=240, budget=1_500_000, approve=0.02)
    outcome = compute_outcome("equal-shares", election)
    assert outcome.increments > 10_000
    verify_certificate(election, outcome)
    assert jump_warnings(caplog) == []


def test_a_wrong_jump_bound_is_logged_and_the_count_walks(monkeypatch, caplog):
    """If a replay ever certified too much, the final run at the chosen share would not make
    the certified steps: that is logged and add1 walks one increment at a time instead."""
    election = sparse_election(4, voters=20, projects=40, budget=150_000, approve=0.08)
    expected = compute_outcome("mes-add1", election)
    assert jump_warnings(caplog) == []
    replays = iter([1e9])  # the first replay certifies far too much, then none certifies

    def wrong_bound(*_args):
        return next(replays, 0.0)

    real_add1 = es._add1
    monkeypatch.setattr(es, "stable_for", wrong_bound)
    monkeypatch.setattr(es, "_add1", lambda *a, **k: real_add1(*a, **k, clock=ticking_clock()))
    outcome = compute_outcome("mes-add1", election)
    assert len(jump_warnings(caplog)) == 1
    assert "counting again one increment at a time" in jump_warnings(caplog)[0]
    assert (outcome.selected, outcome.voter_budget, outcome.increments) == (
        expected.selected,
        expected.voter_budget,
        expected.increments,
    )
    verify_certificate(election, outcome)


def test_jumping_matches_pabutools_on_a_long_round(caplog):
    pytest.importorskip("pabutools")
    election = sparse_election(4, voters=20, projects=40, budget=150_000, approve=0.08)
    instance, profile = pabutools_from_election(election)
    for rule in ("mes-add1", "equal-shares"):
        expected = run_pabutools(instance, profile, rule, False, unit=election.unit)
        outcome = compute_outcome(rule, election)
        assert outcome.increments > 100
        assert sorted(outcome.selected) == sorted(expected)
    assert jump_warnings(caplog) == []


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


# caplog and monkeypatch are shared by all examples: fine, no example may log a warning
PROPERTY = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(election=wide_elections())
def test_jumping_equals_walking(election: Election, caplog) -> None:
    prep = prepare(election)
    if prep.n_voters == 0:
        return
    walked = es._add1(prep, election, jump=False)
    assert same_run(es._add1(prep, election, jump=True, clock=ticking_clock()), walked)
    # and the whole count (jumping as timed for real) records a run at the same share
    assert es.method_of_equal_shares(election, "mes-add1").increments == walked[1]
    assert jump_warnings(caplog) == []


@PROPERTY
@given(election=wide_elections())
def test_jumping_equals_walking_with_the_numpy_replay(
    election: Election, caplog, monkeypatch
) -> None:
    """Large approval counts replay with numpy (`mes_replay.ArrayReplay`): force it."""
    if election.utility != "cost":
        return
    prep = prepare(election)
    if prep.n_voters == 0:
        return
    prep.vectors = mes_vector.ApprovalVectors(prep)
    walked = es._add1(prep, election, jump=False)
    assert same_run(es._add1(prep, election, jump=True, clock=ticking_clock()), walked)
    with monkeypatch.context() as patch:
        patch.setattr(es, "VECTOR_MIN_GROUPS", 0)  # numpy runs and replays, end to end
        assert es.method_of_equal_shares(election, "mes-add1").increments == walked[1]
    assert jump_warnings(caplog) == []


@pytest.mark.slow
def test_numpy_replay_jumps_on_a_long_round(monkeypatch):
    monkeypatch.setattr(es, "VECTOR_MIN_GROUPS", 0)
    election = sparse_election(2, voters=30, projects=90, budget=400_000, approve=0.04)
    jumped, walked, runs, replays = add1_both_ways(election, monkeypatch)
    assert same_run(jumped, walked)
    assert runs + replays < walked[1] / 5  # without a jump: increments + 1 runs
