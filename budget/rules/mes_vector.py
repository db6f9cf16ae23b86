"""One MES run on approval ballots, with numpy: the same decisions, prices and payments as
`mes_python.run_python`, several times faster on elections with many distinct ballots.

Why: on Amsterdam 309 (14,411 voters, 14,015 distinct ballots) the pure-Python run spends its
time re-counting each project's supporters per class of voters and summing exact money class
by class. Here:
- a voter group's class is an entry of an integer array, so a project's supporters are counted
  per class with one `bincount`, and its price is found with a cumulative sum over its classes
  sorted by money (floats, only to decide what is clear by a margin, as in `mes_python`);
- the exact money of a class is the share minus the prices of the steps in which it paid
  (approval ballots: every rich supporter pays the step's price), kept as a 0/1 row per class,
  so the exact money of many classes together is one matrix product of integer weights
  followed by one Fraction multiplication per step: exact, without a Fraction per class.
Ties, margins and fallbacks to the exact scan are those of `mes_python.run_python`, and the
tests check that both produce the same `Run` (steps, prices, payments, money left).
"""

from __future__ import annotations

import heapq
import math
from fractions import Fraction

import numpy as np

from budget.rules.election import Money, PaymentGroup, money
from budget.rules.mes_common import (
    EPS,
    MARGIN,
    NO_BOUND,
    Bound,
    Prepared,
    Run,
    Step,
    cheapest,
    crossing,
)


class ApprovalVectors:
    """The supporters of every project as numpy arrays (built once per election)."""

    def __init__(self, prep: Prepared) -> None:
        self.sup = [np.asarray(gs, dtype=np.int64) for gs in prep.sup_groups]
        self.supw = [np.asarray(ws, dtype=np.float64) for ws in prep.sup_weights]
        self.total = [float(w.sum()) for w in self.supw]
        sizes = np.fromiter((len(vs) for vs in prep.voters), dtype=np.int64, count=len(prep.voters))
        flat = np.fromiter(
            (v for vs in prep.voters for v in vs), dtype=np.int64, count=int(sizes.sum())
        )
        self.voter_group = np.empty(len(flat), dtype=np.int64)
        self.voter_group[flat] = np.repeat(np.arange(len(prep.voters), dtype=np.int64), sizes)


