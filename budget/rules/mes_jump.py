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

The money a replay keeps, in lists or numpy arrays, and what it asks of it are in
`mes_replay`.

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

from budget.rules.election import Money
from budget.rules.mes_common import EPS, Prepared, Step
from budget.rules.mes_replay import ArrayReplay, Bound, ListReplay, crossing


def stable_for(
    prep: Prepared, share: Money, steps: list[Step], trail: Trail | None = None
) -> float:
    """How far (in money, conservatively) the share can rise above `share` with MES making
    exactly `steps` (the steps of the run at `share`); see the module docstring. Large approval
    counts keep the money in numpy arrays, others in lists: the reasoning is the same.

    With a `trail` (one per add1 walk), a replay of the same steps at a higher share resumes
    where the last one stopped, when it can (see `Trail`)."""
    if prep.vectors is not None:
        ops: Any = ArrayReplay(prep, prep.vectors, share)
    else:
        ops = ListReplay(prep, share)
    return _replay(ops, prep, steps, trail, share)


@dataclass
class _Point:
    """A replay's state before step `index` (len(steps): before the final check), at the share
    `base`: the money (`ops.save()`), the candidates and their bounds, the horizon left, and
    the index of the step where the horizon last fell before it (-1: before the first step)."""

    base: Money
    money: Any
    active: list[int]
    bounds: dict[int, Bound]
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


def _dearer_for(bound: Bound, q: int, c: int, rho: Bound) -> float:
    """How long q's lower bound surely stays above c's price (ties: the lower id wins)."""
    if bound[4] is not None and rho[4] is not None:
        if bound[4] > rho[4] or (bound[4] == rho[4] and q > c):
            return math.inf  # both constant in t
    return crossing(bound[0] - rho[0], bound[1] - rho[1], bound[2] + rho[2], bound[3] + rho[3])


def _replay(
    ops: Any, prep: Prepared, steps: list[Step], trail: Trail | None, share: Money
) -> float:
    """The replay itself, on `ops` (`ListReplay` or `ArrayReplay`): the money of
    every group as value + slope * t with error bounds, and these operations on it:
    `bound_of(q)` (a lower bound of q's price now, None if surely unaffordable),
    `unaffordable_for(q)`, `chosen(c)` (c's price piece and how long its split of payers
    holds), `pay(c)`, and `save()` / `restore(money, shift)` for the trail."""
    first, point = trail.start(steps, share) if trail is not None else (0, None)
    if point is not None:
        shift = float(share - point.base)
        # the rounding of the shift and of the subtraction, generously (as everywhere here)
        horizon = point.horizon - shift - 4 * EPS * (point.horizon + shift)
        if horizon > 0.0:
            ops.restore(point.money, shift)
            bounds = {q: _shifted(b, shift, ops.rel) for q, b in point.bounds.items()}
            return _replay_steps(
                ops, steps, trail, share, first, list(point.active), bounds, horizon, point.fell
            )
    rel, share_f, costs = ops.rel, ops.share_f, prep.costs
    horizon = math.inf
    active: list[int] = []
    bounds: dict[int, Bound] = {}
    for q in prep.mes_projects:
        # everyone has the share: the supporters' money is known without summing it
        va, cost, n = prep.support[q] * share_f, float(costs[q]), prep.support[q]
        wea = n * rel * share_f + rel * va
        if va < cost - wea - rel * cost:  # unaffordable from the start: out of the run
            horizon = min(horizon, crossing(cost - va, -n, wea + rel * cost, 2 * n * rel))
            continue
        if prep.by_cost and cost / n <= share_f:
            # approval ballots, everyone with the same money: every supporter pays rho, so
            # the bound is flat, 1 / supporters (what `bound_of` finds, without its sort)
            bound: Bound | None = (
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


def _shifted(bound: Bound, shift: float, rel: float) -> Bound:
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
    bounds: dict[int, Bound],
    horizon: float,
    fell: int,
) -> float:
    """The steps from `first` on (see `_replay`), leaving on the trail the state before each
    step where the horizon fell or the replay stopped: only those are ever resumed from, and
    copying the money before every step cost more than the rest of a small step."""
    for index in range(first, len(steps)):
        c = steps[index].project
        replaced: dict[int, Bound] = {}  # the bounds before this step, where it replaced one
        checked = _check_step(ops, c, active, bounds, replaced, horizon)
        if checked is None:  # it stops here (certifies nothing): the next replay resumes here
            if trail is not None:
                _keep(trail, index, share, ops, active, bounds, replaced, horizon, fell)
            return 0.0
        before, active_before = horizon, active  # `active` is never mutated, only replaced
        horizon, active = checked
        if horizon < before:
            if trail is not None:  # before paying: the money is still as before this step
                _keep(trail, index, share, ops, active_before, bounds, replaced, before, fell)
            fell = index
        ops.pay(c)
    end = len(steps)
    before = horizon
    for q in active:  # the end: every project left must stay unaffordable
        horizon = min(horizon, ops.unaffordable_for(q))
        if horizon <= 0.0:
            break
    if horizon < before:  # (before > 0: a step that left none has returned)
        if trail is not None:
            _keep(trail, end, share, ops, active, bounds, {}, before, fell)
        fell = end
    if horizon <= 0.0:
        return 0.0  # the next replay resumes at the end's check (`keep` says so)
    if trail is not None:
        trail.resume_at = fell
    return horizon


def _check_step(
    ops: Any,
    c: int,
    active: list[int],
    bounds: dict[int, Bound],
    replaced: dict[int, Bound],
    horizon: float,
) -> tuple[float, list[int]] | None:
    """One step buying c: the horizon after it and the candidates still competing, or None
    if it may already differ (0). Bounds it tightens are replaced in `bounds`, the old ones
    kept in `replaced`."""
    chosen = ops.chosen(c)
    if chosen is None:
        return None
    rho, t_payers = chosen
    horizon = min(horizon, t_payers)
    if horizon <= 0.0:
        return None
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
                    return None
                if t_u >= horizon:
                    continue  # and for every t < horizon: out for the rest of the run
                still.append(q)  # it may become affordable later: keep it a competitor
                continue
            if fresh[0] == math.inf:
                return None
            t_fresh = _dearer_for(fresh, q, c, rho)
            if t_fresh > t_q:
                replaced.setdefault(q, bounds[q])
                bounds[q], t_q = fresh, t_fresh
            horizon = min(horizon, t_q)
            if horizon <= 0.0:
                return None
        still.append(q)
    return horizon, still


def _keep(
    trail: Trail,
    index: int,
    share: Money,
    ops: Any,
    active: list[int],
    bounds: dict[int, Bound],
    replaced: dict[int, Bound],
    horizon: float,
    fell: int,
) -> None:
    """Leave on the trail the state before step `index`: the money as it is (not yet paid
    in that step), `bounds` with the ones replaced in that step put back."""
    kept = dict(bounds)
    kept.update(replaced)
    trail.keep(index, _Point(share, ops.save(), active, kept, horizon, fell))
