"""Ballot validity: pure, no I/O, no ORM.

A ballot covers one or more envelopes (the voter's area and the district-wide one). Each
envelope has its own budget and its own projects; the round's ballot type sets the limit that
every envelope's choices must respect on its own:

- approval: at most `max_choices` projects per envelope (no limit when it is None);
- budget_approval: the chosen projects' costs must add up to no more than the envelope's budget;
- points: at most `points_total` points per envelope, whole numbers, each choice at least 1.

`validate_ballot` returns a `BallotCheck`: a tally per envelope (count, cost, points — what the
running total shows) and the problems found, as codes with numbers. Turning a problem into a
sentence (translated, money formatted) is the caller's job, so that this module stays pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

APPROVAL = "approval"
BUDGET_APPROVAL = "budget_approval"
POINTS = "points"
BALLOT_TYPES = (APPROVAL, BUDGET_APPROVAL, POINTS)

BALLOT = "ballot"  # the key of problems that concern the whole ballot, not one envelope

# problem codes
EMPTY = "empty"  # nothing chosen at all
UNKNOWN_PROJECT = "unknown_project"  # not on this ballot: unknown, not feasible, other area
BAD_POINTS = "bad_points"  # approval choice other than 1, or points below 1
OVER_BUDGET = "over_budget"  # budget_approval: params count, cost, budget
TOO_MANY = "too_many"  # approval: params count, max
TOO_MANY_POINTS = "too_many_points"  # points: params used, total


@dataclass(frozen=True)
class EnvelopeSpec:
    """One envelope as the ballot sees it: `costs` maps each project on it to its cost (fen)."""

    key: str
    budget_fen: int
    costs: Mapping[int, int]


@dataclass(frozen=True)
class Problem:
    code: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class EnvelopeTally:
    """What a voter chose in one envelope, against its budget and limits."""

    key: str
    budget_fen: int
    chosen: list[int] = field(default_factory=list)
    cost_fen: int = 0
    points: int = 0
    max_choices: int | None = None
    points_total: int | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.chosen)

    @property
    def left_fen(self) -> int:
        """Money left in the envelope after the chosen projects (negative when over)."""
        return self.budget_fen - self.cost_fen

    @property
    def points_left(self) -> int | None:
        return None if self.points_total is None else self.points_total - self.points

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class BallotCheck:
    ballot_type: str
    envelopes: dict[str, EnvelopeTally]
    problems: list[Problem] = field(default_factory=list)  # about the whole ballot

    @property
    def ok(self) -> bool:
        return not self.problems and all(t.ok for t in self.envelopes.values())

    def errors(self) -> dict[str, list[Problem]]:
        """Problems per envelope key (and BALLOT for the whole ballot); only keys with some."""
        result: dict[str, list[Problem]] = {}
        if self.problems:
            result[BALLOT] = list(self.problems)
        for key, tally in self.envelopes.items():
            if tally.problems:
                result[key] = list(tally.problems)
        return result


def validate_ballot(
    ballot_type: str,
    envelopes: Iterable[EnvelopeSpec],
    choices: Mapping[int, int],
    *,
    max_choices: int | None = None,
    points_total: int | None = None,
    require_choice: bool = True,
) -> BallotCheck:
    """Check a ballot: `choices` maps project id → points (1 for approval ballots).

    Every chosen project must be on one of the ballot's envelopes; each envelope's choices are
    checked against that envelope's limit. `require_choice` refuses a ballot with no choice
    (the running total passes False: an empty form is not yet an error).
    """
    if ballot_type not in BALLOT_TYPES:
        raise ValueError(f"unknown ballot type {ballot_type!r}")
    approval = ballot_type in (APPROVAL, BUDGET_APPROVAL)
    specs = list(envelopes)
    tallies = {
        spec.key: EnvelopeTally(
            key=spec.key,
            budget_fen=spec.budget_fen,
            max_choices=max_choices if ballot_type == APPROVAL else None,
            points_total=points_total if ballot_type == POINTS else None,
        )
        for spec in specs
    }
    check = BallotCheck(ballot_type=ballot_type, envelopes=tallies)

    for pid in sorted(choices):
        points = choices[pid]
        # the envelope of each chosen project (a ballot lists hundreds, a voter chooses few)
        spec = next((spec for spec in reversed(specs) if pid in spec.costs), None)
        if spec is None:
            check.problems.append(Problem(UNKNOWN_PROJECT, {"project": pid}))
            continue
        tally = tallies[spec.key]
        valid_points = (
            isinstance(points, int)
            and not isinstance(points, bool)
            and (points == 1 if approval else points >= 1)
        )
        if not valid_points:
            tally.problems.append(Problem(BAD_POINTS, {"project": pid, "points": points}))
            continue
        tally.chosen.append(pid)
        tally.cost_fen += spec.costs[pid]
        tally.points += points

    if require_choice and not choices:
        check.problems.append(Problem(EMPTY))

    for tally in tallies.values():
        if ballot_type == BUDGET_APPROVAL and tally.cost_fen > tally.budget_fen:
            tally.problems.append(
                Problem(
                    OVER_BUDGET,
                    {
                        "count": tally.count,
                        "cost": tally.cost_fen,
                        "budget": tally.budget_fen,
                    },
                )
            )
        elif ballot_type == APPROVAL and max_choices is not None and tally.count > max_choices:
            tally.problems.append(Problem(TOO_MANY, {"count": tally.count, "max": max_choices}))
        elif ballot_type == POINTS and points_total is not None and tally.points > points_total:
            tally.problems.append(
                Problem(TOO_MANY_POINTS, {"used": tally.points, "total": points_total})
            )
    return check
