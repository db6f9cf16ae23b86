"""The money stores of add1's replay (`mes_jump`): every group of voters' money as value + slope
* t with error bounds, in lists (`ListReplay`, any ballots) or in numpy arrays (`ArrayReplay`,
approval counts that run on numpy), and what a replay asks of them: a competitor's lower bound
(`bound_of`), how long it stays unaffordable (`unaffordable_for`), the chosen project's price
piece and how long its payers keep their sides (`chosen`), paying for it (`pay`), and the state
to resume from (`save`, `restore`). The reasoning is in `mes_jump`'s docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction

import numpy as np

from budget.rules.election import Money
from budget.rules.mes_common import EPS, Prepared
from budget.rules.mes_vector import ApprovalVectors

Bound = tuple[float, float, float, float, Fraction | None]  # value, slope, their errors, exact
NO_BOUND: Bound = (math.inf, 0.0, 0.0, 0.0, None)  # a price too close to call


def crossing(g0: float, g1: float, e0: float, e1: float) -> float:
    """Largest T such that g0 + g1*t > 0 for all 0 <= t < T, for every true (g0, g1) within
    (e0, e1) of the computed ones; 0 if g0 may already be <= 0."""
    if g0 <= e0:
        return 0.0
    if g1 - e1 >= 0.0:
        return math.inf
    return (g0 - e0) / (e1 - g1)


class Replay:
    """What both money stores answer the same way, from their `money_of`."""

    prep: Prepared
    rel: float

    def money_of(self, q: int) -> tuple[float, float, float, float]:
        raise NotImplementedError

    def unaffordable_for(self, q: int) -> float:
        """q's supporters cannot pay for it: how long that surely stays so."""
        va, vb, wea, web = self.money_of(q)
        cost = float(self.prep.costs[q])
        return crossing(cost - va, -vb, wea + self.rel * cost, web)


