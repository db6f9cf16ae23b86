"""Voting services: cast, change, paper vs online, phases and areas, receipts."""

from __future__ import annotations

import pytest

from budget.models import (
    Ballot,
    BallotChoice,
    BallotType,
    Channel,
    Phase,
    ProposalStatus,
)
from budget.services import ballot_form
from budget.services import voting as svc
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry, Role
from tests.conftest import ON_POSTGRES
from tests.helpers import make_area, make_proposal, make_round, make_user

FEASIBLE = ProposalStatus.FEASIBLE


async def voting_setup(ballot_type=BallotType.BUDGET_APPROVAL, **round_kwargs):
    east = await make_area("East Gate")
    west = await make_area("West Bank")
    rnd = await make_round(
        phase=Phase.VOTING,
        ballot_type=ballot_type,
        fund_fen=250_000_00,
        envelopes={east: 100_000_00, west: 100_000_00, None: 50_000_00},
        **round_kwargs,
    )
    alice = await make_user("alice", area=east)
    p = {
        "benches": await make_proposal(rnd, alice, "Benches", 40_000_00, east, FEASIBLE),
        "lights": await make_proposal(rnd, alice, "Lights", 50_000_00, east, FEASIBLE),
        "garden": await make_proposal(rnd, alice, "Garden", 40_000_00, east, FEASIBLE),
        "pending": await make_proposal(rnd, alice, "Pending", 10_000_00, east),
        "west": await make_proposal(rnd, alice, "West ramp", 10_000_00, west, FEASIBLE),
        "library": await make_proposal(rnd, alice, "Library", 30_000_00, None, FEASIBLE),
    }
    return rnd, east, west, alice, p


async def test_ballot_shows_own_area_and_district_feasible_projects(db):
    rnd, east, west, alice, p = await voting_setup()
    envelopes = await ballot_form.ballot_envelopes(rnd, east.id)
    assert [e.key for e in envelopes] == [str(east.id), "district"]
    assert [x.title for x in envelopes[0].projects] == ["Benches", "Garden", "Lights"]
    assert [x.title for x in envelopes[1].projects] == ["Library"]
    assert envelopes[0].budget_fen == 100_000_00


async def test_cast_then_change(db):
    rnd, east, west, alice, p = await voting_setup()
    ballot = await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1, p["library"].id: 1})
    assert ballot.channel == Channel.ONLINE and ballot.area_id == east.id
    assert len(ballot.receipt) == svc.RECEIPT_LENGTH
    assert set(ballot.receipt) <= set(svc.RECEIPT_ALPHABET)
    again = await svc.cast_ballot(alice, rnd.id, {p["lights"].id: 1})
    assert again.id == ballot.id and again.receipt == ballot.receipt
    assert await Ballot.filter(round_id=rnd.id).count() == 1
    assert await BallotChoice.filter(ballot_id=ballot.id).values_list("proposal_id", flat=True) == [
        p["lights"].id
    ]
    # the log says that alice voted (and changed her vote) in the round, never which ballot
    entries = await AuditEntry.filter(action__startswith="ballot.").order_by("id")
    assert [(e.action, e.actor_id, e.subject_type, e.subject_id) for e in entries] == [
        ("ballot.cast", alice.id, "round", rnd.id),
        ("ballot.changed", alice.id, "round", rnd.id),
    ]
    assert all(e.detail == {"channel": "online"} for e in entries)
    saved = await svc.ballot_of(rnd.id, alice.id)
    assert saved.choice_map == {p["lights"].id: 1}


async def test_invalid_ballots_save_nothing(db):
    rnd, east, west, alice, p = await voting_setup()
    over = {p["benches"].id: 1, p["lights"].id: 1, p["garden"].id: 1}
    with pytest.raises(ValidationError) as exc:
        await svc.cast_ballot(alice, rnd.id, over)
    assert "130,000" in exc.value.errors[str(east.id)]
    for bad in ({p["west"].id: 1}, {p["pending"].id: 1}, {999999: 1}, {}):
        with pytest.raises(ValidationError):
            await svc.cast_ballot(alice, rnd.id, bad)
    assert await Ballot.all().count() == 0


