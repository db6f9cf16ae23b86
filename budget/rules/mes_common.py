"""What the Method of Equal Shares modules share: the prepared election, a run's steps, the
float margins, the choice of the next project and exact sums.

Every MES module imports what it shares from here, and this module imports none of them, so
the imports among `budget.rules` modules form no cycle (A <- B: B imports A):

    election <- every module below
    mes_common <- mes_python, mes_vector, mes_replay, mes_jump, mes_certificate, equal_shares
    mes_vector <- mes_replay, equal_shares
    mes_replay <- mes_jump
    mes_python, mes_jump, greedy <- equal_shares
    greedy <- mes_certificate
    equal_shares, mes_certificate, greedy <- budget.rules (__init__)

- `Prepared` / `prepare`: the election in the shape every run works on (groups of identical
  ballots, scaled utilities, supporters per project), built once per count;
- `Step` / `Run`: what one MES run at one share did (and, recorded, the payments);
- `MARGIN`: floats decide only comparisons clear by this relative margin (both runs: the
  pure-Python `mes_python` and the numpy `mes_vector`);
- `cheapest`: the project MES buys next (both runs);
- `exact_sum`: exact sums of money (the pure-Python run and `mes_certificate`).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from budget.rules.election import Election, Money, PaymentGroup, money

# Floats only *decide* comparisons that are clear by far more than their rounding error
# (relative margin below); anything closer is decided with exact Fractions. Money in a run is
# at most the share and is computed by at most a few hundred subtractions, so float errors
# stay around 1e-13 of the share, far below this margin.
MARGIN = 1e-9
EPS = 2.0**-52  # a float's relative rounding: error bounds count a few EPS per operation


@dataclass
class Prepared:
    """The election in the shape MES works on (built once, reused by every add1 run).

    Projects are numbered by sorted id (so index order is the tie-breaking order). A group is
    a set of identical ballots: `weights[g]` voters (`voters[g]`), supporting the projects p with
    g in `sup_groups[p]`, with the utility `utils[ui]` (ui from `sup_utils[p]`).
    Utilities are scaled per project so that a cost-utility project has utility 1 for every
    supporter (its scaled price is then what each supporter pays); `scale[p]` turns a scaled
    price back into rho (rho = scaled price / scale[p]). `utils` lists the distinct scaled
    utilities ([1] for approvals); a project's supporters are counted per key
    class * len(utils) + utility index.
    """

    names: list[str]
    costs: list[Money]
    scale: list[Money]
    utils: list[Money]
    weights: list[int]
    voters: list[list[int]]
    initial: list[dict[int, int]]  # project -> {key: weight} when everyone is in class 0
    sup_groups: list[list[int]]  # project -> its supporters' groups
    sup_weights: list[list[int]]  # ... their weights
    sup_utils: list[list[int]]  # ... their utility indices
    overlap: list[list[int]]  # project -> MES projects sharing a supporter with it
    mes_projects: list[int]  # supported and not free
    free_projects: list[int]  # supported (positive utility) and free: bought up front
    n_voters: int
    by_cost: bool = True  # approval ballots (cost utilities)
    vectors: Any = None  # mes_vector.ApprovalVectors, built on first use
    support: list[int] = field(default_factory=list)  # project -> its number of supporters


def prepare(election: Election) -> Prepared:
    """Group identical ballots and index the supporters of every project (see `Prepared`)."""
    names = sorted(election.costs)
    index = {name: i for i, name in enumerate(names)}
    costs = [election.costs[name] for name in names]
    by_cost = election.utility == "cost"
    utils: list[Money] = [1]
    util_index: dict[Money, int] = {1: 0}
    groups: dict[tuple, int] = {}
    keys: list[tuple] = []
    weights: list[int] = []
    voters: list[list[int]] = []
    find = groups.get
    for v, ballot in enumerate(election.ballots):
        if by_cost:
            chosen = [index[p] for p, pts in ballot.items() if pts > 0]
            chosen.sort()
            key: tuple = tuple(chosen)
        else:
            key = tuple(sorted((index[p], money(pts)) for p, pts in ballot.items() if pts > 0))
        g = find(key)
        if g is None:
            groups[key] = len(weights)
            keys.append(key)
            weights.append(1)
            voters.append([v])
        else:
            weights[g] += 1
            voters[g].append(v)
    sup_groups: list[list[int]] = [[] for _ in names]
    sup_utils: list[list[int]] = [[] for _ in names]
    if by_cost:
        for g, key in enumerate(keys):
            for p in key:
                sup_groups[p].append(g)
        sup_utils = [[0] * len(sup) for sup in sup_groups]
    else:
        for g, key in enumerate(keys):
            for p, u in key:
                ui = util_index.get(u)
                if ui is None:
                    ui = util_index[u] = len(utils)
                    utils.append(u)
                sup_groups[p].append(g)
                sup_utils[p].append(ui)
    sup_weights = [[weights[g] for g in sup] for sup in sup_groups]
    initial: list[dict[int, int]] = []
    for p in range(len(names)):
        if by_cost:
            initial.append({0: sum(sup_weights[p])} if sup_weights[p] else {})
            continue
        counts: dict[int, int] = {}
        for w, ui in zip(sup_weights[p], sup_utils[p], strict=True):
            counts[ui] = counts.get(ui, 0) + w
        initial.append(counts)
    scale: list[Money] = [c if by_cost else 1 for c in costs]
    mes_projects, free_projects = [], []
    for p, cost in enumerate(costs):
        # pabutools: a project counts only if its total satisfaction is positive; with cost
        # utilities a free project has satisfaction 0, with points it is bought up front.
        if not sup_groups[p] or (by_cost and cost == 0):
            continue
        (mes_projects if cost > 0 else free_projects).append(p)
    # which projects share a supporter: AND of per-project bitmaps of supporter groups
    masks = []
    for groups_of_p in sup_groups:
        bitmap = np.zeros(len(weights), dtype=bool)
        bitmap[groups_of_p] = True
        masks.append(int.from_bytes(np.packbits(bitmap, bitorder="little").tobytes(), "little"))
    overlap = [[r for r in mes_projects if masks[p] & masks[r]] for p in range(len(names))]
    return Prepared(
        names,
        costs,
        scale,
        utils,
        weights,
        voters,
        initial,
        sup_groups,
        sup_weights,
        sup_utils,
        overlap,
        mes_projects,
        free_projects,
        len(election.ballots),
        by_cost,
        support=[sum(ws) for ws in sup_weights],
    )


@dataclass
class Step:
    """One step of a run: the project bought and its scaled price."""

    project: int
    price: Fraction  # scaled price: a supporter with scaled utility u pays min(price*u, money)


@dataclass
class Run:
    """One MES run at one per-voter share: the steps (project bought, scaled price)."""

    share: Money
    steps: list[Step]
    payments: dict[int, list[PaymentGroup]] = field(default_factory=dict)  # with record
    money_left: dict[int, Money] = field(default_factory=dict)  # with record: unbought

    def cost(self, prep: Prepared) -> Money:
        """What the projects bought in this run cost together."""
        return sum((prep.costs[s.project] for s in self.steps), 0)


def cheapest(
    heap: list[tuple[float, int]],
    active: list[bool],
    estimate: Callable[[int], tuple[float, Any] | None],
    exact: Callable[[int, float, Any], Fraction | None],
    scale: Sequence[Money],
) -> tuple[int, Fraction, Any] | None:
    """The project MES buys next (both runs): (project, exact scaled price, the
    estimate's data), or None when nothing is affordable; the project leaves `active`.

    `heap` holds (lower bound of rho, project): prices only go up during a run, so a project's
    last price is a lower bound and the search stops at the first bound clearly above the best.
    `estimate(p)` is (rho by floats, data) or None if p is clearly unaffordable (it then leaves
    `active` for good); `exact(p, rho, data)` the exact scaled price, or None. Exact prices are
    computed for those within the margin of the best (normally one); ties go to the lower
    index (the first id)."""
    bound = 1 + 4 * MARGIN
    while True:
        best_f = math.inf
        evaluated: list[tuple[float, int, Any]] = []
        while heap:
            lower, p = heap[0]
            if lower > best_f * bound:
                break
            heapq.heappop(heap)
            if not active[p]:
                continue
            found = estimate(p)
            if found is None:
                active[p] = False  # its supporters cannot pay for it any more: never again
                continue
            evaluated.append((found[0], p, found[1]))
            best_f = min(best_f, found[0])
        best: Fraction | None = None
        best_p = -1
        best_price = Fraction(0)
        best_data = None
        # exact rhos as floats: an estimate of inf (too close to call) is no lower bound
        priced: dict[int, float] = {}
        for rho_f, p, data in evaluated:
            if rho_f <= best_f * bound or rho_f == math.inf:
                price = exact(p, rho_f, data)
                if price is None:
                    active[p] = False
                    continue
                rho = price / scale[p]
                priced[p] = float(rho)
                if best is None or rho < best or (rho == best and p < best_p):
                    best, best_p, best_price, best_data = rho, p, price, data
        for rho_f, p, _data in evaluated:
            if p != best_p and active[p]:
                heapq.heappush(heap, (priced.get(p, rho_f) * (1 - 4 * MARGIN), p))
        if best is None:
            if evaluated and any(active[p] for _r, p, _d in evaluated):
                continue  # the closest turned out unaffordable: look again
            return None
        active[best_p] = False
        return best_p, best_price, best_data


def exact_sum(terms: Iterable[tuple[int, Money]]) -> Money:
    """Exact sum of weight * amount, adding numerators per denominator first (much cheaper
    than a chain of Fraction additions: many classes share a denominator)."""
    per_den: dict[int, int] = {}
    for w, x in terms:
        if isinstance(x, int):
            per_den[1] = per_den.get(1, 0) + w * x
        else:
            d = x.denominator
            per_den[d] = per_den.get(d, 0) + w * x.numerator
    return money(sum((Fraction(n, d) for d, n in per_den.items()), Fraction(0)))