def run_approval(
    prep: Prepared,
    vec: ApprovalVectors,
    share: Money,
    record: bool = False,
) -> Run:
    """One MES run at `share` (see `mes_python.run_python`)."""
    costs = prep.costs
    cost_f = [float(c) for c in costs]
    n_groups = len(prep.weights)
    n_projects = len(costs)
    max_steps = max(1, len(prep.mes_projects))
    share_f = float(share)
    margin = MARGIN * max(share_f, 1e-300)

    # classes of voters with the same history; class 0: no money left
    cap = 64
    money_f = np.zeros(cap)
    money_f[1] = share_f
    hist = np.zeros((cap, max_steps), dtype=np.float64)  # 1.0 where the class paid the price
    weight = np.zeros(cap)
    weight[1] = prep.n_voters
    # exact money, lazily: a class's history is a chain of nodes (previous node, step) shared
    # with the class it split from; each node's money is computed at most once
    cls_node = np.zeros(cap, dtype=np.int64)
    cls_node[1] = 1
    n_prev: list[int] = [-1, -1]
    n_step: list[int] = [-1, -1]
    n_exact: list[Money | None] = [0, share]
    n_cls = 2
    cls_of = np.ones(n_groups, dtype=np.int64)
    prices: list[Fraction] = []

    def grow() -> None:
        nonlocal money_f, hist, weight, cls_node, cap
        more = cap
        cap *= 2
        money_f = np.concatenate([money_f, np.zeros(more)])
        weight = np.concatenate([weight, np.zeros(more)])
        cls_node = np.concatenate([cls_node, np.zeros(more, dtype=np.int64)])
        hist = np.concatenate([hist, np.zeros((more, max_steps))])

    def x(k: int) -> Money:
        """Exact money of class k."""
        node = int(cls_node[k])
        chain = []
        while n_exact[node] is None:
            chain.append(node)
            node = n_prev[node]
        value = n_exact[node]
        for node in reversed(chain):
            value = n_exact[node] = value - prices[n_step[node]]
        return value

    def add_nodes(previous: np.ndarray, j: int) -> np.ndarray:
        """New history nodes: `previous` then paying in step j."""
        start = len(n_prev)
        n_prev.extend(previous.tolist())
        n_step.extend([j] * len(previous))
        n_exact.extend([None] * len(previous))
        return np.arange(start, len(n_prev), dtype=np.int64)

    def money_of(classes: np.ndarray, counts: np.ndarray) -> Money:
        """Exact sum of counts[i] * money of classes[i]."""
        total = int(counts.sum()) * share
        if prices and len(classes):
            per_step = counts @ hist[classes, : len(prices)]
            for j in np.flatnonzero(per_step):
                total -= int(per_step[j]) * prices[j]
        return money(total)

    def estimate(p: int):
        """(rho, classes, counts, money) by floats; None if clearly unaffordable; rho inf if
        too close to call."""
        counts = np.bincount(cls_of[vec.sup[p]], weights=vec.supw[p], minlength=n_cls)
        counts[0] = 0.0
        classes = np.flatnonzero(counts)
        c = counts[classes]
        m = money_f[classes]
        cost = cost_f[p]
        if float(c @ m) < cost - margin * (len(classes) + 1):
            return None
        order = np.argsort(m, kind="stable")
        classes, c, m = classes[order], c[order], m[order]
        paid_before = np.cumsum(c * m) - c * m
        weight_after = c.sum() - (np.cumsum(c) - c)
        rho = (cost - paid_before) / weight_after
        ok = rho <= m
        if not ok.any():
            return math.inf, classes, c, m
        return float(rho[int(np.argmax(ok))]) / cost, classes, c, m

    def price_x(
        p: int, rho_f: float, classes: np.ndarray, c: np.ndarray, m: np.ndarray
    ) -> Fraction | None:
        """The exact price (what each supporter pays, all of their money if less), or None
        if the supporters cannot pay; the float estimate decides who pays all where clear."""
        cost = costs[p]
        if rho_f != math.inf:
            price_f = rho_f * cost_f[p]
            poor = m < price_f - margin
            rich = m > price_f + margin
            if bool((poor | rich).all()):
                rich_w = int(c[rich].sum())
                if rich_w:
                    price = Fraction(cost - money_of(classes[poor], c[poor])) / rich_w
                    if price > 0:
                        return price
        rows = sorted(
            (Fraction(x(int(k))), int(k), int(w)) for k, w in zip(classes, c, strict=True)
        )
        if sum((w * xk for xk, _k, w in rows), Fraction(0)) < cost:
            return None
        remaining: Money = cost
        denom = sum(w for _x, _k, w in rows)
        for xk, _k, w in rows:
            price = Fraction(remaining) / denom
            if price <= xk:
                return price
            remaining -= w * xk
            denom -= w
        raise AssertionError("unreachable: affordable but no price")  # pragma: no cover

    run = Run(share, [])
    steps = run.steps
    active = [False] * n_projects
    estimates: list = [None] * n_projects
    counted_at = [-1] * n_projects
    touched_at = [0] * n_projects
    heap: list[tuple[float, int]] = []
    for p in prep.mes_projects:
        active[p] = True
        heap.append((1.0 / vec.total[p] * (1 - 4 * MARGIN), p))
    heapq.heapify(heap)

    def estimated(p: int):
        if touched_at[p] > counted_at[p]:
            estimates[p] = estimate(p)
            counted_at[p] = len(steps)
        est = estimates[p]
        return None if est is None else (est[0], est)

    def exact(p: int, rho_f: float, est) -> Fraction | None:
        return price_x(p, rho_f, est[1], est[2], est[3])

    while True:
        found = cheapest(heap, active, estimated, exact, costs)
        if found is None:
            break
        best_p, best_price, best_est = found
        # pay: per class, all of it or a split; a poor class (money <= price) pays all it has
        _rho, classes, c, m = best_est
        j = len(prices)
        price, price_f = best_price, float(best_price)
        prices.append(price)
        steps.append(Step(best_p, price))
        poor = m < price_f - margin
        rich = m > price_f + margin
        for i in np.flatnonzero(~(poor | rich)):  # too close for floats: exactly
            if x(int(classes[i])) <= price:
                poor[i] = True
            else:
                rich[i] = True
        amounts: dict[int, Money] = {}
        if record:
            paid = money(price)
            amounts = dict.fromkeys(classes[rich].tolist(), paid)
            amounts.update((k, money(x(k))) for k in classes[poor].tolist())
        mapping = np.arange(n_cls, dtype=np.int64)
        gone = classes[poor]  # pay all they have: no money left
        mapping[gone] = 0
        weight[gone] -= c[poor]
        payers, paying = classes[rich], c[rich]
        whole = paying == weight[payers]
        in_place = payers[whole]  # the whole class pays: it changes in place
        money_f[in_place] -= price_f
        hist[in_place, j] = 1.0
        cls_node[in_place] = add_nodes(cls_node[in_place], j)
        parts, part_w = payers[~whole], paying[~whole]  # part of the class pays: it splits
        while n_cls + len(parts) > cap:
            grow()
        new = np.arange(n_cls, n_cls + len(parts), dtype=np.int64)
        money_f[new] = money_f[parts] - price_f
        hist[new] = hist[parts]
        hist[new, j] = 1.0
        weight[new] = part_w
        weight[parts] -= part_w
        cls_node[new] = add_nodes(cls_node[parts], j)
        mapping[parts] = new
        n_cls += len(parts)
        idx = vec.sup[best_p]
        old = cls_of[idx]
        cls_of[idx] = mapping[old]
        if record:
            run.payments[best_p] = _payments(vec, idx, old, amounts, n_groups)
        for r in prep.overlap[best_p]:
            touched_at[r] = len(steps)
    if record:
        bought = {st.project for st in steps}
        for p in prep.mes_projects:
            if p not in bought:
                counts = np.bincount(cls_of[vec.sup[p]], weights=vec.supw[p], minlength=n_cls)
                counts[0] = 0.0
                classes = np.flatnonzero(counts)
                run.money_left[p] = money_of(classes, counts[classes])
    return run