async def test_approval_and_points_limits(db):
    rnd, east, west, alice, p = await voting_setup(BallotType.APPROVAL, max_choices=2)
    with pytest.raises(ValidationError) as exc:
        await svc.cast_ballot(
            alice, rnd.id, {p["benches"].id: 1, p["lights"].id: 1, p["garden"].id: 1}
        )
    assert "at most 2" in exc.value.errors[str(east.id)]
    await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1, p["lights"].id: 1})

    rnd2, east2, *_rest = await _points_round()
    bob = await make_user("bob", area=east2)
    envs = await ballot_form.ballot_envelopes(rnd2, east2.id)
    a, b = envs[0].projects
    with pytest.raises(ValidationError) as exc:
        await svc.cast_ballot(bob, rnd2.id, {a.id: 7, b.id: 5})
    assert "12 points of 10" in exc.value.errors[str(east2.id)]
    ballot = await svc.cast_ballot(bob, rnd2.id, {a.id: 7, b.id: 3})
    assert dict(
        await BallotChoice.filter(ballot_id=ballot.id).values_list("proposal_id", "points")
    ) == {a.id: 7, b.id: 3}


async def _points_round():
    area = await make_area("North")
    rnd = await make_round(
        "Points round",
        phase=Phase.VOTING,
        ballot_type=BallotType.POINTS,
        points_total=10,
        envelopes={area: 100_000_00},
    )
    await make_proposal(rnd, None, "A", 10_000_00, area, FEASIBLE)
    await make_proposal(rnd, None, "B", 10_000_00, area, FEASIBLE)
    return rnd, area


@pytest.mark.parametrize("phase", [Phase.PROPOSING, Phase.REVIEWING, Phase.RESULTS])
async def test_voting_outside_the_voting_phase_is_refused(db, phase):
    rnd, east, west, alice, p = await voting_setup()
    rnd.phase = phase
    await rnd.save()
    with pytest.raises(PermissionDenied):
        await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1})


async def test_unverified_and_staff_cannot_vote(db):
    rnd, east, west, alice, p = await voting_setup()
    for user in (
        await make_user("unverified", area=east, verified=False),
        await make_user("council", role=Role.COUNCIL),
        None,
    ):
        with pytest.raises(PermissionDenied):
            await svc.cast_ballot(user, rnd.id, {p["library"].id: 1})


async def test_paper_ballot_by_grid_worker_of_the_area(db):
    rnd, east, west, alice, p = await voting_setup()
    worker = await make_user("grid", role=Role.GRID_WORKER, area=east)
    bob = await make_user("bob", area=east)
    ballot = await svc.enter_paper_ballot(worker, rnd.id, bob.id, {p["benches"].id: 1})
    assert ballot.channel == Channel.PAPER and ballot.entered_by_id == worker.id
    assert ballot.voter_id == bob.id
    entry = await AuditEntry.get(action="ballot.paper_entered")
    assert entry.actor_id == worker.id and (entry.subject_type, entry.subject_id) == (
        "round",
        rnd.id,
    )
    assert entry.detail == {"channel": "paper", "resident": bob.id}  # no ballot, no choices
    # a correction replaces it
    await svc.enter_paper_ballot(worker, rnd.id, bob.id, {p["garden"].id: 1})
    assert await Ballot.filter(voter_id=bob.id).count() == 1
    # the resident cannot also vote online
    with pytest.raises(Conflict):
        await svc.cast_ballot(bob, rnd.id, {p["lights"].id: 1})
    assert (await svc.ballot_of(rnd.id, bob.id)).choice_map == {p["garden"].id: 1}


