"""Round services against the database: opening, editing, locking, moving phases."""

from __future__ import annotations

from datetime import date

import pytest

from budget.models import BallotType, Envelope, Phase, ProposalStatus, Round
from budget.services import rounds
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditEntry, Role
from tests.helpers import make_area, make_proposal, make_round, make_user


def round_data(**changes) -> dict:
    data = {
        "title": "2026 micro-projects",
        "description": "For small works.",
        "fund": "500,000",
        "ballot_type": "budget_approval",
        "rule": "greedy",
        "proposing_starts": "2026-03-01",
        "reviewing_starts": "2026-04-01",
        "voting_starts": "2026-05-01",
        "results_starts": "2026-05-15",
        "implementing_starts": "2026-06-01",
        "closes": "2026-12-31",
    }
    data.update(changes)
    return data


async def envelopes(rnd: Round) -> dict:
    return {e.area_id: e.budget_fen for e in await Envelope.filter(round_id=rnd.id)}


async def test_create_round_with_area_envelopes_and_district_rest(db):
    council = await make_user("chair", role=Role.COUNCIL)
    east, west = await make_area("East"), await make_area("West")
    rnd = await rounds.create_round(
        council,
        round_data(**{f"envelope_{east.id}": "200000", f"envelope_{west.id}": "150000.50"}),
    )
    assert rnd.phase == Phase.PROPOSING and rnd.fund_fen == 500_000_00
    assert rnd.voting_starts == date(2026, 5, 1)
    assert await envelopes(rnd) == {east.id: 200_000_00, west.id: 150_000_50, None: 149_999_50}
    assert await AuditEntry.filter(action="round.create", subject_id=rnd.id).count() == 1


async def test_no_area_envelopes_means_all_district_wide_and_no_rest_means_none(db):
    council = await make_user("chair", role=Role.COUNCIL)
    east = await make_area("East")
    rnd = await rounds.create_round(council, round_data())
    assert await envelopes(rnd) == {None: 500_000_00}
    full = await rounds.create_round(council, round_data(**{f"envelope_{east.id}": "500000"}))
    assert await envelopes(full) == {east.id: 500_000_00}


async def test_envelopes_over_fund_refused(db):
    council = await make_user("chair", role=Role.COUNCIL)
    east, west = await make_area("East"), await make_area("West")
    with pytest.raises(ValidationError) as exc:
        await rounds.create_round(
            council,
            round_data(**{f"envelope_{east.id}": "300000", f"envelope_{west.id}": "300000"}),
        )
    assert "envelopes" in exc.value.errors
    assert await Round.all().count() == 0


async def test_dates_out_of_order_refused(db):
    council = await make_user("chair", role=Role.COUNCIL)
    with pytest.raises(ValidationError) as exc:
        await rounds.create_round(council, round_data(voting_starts="2026-03-15"))
    assert set(exc.value.errors) == {"voting_starts"}
    with pytest.raises(ValidationError) as exc:
        await rounds.create_round(council, round_data(proposing_starts="", closes="31/12/2026"))
    assert set(exc.value.errors) == {"proposing_starts", "closes"}


async def test_ballot_type_needs_its_number(db):
    council = await make_user("chair", role=Role.COUNCIL)
    with pytest.raises(ValidationError) as exc:
        await rounds.create_round(council, round_data(ballot_type="approval"))
    assert set(exc.value.errors) == {"max_choices"}
    with pytest.raises(ValidationError) as exc:
        await rounds.create_round(council, round_data(ballot_type="points", points_total="0"))
    assert set(exc.value.errors) == {"points_total"}
    with pytest.raises(ValidationError) as exc:
        await rounds.create_round(council, round_data(ballot_type="lottery", rule="dice"))
    assert set(exc.value.errors) == {"ballot_type", "rule"}
    rnd = await rounds.create_round(
        council, round_data(ballot_type="approval", max_choices="5", points_total="99")
    )
    assert rnd.max_choices == 5 and rnd.points_total is None