def _payments(
    vec: ApprovalVectors, idx: np.ndarray, old: np.ndarray, amounts: dict[int, Money], n_groups: int
) -> list[PaymentGroup]:
    """The payers of one step grouped by amount, each group's voters in increasing order."""
    by_amount: dict[tuple[int, int], int] = {}  # (numerator, denominator): cheap to hash
    bucket_of_class: dict[int, int] = {}
    values: list[Money] = []
    for k, amount in amounts.items():
        pair = (amount.numerator, amount.denominator)
        b = by_amount.get(pair)
        if b is None:
            b = by_amount[pair] = len(values)
            values.append(amount)
        bucket_of_class[k] = b
    group_bucket = np.full(n_groups, -1, dtype=np.int64)
    lookup = np.full(max(bucket_of_class) + 1, -1, dtype=np.int64)
    for k, b in bucket_of_class.items():
        lookup[k] = b
    group_bucket[idx] = lookup[old]
    voter_bucket = group_bucket[vec.voter_group]
    payers = np.flatnonzero(voter_bucket >= 0)
    order = np.argsort(voter_bucket[payers], kind="stable")
    payers = payers[order]
    sizes = np.bincount(voter_bucket[payers], minlength=len(by_amount))
    groups = []
    start = 0
    for b, amount in enumerate(values):
        end = start + int(sizes[b])
        groups.append(PaymentGroup(amount, payers[start:end].tolist()))
        start = end
    return sorted(groups, key=lambda g: g.amount)