async def test_no_paper_ballot_for_who_voted_online(db):
    rnd, east, west, alice, p = await voting_setup()
    worker = await make_user("grid", role=Role.GRID_WORKER, area=east)
    await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1})
    with pytest.raises(Conflict) as exc:
        await svc.enter_paper_ballot(worker, rnd.id, alice.id, {p["lights"].id: 1})
    assert "already voted online" in exc.value.message
    ballot = await svc.ballot_of(rnd.id, alice.id)
    assert ballot.channel == Channel.ONLINE and ballot.choice_map == {p["benches"].id: 1}


async def test_paper_ballot_refusals(db):
    rnd, east, west, alice, p = await voting_setup()
    worker = await make_user("grid", role=Role.GRID_WORKER, area=east)
    westerner = await make_user("wes", area=west)
    with pytest.raises(PermissionDenied):  # another area
        await svc.enter_paper_ballot(worker, rnd.id, westerner.id, {p["west"].id: 1})
    with pytest.raises(PermissionDenied):  # a resident is not a grid worker
        await svc.enter_paper_ballot(alice, rnd.id, westerner.id, {p["west"].id: 1})
    with pytest.raises(PermissionDenied):  # themselves
        await svc.enter_paper_ballot(worker, rnd.id, worker.id, {p["benches"].id: 1})
    rnd.phase = Phase.RESULTS
    await rnd.save()
    bob = await make_user("bob", area=east)
    with pytest.raises(PermissionDenied):  # voting closed
        await svc.enter_paper_ballot(worker, rnd.id, bob.id, {p["benches"].id: 1})
    assert await Ballot.all().count() == 0


async def test_paper_candidates_are_own_area_voters(db):
    rnd, east, west, alice, p = await voting_setup()
    worker = await make_user("grid", role=Role.GRID_WORKER, area=east)
    await make_user("bob", area=east, display_name="Bob Li")
    await make_user("wes", area=west)
    await make_user("newbie", area=east, verified=False)
    names = [u.username for u in await svc.paper_candidates(worker)]
    assert names == ["alice", "bob"]
    assert [u.username for u in await svc.paper_candidates(worker, "Bob L")] == ["bob"]


async def test_receipt_lookup(db):
    rnd, east, west, alice, p = await voting_setup()
    ballot = await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1})
    found = await svc.find_receipt(svc.format_receipt(ballot.receipt).lower())
    assert found.id == ballot.id and found.round.id == rnd.id
    assert await svc.find_receipt("NOPE") is None
    assert await svc.find_receipt("") is None
    assert svc.normalise_receipt(" abcde-fghjk ") == "ABCDEFGHJK"


async def test_ballot_shows_what_changed_during_voting_at_once(db):
    """Nothing of a ballot is kept between requests: an area renamed or a cost revised while
    voting is open (by another worker process, straight in the database) shows on the next
    ballot, and a cast is checked against the new cost."""
    from budget.models import Proposal
    from core.models import Area

    rnd, east, west, alice, p = await voting_setup()
    before = await ballot_form.ballot_envelopes(rnd, east.id)
    assert before[0].name == "East Gate"
    await Area.filter(id=east.id).update(name="East Gate North")
    await Proposal.filter(id=p["benches"].id).update(revised_cost_fen=70_000_00)
    after = await ballot_form.ballot_envelopes(rnd, east.id)
    assert after[0].name == "East Gate North"
    assert {x.title: x.effective_cost_fen for x in after[0].projects}["Benches"] == 70_000_00
    with pytest.raises(ValidationError):
        await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1, p["garden"].id: 1})
    assert await Ballot.filter(round_id=rnd.id).count() == 0


async def test_a_new_ballot_row_is_written_with_every_column(db):
    """The first-ballot INSERT is plain SQL: it names every column of the table but the id
    (a new column fails here rather than being left at its default), and the row it writes
    reads back as the ballot that was returned."""
    assert set(svc.BALLOT_INSERT_COLUMNS) == set(Ballot._meta.db_fields) - {"id"}
    rnd, east, west, alice, p = await voting_setup()
    ballot = await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1})
    stored = await Ballot.get(id=ballot.id)
    assert (stored.round_id, stored.voter_id, stored.area_id, stored.channel) == (
        rnd.id,
        alice.id,
        east.id,
        Channel.ONLINE,
    )
    assert stored.receipt == ballot.receipt and stored.entered_by_id is None
    assert stored.created_at is not None and stored.updated_at is not None


