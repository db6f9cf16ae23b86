"""Results services: per-envelope count, re-run, publish, statuses, turnout."""

from __future__ import annotations

import pytest

from budget.models import (
    BallotType,
    Envelope,
    Outcome,
    Phase,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.services import counting, voting
from budget.services import results as svc
from core.errors import PermissionDenied, ValidationError
from core.models import Role
from tests.helpers import make_area, make_proposal, make_round, make_user

FEASIBLE = ProposalStatus.FEASIBLE


async def counted_round(rule="greedy"):
    """East: 100,000 with A 60,000 (3 votes), B 50,000 (2 votes), C 30,000 (1 vote);
    West: 50,000 with W 40,000 (1 vote); district: 50,000 with D 20,000 (4 votes)."""
    east = await make_area("East Gate")
    west = await make_area("West Bank")
    rnd = await make_round(
        phase=Phase.VOTING,
        fund_fen=200_000_00,
        rule=rule,
        envelopes={east: 100_000_00, west: 50_000_00, None: 50_000_00},
    )
    a = await make_proposal(rnd, None, "A", 60_000_00, east, FEASIBLE)
    b = await make_proposal(rnd, None, "B", 50_000_00, east, FEASIBLE)
    c = await make_proposal(rnd, None, "C", 30_000_00, east, FEASIBLE)
    w = await make_proposal(rnd, None, "W", 40_000_00, west, FEASIBLE)
    d = await make_proposal(rnd, None, "D", 20_000_00, None, FEASIBLE)
    infeasible = await make_proposal(rnd, None, "X", 1_000_00, east, ProposalStatus.INFEASIBLE)
    e1, e2, e3 = [await make_user(f"east{i}", area=east) for i in range(3)]
    w1 = await make_user("west1", area=west)
    await make_user("west2", area=west)  # eligible, did not vote
    await make_user("unverified", area=west, verified=False)  # not eligible
    worker = await make_user("grid", role=Role.GRID_WORKER, area=east)
    await voting.cast_ballot(e1, rnd.id, {a.id: 1, d.id: 1})
    await voting.cast_ballot(e2, rnd.id, {a.id: 1, c.id: 1, d.id: 1})
    await voting.enter_paper_ballot(worker, rnd.id, e3.id, {a.id: 1, d.id: 1})
    await voting.cast_ballot(worker, rnd.id, {b.id: 1})
    await voting.cast_ballot(w1, rnd.id, {w.id: 1, d.id: 1})
    rnd.phase = Phase.RESULTS
    await rnd.save()
    council = await make_user("council", role=Role.COUNCIL)
    return rnd, council, {"A": a, "B": b, "C": c, "W": w, "D": d, "X": infeasible}, (east, west)


async def test_compute_per_envelope(db):
    rnd, council, p, (east, west) = await counted_round()
    outcomes = await svc.compute_results(council, rnd.id)
    assert len(outcomes) == 3
    rows = await Outcome.filter(round_id=rnd.id).select_related("envelope")
    by_area = {o.envelope.area_id: o for o in rows}
    # East: A (3 votes) fits, B (1 vote) 50,000 > 40,000 left: skipped, C (1 vote) fits
    east_out = by_area[east.id]
    assert east_out.rule == "greedy" and east_out.budget_fen == 100_000_00
    assert east_out.total_cost_fen == 90_000_00
    assert east_out.ballots_counted == 4  # ballots of East voters
    assert east_out.data["selected"] == [str(p["A"].id), str(p["C"].id)]
    assert by_area[west.id].ballots_counted == 1
    assert by_area[None].ballots_counted == 5  # every ballot counts district-wide
    assert by_area[None].data["selected"] == [str(p["D"].id)]
    # a count is a preview: no proposal changes until the results are published
    statuses = dict(await Proposal.filter(round_id=rnd.id).values_list("title", "status"))
    assert statuses == {**dict.fromkeys("ABCWD", "feasible"), "X": "infeasible"}
    assert set(await Proposal.filter(round_id=rnd.id).values_list("vote_count", flat=True)) == {0}
    await svc.publish_results(council, rnd.id)
    statuses = dict(await Proposal.filter(round_id=rnd.id).values_list("title", "status"))
    assert statuses == {
        "A": "funded",
        "B": "not_funded",
        "C": "funded",
        "W": "funded",
        "D": "funded",
        "X": "infeasible",
    }
    votes = dict(await Proposal.filter(round_id=rnd.id).values_list("title", "vote_count"))
    assert votes == {"A": 3, "B": 1, "C": 1, "W": 1, "D": 4, "X": 0}


async def test_rerun_replaces_and_publish_freezes(db):
    rnd, council, p, (east, west) = await counted_round()
    await svc.compute_results(council, rnd.id)
    # the council revises nothing, but a re-run must replace the rows (not add)
    envelope = await Envelope.get(round_id=rnd.id, area_id=east.id)
    envelope.budget_fen = 60_000_00  # (as if corrected before the re-run)
    await envelope.save()
    await svc.compute_results(council, rnd.id)
    assert await Outcome.filter(round_id=rnd.id).count() == 3
    east_out = await Outcome.get(round_id=rnd.id, envelope_id=envelope.id)
    assert east_out.total_cost_fen == 60_000_00
    assert (await Proposal.get(id=p["C"].id)).status == ProposalStatus.FEASIBLE

    published = await svc.publish_results(council, rnd.id)
    assert published.results_published_at is not None
    # what is published is the last count
    assert (await Proposal.get(id=p["C"].id)).status == ProposalStatus.NOT_FUNDED
    with pytest.raises(PermissionDenied):
        await svc.compute_results(council, rnd.id)
    with pytest.raises(PermissionDenied):
        await svc.publish_results(council, rnd.id)


async def test_publish_needs_a_count_and_staff(db):
    rnd, council, p, _areas = await counted_round()
    with pytest.raises(ValidationError):
        await svc.publish_results(council, rnd.id)
    resident = await make_user("someone", area=_areas[0])
    with pytest.raises(PermissionDenied):
        await svc.compute_results(resident, rnd.id)
    assert (await Round.get(id=rnd.id)).results_published_at is None


async def test_compute_only_in_results_phase(db):
    rnd, council, p, _areas = await counted_round()
    rnd.phase = Phase.VOTING
    await rnd.save()
    with pytest.raises(PermissionDenied):
        await svc.compute_results(council, rnd.id)


async def test_turnout_per_area_and_channel(db):
    rnd, council, p, (east, west) = await counted_round()
    rows = {r.label: r for r in await svc.turnout(rnd)}
    e = rows["East Gate"]
    assert (e.eligible, e.ballots, e.online, e.paper) == (4, 4, 3, 1)
    w = rows["West Bank"]
    assert (w.eligible, w.ballots, w.rate) == (2, 1, 0.5)
    total = rows["Whole district"]
    assert (total.eligible, total.ballots, total.online, total.paper) == (6, 5, 4, 1)


async def test_envelope_results_explain_every_project(db):
    rnd, council, p, (east, west) = await counted_round()
    await svc.compute_results(council, rnd.id)
    results = await svc.envelope_results(rnd)
    assert [r.name for r in results] == ["East Gate", "West Bank", "District-wide"]
    east_lines = results[0].lines
    assert [ln.proposal.title for ln in east_lines] == ["A", "C", "B"]
    b = east_lines[2]
    assert not b.funded and b.explanation.reason == "did_not_fit"
    assert svc.fen(b.explanation.money_left) == 40_000_00


async def test_points_round_counts_points(db):
    area = await make_area("North")
    rnd = await make_round(
        phase=Phase.VOTING,
        ballot_type=BallotType.POINTS,
        points_total=10,
        envelopes={area: 50_000_00},
    )
    a = await make_proposal(rnd, None, "A", 30_000_00, area, FEASIBLE)
    b = await make_proposal(rnd, None, "B", 30_000_00, area, FEASIBLE)
    u1, u2 = await make_user("u1", area=area), await make_user("u2", area=area)
    await voting.cast_ballot(u1, rnd.id, {a.id: 2, b.id: 8})
    await voting.cast_ballot(u2, rnd.id, {a.id: 5, b.id: 5})
    rnd.phase = Phase.RESULTS
    await rnd.save()
    council = await make_user("council", role=Role.COUNCIL)
    await svc.compute_results(council, rnd.id)
    await svc.publish_results(council, rnd.id)
    assert (await Proposal.get(id=b.id)).vote_count == 13
    assert (await Proposal.get(id=b.id)).status == ProposalStatus.FUNDED
    assert (await Proposal.get(id=a.id)).status == ProposalStatus.NOT_FUNDED


def test_group_ballots_is_pure():
    groups = counting.group_ballots(
        [(1, 7, 100), (2, None, 50)],
        [(10, 7, 60), (11, 7, 40), (20, None, 50), (30, 8, 10)],  # 30: area without envelope
        [(7, [10, 20], None), (7, [20], None), (None, [11], None), (8, [30], None)],
    )
    area, district = groups
    assert area.costs == {"10": 60, "11": 40}
    assert area.ballots == [{"10": 1}, {}, {"11": 1}]  # the 2nd voted only district-wide
    assert district.ballots == [{"20": 1}, {"20": 1}, {}, {}]
    points = counting.group_ballots(
        [(1, 7, 100)], [(10, 7, 60), (11, 7, 40)], [(7, [10, 11], [3, 7])]
    )
    assert points[0].ballots == [{"10": 3, "11": 7}]


async def test_equal_shares_round_is_counted_with_its_rule(db):
    rnd, council, p, (east, west) = await counted_round(rule="equal-shares")
    await svc.compute_results(council, rnd.id)
    rows = await Outcome.filter(round_id=rnd.id)
    assert {o.rule for o in rows} == {"equal-shares"}
    results = await svc.envelope_results(rnd)
    reasons = {line.proposal.title: line.explanation.reason for r in results for line in r.lines}
    # East: A bought by its 3 supporters' shares; C by the greedy fill; B did not fit
    assert reasons == {
        "A": "funded_mes",
        "C": "funded_greedy",
        "B": "did_not_fit",
        "W": "funded_mes",
        "D": "funded_mes",
    }
    for r in results:
        assert r.outcome.total_cost_fen <= r.outcome.budget_fen


async def test_large_equal_shares_counts_run_in_worker_processes_with_the_same_outcome(
    db, monkeypatch
):
    """Large counts go to worker processes: one pool per server process, started by the first
    such count, reused by the next, stopped at shutdown (and started again after)."""
    rnd, council, p, _areas = await counted_round(rule="equal-shares")
    await svc.compute_results(council, rnd.id)
    in_process = {o.envelope_id: o.data for o in await Outcome.filter(round_id=rnd.id)}
    started = []
    real_pool = counting.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):
        started.append(kwargs["max_workers"])
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(counting, "PARALLEL_MIN_BALLOTS", 0)  # as if the round were district-sized
    monkeypatch.setattr(counting, "ProcessPoolExecutor", counting_pool)
    monkeypatch.setattr(counting.os, "cpu_count", lambda: 2)
    counting.shutdown_count_workers()
    try:
        await svc.compute_results(council, rnd.id)
        assert {o.envelope_id: o.data for o in await Outcome.filter(round_id=rnd.id)} == in_process
        await svc.compute_results(council, rnd.id)
        assert started == [2]  # the second count used the same workers
        pool = counting._pool
        counting.shutdown_count_workers()
        assert counting._pool is None
        with pytest.raises(RuntimeError):
            pool.submit(int)  # its processes are gone
        await svc.compute_results(council, rnd.id)
        assert started == [2, 2]
        assert {o.envelope_id: o.data for o in await Outcome.filter(round_id=rnd.id)} == in_process
    finally:
        counting.shutdown_count_workers()
