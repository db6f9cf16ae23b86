"""Outcome rules: pure functions from an `Election` to an `Outcome` (no I/O, no ORM).

`compute_outcome(rule, election)` is the one entry point the app needs; `TIE_BREAKING`
holds the one-sentence tie-breaking description the results page shows for each rule.
(`budget.rules.ballots`, ballot validity, lives next to these and is imported on its own.)

Modules: `election` (the data), `greedy`, `equal_shares` (mes, mes-add1, equal-shares: add1
and the outcome), `mes_python` and `mes_vector` (one MES run), `mes_jump` (add1's jump
certificate) with `mes_replay` (the money its replay keeps), `mes_common` (what the MES
modules share; see there for the import graph), `mes_certificate` (checking an MES outcome).

Which path runs when (the outcome is the same on every path; only the time differs):
- one MES run: numpy (`mes_vector.run_approval`) for approval ballots with at least
  `equal_shares.VECTOR_MIN_GROUPS` = 400 distinct ballots (groups of identical ballots), pure
  Python (`mes_python.run_python`) below that and for every points ballot;
- add1's replay (`mes_jump.stable_for`): on numpy arrays once a numpy run has been made in
  this count (its `ApprovalVectors` exist), so the same 400-distinct-approval-ballots
  threshold; on lists otherwise;
- whether add1 tries a replay (`equal_shares._add1`) is decided by timing with
  `time.perf_counter`: only when the run at this increment bought the same projects as the
  run at the previous one (a plateau), the times of such runs are added up, and the replay is
  tried once that sum reaches what a replay is expected to cost: twice the last run at
  first, then the last replay's time if it let add1 skip at least two increments, or twice
  the larger of that time and the previous expectation if it did not, so that a round whose
  steps change at almost every increment (Lodz 2022) hardly replays. After a replay that
  certified some increments, add1 skips them and replays again at the next increment instead
  of running MES, as long as (increments skipped + 1) x the last run's time >= the replay's
  time. A replay of the same steps as the last one resumes at the step where the last one's
  horizon fell (`mes_jump.Trail`) when the share is still within what the steps before it
  certified; else it starts from the first step.
  `method_of_equal_shares` re-runs MES at the share add1 chose; if it does not make the
  certified steps (a wrong bound: never seen), it logs a warning and walks one increment at
  a time;
- worker processes: `budget.services.counting.count_envelopes` counts a round's envelopes in
  worker processes (spawned, one per CPU, at most one per envelope, the biggest envelope
  first) when the rule is mes, mes-add1 or equal-shares, there is more than one envelope and
  more than one CPU, and the envelopes hold at least `PARALLEL_MIN_BALLOTS` = 20,000 ballots
  together; otherwise in one thread. A worker is sent plain values (`outcome_of`).
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
