"""Greedy by votes: take the projects by descending votes, skip those that no longer fit, go on.

Votes are the number of approving voters (approval ballots) or the total points (points
ballots). This is pabutools' `greedy_utilitarian_welfare` with the cost satisfaction
(`Cost_Sat`: satisfaction per unit of cost = number of approvals) or, for points, an additive
satisfaction points x cost (satisfaction per unit of cost = total points).

Ties are broken as pabutools does by default (lexicographic tie-breaking): among projects with
equal votes, the one whose id comes first in plain string order goes first ("10" before "9").
A project that costs nothing has a satisfaction of 0 under these measures, so, as in
pabutools, it is ranked with the projects nobody voted for: after all the others, and taken if
it fits (it always does). Projects nobody voted for are taken too if money is left.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from budget.rules.election import (
    DID_NOT_FIT,
    FUNDED_GREEDY,
    CertificateError,
    Election,
    Money,
    Outcome,
    ProjectExplanation,
    money,
)

GREEDY_TIE_BREAKING = (
    "Projects with the same number of votes are taken in the order of their ids (as text); "
    "free projects and projects without votes come last."
)


def tally(election: Election) -> tuple[dict[str, Money], dict[str, int]]:
    """Votes per project (approvals, or total points) and the number of supporters."""
    votes: dict[str, Money] = dict.fromkeys(election.costs, 0)
    supporters: dict[str, int] = dict.fromkeys(election.costs, 0)
    by_points = election.utility == "points"
    for ballot in election.ballots:
        for project, points in ballot.items():
            if points > 0:
                votes[project] += points if by_points else 1
                supporters[project] += 1
    return {p: money(v) for p, v in votes.items()}, supporters


def greedy_order(
    election: Election, votes: Mapping[str, Money], exclude: Iterable[str] = ()
) -> list[str]:
    """The order in which greedy looks at the projects (see the module docstring)."""
    skip = set(exclude)
    projects = sorted(p for p in election.costs if p not in skip)

    def density(project: str) -> Money:
        # pabutools: total satisfaction / cost, 0 when the satisfaction is 0 (cost 0 or no votes)
        return votes[project] if election.costs[project] > 0 else 0

    return sorted(projects, key=lambda p: -density(p))  # stable: ties keep the id order


def greedy_fill(
    election: Election,
    votes: Mapping[str, Money],
    supporters: Mapping[str, int],
    already: list[str],
    explanations: dict[str, ProjectExplanation],
) -> list[str]:
    """Go through the projects not in `already` in greedy order with the money left; record an
    explanation for each (overwriting nothing already funded) and return those taken."""
    left = election.budget - sum(election.costs[p] for p in already)
    taken: list[str] = []
    for rank, project in enumerate(greedy_order(election, votes, already), start=1):
        cost = election.costs[project]
        fits = cost <= left
        expl = explanations.get(project)
        if expl is None:
            expl = ProjectExplanation(
                project=project,
                cost=cost,
                votes=votes[project],
                supporters=supporters[project],
                reason=DID_NOT_FIT,
                funded=False,
            )
            explanations[project] = expl
        expl.rank = rank
        expl.money_left = money(left)
        if fits:
            expl.reason = FUNDED_GREEDY
            expl.funded = True
            taken.append(project)
            left -= cost
        else:
            expl.reason = DID_NOT_FIT
    return taken


def greedy_by_votes(election: Election) -> Outcome:
    """Greedy by votes (see the module docstring). Pure: no I/O."""
    votes, supporters = tally(election)
    return greedy_from_tally(election, votes, supporters)


def greedy_from_tally(
    election: Election, votes: Mapping[str, Money], supporters: Mapping[str, int]
) -> Outcome:
    """Greedy by votes from each project's votes and supporters already tallied (what
    `tally` gives; the ballots of `election` are not read). Pure: no I/O."""
    explanations: dict[str, ProjectExplanation] = {}
    selected = greedy_fill(election, votes, supporters, [], explanations)
    return Outcome(
        rule="greedy",
        selected=selected,
        total_cost=money(sum((election.costs[p] for p in selected), 0)),
        budget=election.budget,
        explanations={p: explanations[p] for p in sorted(explanations)},
        tie_breaking=GREEDY_TIE_BREAKING,
    )


def verify_greedy_certificate(election: Election, outcome: Outcome) -> None:
    """Check a greedy outcome (or the greedy fill of equal-shares) from its explanations:
    the votes are right, the ranks follow the greedy order, each funded project fitted in the
    money left when its turn came and each skipped one did not, and the budget holds.
    Raises CertificateError on the first violation."""
    votes, _ = tally(election)
    ranked = sorted(
        (e for e in outcome.explanations.values() if e.rank is not None),
        key=lambda e: e.rank or 0,
    )
    already = [p for p in outcome.selected if outcome.explanations[p].rank is None]
    expected = greedy_order(election, votes, already)
    if [e.project for e in ranked] != expected:
        raise CertificateError("the greedy ranks do not follow the order by votes")
    left = election.budget - sum(election.costs[p] for p in already)
    if left < 0:
        raise CertificateError("the projects funded before the greedy pass exceed the budget")
    for expl in ranked:
        cost = election.costs[expl.project]
        if expl.cost != cost or expl.votes != votes[expl.project]:
            raise CertificateError(f"{expl.project}: cost or votes do not match the election")
        if expl.money_left != left:
            raise CertificateError(f"{expl.project}: money left {expl.money_left} != {left}")
        if expl.funded:
            if cost > left:
                raise CertificateError(f"{expl.project}: funded but did not fit")
            left -= cost
        elif cost <= left:
            raise CertificateError(f"{expl.project}: skipped but it fitted")
    funded = [p for p, e in outcome.explanations.items() if e.funded]
    if sorted(funded) != sorted(outcome.selected):
        raise CertificateError("the funded explanations do not match the selection")
    total = sum((election.costs[p] for p in outcome.selected), 0)
    if total != outcome.total_cost or total > election.budget:
        raise CertificateError("the total cost is wrong or over the budget")