async def test_first_ballot_after_voting_closed_under_a_stale_round_writes_nothing(db):
    """The round was read while voting was open and closed before the ballot was written (on
    PostgreSQL the first ballot is one statement that re-reads the phase): refused, and no
    ballot, choice or audit entry is left."""
    rnd, east, west, alice, p = await voting_setup()
    from budget.models import Round

    await Round.filter(id=rnd.id).update(phase=Phase.RESULTS)
    assert rnd.phase == Phase.VOTING  # what the endpoint had loaded
    with pytest.raises(PermissionDenied):
        await svc.cast_ballot(alice, rnd, {p["benches"].id: 1})
    assert await Ballot.filter(round_id=rnd.id).count() == 0
    assert await BallotChoice.all().count() == 0
    assert await AuditEntry.filter(action__startswith="ballot.").count() == 0


async def test_points_ballot_first_cast_stores_each_projects_points(db):
    rnd, east, west, alice, p = await voting_setup(BallotType.POINTS, points_total=10)
    ballot = await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 7, p["library"].id: 3})
    saved = await svc.ballot_of(rnd.id, alice.id)
    assert saved.id == ballot.id and saved.receipt == ballot.receipt
    assert saved.choice_map == {p["benches"].id: 7, p["library"].id: 3}
    with pytest.raises(ValidationError):
        await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 11, p["library"].id: 3})
    assert (await svc.ballot_of(rnd.id, alice.id)).choice_map == saved.choice_map


@pytest.mark.skipif(not ON_POSTGRES, reason="one-query reads are PostgreSQL's")
async def test_round_for_ballot_reads_the_round_as_tortoise_does(db):
    """The round a cast reads with its envelopes in one query (a model made from a raw row,
    tortoise-orm pinned) is the round `Round.get` reads, and the specs name only the chosen
    projects that are feasible and on the voter's ballot."""
    from budget.models import Round

    rnd, east, west, alice, p = await voting_setup(max_choices=3)
    ids = [p["benches"].id, p["pending"].id, p["west"].id, p["library"].id, 10**6]
    read, specs = await svc.round_for_ballot(rnd.id, alice, ids)
    expected = await Round.get(id=rnd.id)
    for name in Round._meta.fields_map:
        if name in Round._meta.fetch_fields:
            continue
        assert getattr(read, name) == getattr(expected, name), name
    assert [(s.key, s.budget_fen) for s in specs] == [
        (str(east.id), 100_000_00),
        ("district", 50_000_00),
    ]
    assert specs[0].costs == {p["benches"].id: 40_000_00}
    assert specs[1].costs == {p["library"].id: 30_000_00}
    with pytest.raises(NotFound):
        await svc.round_for_ballot(rnd.id + 1000, alice, ids)


@pytest.mark.skipif(not ON_POSTGRES, reason="first ballots in one statement are PostgreSQL's")
async def test_a_first_ballot_comes_back_as_the_row_written(db):
    """The first-ballot statement's Ballot is made from the values written, as Tortoise makes
    a row read back (`_init_from_db`, tortoise-orm pinned): it equals the row, field by field,
    and saves like any other."""
    rnd, east, west, alice, p = await voting_setup()
    ballot = await svc.cast_ballot(alice, rnd.id, {p["benches"].id: 1})
    row = await Ballot.get(id=ballot.id)
    fields = Ballot._meta.db_fields
    assert {f: getattr(ballot, f) for f in fields} == {f: getattr(row, f) for f in fields}
    assert not ballot._partial and ballot._saved_in_db
    ballot.channel = Channel.PAPER
    await ballot.save(update_fields=["channel"])
    assert (await Ballot.get(id=ballot.id)).channel == Channel.PAPER
