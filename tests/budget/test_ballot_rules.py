"""Ballot validity (pure): each ballot type, limits per envelope, unknown projects."""

from __future__ import annotations

import pytest

from budget.rules.ballots import (
    APPROVAL,
    BAD_POINTS,
    BALLOT,
    BUDGET_APPROVAL,
    EMPTY,
    OVER_BUDGET,
    POINTS,
    TOO_MANY,
    TOO_MANY_POINTS,
    UNKNOWN_PROJECT,
    EnvelopeSpec,
    validate_ballot,
)

AREA = EnvelopeSpec("1", 100_000_00, {1: 40_000_00, 2: 50_000_00, 3: 40_000_00})
DISTRICT = EnvelopeSpec("district", 50_000_00, {10: 30_000_00, 11: 30_000_00})
BOTH = [AREA, DISTRICT]


def codes(problems):
    return [p.code for p in problems]


def test_budget_approval_within_each_budget_is_valid():
    check = validate_ballot(BUDGET_APPROVAL, BOTH, {1: 1, 2: 1, 10: 1})
    assert check.ok
    area = check.envelopes["1"]
    assert (area.count, area.cost_fen, area.left_fen) == (2, 90_000_00, 10_000_00)
    assert check.envelopes["district"].cost_fen == 30_000_00


def test_budget_approval_over_one_envelope_reports_that_envelope_only():
    check = validate_ballot(BUDGET_APPROVAL, BOTH, {1: 1, 2: 1, 3: 1, 10: 1})
    assert not check.ok
    errors = check.errors()
    assert list(errors) == ["1"]
    (problem,) = errors["1"]
    assert problem.code == OVER_BUDGET
    assert dict(problem.params) == {"count": 3, "cost": 130_000_00, "budget": 100_000_00}


def test_budget_limits_are_per_envelope_not_pooled():
    # 60,000 in the district envelope is over its 50,000 even though the area has money left
    check = validate_ballot(BUDGET_APPROVAL, BOTH, {10: 1, 11: 1})
    assert codes(check.errors()["district"]) == [OVER_BUDGET]
    assert "1" not in check.errors()


def test_exactly_the_budget_fits():
    spec = EnvelopeSpec("1", 80_000_00, {1: 40_000_00, 3: 40_000_00})
    assert validate_ballot(BUDGET_APPROVAL, [spec], {1: 1, 3: 1}).ok


def test_approval_at_most_k_per_envelope():
    assert validate_ballot(APPROVAL, BOTH, {1: 1, 2: 1, 10: 1, 11: 1}, max_choices=2).ok
    check = validate_ballot(APPROVAL, BOTH, {1: 1, 2: 1, 3: 1}, max_choices=2)
    (problem,) = check.errors()["1"]
    assert problem.code == TOO_MANY and problem.params == {"count": 3, "max": 2}
    # plain approval does not look at the budget
    assert validate_ballot(APPROVAL, BOTH, {1: 1, 2: 1, 3: 1}, max_choices=5).ok
    assert validate_ballot(APPROVAL, BOTH, {1: 1, 2: 1, 3: 1}).ok  # no k: no limit


def test_points_per_envelope():
    check = validate_ballot(POINTS, BOTH, {1: 6, 2: 4, 10: 10}, points_total=10)
    assert check.ok
    assert check.envelopes["1"].points == 10 and check.envelopes["1"].points_left == 0
    check = validate_ballot(POINTS, BOTH, {1: 7, 2: 5}, points_total=10)
    (problem,) = check.errors()["1"]
    assert problem.code == TOO_MANY_POINTS and problem.params == {"used": 12, "total": 10}


def test_points_must_be_positive_whole_numbers():
    check = validate_ballot(POINTS, BOTH, {1: -1, 2: 3}, points_total=10)
    assert codes(check.errors()["1"]) == [BAD_POINTS]
    check = validate_ballot(POINTS, BOTH, {1: 1.5}, points_total=10)
    assert codes(check.errors()["1"]) == [BAD_POINTS]


def test_approval_points_other_than_one_are_refused():
    check = validate_ballot(BUDGET_APPROVAL, BOTH, {1: 2})
    assert codes(check.errors()["1"]) == [BAD_POINTS]


@pytest.mark.parametrize("kind", [APPROVAL, BUDGET_APPROVAL, POINTS])
def test_unknown_or_other_areas_project_is_refused(kind):
    # 99: unknown, not feasible, or another area's project: it is on none of this ballot's
    # envelopes
    check = validate_ballot(kind, BOTH, {1: 1, 99: 1}, max_choices=3, points_total=10)
    assert not check.ok
    assert codes(check.errors()[BALLOT]) == [UNKNOWN_PROJECT]
    assert check.errors()[BALLOT][0].params == {"project": 99}
    assert check.envelopes["1"].chosen == [1]


def test_empty_ballot_refused_unless_only_a_running_total():
    check = validate_ballot(BUDGET_APPROVAL, BOTH, {})
    assert codes(check.errors()[BALLOT]) == [EMPTY]
    running = validate_ballot(BUDGET_APPROVAL, BOTH, {}, require_choice=False)
    assert running.ok and running.envelopes["1"].cost_fen == 0


def test_unknown_ballot_type():
    with pytest.raises(ValueError):
        validate_ballot("ranked", BOTH, {1: 1})
