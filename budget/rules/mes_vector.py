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
    Prepared,
    Run,
    Step,
    cheapest,
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
        self.cap_hint = 64  # room for classes a run starts with: the most a run has needed
        self.overlap = [frozenset(rs) for rs in prep.overlap]


def run_approval(
    prep: Prepared,
    vec: ApprovalVectors,
    share: Money,
    record: bool = False,
) -> Run:
    """One MES run at `share` (see `mes_python.run_python`)."""
    state = _VectorRun(prep, vec, share)
    run = Run(share, [])
    active, heap = _candidates(prep, vec)
    while True:
        found = cheapest(heap, active, state.estimated, state.exact_price, prep.costs)
        if found is None:
            break
        p, price, est = found
        run.steps.append(Step(p, price))
        payments = state.buy(p, price, est, record)
        if record:
            run.payments[p] = payments
    if record:
        state.record_money_left(run)
    vec.cap_hint = max(vec.cap_hint, state.cap)
    return run


def _candidates(prep: Prepared, vec: ApprovalVectors) -> tuple[list[bool], list[tuple[float, int]]]:
    """The MES projects and a heap of lower bounds of their prices (everyone has the share)."""
    active = [False] * len(prep.costs)
    heap: list[tuple[float, int]] = []
    for p in prep.mes_projects:
        active[p] = True
        heap.append((1.0 / vec.total[p] * (1 - 4 * MARGIN), p))
    heapq.heapify(heap)
    return active, heap


_Estimate = tuple[float, np.ndarray, np.ndarray, np.ndarray]  # rho, classes, counts, money