class ListReplay(Replay):
    """The replay's money in lists (any ballots; fastest for small counts)."""

    def __init__(self, prep: Prepared, share: Money) -> None:
        n_groups = len(prep.weights)
        self.prep = prep
        self.rel = rel = 4 * EPS * (n_groups + 16)  # relative rounding error of a group sum
        self.utils_f = [float(u) for u in prep.utils]
        self.share_f = share_f = float(share)
        self.a = [share_f] * n_groups  # money of each group of identical ballots at t = 0
        self.b = [1.0] * n_groups  # ... and its slope in t
        self.ea = [rel * share_f] * n_groups  # error bounds of a
        self.eb = [rel] * n_groups  # ... and of b
        self.alive = [True] * n_groups  # False: paid all it had (money exactly 0 for every t)
        self.payers: list[tuple[int, float, bool]] = []
        self.piece = (0.0, 0.0, 0.0, 0.0)

    def save(self) -> tuple:
        return self.a[:], self.b[:], self.ea[:], self.eb[:], self.alive[:]

    def restore(self, money: tuple, shift: float) -> None:
        """The money saved at another share, moved to this one (`shift` above it)."""
        a, b, ea, eb, alive = money
        rel = self.rel
        self.alive = alive[:]
        self.b, self.eb = b[:], eb[:]
        self.a = [x + y * shift for x, y in zip(a, b, strict=True)]
        self.ea = [
            e + f * shift + rel * (abs(x) + abs(y) * shift)
            for e, f, x, y in zip(ea, eb, self.a, b, strict=True)
        ]

    def _supporters(self, p: int) -> Iterator[tuple[int, int, int]]:
        prep = self.prep
        return zip(prep.sup_groups[p], prep.sup_weights[p], prep.sup_utils[p], strict=True)

    def split(self, p: int, price: float) -> tuple[list, float, float, float, float, bool]:
        """The supporters with money, each marked poor (pays all: money/u < price) or not,
        and the affine price piece (value, slope, errors, flat) that this split gives."""
        a, b, ea, eb, alive, rel = self.a, self.b, self.ea, self.eb, self.alive, self.rel
        members = []
        sa = sb = wea = web = sab = d = 0.0
        n_poor = 0
        for g, w, ui in self._supporters(p):
            if not alive[g]:
                continue
            u = self.utils_f[ui]
            poor = a[g] < price * u
            members.append((g, u, poor))
            if poor:
                n_poor += 1
                sa += w * a[g]
                sb += w * b[g]
                sab += w * abs(b[g])
                wea += w * ea[g]
                web += w * eb[g]
            else:
                d += w * u
        if d <= 0.0:
            return members, math.inf, 0.0, 0.0, 0.0, False
        cost = float(self.prep.costs[p])
        s = float(self.prep.scale[p])
        return (
            members,
            (cost - sa) / d / s,
            -sb / d / s,
            (rel * (cost + sa) + wea) / d / s,
            (rel * sab + web) / d / s,
            n_poor == 0,
        )

    def exact_flat(self, p: int) -> Fraction:
        """The price when every supporter with money pays rho*u: exact, constant in t."""
        utils = self.prep.utils
        d_exact = sum(w * utils[ui] for g, w, ui in self._supporters(p) if self.alive[g])
        return Fraction(self.prep.costs[p]) / d_exact / self.prep.scale[p]

    def money_of(self, p: int) -> tuple[float, float, float, float]:
        """The supporters' money (value, slope, errors)."""
        a, b, ea, eb, alive = self.a, self.b, self.ea, self.eb, self.alive
        va = vb = wea = web = 0.0
        for g, w in zip(self.prep.sup_groups[p], self.prep.sup_weights[p], strict=True):
            if alive[g]:
                va += w * a[g]
                vb += w * b[g]
                wea += w * ea[g]
                web += w * eb[g]
        return va, vb, wea + self.rel * abs(va), web + self.rel * abs(vb)

    def price_now(self, p: int) -> float:
        """p's price now, in floats (inf: too close to tell)."""
        rows = sorted(
            (self.a[g] / self.utils_f[ui], w, self.utils_f[ui])
            for g, w, ui in self._supporters(p)
            if self.alive[g]
        )
        remaining = float(self.prep.costs[p])
        d = sum(w * u for _k, w, u in rows)
        for key, w, u in rows:
            if d <= 0.0 or remaining / d <= key:
                break
            remaining -= w * key * u
            d -= w * u
        return remaining / d if d > 0.0 else math.inf

    def bound_of(self, q: int) -> Bound | None:
        """A lower bound of q's rho now (None: its supporters surely cannot pay for it); any
        split gives a bound, the one at q's (float) price now gives the best."""
        va, _vb, wea, _web = self.money_of(q)
        cost = float(self.prep.costs[q])
        if va < cost - wea - self.rel * cost:
            return None
        _members, v, sl, e0, e1, is_flat = self.split(q, self.price_now(q))
        if v == math.inf:
            return NO_BOUND
        return v, sl, e0, e1, self.exact_flat(q) if is_flat else None

    def chosen(self, c: int) -> tuple[Bound, float] | None:
        """c's price piece, from its split at its price now (not from the step's price: add1
        replays steps at other shares too), and how long every payer's side holds."""
        members, v, sl, e0, e1, is_flat = self.split(c, self.price_now(c))
        if v == math.inf:
            return None
        self.payers, self.piece = members, (v, sl, e0, e1)
        s_c = float(self.prep.scale[c])
        a, b, ea, eb = self.a, self.b, self.ea, self.eb
        horizon = math.inf
        for g, u, poor in members:
            r0, r1, er0, er1 = v * s_c * u, sl * s_c * u, e0 * s_c * u, e1 * s_c * u
            if poor:
                t_g = crossing(r0 - a[g], r1 - b[g], er0 + ea[g], er1 + eb[g])
            else:
                t_g = crossing(a[g] - r0, b[g] - r1, er0 + ea[g], er1 + eb[g])
            horizon = min(horizon, t_g)
        return (v, sl, e0, e1, self.exact_flat(c) if is_flat else None), horizon

    def pay(self, c: int) -> None:
        v, sl, e0, e1 = self.piece
        s_c = float(self.prep.scale[c])
        a, b, ea, eb, rel = self.a, self.b, self.ea, self.eb, self.rel
        for g, u, poor in self.payers:
            if poor:
                self.alive[g] = False
                a[g] = b[g] = ea[g] = eb[g] = 0.0
            else:
                r0, r1 = v * s_c * u, sl * s_c * u
                a[g] -= r0
                b[g] -= r1
                ea[g] += e0 * s_c * u + rel * (abs(a[g]) + abs(r0))
                eb[g] += e1 * s_c * u + rel * (abs(b[g]) + abs(r1))