async def test_only_staff_open_rounds(db):
    area = await make_area()
    resident = await make_user("res", area=area)
    with pytest.raises(PermissionDenied):
        await rounds.create_round(resident, round_data())


async def test_edit_before_voting_changes_rules_and_envelopes(db):
    council = await make_user("chair", role=Role.COUNCIL)
    east = await make_area("East")
    rnd = await rounds.create_round(council, round_data())
    await rounds.edit_round(
        council,
        rnd,
        round_data(
            title="Renamed",
            fund="600000",
            ballot_type="points",
            points_total="10",
            **{f"envelope_{east.id}": "100000"},
        ),
    )
    rnd = await Round.get(id=rnd.id)
    assert rnd.title == "Renamed" and rnd.fund_fen == 600_000_00
    assert rnd.ballot_type == BallotType.POINTS and rnd.points_total == 10
    assert await envelopes(rnd) == {east.id: 100_000_00, None: 500_000_00}
    entry = await AuditEntry.get(action="round.edit")
    assert entry.detail["title"] == "Renamed"


async def test_rules_locked_once_voting_opens(db):
    council = await make_user("chair", role=Role.COUNCIL)
    east = await make_area("East")
    rnd = await make_round(phase=Phase.VOTING, envelopes={east: 60_000_00, None: 40_000_00})
    # title and dates may change; the rule fields are not sent by the read-only form
    data = round_data(title="Still editable")
    for key in ("fund", "ballot_type", "rule"):
        data.pop(key)
    await rounds.edit_round(council, rnd, data)
    assert (await Round.get(id=rnd.id)).title == "Still editable"
    # the same values are accepted, a change is refused with 403
    same = round_data(fund="100000", **{f"envelope_{east.id}": "60000"})
    await rounds.edit_round(council, rnd, same)
    with pytest.raises(PermissionDenied):
        await rounds.edit_round(council, rnd, round_data(fund="999999"))
    with pytest.raises(PermissionDenied):
        await rounds.edit_round(council, rnd, {**same, f"envelope_{east.id}": "1"})
    with pytest.raises(PermissionDenied):
        await rounds.edit_round(council, rnd, {**same, "ballot_type": "points"})
    rnd = await Round.get(id=rnd.id)
    assert rnd.fund_fen == 100_000_00 and rnd.ballot_type == BallotType.BUDGET_APPROVAL
    assert await envelopes(rnd) == {east.id: 60_000_00, None: 40_000_00}


async def test_advance_phase(db):
    council = await make_user("chair", role=Role.COUNCIL)
    area = await make_area()
    resident = await make_user("res", area=area)
    rnd = await make_round(phase=Phase.REVIEWING)
    with pytest.raises(PermissionDenied):
        await rounds.advance_phase(resident, rnd)
    moved = await rounds.advance_phase(council, rnd, "reviewing")
    assert moved.phase == Phase.VOTING and moved.locked
    # a second click on the same confirmation page changes nothing
    with pytest.raises(Conflict):
        await rounds.advance_phase(council, rnd, "reviewing")
    assert (await Round.get(id=rnd.id)).phase == Phase.VOTING
    entry = await AuditEntry.get(action="round.advance")
    assert entry.detail == {"from": "reviewing", "to": "voting"} and entry.public
    closed = await make_round(title="Old", phase=Phase.CLOSED)
    with pytest.raises(PermissionDenied):
        await rounds.advance_phase(council, closed)


async def test_counts_and_warnings_before_voting(db):
    area = await make_area()
    author = await make_user("author", area=area)
    rnd = await make_round(phase=Phase.REVIEWING)
    await make_proposal(rnd, author, "A")
    await make_proposal(rnd, author, "B")
    await make_proposal(rnd, author, "C", status=ProposalStatus.INFEASIBLE)
    assert await rounds.proposal_counts(rnd) == {"submitted": 2, "infeasible": 1}
    warnings = await rounds.advance_warnings(rnd)
    assert len(warnings) == 2 and "2" in warnings[0]
