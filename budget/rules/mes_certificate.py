"""Checking an equal-shares outcome (`mes`, `mes-add1`, `equal-shares`) from its explanations
alone: the payments recorded per step are a certificate that nobody paid more than their
share, that each price is the one MES charges and that the budget holds."""

from __future__ import annotations

from budget.rules.election import FUNDED_MES, CertificateError, Election, Money, Outcome
from budget.rules.greedy import verify_greedy_certificate
from budget.rules.mes_common import exact_sum


def verify_mes_certificate(election: Election, outcome: Outcome) -> None:
    """Check an MES outcome (`mes`, `mes-add1`, `equal-shares`) from its explanations alone.

    - every voter paid in total no more than their share (`outcome.voter_budget`);
    - only supporters paid, and each bought project's payments add up to its cost;
    - in each step every payer paid the step's price times their utility, or everything they
      had left if that was less (so the price is the one MES charges);
    - every project MES did not buy is claimed unaffordable with its supporters' money left,
      and that money (recomputed from the payments) is indeed less than its cost;
    - the total cost is within the budget; the greedy fill (equal-shares) is checked by
      `verify_greedy_certificate`.
    Raises CertificateError on the first violation.
    """
    share = outcome.voter_budget
    if share is None:
        if outcome.mes_selected and any(
            outcome.explanations[p].reason == FUNDED_MES for p in outcome.mes_selected
        ):
            raise CertificateError("no voter budget but projects bought by MES")
        share = 0
    by_cost = election.utility == "cost"
    ballots = election.ballots
    spent: list[Money] = [0] * len(ballots)
    supporters_of: dict[str, set[int]] = {p: set() for p in election.costs}
    for v, ballot in enumerate(ballots):
        for p, points in ballot.items():
            if points > 0:
                supporters_of[p].add(v)
    steps = sorted(
        (e for e in outcome.explanations.values() if e.reason == FUNDED_MES),
        key=lambda e: e.step or 0,
    )
    if [e.step for e in steps] != list(range(1, len(steps) + 1)):
        raise CertificateError("the MES steps are not numbered 1, 2, 3 ...")
    for expl in steps:
        project = expl.project
        cost = election.costs[project]
        if expl.cost != cost or expl.price is None:
            raise CertificateError(f"{project}: cost or price missing or wrong")
        total = 0
        payers: set[int] = set()
        for group in expl.payments:
            if group.amount < 0:
                raise CertificateError(f"{project}: negative payment")
            # voters with the same history share one `spent` object: check once per bucket
            buckets: dict[tuple[int, Money], list[int]] = {}
            for v in group.voters:
                points = ballots[v].get(project, 0)
                if points <= 0:
                    raise CertificateError(f"{project}: voter {v} paid without supporting it")
                if v in payers:
                    raise CertificateError(f"{project}: voter {v} paid twice")
                payers.add(v)
                buckets.setdefault((id(spent[v]), cost if by_cost else points), []).append(v)
            for (_, utility), voters in buckets.items():
                before = spent[voters[0]]
                had = share - before
                due = expl.price * utility
                if group.amount != min(due, had):
                    raise CertificateError(
                        f"{project}: voter {voters[0]} paid {group.amount}, "
                        f"expected min({due}, {had})"
                    )
                after = before + group.amount
                if after > share:
                    raise CertificateError(f"voter {voters[0]} paid more than their share")
                for v in voters:
                    spent[v] = after
            total += group.amount * len(group.voters)
        supporters = supporters_of[project]
        if not payers <= supporters:
            raise CertificateError(f"{project}: a payer is not a supporter")
        if any(spent[v] != share for v in supporters - payers):
            raise CertificateError(f"{project}: a supporter with money left did not pay")
        if total != cost:
            raise CertificateError(f"{project}: payments add up to {total}, not {cost}")
    for expl in outcome.explanations.values():
        if expl.supporters_money is None:
            continue
        same: dict[int, list] = {}
        for v in supporters_of[expl.project]:
            entry = same.get(id(spent[v]))
            if entry is None:
                same[id(spent[v])] = [1, spent[v]]
            else:
                entry[0] += 1
        left = exact_sum((n, share - s) for n, s in same.values())
        if left != expl.supporters_money or left >= expl.cost:
            raise CertificateError(
                f"{expl.project}: supporters' money {expl.supporters_money} is wrong or enough"
            )
    total = sum((election.costs[p] for p in outcome.selected), 0)
    if total != outcome.total_cost or total > election.budget:
        raise CertificateError("the total cost is wrong or over the budget")
    if any(e.rank is not None for e in outcome.explanations.values()):
        verify_greedy_certificate(election, outcome)
