"""One MES run in pure Python (any ballots; the fastest for counts with few distinct ballots).

The same decisions as `mes_vector.run_approval`, which `equal_shares` uses instead for large
approval counts; see `equal_shares` for why this is fast (classes of voters with the same
history, lazy re-counting and re-pricing, floats decide only what is clear by a margin).
"""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

from budget.rules.election import Money, PaymentGroup, money
from budget.rules.mes_common import MARGIN, Prepared, Run, Step, cheapest, exact_sum

_DEAD = -1  # class of a group with no money left (in no project's classes any more)
_IN_PLACE = -2


def run_python(prep: Prepared, share: Money, record: bool = False) -> Run:
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
        heap.append((cost_f[p] / total_u / scale_f[p] * (1 - 4 * MARGIN), p))
    heapq.heapify(heap)
    run = Run(share, [])
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
        found = cheapest(heap, active, estimate, exact, scale)
        if found is None:
            break
        best_p, best_price, _items = found
        steps.append(Step(best_p, best_price))
        _pay(prep, best_p, best_price, per_class[best_p], cls, cls_of, run if record else None)
        for r in prep.overlap[best_p]:
            touched_at[r] = len(steps)
        per_class[best_p] = {}
    if record:
        bought = {st.project for st in steps}
        for p in prep.mes_projects:
            if p not in bought:
                run.money_left[p] = exact_sum((w, cls.x(key // nu)) for key, w in count(p).items())
    return run


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
        self.margin = MARGIN * max(float(share), 1e-300)

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


def _pay(
    prep: Prepared,
    s: int,
    price: Fraction,
    d_s: dict[int, int],
    cls: _Classes,
    cls_of: list[int],
    record: Run | None,
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
