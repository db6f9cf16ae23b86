"""Outcome rules: pure functions from an `Election` to an `Outcome` (no I/O, no ORM).

`compute_outcome(rule, election)` is the one entry point the app needs; `RULE_DESCRIPTIONS`
holds the one-sentence tie-breaking description the results page shows for each rule.
(`budget.rules.ballots`, ballot validity, lives next to these and is imported on its own.)
"""

from __future__ import annotations

from collections.abc import Callable

from budget.rules.election import (
    CertificateError,
    Election,
    Money,
    Outcome,
    PaymentGroup,
    ProjectExplanation,
)
from budget.rules.equal_shares import (
    EQUAL_SHARES_TIE_BREAKING,
    MES_ADD1_TIE_BREAKING,
    MES_TIE_BREAKING,
    method_of_equal_shares,
)
from budget.rules.greedy import GREEDY_TIE_BREAKING, greedy_by_votes, verify_greedy_certificate
from budget.rules.mes_certificate import verify_mes_certificate

RULES = ("greedy", "equal-shares", "mes", "mes-add1")

TIE_BREAKING = {
    "greedy": GREEDY_TIE_BREAKING,
    "equal-shares": EQUAL_SHARES_TIE_BREAKING,
    "mes": MES_TIE_BREAKING,
    "mes-add1": MES_ADD1_TIE_BREAKING,
}
"""One sentence per rule: how ties are broken (shown on the results page)."""

_RULES: dict[str, Callable[[Election], Outcome]] = {
    "greedy": greedy_by_votes,
    "equal-shares": lambda e: method_of_equal_shares(e, "equal-shares"),
    "mes": lambda e: method_of_equal_shares(e, "mes"),
    "mes-add1": lambda e: method_of_equal_shares(e, "mes-add1"),
}


def compute_outcome(rule: str, election: Election) -> Outcome:
    """Count `election` with `rule` (one of RULES)."""
    try:
        func = _RULES[rule]
    except KeyError:
        raise ValueError(f"unknown rule {rule!r}; expected one of {', '.join(RULES)}") from None
    return func(election)


def outcome_of(
    rule: str,
    budget: Money,
    costs: dict[str, Money],
    ballots: list[dict],
    utility: str,
    unit: Money,
) -> Outcome:
    """`compute_outcome` from plain values (what a worker process is sent)."""
    election = Election(budget=budget, costs=costs, ballots=ballots, utility=utility, unit=unit)
    return compute_outcome(rule, election)


def verify_certificate(election: Election, outcome: Outcome) -> None:
    """Re-check an outcome from its explanations (raises CertificateError)."""
    if outcome.rule == "greedy":
        verify_greedy_certificate(election, outcome)
    else:
        verify_mes_certificate(election, outcome)


__all__ = [
    "RULES",
    "TIE_BREAKING",
    "CertificateError",
    "Election",
    "Money",
    "Outcome",
    "PaymentGroup",
    "ProjectExplanation",
    "compute_outcome",
    "greedy_by_votes",
    "method_of_equal_shares",
    "outcome_of",
    "verify_certificate",
    "verify_greedy_certificate",
    "verify_mes_certificate",
]
