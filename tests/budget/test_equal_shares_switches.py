"""add1 on elections built to need many increments in which voters keep switching between
"pays all they have" and "pays the price" (what makes Budapest-like elections slow): the
outcome must be pabutools' and jumping must land where walking one increment at a time lands,
with the list replay and with the numpy replay.

Small sizes so that pabutools (which walks every increment) stays fast; the clock given to add1
ticks once per reading, so what is tried never depends on the machine's speed."""

from __future__ import annotations

import itertools
import logging
import random
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget.rules import Election, compute_outcome, mes_jump, mes_vector, verify_certificate
from budget.rules import equal_shares as es
from budget.rules.mes_common import Run, prepare
from tests.fixtures.regen_pabutools import pabutools_from_election, run_pabutools


def switchy_election(seed: int, utility: str = "cost") -> Election:
    """Voters approving overlapping pairs and triples of a few projects (so that they pay
    different amounts before a shared project and their money crosses its price as the share
    rises), costs far above the plain share (so add1 needs many increments)."""
    rng = random.Random(seed)
    n_projects = rng.randint(4, 7)
    names = [f"q{i}" for i in range(n_projects)]
    costs = {p: 10 * rng.choice([60, 90, 120, 150, 210, 240, 330, 400, 520, 700]) for p in names}
    ballots: list[dict[str, int]] = []
    for _ in range(rng.randint(12, 30)):
        chosen = rng.sample(names, rng.randint(1, 3))
        if utility == "cost":
            ballots.append(dict.fromkeys(chosen, 1))
        else:
            ballots.append({p: rng.randint(1, 4) for p in chosen})
    total = sum(costs.values())
    budget = rng.randint(total // 4, total // 2)
    unit = rng.choice([1, 1, 2, Fraction(1, 2)])
    return Election(budget=budget, costs=costs, ballots=ballots, utility=utility, unit=unit)


def ticking_clock():
    return itertools.count().__next__


def same_run(a: tuple[Run, int], b: tuple[Run, int]) -> bool:
    (run_a, k_a), (run_b, k_b) = a, b
    return (k_a, run_a.share, [s.project for s in run_a.steps]) == (
        k_b,
        run_b.share,
        [s.project for s in run_b.steps],
    )


def switches(election: Election, k_max: int) -> int:
    """How many times, from one increment to the next (up to k_max), a voter's side in a step
    buying the same project changed between paying all they had and paying the price."""
    prep = prepare(election)
    base = Fraction(election.budget, 1) / prep.n_voters
    previous: dict[int, set[int]] = {}
    total = 0
    for k in range(k_max + 1):
        run = es._run(prep, base + k * election.unit, record=True)
        pays_all: dict[int, set[int]] = {}
        for step in run.steps:
            due = step.price / prep.scale[step.project]
            costs = election.costs[prep.names[step.project]]
            pays_all[step.project] = {
                v
                for group in run.payments[step.project]
                for v in group.voters
                if group.amount
                < due
                * (
                    costs
                    if election.utility == "cost"
                    else election.ballots[v][prep.names[step.project]]
                )
            }
        for p, voters in pays_all.items():
            if p in previous:
                total += len(voters ^ previous[p])
        previous = pays_all
    return total


@pytest.fixture(autouse=True)
def _capture_jump_warnings(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=es.logger.name)


def jump_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == es.logger.name]


def test_the_elections_need_many_increments_and_switches():
    """The generator does what it is for (counted, not timed)."""
    increments = total_switches = 0
    for seed in range(12):
        election = switchy_election(seed)
        k = compute_outcome("mes-add1", election).increments
        increments += k
        total_switches += switches(election, k)
    assert increments >= 12 * 40
    assert total_switches >= 12


PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(seed=st.integers(0, 10**6), utility=st.sampled_from(["cost", "cost", "points"]))
def test_switching_elections_match_pabutools(seed: int, utility: str, caplog) -> None:
    pytest.importorskip("pabutools")
    election = switchy_election(seed, utility)
    instance, profile = pabutools_from_election(election)
    points = utility == "points"
    for rule in ("mes-add1", "equal-shares"):
        outcome = compute_outcome(rule, election)
        expected = run_pabutools(instance, profile, rule, points, unit=election.unit)
        assert sorted(outcome.selected) == sorted(expected)
        verify_certificate(election, outcome)
    assert jump_warnings(caplog) == []


@PROPERTY
@given(seed=st.integers(0, 10**6), utility=st.sampled_from(["cost", "points"]))
def test_switching_elections_jump_equals_walk(seed: int, utility: str, caplog) -> None:
    election = switchy_election(seed, utility)
    prep = prepare(election)
    walked = es._add1(prep, election, jump=False)
    assert same_run(es._add1(prep, election, jump=True, clock=ticking_clock()), walked)
    assert jump_warnings(caplog) == []


@PROPERTY
@given(seed=st.integers(0, 10**6))
def test_switching_elections_jump_equals_walk_with_the_numpy_replay(
    seed: int, caplog, monkeypatch
) -> None:
    election = switchy_election(seed)
    prep = prepare(election)
    prep.vectors = mes_vector.ApprovalVectors(prep)  # numpy replays (and runs, below)
    walked = es._add1(prep, election, jump=False)
    assert same_run(es._add1(prep, election, jump=True, clock=ticking_clock()), walked)
    with monkeypatch.context() as patch:
        patch.setattr(es, "VECTOR_MIN_GROUPS", 0)
        assert es.method_of_equal_shares(election, "mes-add1").increments == walked[1]
    assert jump_warnings(caplog) == []


@pytest.mark.parametrize("replay", ["lists", "numpy"])
def test_replays_resume_where_the_last_one_stopped_and_still_land_where_walking_does(
    replay: str, monkeypatch, caplog
) -> None:
    """On these elections most replays stop at a payer's crossing; the next replay of the same
    steps resumes from that step (`mes_jump.Trail`), and add1 still lands where walking does."""
    resumed = fresh = 0
    real = mes_jump._replay_steps

    def counted(ops, steps, trail, share, first, *rest):
        nonlocal resumed, fresh
        if first > 0:
            resumed += 1
        else:
            fresh += 1
        return real(ops, steps, trail, share, first, *rest)

    monkeypatch.setattr(mes_jump, "_replay_steps", counted)
    for seed in range(40):
        election = switchy_election(seed)
        prep = prepare(election)
        if replay == "numpy":
            prep.vectors = mes_vector.ApprovalVectors(prep)
        walked = es._add1(prep, election, jump=False)
        assert same_run(es._add1(prep, election, jump=True, clock=ticking_clock()), walked)
    assert resumed > 0 and fresh > 0
    assert jump_warnings(caplog) == []