class ArrayReplay(Replay):
    """`ListReplay` on approval ballots with numpy arrays (same operations, same reasoning;
    for counts that run on numpy)."""

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

    def save(self) -> tuple:
        return self.a.copy(), self.b.copy(), self.ea.copy(), self.eb.copy(), self.alive.copy()

    def restore(self, money: tuple, shift: float) -> None:
        """The money saved at another share, moved to this one (`shift` above it)."""
        a, b, ea, eb, alive = money
        self.alive, self.b, self.eb = alive.copy(), b.copy(), eb.copy()
        self.a = a + b * shift
        self.ea = ea + eb * shift + self.rel * (np.abs(self.a) + np.abs(b) * shift)

    def _alive(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """p's supporters with money: their groups, weights and money (one gather each)."""
        idx = self.vec.sup[p]
        keep = self.alive[idx]
        payers = idx[keep]
        return payers, self.vec.supw[p][keep], self.a[payers]

    def _price(self, p: int, w: np.ndarray, m: np.ndarray) -> float:
        """p's price now from its supporters' weights and money (inf: too close to tell).
        (ndarray methods, not the np.* wrappers: cheaper on the few dozen groups of a step.)"""
        if not len(m):
            return math.inf
        order = m.argsort(kind="stable")
        m, w = m[order], w[order]
        wm = w * m
        rho = (float(self.prep.costs[p]) - (wm.cumsum() - wm)) / (w.sum() - (w.cumsum() - w))
        ok = rho <= m
        first = int(ok.argmax())
        return float(rho[first]) if ok[first] else math.inf

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
        idx = self.vec.sup[q]
        keep = self.alive[idx]
        w_all = self.vec.supw[q] * keep
        va = float(w_all @ self.a[idx])
        wea = float(w_all @ self.ea[idx]) + self.rel * abs(va)
        cost = float(self.prep.costs[q])
        if va < cost - wea - self.rel * cost:
            return None
        payers = idx[keep]
        w, m = self.vec.supw[q][keep], self.a[payers]
        poor = m < self._price(q, w, m)
        d = float(w[~poor].sum())
        if d <= 0.0:
            return NO_BOUND
        poor_g = payers[poor]
        v, sl, e0, e1 = _piece(
            cost, self.rel, d, w[poor], m[poor], self.b[poor_g], self.ea[poor_g], self.eb[poor_g]
        )
        return v, sl, e0, e1, self.exact_flat(q) if not poor.any() else None

    def chosen(self, c: int) -> tuple[Bound, float] | None:
        """c's price piece from the split of its payers at its price now, and how long each
        payer's side holds (the payers' money, slopes and errors gathered once for both)."""
        idx = self.vec.sup[c]
        keep = self.alive[idx]
        payers = idx[keep]
        w, m = self.vec.supw[c][keep], self.a[payers]
        poor = m < self._price(c, w, m)
        rich = ~poor
        d = float(w[rich].sum())
        if d <= 0.0:
            return None
        b, ea, eb = self.b[payers], self.ea[payers], self.eb[payers]
        cost = float(self.prep.costs[c])
        v, sl, e0, e1 = _piece(cost, self.rel, d, w[poor], m[poor], b[poor], ea[poor], eb[poor])
        self.payers, self.poor, self.piece = payers, poor, (v, sl, e0, e1)
        r0, r1, er0, er1 = v * cost, sl * cost, e0 * cost, e1 * cost
        # a poor payer must stay below the price, a rich one above: the gap, signed so that
        # it must stay positive (negating a float difference is exact)
        side = np.where(poor, -1.0, 1.0)
        g0, g1 = (m - r0) * side, (b - r1) * side
        e0s, e1s = er0 + ea, er1 + eb
        if bool((g0 <= e0s).any()):
            horizon = 0.0
        else:
            falling = g1 - e1s < 0.0
            horizon = (
                float(((g0 - e0s)[falling] / (e1s - g1)[falling]).min())
                if falling.any()
                else math.inf
            )
        flat = self.exact_flat(c) if not poor.any() else None
        return (v, sl, e0, e1, flat), horizon

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


def _piece(
    cost: float,
    rel: float,
    d: float,
    w: np.ndarray,
    m: np.ndarray,
    b: np.ndarray,
    ea: np.ndarray,
    eb: np.ndarray,
) -> tuple[float, float, float, float]:
    """The price piece (value, slope and their errors, in rho) of a project costing `cost`
    whose payers split into poor ones, who pay all they have (their weights `w`, money `m`,
    slopes `b` and errors `ea`, `eb`), and rich ones of weight `d` > 0, who pay the price."""
    sa, sb, sab = float(w @ m), float(w @ b), float(w @ np.abs(b))
    wea, web = float(w @ ea), float(w @ eb)
    return (
        (cost - sa) / d / cost,
        -sb / d / cost,
        (rel * (cost + sa) + wea) / d / cost,
        (rel * sab + web) / d / cost,
    )