class _VectorRun:
    """The state of one run: classes of voters with the same history (class 0: no money left),
    their money as floats and exactly (lazily), and each project's last price estimate.

    A class's exact money is the share minus the prices of the steps in which it paid: a 0/1
    row of `hist` per class, and a chain of history nodes (previous node, step) shared with the
    class it split from, each node's money computed at most once."""

    def __init__(self, prep: Prepared, vec: ApprovalVectors, share: Money) -> None:
        """Everyone in class 1 with the share."""
        self.prep, self.vec, self.share = prep, vec, share
        self.cost_f = [float(c) for c in prep.costs]
        self.max_steps = max(1, len(prep.mes_projects))
        share_f = float(share)
        self.margin = MARGIN * max(share_f, 1e-300)
        self.cap = cap = vec.cap_hint  # grown by doubling, from what earlier runs needed
        self.money_f = np.zeros(cap)
        self.money_f[1] = share_f
        self.hist = np.zeros((cap, self.max_steps), dtype=np.float64)  # 1.0: paid the price
        self.weight = np.zeros(cap)
        self.weight[1] = prep.n_voters
        self.cls_node = np.zeros(cap, dtype=np.int64)
        self.cls_node[1] = 1
        self.n_prev: list[int] = [-1, -1]
        self.n_step: list[int] = [-1, -1]
        self.n_exact: list[Money | None] = [0, share]
        self.n_cls = 2
        self.cls_of = np.ones(len(prep.weights), dtype=np.int64)
        self.prices: list[Fraction] = []
        # the prices over one common denominator (integers: sums of prices cost no gcd)
        self.den = 1
        self.scaled: list[int] = []
        n_projects = len(prep.costs)
        self.estimates: list[_Estimate | None] = [None] * n_projects
        self.counted_at = [-1] * n_projects  # steps made at p's last estimate
        self.bought: list[int] = []  # the project of each step

    def _grow(self) -> None:
        """Double the room for classes."""
        more = self.cap
        self.cap *= 2
        self.money_f = np.concatenate([self.money_f, np.zeros(more)])
        self.weight = np.concatenate([self.weight, np.zeros(more)])
        self.cls_node = np.concatenate([self.cls_node, np.zeros(more, dtype=np.int64)])
        self.hist = np.concatenate([self.hist, np.zeros((more, self.max_steps))])

    def x(self, k: int) -> Money:
        """Exact money of class k."""
        n_exact, n_prev, n_step, prices = self.n_exact, self.n_prev, self.n_step, self.prices
        node = int(self.cls_node[k])
        chain = []
        while n_exact[node] is None:
            chain.append(node)
            node = n_prev[node]
        value = n_exact[node]
        for node in reversed(chain):
            value = n_exact[node] = value - prices[n_step[node]]
        return value

    def _add_nodes(self, previous: np.ndarray, j: int) -> np.ndarray:
        """New history nodes: `previous` then paying in step j."""
        start = len(self.n_prev)
        self.n_prev.extend(previous.tolist())
        self.n_step.extend([j] * len(previous))
        self.n_exact.extend([None] * len(previous))
        return np.arange(start, len(self.n_prev), dtype=np.int64)

    def money_of(self, classes: np.ndarray, counts: np.ndarray) -> Money:
        """Exact sum of counts[i] * money of classes[i]."""
        prices = self.prices
        n = int(counts.sum())
        paid = 0
        if prices and len(classes):
            per_step = counts @ self.hist[classes, : len(prices)]
            scaled = self.scaled
            paid = sum(int(per_step[j]) * scaled[j] for j in per_step.nonzero()[0].tolist())
        share = self.share
        if not paid:
            return money(n * share)
        # n * share - paid / den over one denominator: one gcd, not one per Fraction operation
        num, den = share.numerator, share.denominator
        return money(Fraction(n * num * self.den - paid * den, den * self.den))

    def _add_price(self, price: Fraction) -> None:
        """Step j's price, kept also as an integer over the common denominator."""
        self.prices.append(price)
        d = price.denominator
        if self.den % d:
            grow = d // math.gcd(self.den, d)
            self.den *= grow
            self.scaled = [n * grow for n in self.scaled]
        self.scaled.append(price.numerator * (self.den // d))

    def _counts(self, p: int) -> np.ndarray:
        """p's supporters per class (none in class 0: they have no money left)."""
        vec = self.vec
        counts = np.bincount(self.cls_of[vec.sup[p]], weights=vec.supw[p], minlength=self.n_cls)
        counts[0] = 0.0
        return counts

    def estimated(self, p: int) -> tuple[float, _Estimate] | None:
        """`cheapest`'s estimate of p: recomputed only if a supporter of p paid since (a
        project sharing a supporter with p was bought: looked up here, among the steps made
        since, rather than marked on every such project at every step)."""
        done = self.counted_at[p]
        if done < 0 or not self.vec.overlap[p].isdisjoint(self.bought[done:]):
            self.estimates[p] = self._estimate(p)
            self.counted_at[p] = len(self.prices)
        est = self.estimates[p]
        return None if est is None else (est[0], est)

    def _estimate(self, p: int) -> _Estimate | None:
        """(rho, classes, counts, money) by floats; None if clearly unaffordable; rho inf if
        too close to call. (ndarray methods, not the np.* wrappers: this runs a few hundred
        thousand times per count, on a few dozen classes, where the wrappers' cost shows.)"""
        cost = self.cost_f[p]
        # Most estimates (95 % on the district round's area envelopes, mostly the last sweep of
        # a run) find p unaffordable: first its supporters' money, one gather and one dot, no
        # count per class. The money of each class is the same number either way (class 0's
        # is 0), so only the two sums' rounding differs: n terms, n ulps each, relative, with
        # a factor 4 to spare. A class's float money can be a hair below 0 (a rich class that
        # paid the price exactly); the extra margin (n + 2 against len(classes) + 1 below)
        # covers that. So this says None only where the test below would too.
        sup = self.vec.sup[p]
        n = len(sup)
        total = float(self.vec.supw[p] @ self.money_f[self.cls_of[sup]])
        if total * (1.0 + 4.0 * n * EPS) < cost - self.margin * (n + 2):
            return None
        counts = self._counts(p)
        classes = counts.nonzero()[0]
        c = counts[classes]
        m = self.money_f[classes]
        if float(c @ m) < cost - self.margin * (len(classes) + 1):
            return None
        if not len(classes):  # a cost within the margin, nobody with money: too close to call
            return math.inf, classes, c, m
        order = m.argsort(kind="stable")
        classes, c, m = classes[order], c[order], m[order]
        cm = c * m
        paid_before = cm.cumsum() - cm
        weight_after = c.sum() - (c.cumsum() - c)
        rho = (cost - paid_before) / weight_after
        ok = rho <= m
        first = int(ok.argmax())
        if not ok[first]:
            return math.inf, classes, c, m
        return float(rho[first]) / cost, classes, c, m

    def exact_price(self, p: int, rho_f: float, est: _Estimate) -> Fraction | None:
        """The exact price (what each supporter pays, all of their money if less), or None
        if the supporters cannot pay; the float estimate decides who pays all where clear."""
        _rho, classes, c, m = est
        cost = self.prep.costs[p]
        margin = self.margin
        if rho_f != math.inf:
            price_f = rho_f * self.cost_f[p]
            poor = m < price_f - margin
            rich = m > price_f + margin
            if bool((poor | rich).all()):
                rich_w = int(c[rich].sum())
                if rich_w:
                    # (cost - the poor's money) / rich_w, normalised once
                    left = self.money_of(classes[poor], c[poor])
                    n_left, d_left = left.numerator, left.denominator
                    price = Fraction(
                        cost.numerator * d_left - n_left * cost.denominator,
                        cost.denominator * d_left * rich_w,
                    )
                    if price > 0:
                        return price
        rows = sorted(
            (Fraction(self.x(int(k))), int(k), int(w)) for k, w in zip(classes, c, strict=True)
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

    def buy(self, p: int, price: Fraction, est: _Estimate, record: bool) -> list[PaymentGroup]:
        """p's supporters pay for it (per class all or a split); its payments with `record`."""
        _rho, classes, c, m = est
        j = len(self.prices)
        price_f = float(price)
        self._add_price(price)
        poor, rich = self._poor_and_rich(price, price_f, classes, m)
        amounts: dict[int, Money] = {}
        if record:
            paid = money(price)
            amounts = dict.fromkeys(classes[rich].tolist(), paid)
            amounts.update((k, money(self.x(k))) for k in classes[poor].tolist())
        mapping = self._pay(j, price_f, classes[poor], c[poor], classes[rich], c[rich])
        idx = self.vec.sup[p]
        old = self.cls_of[idx]
        self.cls_of[idx] = mapping[old]
        self.bought.append(p)
        return _payments(self.vec, idx, old, amounts, len(self.prep.weights)) if record else []

    def _poor_and_rich(
        self, price: Fraction, price_f: float, classes: np.ndarray, m: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Which classes pay all they have (money <= price) and which pay the price."""
        poor = m < price_f - self.margin
        rich = m > price_f + self.margin
        for i in (~(poor | rich)).nonzero()[0]:  # too close for floats: exactly
            if self.x(int(classes[i])) <= price:
                poor[i] = True
            else:
                rich[i] = True
        return poor, rich

    def _pay(
        self,
        j: int,
        price_f: float,
        gone: np.ndarray,
        gone_w: np.ndarray,
        payers: np.ndarray,
        paying: np.ndarray,
    ) -> np.ndarray:
        """Step j: `gone` classes pay all they have, `payers` the price (a whole class in place,
        part of one as a new class); returns old class -> new class."""
        mapping = np.arange(self.n_cls, dtype=np.int64)
        mapping[gone] = 0  # no money left
        self.weight[gone] -= gone_w
        whole = paying == self.weight[payers]
        in_place = payers[whole]
        self.money_f[in_place] -= price_f
        self.hist[in_place, j] = 1.0
        self.cls_node[in_place] = self._add_nodes(self.cls_node[in_place], j)
        parts, part_w = payers[~whole], paying[~whole]
        n_cls = self.n_cls
        while n_cls + len(parts) > self.cap:
            self._grow()
        new = np.arange(n_cls, n_cls + len(parts), dtype=np.int64)
        self.money_f[new] = self.money_f[parts] - price_f
        self.hist[new] = self.hist[parts]
        self.hist[new, j] = 1.0
        self.weight[new] = part_w
        self.weight[parts] -= part_w
        self.cls_node[new] = self._add_nodes(self.cls_node[parts], j)
        mapping[parts] = new
        self.n_cls = n_cls + len(parts)
        return mapping

    def record_money_left(self, run: Run) -> None:
        """The exact money left of the supporters of every MES project not bought."""
        bought = {st.project for st in run.steps}
        for p in self.prep.mes_projects:
            if p not in bought:
                counts = self._counts(p)
                classes = counts.nonzero()[0]
                run.money_left[p] = self.money_of(classes, counts[classes])


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
