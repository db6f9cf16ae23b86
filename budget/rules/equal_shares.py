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
  Lodz 2022 the steps change at almost every increment, so it walks as before.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from budget.rules.election import (
    FUNDED_FREE,
    FUNDED_MES,
    NO_SUPPORT,
    UNAFFORDABLE,
    Election,
    Money,
    Outcome,
    PaymentGroup,
    ProjectExplanation,
    money,
)
from budget.rules.greedy import greedy_fill
from budget.rules.mes_jump import stable_for

MES_TIE_BREAKING = (
    "When several projects can be bought at the same price per vote in a step, the one whose "
    "id comes first (as text) is bought first."
)
MES_ADD1_TIE_BREAKING = MES_TIE_BREAKING
EQUAL_SHARES_TIE_BREAKING = (
    MES_TIE_BREAKING + " In the greedy fill, projects with the same votes are taken in the "
    "order of their ids."
)


@dataclass
class _Prepared:
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


def _prepare(election: Election) -> _Prepared:
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
    return _Prepared(
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


def _tally(prep: _Prepared) -> tuple[dict[str, Money], dict[str, int]]:
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


@dataclass
class _Step:
    project: int
    price: Fraction  # scaled price: a supporter with scaled utility u pays min(price*u, money)


@dataclass
class _Run:
    """One MES run at one per-voter share: the steps (project bought, scaled price)."""

    share: Money
    steps: list[_Step]
    payments: dict[int, list[PaymentGroup]] = field(default_factory=dict)  # with record
    money_left: dict[int, Money] = field(default_factory=dict)  # with record: unbought

    def cost(self, prep: _Prepared) -> Money:
        return sum((prep.costs[s.project] for s in self.steps), 0)


# Floats only *decide* comparisons that are clear by far more than their rounding error
# (relative margin below); anything closer is decided with exact Fractions. Money in a run is
# at most the share and is computed by at most a few hundred subtractions, so float errors
# stay around 1e-13 of the share, far below this margin.
_MARGIN = 1e-9
_DEAD = -1  # class of a group with no money left (in no project's classes any more)
_IN_PLACE = -2


class _Classes:
    """Money left per class of voters, as a float (fast) and exactly (lazily).

    A class's money is the share minus the payments in its history; the history is a chain of
    immutable nodes (previous node, price, u), shared with the class it split from, so the
    exact money is only computed (and memoised per node) when a float comparison is too close
    to call or an exact sum is needed."""

    def __init__(self, share: Money, n_voters: int) -> None:
        self.f: list[float] = [float(share)]
        self.node: list[int] = [0]
        self.weight: list[int] = [n_voters]
        self.n_prev: list[int] = [-1]
        self.n_due: list[tuple[Fraction, Money] | None] = [None]
        self.n_exact: list[Money | None] = [share]
        self.margin = _MARGIN * max(float(share), 1e-300)

    def pay(self, c: int, left_f: float, price: Fraction, u: Money) -> None:
        """Class c (all of it) paid price*u each."""
        self.n_prev.append(self.node[c])
        self.n_due.append((price, u))
        self.n_exact.append(None)
        self.node[c] = len(self.n_prev) - 1
        self.f[c] = left_f

    def broke(self, c: int) -> None:
        """Class c (all of it) paid everything it had."""
        self.n_prev.append(-1)
        self.n_due.append(None)
        self.n_exact.append(0)
        self.node[c] = len(self.n_prev) - 1
        self.f[c] = 0.0

    def split(self, c: int, weight: int, left_f: float, price: Fraction, u: Money) -> int:
        """`weight` voters of class c paid price*u each: they form a new class."""
        self.weight[c] -= weight
        self.f.append(self.f[c])
        self.node.append(self.node[c])
        self.weight.append(weight)
        nc = len(self.f) - 1
        self.pay(nc, left_f, price, u)
        return nc

    def x(self, c: int) -> Money:
        """Exact money of class c."""
        node = self.node[c]
        chain = []
        while self.n_exact[node] is None:
            chain.append(node)
            node = self.n_prev[node]
        value = self.n_exact[node]
        for node in reversed(chain):
            price, u = self.n_due[node]  # type: ignore[misc]
            value = value - price * u  # type: ignore[operator]
            self.n_exact[node] = value
        return value  # type: ignore[return-value]


_Item = tuple[float, int, Money, int]  # (money / u as float, class, u, weight)


def _price_f(
    cost_f: float, classes: dict[int, int], cls: _Classes, utils: list[Money]
) -> tuple[float, list[_Item]] | None:
    """Float estimate of the lowest scaled price at which the supporters can pay the cost
    (each pays min(price*u, money)) and the supporters' classes sorted by money/u; None if
    they clearly cannot pay. inf if too close to call."""
    f = cls.f
    items: list[_Item] = []
    avail = 0.0
    denom: Money = 0
    nu = len(utils)
    if nu == 1:
        for c, w in classes.items():
            m = f[c]
            if m > 0.0:
                avail += w * m
                denom += w
                items.append((m, c, 1, w))
    else:
        for key, w in classes.items():
            c, ui = divmod(key, nu)
            m = f[c]
            if m > 0.0:
                u = utils[ui]
                avail += w * m
                denom += w * u
                items.append((m / u, c, u, w))
    if avail < cost_f - cls.margin * (len(items) + 1):
        return None
    items.sort()
    remaining = cost_f
    denom_f = float(denom)
    for key_f, _c, u, w in items:
        price = remaining / denom_f
        if price <= key_f:
            return price, items
        remaining -= w * key_f * u
        denom_f -= w * u
    return math.inf, items


def _price_x(cost: Money, price_f: float, items: list[_Item], cls: _Classes) -> Fraction | None:
    """The exact price (None if the supporters cannot pay), using the float estimate to find
    who pays everything; falls back to the plain exact scan if anything is close."""
    if price_f != math.inf:
        margin = cls.margin
        remaining: Money = cost
        denom: Money = 0
        sure = True
        for key_f, c, u, w in items:
            if key_f < price_f - margin:
                remaining -= w * cls.x(c)  # pays everything
            elif key_f > price_f + margin:
                denom += w * u  # pays price * u
            else:
                sure = False
                break
        if sure and denom:
            price = Fraction(remaining) / denom
            if price > 0:
                return price
    # exact scan (rare): sort by exact money / u
    exact = sorted((Fraction(cls.x(c)) / u, c, u, w) for _k, c, u, w in items)
    if sum((w * key * u for key, _c, u, w in exact), Fraction(0)) < cost:
        return None
    remaining = cost
    denom = sum(w * u for _k, _c, u, w in exact)
    for key, _c, u, w in exact:
        price = Fraction(remaining) / denom
        if price <= key:
            return price
        remaining -= w * key * u
        denom -= w * u
    raise AssertionError("unreachable: affordable but no price")  # pragma: no cover


# From this many groups of identical approval ballots on, runs use numpy (`mes_vector`);
# below, the pure-Python run is faster (no array set-up).
VECTOR_MIN_GROUPS = 400


def _run(prep: _Prepared, share: Money, record: bool = False) -> _Run:
    """One run of MES with `share` for every voter (see the module docstring)."""
    if prep.by_cost and len(prep.weights) >= VECTOR_MIN_GROUPS:
        return _run_vector(prep, share, record)
    return _run_python(prep, share, record)


def _run_vector(prep: _Prepared, share: Money, record: bool = False) -> _Run:
    from budget.rules import mes_vector  # numpy is imported only when a large count needs it

    if prep.vectors is None:
        prep.vectors = mes_vector.ApprovalVectors(prep)
    return mes_vector.run_approval(
        prep, prep.vectors, share, record, run_class=_Run, step_class=_Step
    )


def _run_python(prep: _Prepared, share: Money, record: bool = False) -> _Run:
    """One run of MES with `share` for every voter, in pure Python.

    Each project's supporters are counted per class lazily: only when it is priced, and only
    if a project bought since its last count shared supporters with it. With `record`, the
    payments (per amount: the voters) and the money left of unbought supporters are kept."""
    costs, scale, utils = prep.costs, prep.scale, prep.utils
    nu = len(utils)
    cost_f = [float(c) for c in costs]
    scale_f = [float(s) for s in scale]
    cls = _Classes(share, prep.n_voters)
    cls_of = [0] * len(prep.weights)  # group -> class (_DEAD: no money left)
    active = [False] * len(costs)
    per_class: list[dict[int, int]] = [{} for _ in costs]  # project -> {key: weight}
    counted_at = [0] * len(costs)  # step at which per_class[p] was counted
    touched_at = [0] * len(costs)  # last step that moved some supporter of p
    estimates: list[tuple[float, list[_Item]] | None] = [None] * len(costs)
    heap: list[tuple[float, int]] = []
    for p in prep.mes_projects:
        active[p] = True
        per_class[p] = dict(prep.initial[p])
        total_u = sum(w * utils[ui] for ui, w in per_class[p].items())
        heap.append((cost_f[p] / total_u / scale_f[p] * (1 - 4 * _MARGIN), p))
    heapq.heapify(heap)
    run = _Run(share, [])
    steps = run.steps

    def count(p: int) -> dict[int, int]:
        if touched_at[p] > counted_at[p]:
            d: dict[int, int] = {}
            get = d.get
            if nu == 1:
                for g, w in zip(prep.sup_groups[p], prep.sup_weights[p], strict=True):
                    c = cls_of[g]
                    d[c] = get(c, 0) + w
            else:
                for g, w, ui in zip(
                    prep.sup_groups[p], prep.sup_weights[p], prep.sup_utils[p], strict=True
                ):
                    key = cls_of[g] * nu + ui
                    d[key] = get(key, 0) + w
                for key in [k for k in d if k < 0]:
                    del d[key]
            d.pop(_DEAD, None)
            per_class[p] = d
            counted_at[p] = len(steps)
        return per_class[p]

    def estimate(p: int) -> tuple[float, list[_Item]] | None:
        if touched_at[p] > counted_at[p] or estimates[p] is None:
            estimates[p] = _price_f(cost_f[p], count(p), cls, utils)
        found = estimates[p]  # unchanged if no supporter of p paid since
        return None if found is None else (found[0] / scale_f[p], found[1])

    def exact(p: int, rho_f: float, items: list[_Item]) -> Fraction | None:
        return _price_x(costs[p], rho_f * scale_f[p], items, cls)

    while True:
        cheapest = _cheapest(heap, active, estimate, exact, scale)
        if cheapest is None:
            break
        best_p, best_price, _items = cheapest
        steps.append(_Step(best_p, best_price))
        _pay(prep, best_p, best_price, per_class[best_p], cls, cls_of, run if record else None)
        for r in prep.overlap[best_p]:
            touched_at[r] = len(steps)
        per_class[best_p] = {}
    if record:
        bought = {st.project for st in steps}
        for p in prep.mes_projects:
            if p not in bought:
                run.money_left[p] = _exact_sum((w, cls.x(key // nu)) for key, w in count(p).items())
    return run


def _cheapest(
    heap: list[tuple[float, int]],
    active: list[bool],
    estimate: Callable[[int], tuple[float, Any] | None],
    exact: Callable[[int, float, Any], Fraction | None],
    scale: Sequence[Money],
) -> tuple[int, Fraction, Any] | None:
    """The project MES buys next, shared by both runs: (project, exact scaled price, the
    estimate's data), or None when nothing is affordable; the project leaves `active`.

    `heap` holds (lower bound of rho, project): prices only go up during a run, so a project's
    last price is a lower bound and the search stops at the first bound clearly above the best.
    `estimate(p)` is (rho by floats, data) or None if p is clearly unaffordable (it then leaves
    `active` for good); `exact(p, rho, data)` the exact scaled price, or None. Exact prices are
    computed for those within the margin of the best (normally one); ties go to the lower
    index (the first id)."""
    bound = 1 + 4 * _MARGIN
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
        for rho_f, p, data in evaluated:
            if rho_f <= best_f * bound or rho_f == math.inf:
                price = exact(p, rho_f, data)
                if price is None:
                    active[p] = False
                    continue
                rho = price / scale[p]
                if best is None or rho < best or (rho == best and p < best_p):
                    best, best_p, best_price, best_data = rho, p, price, data
        for rho_f, p, _data in evaluated:
            if p != best_p and active[p]:
                heapq.heappush(heap, (rho_f * (1 - 4 * _MARGIN), p))
        if best is None:
            if evaluated and any(active[p] for _r, p, _d in evaluated):
                continue  # the closest turned out unaffordable: look again
            return None
        active[best_p] = False
        return best_p, best_price, best_data


def _exact_sum(terms: Iterable[tuple[int, Money]]) -> Money:
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


def _pay(
    prep: _Prepared,
    s: int,
    price: Fraction,
    d_s: dict[int, int],
    cls: _Classes,
    cls_of: list[int],
    record: _Run | None,
) -> None:
    """Supporters of s pay min(price*u, money): per (class, utility) key the same amount;
    a class splits, or changes in place when all its voters paid the same."""
    utils = prep.utils
    nu = len(utils)
    price_f = float(price)
    margin = cls.margin
    keys_per_class: dict[int, int] = {}
    for key in d_s:
        c = key // nu
        keys_per_class[c] = keys_per_class.get(c, 0) + 1
    new_class: dict[int, int] = {}
    amounts: dict[int, Money] = {}
    f = cls.f
    for key, w in d_s.items():
        c, ui = divmod(key, nu)
        u = utils[ui]
        m = f[c]
        due_f = price_f * u
        if m < due_f - margin * u:
            poor = True
        elif m > due_f + margin * u:
            poor = False
        else:
            poor = cls.x(c) <= price * u
        if record is not None:
            amounts[key] = money(cls.x(c) if poor else price * u)
        whole = w == cls.weight[c] and keys_per_class[c] == 1
        if poor:
            if whole:
                cls.broke(c)
                new_class[key] = _IN_PLACE
            else:
                cls.weight[c] -= w
                new_class[key] = _DEAD
        elif whole:
            cls.pay(c, m - due_f, price, u)
            new_class[key] = _IN_PLACE
        else:
            new_class[key] = cls.split(c, w, m - due_f, price, u)
    by_key: dict[int, list[int]] = {}
    voters = prep.voters
    for g, ui in zip(prep.sup_groups[s], prep.sup_utils[s], strict=True):
        c = cls_of[g]
        if c < 0:
            continue
        key = c * nu + ui
        if record is not None and amounts[key] != 0:  # no money left: pays nothing
            by_key.setdefault(key, []).extend(voters[g])
        nc = new_class[key]
        if nc != _IN_PLACE:
            cls_of[g] = nc
    if record is not None:
        by_amount: dict[tuple[int, int], tuple[Money, list[int]]] = {}
        for key, vs in by_key.items():
            amount = amounts[key]
            pair = (amount.numerator, amount.denominator)  # cheaper to hash than a Fraction
            if pair in by_amount:
                by_amount[pair][1].extend(vs)
            else:
                by_amount[pair] = (amount, vs)
        record.payments[s] = [
            PaymentGroup(amount, sorted(vs)) for amount, vs in sorted(by_amount.values())
        ]


JUMP_MISSES: list[tuple[Money, int, int]] = []  # wrong jump bounds caught (tests expect none)


def _add1(prep: _Prepared, election: Election, jump: bool = True) -> tuple[_Run, int]:
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
    `method_of_equal_shares` checks it against a real run at the chosen share."""
    base = Fraction(election.budget, 1) / prep.n_voters
    budget = election.budget
    unit = election.unit
    free_cost = sum((prep.costs[p] for p in prep.free_projects), 0)
    k = 0
    previous: tuple[_Run, int] | None = None
    last_steps: list[int] | None = None
    credit = 0.0  # seconds of plateau runs since the last replay
    replay_cost: float | None = None  # seconds a replay is expected to take
    run_cost = 0.0  # seconds of the last MES run
    chain: list[_Step] | None = None  # steps to try to certify at the next share
    while True:
        share = money(base + k * unit)
        stable = spent = 0.0
        run: _Run | None = None
        if chain is not None:
            started = time.perf_counter()
            stable = stable_for(prep, share, chain)
            spent = time.perf_counter() - started
            if stable > 0.0:
                run = _Run(share, chain)  # certified: the MES run would make these steps
            chain = None
        if run is None:
            started = time.perf_counter()
            run = _run(prep, share)
            run_cost = time.perf_counter() - started
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
                started = time.perf_counter()
                stable = stable_for(prep, share, run.steps)
                spent = time.perf_counter() - started
                credit = 0.0
                saved = math.ceil(stable / float(unit)) - 1 if math.isfinite(stable) else 0
                replay_cost = spent if saved >= 2 else max(spent, replay_cost) * 2
        if jump and stable > 0.0:
            # the shares share + i*unit with i*unit < stable make these same steps
            skip = math.ceil(stable / float(unit)) - 1 if math.isfinite(stable) else 0
            if skip >= 1:
                k += min(skip, 10**15)
                previous = (_Run(money(base + k * unit), run.steps), k)
            if (skip + 1) * run_cost >= spent:
                chain = run.steps
        last_steps = projects
        k += 1


RULE_MES = "mes"
RULE_MES_ADD1 = "mes-add1"
RULE_EQUAL_SHARES = "equal-shares"


def method_of_equal_shares(election: Election, rule: str = RULE_EQUAL_SHARES) -> Outcome:
    """`mes`, `mes-add1` or `equal-shares` (see the module docstring). Pure: no I/O."""
    if rule not in (RULE_MES, RULE_MES_ADD1, RULE_EQUAL_SHARES):
        raise ValueError(f"unknown equal-shares variant {rule!r}")
    prep = _prepare(election)
    votes, supporters = _tally(prep)
    if prep.n_voters == 0:
        run, k = _Run(0, []), 0
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
        if [s.project for s in run.steps] != chosen:  # pragma: no cover - a wrong jump bound
            JUMP_MISSES.append((election.budget, k, k))
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