class ArrayReplay:
    """`mes_jump._ListReplay` on approval ballots with numpy arrays (same operations, same
    reasoning: see `mes_jump`)."""

    def __init__(self, prep: Prepared, vec: ApprovalVectors, share: Money) -> None:
        n_groups = len(prep.weights)
        self.prep, self.vec = prep, vec
        self.rel = rel = 4 * EPS * (n_groups + 16)
        self.share_f = share_f = float(share)
        self.a = np.full(n_groups, share_f)
        self.b = np.ones(n_groups)
        self.ea = np.full(n_groups, rel * share_f)
        self.eb = np.full(n_groups, rel)
        self.alive = np.ones(n_groups, dtype=bool)
        self.payers = np.zeros(0, dtype=np.int64)
        self.poor = np.zeros(0, dtype=bool)
        self.piece = (0.0, 0.0, 0.0, 0.0)

    def price_now(self, p: int) -> float:
        idx = self.vec.sup[p]
        keep = self.alive[idx]
        m = self.a[idx][keep]
        w = self.vec.supw[p][keep]
        order = np.argsort(m, kind="stable")
        m, w = m[order], w[order]
        rho = (float(self.prep.costs[p]) - (np.cumsum(w * m) - w * m)) / (
            w.sum() - (np.cumsum(w) - w)
        )
        ok = rho <= m
        return float(rho[int(np.argmax(ok))]) if ok.any() else math.inf

    def split(self, p: int, price: float):
        idx = self.vec.sup[p]
        keep = self.alive[idx]
        payers = idx[keep]
        w = self.vec.supw[p][keep]
        m = self.a[payers]
        poor = m < price
        d = float(w[~poor].sum())
        if d <= 0.0:
            return payers, poor, math.inf, 0.0, 0.0, 0.0, False
        wp = w[poor]
        bp = self.b[payers][poor]
        sa, sb, sab = float(wp @ m[poor]), float(wp @ bp), float(wp @ np.abs(bp))
        wea = float(wp @ self.ea[payers][poor])
        web = float(wp @ self.eb[payers][poor])
        cost, rel = float(self.prep.costs[p]), self.rel
        return (
            payers,
            poor,
            (cost - sa) / d / cost,
            -sb / d / cost,
            (rel * (cost + sa) + wea) / d / cost,
            (rel * sab + web) / d / cost,
            not poor.any(),
        )

    def exact_flat(self, p: int) -> Fraction:
        d_exact = int(self.vec.supw[p][self.alive[self.vec.sup[p]]].sum())
        return Fraction(self.prep.costs[p]) / d_exact / self.prep.costs[p]

    def money_of(self, p: int) -> tuple[float, float, float, float]:
        idx = self.vec.sup[p]
        w = self.vec.supw[p] * self.alive[idx]
        va, vb = float(w @ self.a[idx]), float(w @ self.b[idx])
        return (
            va,
            vb,
            float(w @ self.ea[idx]) + self.rel * abs(va),
            float(w @ self.eb[idx]) + self.rel * abs(vb),
        )

    def bound_of(self, q: int) -> Bound | None:
        va, _vb, wea, _web = self.money_of(q)
        cost = float(self.prep.costs[q])
        if va < cost - wea - self.rel * cost:
            return None
        _payers, _poor, v, sl, e0, e1, is_flat = self.split(q, self.price_now(q))
        if v == math.inf:
            return NO_BOUND
        return v, sl, e0, e1, self.exact_flat(q) if is_flat else None

    def unaffordable_for(self, q: int) -> float:
        va, vb, wea, web = self.money_of(q)
        cost = float(self.prep.costs[q])
        return crossing(cost - va, -vb, wea + self.rel * cost, web)

    def chosen(self, c: int) -> tuple[Bound, float] | None:
        payers, poor, v, sl, e0, e1, is_flat = self.split(c, self.price_now(c))
        if v == math.inf:
            return None
        self.payers, self.poor, self.piece = payers, poor, (v, sl, e0, e1)
        cost_c = float(self.prep.costs[c])
        r0, r1, er0, er1 = v * cost_c, sl * cost_c, e0 * cost_c, e1 * cost_c
        pa, pb = self.a[payers], self.b[payers]
        g0 = np.where(poor, r0 - pa, pa - r0)
        g1 = np.where(poor, r1 - pb, pb - r1)
        e0s, e1s = er0 + self.ea[payers], er1 + self.eb[payers]
        if bool((g0 <= e0s).any()):
            horizon = 0.0
        else:
            falling = g1 - e1s < 0.0
            horizon = (
                float(((g0 - e0s)[falling] / (e1s - g1)[falling]).min())
                if falling.any()
                else math.inf
            )
        return (v, sl, e0, e1, self.exact_flat(c) if is_flat else None), horizon

    def pay(self, c: int) -> None:
        v, sl, e0, e1 = self.piece
        cost_c = float(self.prep.costs[c])
        r0, r1, er0, er1 = v * cost_c, sl * cost_c, e0 * cost_c, e1 * cost_c
        gone, paying = self.payers[self.poor], self.payers[~self.poor]
        self.alive[gone] = False
        self.a[gone] = self.b[gone] = self.ea[gone] = self.eb[gone] = 0.0
        self.a[paying] -= r0
        self.b[paying] -= r1
        self.ea[paying] += er0 + self.rel * (np.abs(self.a[paying]) + abs(r0))
        self.eb[paying] += er1 + self.rel * (np.abs(self.b[paying]) + abs(r1))
