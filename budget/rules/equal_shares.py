"""The Method of Equal Shares (MES) and its completions: `mes`, `mes-add1`, `equal-shares`.

MES gives every voter an equal share of the budget. In each step it buys the project whose
supporters can pay for it at the lowest price per unit of utility rho (each supporter pays
rho x utility, or all they have left if that is less), until no project can be paid for by its
supporters. Utilities are the costs (approval ballots: a voter "gets" the cost of each approved
project) or the points (cumulative ballots).

- `mes`: one run with shares of budget / voters.
- `mes-add1`: what real cities run: raise every voter's share by one currency unit at a time
  while the outcome stays within the budget; stop at the first exhaustive outcome, or keep the
  last one within the budget (pabutools' `voter_budget_increment=1`).
- `equal-shares`: `mes-add1`, then fill what is left greedily by votes (or points).

Exact results only (int / Fraction). Ties are broken as pabutools does by default: among
projects with the same price rho in a step, the one whose id comes first in plain string order
is bought. The results are identical to pabutools' `method_of_equal_shares` (and
`completion_by_rule_combination` with `greedy_utilitarian_welfare` for the fill); the tests
check this on real Pabulib files and random elections.

Why it is fast (pabutools takes about 5 minutes on Lodz 2022; this about 2 seconds):
- identical ballots are grouped (a group has a weight);
- voters who supported the same already-bought projects have the same money left, so money is
  kept per *class* of voters; finding rho sorts a project's classes, not its voters, and a
  project's supporters are re-counted per class only when a project sharing supporters with
  it was bought since (its price cannot have changed otherwise);
- the next best project is found lazily: a project's price only goes up during a run, so its
  last price is a lower bound and most projects need not be re-priced (as pabutools does);
- comparisons are made on floats only when they are clear by a margin (1e-9 of the share) far
  above the floats' rounding error, and with exact Fractions otherwise; the price of the
  project bought is always computed exactly, and money is kept exactly (lazily, per chain of
  payments), so the outcome is the exact one;
- the payments (the certificate) are recorded only in a final re-run at the chosen share.
- approval counts with many distinct ballots run on numpy (`mes_vector`): the same decisions,
  with a project's supporters counted per class by one `bincount` and the exact money of many
  classes summed by one integer matrix product (Amsterdam 309: about 0.17 s instead of 1.1 s);
- add1 jumps: when two increments in a row make the same steps, a replay of the run with
  money as an affine function of the share finds how far the share can rise before any
  decision of the run could change, and add1 goes straight there (60 voters, 240 projects and
  1.5 million: 12,000 increments walked in two minutes, now about 260 runs in 3 seconds). On
  Lodz 2022 the steps change at almost every increment, so it walks as before. A replay
  starts from flat bounds (approval ballots, everyone with the share: 1 / supporters, no sort)
  and re-prices a competitor with one gather of its supporters' money; the numpy run sums
  prices over one common integer denominator.

Where it is still slow (`python -m tests.bench.bench_rules --files synthetic:budapest-like
district`): when the share must rise a long way in small units and, on the way, voters keep
crossing a step's price (switching between paying all they have and paying the price). A
replay stops at the first such crossing (its money is affine in the share only up to there),
so it certifies only a few units. The next replay of the same steps resumes at the step where
the last one stopped (`mes_jump.Trail`: the steps before it keep their affine money, moved to
the new share), instead of replaying the run from its first step. Measured 2026-12-01, before
and after resuming: the synthetic Budapest-like election (30,000 voters, 175 projects) 125 s ->
63 s (its replays, about 41 steps each, stop at such a crossing 85 % of the time; after that,
most of a replay's time is sorting: the chosen project's supporters by money, and those of
about 2.5 competitors per step whose bound fell below the chosen price); the district round's
21 envelopes 6.7 s -> 6.0 s (one after the other; their steps are few, so less is saved).
Then, on the same day, less per step rather than fewer steps (the trail keeps a state only
where a replay's horizon fell; a run's estimate first checks whether the supporters' money is
clearly short of the cost, which is where 95 % of estimates end; ndarray methods rather than
the np.* wrappers on arrays of a few dozen groups): measured one after the other on one
machine, the Budapest-like election 102 s -> 66 s and the district round 10.0 s -> 7.5 s (that
machine ran about 1.6x slower than the one above that morning).
Both still miss their targets (10 s, 2 s): most of what is left is numpy's per-call cost on
small arrays (a replay step makes about 40 numpy calls; a run's step about 20).

Tried and not kept (measured 2026-12-01, numbers in issue 14's note): leaps certified by
monotonicity. With the projects of each step fixed, a higher share leaves everyone more money
at every step, so every price only falls; runs at two shares that buy the same projects, where
at each step of the higher run every other project costs more than the chosen one did in the
lower, prove every share in between. It is sound (identical outcomes everywhere) and robust to
pays-all/pays-price switches, but a leap needs a whole run and plateaus are short: galloping
with leaps alone made 4,837 runs on the district round (15.5 s -> 20.0 s) and 7,619 on a
10,000-voter Budapest-like election (98 s -> 143 s); leaping only where a replay certified
little gave 98 s -> 67 s there but 15.5 s -> 18.7 s on the district round. Also tried: checking
a step's competitors against the chosen price all at once with numpy (the same horizons on
2,296 replays compared) saved nothing measurable, as the per-competitor check is not where
replays spend their time.

This module holds add1 and the outcome with its explanations; one run is `mes_python` (pure
Python) or `mes_vector` (numpy), the jump certificate is `mes_jump`, and what they share (the
prepared election, `Run`, margins, the choice of the next project) is `mes_common`. Which
path runs when is described in `budget.rules`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from fractions import Fraction

from budget.rules.election import (
    FUNDED_FREE,
    FUNDED_MES,
    NO_SUPPORT,
    UNAFFORDABLE,
    Election,
    Money,
    Outcome,
    ProjectExplanation,
    money,
)
from budget.rules.greedy import greedy_fill
from budget.rules.mes_common import Prepared, Run, Step, prepare
from budget.rules.mes_jump import Trail, stable_for
from budget.rules.mes_python import run_python
from budget.rules.mes_vector import ApprovalVectors, run_approval

logger = logging.getLogger(__name__)

MES_TIE_BREAKING = (
    "When several projects can be bought at the same price per vote in a step, the one whose "
    "id comes first (as text) is bought first."
)
MES_ADD1_TIE_BREAKING = MES_TIE_BREAKING
EQUAL_SHARES_TIE_BREAKING = (
    MES_TIE_BREAKING + " In the greedy fill, projects with the same votes are taken in the "
    "order of their ids."
)


def _tally(prep: Prepared) -> tuple[dict[str, Money], dict[str, int]]:
    """`greedy.tally` from the prepared election (much cheaper: per group, not per voter)."""
    votes: dict[str, Money] = {}
    supporters: dict[str, int] = {}
    utils = prep.utils
    for p, name in enumerate(prep.names):
        weights = prep.sup_weights[p]
        supporters[name] = sum(weights)
        if prep.by_cost:
            votes[name] = supporters[name]
        else:
            votes[name] = money(
                sum((w * utils[ui] for w, ui in zip(weights, prep.sup_utils[p], strict=True)), 0)
            )
    return votes, supporters


# From this many groups of identical approval ballots on, runs use numpy (`mes_vector`);
# below, the pure-Python run is faster (no array set-up).
VECTOR_MIN_GROUPS = 400


def _run(prep: Prepared, share: Money, record: bool = False) -> Run:
    """One run of MES with `share` for every voter (see the module docstring)."""
    if prep.by_cost and len(prep.weights) >= VECTOR_MIN_GROUPS:
        return _run_vector(prep, share, record)
    return run_python(prep, share, record)


def _run_vector(prep: Prepared, share: Money, record: bool = False) -> Run:
    """The numpy run (approval ballots only); its arrays are built on first use."""
    if prep.vectors is None:
        prep.vectors = ApprovalVectors(prep)
    return run_approval(prep, prep.vectors, share, record)


def _add1(
    prep: Prepared,
    election: Election,
    jump: bool = True,
    clock: Callable[[], float] = time.perf_counter,
) -> tuple[Run, int]:
    """Raise the share by `unit` until the outcome is exhaustive (among the MES projects) or
    goes over the budget; return the last run within the budget and its number of increments.

    With `jump`, when two increments in a row make the same steps, `mes_jump.stable_for`
    certifies how many more surely make them too, and add1 goes straight to the last of them;
    from there it tries the replay again at the next increment (a replay certifies the steps
    at its own share too), and keeps chaining replays while each saves more MES runs than it
    costs.
    A replay costs about one pure-Python run, so after a plateau it is tried only once the
    runs it could have saved cost as much as a replay is expected to (doubling after every
    replay that saved nothing: on Lodz 2022 or Katowice 2023 the steps change at almost every
    increment). Timing only decides when to try: the outcome is the same either way, and
    `method_of_equal_shares` checks it against a real run at the chosen share. `clock` times
    the runs and replays (tests pass one that ticks once per reading, so that what is tried
    does not depend on the machine's speed or load)."""
    base = Fraction(election.budget, 1) / prep.n_voters
    budget = election.budget
    unit = election.unit
    free_cost = sum((prep.costs[p] for p in prep.free_projects), 0)
    k = 0
    previous: tuple[Run, int] | None = None
    last_steps: list[int] | None = None
    credit = 0.0  # seconds of plateau runs since the last replay
    replay_cost: float | None = None  # seconds a replay is expected to take
    run_cost = 0.0  # seconds of the last MES run
    chain: list[Step] | None = None  # steps to try to certify at the next share
    trail = Trail()  # where each replay stopped, for the next one to resume there
    while True:
        share = money(base + k * unit)
        stable = spent = 0.0
        run: Run | None = None
        if chain is not None:
            started = clock()
            stable = stable_for(prep, share, chain, trail)
            spent = clock() - started
            if stable > 0.0:
                run = Run(share, chain)  # certified: the MES run would make these steps
            chain = None
        if run is None:
            started = clock()
            run = _run(prep, share)
            run_cost = clock() - started
        total = run.cost(prep) + free_cost
        if total > budget:
            assert previous is not None
            return previous
        bought = {s.project for s in run.steps}
        if all(total + prep.costs[p] > budget for p in prep.mes_projects if p not in bought):
            return run, k
        previous = (run, k)
        projects = [s.project for s in run.steps]
        if jump and stable == 0.0 and projects == last_steps:
            credit += run_cost
            if replay_cost is None:  # about one run (measured after the first replay)
                replay_cost = run_cost * 2
            if credit >= replay_cost:
                started = clock()
                stable = stable_for(prep, share, run.steps, trail)
                spent = clock() - started
                credit = 0.0
                saved = math.ceil(stable / float(unit)) - 1 if math.isfinite(stable) else 0
                replay_cost = spent if saved >= 2 else max(spent, replay_cost) * 2
        if jump and stable > 0.0:
            # the shares share + i*unit with i*unit < stable make these same steps
            skip = math.ceil(stable / float(unit)) - 1 if math.isfinite(stable) else 0
            if skip >= 1:
                k += min(skip, 10**15)
                previous = (Run(money(base + k * unit), run.steps), k)
            if (skip + 1) * run_cost >= spent:
                chain = run.steps
        last_steps = projects
        k += 1


RULE_MES = "mes"
RULE_MES_ADD1 = "mes-add1"
RULE_EQUAL_SHARES = "equal-shares"


def method_of_equal_shares(election: Election, rule: str = RULE_EQUAL_SHARES) -> Outcome:
    """`mes`, `mes-add1` or `equal-shares` (see the module docstring). Pure: no I/O (but a
    logged warning if a jump bound ever proves wrong)."""
    if rule not in (RULE_MES, RULE_MES_ADD1, RULE_EQUAL_SHARES):
        raise ValueError(f"unknown equal-shares variant {rule!r}")
    prep = prepare(election)
    votes, supporters = _tally(prep)
    if prep.n_voters == 0:
        run, k = Run(0, []), 0
        free: list[int] = []
    else:
        free = prep.free_projects
        if rule == RULE_MES:
            share = money(Fraction(election.budget, 1) / prep.n_voters)
            run, k = _run(prep, share, record=True), 0
        else:
            run, k = _add1(prep, election)
    explanations: dict[str, ProjectExplanation] = {}
    selected: list[str] = []
    for p in free:
        name = prep.names[p]
        selected.append(name)
        explanations[name] = ProjectExplanation(
            project=name,
            cost=prep.costs[p],
            votes=votes[name],
            supporters=supporters[name],
            reason=FUNDED_FREE,
            funded=True,
            step=0,
        )
    if prep.n_voters and rule != RULE_MES:
        chosen = [s.project for s in run.steps]
        run = _run(prep, run.share, record=True)  # the payments, at the share add1 chose
        if [s.project for s in run.steps] != chosen:  # a wrong jump bound (tests expect none)
            logger.warning(
                "%s: a wrong add1 jump bound: MES at increment %d (share %s) does not make the "
                "certified steps; counting again one increment at a time",
                rule,
                k,
                run.share,
            )
            run, k = _add1(prep, election, jump=False)
            run = _run(prep, run.share, record=True)
    paid, money_left = run.payments, run.money_left
    for number, step in enumerate(run.steps, start=1):
        name = prep.names[step.project]
        selected.append(name)
        explanations[name] = ProjectExplanation(
            project=name,
            cost=prep.costs[step.project],
            votes=votes[name],
            supporters=supporters[name],
            reason=FUNDED_MES,
            funded=True,
            step=number,
            price=money(step.price / prep.scale[step.project]),
            payments=paid[step.project],
        )
    for p, left in money_left.items():
        name = prep.names[p]
        explanations[name] = ProjectExplanation(
            project=name,
            cost=prep.costs[p],
            votes=votes[name],
            supporters=supporters[name],
            reason=UNAFFORDABLE,
            funded=False,
            supporters_money=left,
        )
    for name in election.costs:
        if name not in explanations:
            explanations[name] = ProjectExplanation(
                project=name,
                cost=election.costs[name],
                votes=votes[name],
                supporters=supporters[name],
                reason=NO_SUPPORT,
                funded=False,
            )
    mes_selected = list(selected)
    if rule == RULE_EQUAL_SHARES:
        selected += greedy_fill(election, votes, supporters, selected, explanations)
    tie = {
        RULE_MES: MES_TIE_BREAKING,
        RULE_MES_ADD1: MES_ADD1_TIE_BREAKING,
        RULE_EQUAL_SHARES: EQUAL_SHARES_TIE_BREAKING,
    }[rule]
    return Outcome(
        rule=rule,
        selected=selected,
        total_cost=money(sum((election.costs[p] for p in selected), 0)),
        budget=election.budget,
        explanations={p: explanations[p] for p in sorted(explanations)},
        tie_breaking=tie,
        voter_budget=money(run.share) if prep.n_voters else None,
        increments=k,
        mes_selected=mes_selected,
    )
