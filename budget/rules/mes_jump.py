"""Jumping over add1 increments: a certificate that a run's steps stay the MES outcome while
the share rises (used by `equal_shares._add1`).

Within one run, every voter's money, every price and every comparison MES makes is an affine
function of the share s as long as MES makes the same decisions (the same project in each
step, the same supporters paying all they have). `stable_for` replays a run's steps with
money kept as value + slope * t (t = s - share) and finds how far t can grow before one of
those decisions could change; every increment in between has the same outcome, so add1 can
skip it. A competitor q's price is bounded from below by any split of its supporters into
"pays all" (P) and "pays rho*u" (R): rho_q >= (cost - money of P) / utility of R (each
supporter pays at most each of the two), which is affine in t, so one lower bound stays
valid for every t and later steps (money only goes down). Prices of projects whose
supporters all pay rho*u are constant in t and compared exactly (they often tie). Floats
carry error bounds (per group of voters: a few ulps per operation, propagated through every
payment); anything too close to call gives 0: add1 then runs MES at the next increment as
before. `method_of_equal_shares` runs MES at the share add1 chose anyway and checks that it
makes the certified steps.

Replays of one add1 walk leave a `Trail`: the state before each step where the horizon fell
or the replay stopped (about one step in nine; copying the money before every step cost more
than the rest of a small step). Most replays stop where a payer of a chosen project crosses its
price (on the district round's area envelopes, 69 %; 46 % of the steps replayed came before
that step), and the next replay, at a share still within what the earlier steps certified,
resumes at that step with the saved money and bounds moved to its share instead of replaying
the run from the start.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from budget.rules.election import Money
from budget.rules.mes_common import Prepared, Step
from budget.rules.mes_vector import ApprovalVectors

_EPS = 2.0**-52  # floats carry explicit error bounds: a few _EPS per operation
_Bound = tuple[float, float, float, float, Fraction | None]  # value, slope, their errors, exact
_NO_BOUND: _Bound = (math.inf, 0.0, 0.0, 0.0, None)  # a price too close to call


def _crossing(g0: float, g1: float, e0: float, e1: float) -> float:
    """Largest T such that g0 + g1*t > 0 for all 0 <= t < T, for every true (g0, g1) within
    (e0, e1) of the computed ones; 0 if g0 may already be <= 0."""
    if g0 <= e0:
        return 0.0
    if g1 - e1 >= 0.0:
        return math.inf
    return (g0 - e0) / (e1 - g1)


def stable_for(
    prep: Prepared, share: Money, steps: list[Step], trail: Trail | None = None
) -> float:
    """How far (in money, conservatively) the share can rise above `share` with MES making
    exactly `steps` (the steps of the run at `share`); see the module docstring. Large approval
    counts keep the money in numpy arrays, others in lists: the reasoning is the same.

    With a `trail` (one per add1 walk), a replay of the same steps at a higher share resumes
    where the last one stopped, when it can (see `Trail`)."""
    if prep.vectors is not None:
        ops: Any = _ArrayReplay(prep, prep.vectors, share)
    else:
        ops = _ListReplay(prep, share)
    return _replay(ops, prep, steps, trail, share)


@dataclass
class _Point:
    """A replay's state before step `index` (len(steps): before the final check), at the share
    `base`: the money (`ops.save()`), the candidates and their bounds, the horizon left, and
    the index of the step where the horizon last fell before it (-1: before the first step)."""

    base: Money
    money: Any
    active: list[int]
    bounds: dict[int, _Bound]
    horizon: float
    fell: int


class Trail:
    """What the replays of one add1 walk leave for the next: the state before each step where
    a replay's horizon fell or the replay stopped (the last replay to do so there), and where
    the last replay's horizon last fell. Each state is self-contained (its share, its money,
    its horizon), so a state left by an earlier replay is as good to resume from as a new one.

    A replay at `share` certifies its steps for t < horizon; the steps before the one where the
    horizon last fell certify the state before that step for every t up to that state's own
    horizon. A replay of the same steps at a higher share still within that horizon starts
    there: the money and the bounds, affine in t, are moved to the new share (value + slope *
    the difference, with its rounding added to their error bounds), the horizon left shrinks
    by the difference, and the steps from there on are replayed as usual."""

    def __init__(self) -> None:
        self.projects: list[int] | None = None  # the steps' projects the points are for
        self.points: list[_Point | None] = []
        self.resume_at = -1  # where the last replay's horizon fell (-1: nowhere to resume)

    def keep(self, index: int, point: _Point) -> None:
        """The state before step `index`; the next replay resumes there unless the horizon
        falls later on in this one."""
        self.points[index] = point
        self.resume_at = index

    def start(self, steps: list[Step], share: Money) -> tuple[int, _Point | None]:
        """The index to replay from and the state to start with (0 and None: from scratch)."""
        projects = [s.project for s in steps]
        if projects != self.projects:
            self.projects = projects
            self.points = [None] * (len(steps) + 1)
            self.resume_at = -1
            return 0, None
        at = self.resume_at
        point = self.points[at] if at >= 0 else None
        if point is None or not share > point.base:
            return 0, None
        return at, point


def _dearer_for(bound: _Bound, q: int, c: int, rho: _Bound) -> float:
    """How long q's lower bound surely stays above c's price (ties: the lower id wins)."""
    if bound[4] is not None and rho[4] is not None:
        if bound[4] > rho[4] or (bound[4] == rho[4] and q > c):
            return math.inf  # both constant in t
    return _crossing(bound[0] - rho[0], bound[1] - rho[1], bound[2] + rho[2], bound[3] + rho[3])


def _replay(
    ops: Any, prep: Prepared, steps: list[Step], trail: Trail | None, share: Money
) -> float:
    """The replay itself, on `ops` (`_ListReplay` or `_ArrayReplay`): the money of
    every group as value + slope * t with error bounds, and these operations on it:
    `bound_of(q)` (a lower bound of q's price now, None if surely unaffordable),
    `unaffordable_for(q)`, `chosen(c)` (c's price piece and how long its split of payers
    holds), `pay(c)`, and `save()` / `restore(money, shift)` for the trail."""
    first, point = trail.start(steps, share) if trail is not None else (0, None)
    if point is not None:
        shift = float(share - point.base)
        # the rounding of the shift and of the subtraction, generously (as everywhere here)
        horizon = point.horizon - shift - 4 * _EPS * (point.horizon + shift)
        if horizon > 0.0:
            ops.restore(point.money, shift)
            bounds = {q: _shifted(b, shift, ops.rel) for q, b in point.bounds.items()}
            return _replay_steps(
                ops, steps, trail, share, first, list(point.active), bounds, horizon, point.fell
            )
    rel, share_f, costs = ops.rel, ops.share_f, prep.costs
    horizon = math.inf
    active: list[int] = []
    bounds: dict[int, _Bound] = {}
    for q in prep.mes_projects:
        # everyone has the share: the supporters' money is known without summing it
        va, cost, n = prep.support[q] * share_f, float(costs[q]), prep.support[q]
        wea = n * rel * share_f + rel * va
        if va < cost - wea - rel * cost:  # unaffordable from the start: out of the run
            horizon = min(horizon, _crossing(cost - va, -n, wea + rel * cost, 2 * n * rel))
            continue
        if prep.by_cost and cost / n <= share_f:
            # approval ballots, everyone with the same money: every supporter pays rho, so
            # the bound is flat, 1 / supporters (what `bound_of` finds, without its sort)
            bound: _Bound | None = (
                cost / n / cost,
                -0.0,
                rel * cost / n / cost,
                0.0,
                Fraction(1, n),
            )
        else:
            bound = ops.bound_of(q)
        if bound is None:
            horizon = min(horizon, ops.unaffordable_for(q))
        elif bound[0] == math.inf:
            return 0.0
        else:
            active.append(q)
            bounds[q] = bound
    if horizon <= 0.0:
        return 0.0
    return _replay_steps(ops, steps, trail, share, 0, active, bounds, horizon, -1)


def _shifted(bound: _Bound, shift: float, rel: float) -> _Bound:
    """A bound affine in t, moved to t - shift (a flat one stays as it is)."""
    value, slope, e0, e1, exact = bound
    moved = value + slope * shift
    return moved, slope, e0 + e1 * shift + rel * (abs(moved) + abs(slope) * shift), e1, exact


def _replay_steps(
    ops: Any,
    steps: list[Step],
    trail: Trail | None,
    share: Money,
    first: int,
    active: list[int],
    bounds: dict[int, _Bound],
    horizon: float,
    fell: int,
) -> float:
    """The steps from `first` on (see `_replay`), leaving on the trail the state before each
    step where the horizon fell or the replay stopped: only those are ever resumed from, and
    copying the money before every step cost more than the rest of a small step."""
    for index in range(first, len(steps)):
        before, fell_before, active_before = horizon, fell, active  # `active` is never mutated
        replaced: dict[int, _Bound] = {}  # the bounds before this step, where it replaced one
        c = steps[index].project
        chosen = ops.chosen(c)
        if chosen is None:
            return _stop(trail, index, share, ops, active, bounds, replaced, before, fell)
        rho, t_payers = chosen
        horizon = min(horizon, t_payers)
        if horizon <= 0.0:
            return _stop(trail, index, share, ops, active, bounds, replaced, before, fell)
        # every other candidate must stay dearer (or unaffordable)
        still = []
        rho_v, rho_s, rho_e0, rho_e1, rho_x = rho
        for q in active:
            if q == c:
                continue
            bound = bounds[q]
            if rho_x is not None and bound[4] is not None:
                t_q = _dearer_for(bound, q, c, rho)
            else:  # _dearer_for inlined: this runs for every competitor in every step
                g0, e0 = bound[0] - rho_v, bound[2] + rho_e0
                if g0 <= e0:
                    t_q = 0.0
                else:
                    g1, e1 = bound[1] - rho_s, bound[3] + rho_e1
                    t_q = math.inf if g1 - e1 >= 0.0 else (g0 - e0) / (e1 - g1)
            if t_q < horizon:
                fresh = ops.bound_of(q)  # a tighter bound from the money now
                if fresh is None:  # unaffordable now
                    t_u = ops.unaffordable_for(q)
                    horizon = min(horizon, max(t_q, t_u))
                    if horizon <= 0.0:
                        return _stop(
                            trail, index, share, ops, active, bounds, replaced, before, fell
                        )
                    if t_u >= horizon:
                        continue  # and for every t < horizon: out for the rest of the run
                    still.append(q)  # it may become affordable later: keep it a competitor
                    continue
                if fresh[0] == math.inf:
                    return _stop(trail, index, share, ops, active, bounds, replaced, before, fell)
                t_fresh = _dearer_for(fresh, q, c, rho)
                if t_fresh > t_q:
                    replaced.setdefault(q, bounds[q])
                    bounds[q], t_q = fresh, t_fresh
                horizon = min(horizon, t_q)
                if horizon <= 0.0:
                    return _stop(trail, index, share, ops, active, bounds, replaced, before, fell)
            still.append(q)
        active = still
        if horizon < before:
            if trail is not None:  # before paying: the money is still as before this step
                _keep(
                    trail, index, share, ops, active_before, bounds, replaced, before, fell_before
                )
            fell = index
        ops.pay(c)
    end = len(steps)
    before = horizon
    for q in active:  # the end: every project left must stay unaffordable
        horizon = min(horizon, ops.unaffordable_for(q))
        if horizon <= 0.0:
            return _stop(trail, end, share, ops, active, bounds, {}, before, fell)
    if horizon < before:
        if trail is not None:
            _keep(trail, end, share, ops, active, bounds, {}, before, fell)
        fell = end
    if trail is not None:
        trail.resume_at = fell
    return horizon


def _keep(
    trail: Trail,
    index: int,
    share: Money,
    ops: Any,
    active: list[int],
    bounds: dict[int, _Bound],
    replaced: dict[int, _Bound],
    horizon: float,
    fell: int,
) -> None:
    """Leave on the trail the state before step `index`: the money as it is (not yet paid
    in that step), `bounds` with the ones replaced in that step put back."""
    kept = dict(bounds)
    kept.update(replaced)
    trail.keep(index, _Point(share, ops.save(), active, kept, horizon, fell))


def _stop(
    trail: Trail | None,
    index: int,
    share: Money,
    ops: Any,
    active: list[int],
    bounds: dict[int, _Bound],
    replaced: dict[int, _Bound],
    horizon: float,
    fell: int,
) -> float:
    """The replay stops in step `index` (certifies nothing): the next resumes there."""
    if trail is not None:
        _keep(trail, index, share, ops, active, bounds, replaced, horizon, fell)
    return 0.0


class _Replay:
    """What both money stores answer the same way, from their `money_of`."""

    prep: Prepared
    rel: float

    def money_of(self, q: int) -> tuple[float, float, float, float]:
        raise NotImplementedError

    def unaffordable_for(self, q: int) -> float:
        """q's supporters cannot pay for it: how long that surely stays so."""
        va, vb, wea, web = self.money_of(q)
        cost = float(self.prep.costs[q])
        return _crossing(cost - va, -vb, wea + self.rel * cost, web)


class _ListReplay(_Replay):
    """The replay's money in lists (any ballots; fastest for small counts)."""

    def __init__(self, prep: Prepared, share: Money) -> None:
        n_groups = len(prep.weights)
        self.prep = prep
        self.rel = rel = 4 * _EPS * (n_groups + 16)  # relative rounding error of a group sum
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

    def _supporters(self, p: int):
        prep = self.prep
        return zip(prep.sup_groups[p], prep.sup_weights[p], prep.sup_utils[p], strict=True)

    def split(self, p: int, price: float):
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

    def bound_of(self, q: int) -> _Bound | None:
        """A lower bound of q's rho now (None: its supporters surely cannot pay for it); any
        split gives a bound, the one at q's (float) price now gives the best."""
        va, _vb, wea, _web = self.money_of(q)
        cost = float(self.prep.costs[q])
        if va < cost - wea - self.rel * cost:
            return None
        _members, v, sl, e0, e1, is_flat = self.split(q, self.price_now(q))
        if v == math.inf:
            return _NO_BOUND
        return v, sl, e0, e1, self.exact_flat(q) if is_flat else None

    def chosen(self, c: int) -> tuple[_Bound, float] | None:
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
                t_g = _crossing(r0 - a[g], r1 - b[g], er0 + ea[g], er1 + eb[g])
            else:
                t_g = _crossing(a[g] - r0, b[g] - r1, er0 + ea[g], er1 + eb[g])
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


class _ArrayReplay(_Replay):
    """`_ListReplay` on approval ballots with numpy arrays (same operations, same reasoning;
    for counts that run on numpy)."""

    def __init__(self, prep: Prepared, vec: ApprovalVectors, share: Money) -> None:
        n_groups = len(prep.weights)
        self.prep, self.vec = prep, vec
        self.rel = rel = 4 * _EPS * (n_groups + 16)
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

    def price_now(self, p: int) -> float:
        _payers, w, m = self._alive(p)
        return self._price(p, w, m)

    def split(self, p: int, price: float, alive=None):
        payers, w, m = self._alive(p) if alive is None else alive
        poor = m < price
        d = float(w[~poor].sum())
        if d <= 0.0:
            return payers, poor, math.inf, 0.0, 0.0, 0.0, False
        wp = w[poor]
        poor_g = payers[poor]
        bp = self.b[poor_g]
        sa, sb, sab = float(wp @ m[poor]), float(wp @ bp), float(wp @ np.abs(bp))
        wea = float(wp @ self.ea[poor_g])
        web = float(wp @ self.eb[poor_g])
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

    def bound_of(self, q: int) -> _Bound | None:
        idx = self.vec.sup[q]
        keep = self.alive[idx]
        w_all = self.vec.supw[q] * keep
        va = float(w_all @ self.a[idx])
        wea = float(w_all @ self.ea[idx]) + self.rel * abs(va)
        cost = float(self.prep.costs[q])
        if va < cost - wea - self.rel * cost:
            return None
        payers = idx[keep]
        alive = payers, self.vec.supw[q][keep], self.a[payers]
        _payers, _poor, v, sl, e0, e1, is_flat = self.split(
            q, self._price(q, alive[1], alive[2]), alive
        )
        if v == math.inf:
            return _NO_BOUND
        return v, sl, e0, e1, self.exact_flat(q) if is_flat else None

    def chosen(self, c: int) -> tuple[_Bound, float] | None:
        """`split` at c's price now, then how long each payer's side holds. (One function:
        the payers' money, slopes and errors are gathered once for both.)"""
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
        wp, bp = w[poor], b[poor]
        sa, sb, sab = float(wp @ m[poor]), float(wp @ bp), float(wp @ np.abs(bp))
        wea, web = float(wp @ ea[poor]), float(wp @ eb[poor])
        cost, rel = float(self.prep.costs[c]), self.rel
        v, sl = (cost - sa) / d / cost, -sb / d / cost
        e0, e1 = (rel * (cost + sa) + wea) / d / cost, (rel * sab + web) / d / cost
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
