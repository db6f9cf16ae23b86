"""The demo district: the promised shape, consistent ballots, and accounts that sign in."""

from __future__ import annotations

from collections import Counter

from budget.demo import DEMO_LOGINS, load_demo_data
from budget.models import (
    Ballot,
    BallotChoice,
    Category,
    Channel,
    Envelope,
    Outcome,
    Phase,
    Proposal,
    ProposalStatus,
    Review,
    Round,
)
from budget.permissions import can
from budget.rules.ballots import EnvelopeSpec, validate_ballot
from core.models import Area, AuditEntry, Role, User
from tests.helpers import PASSWORD, login, page_text


async def test_demo_has_the_promised_shape(db):
    await load_demo_data(PASSWORD)

    assert await Area.all().count() == 4
    roles = Counter(await User.all().values_list("role", flat=True))
    assert set(roles) == set(Role)
    assert roles[Role.RESIDENT] >= 300
    assert await User.filter(role=Role.RESIDENT, verified=True).count() == roles[Role.RESIDENT]
    per_area = Counter(await User.filter(role=Role.RESIDENT).values_list("area_id", flat=True))
    assert len(per_area) == 4 and min(per_area.values()) >= 50

    voting = await Round.get(phase=Phase.VOTING)
    finished = await Round.get(results_published_at__not_isnull=True)
    assert await Round.all().count() == 2
    assert finished.phase == Phase.IMPLEMENTING  # counted, published, then moved on
    for rnd in (voting, finished):
        envelopes = await Envelope.filter(round_id=rnd.id)
        assert len(envelopes) == 5
        assert sum(e.budget_fen for e in envelopes) == rnd.fund_fen
        assert voting.voting_starts < voting.results_starts

    proposals = await Proposal.all()
    assert 35 <= len(proposals) <= 45
    assert {p.category for p in proposals} == set(Category)
    assert all(20_000_00 <= p.cost_fen <= 300_000_00 for p in proposals)
    done = Counter(p.status for p in proposals if p.round_id == finished.id)
    for status in (
        ProposalStatus.FUNDED,
        ProposalStatus.NOT_FUNDED,
        ProposalStatus.INFEASIBLE,
        ProposalStatus.MERGED,
        ProposalStatus.WITHDRAWN,
    ):
        assert done[status] >= 1, status
    assert ProposalStatus.FEASIBLE not in done  # every counted proposal has a verdict
    now = Counter(p.status for p in proposals if p.round_id == voting.id)
    assert now[ProposalStatus.FEASIBLE] >= 15 and now[ProposalStatus.INFEASIBLE] >= 1
    assert all(p.merged_into_id for p in proposals if p.status == ProposalStatus.MERGED)
    assert await Review.all().count() >= 30
    assert await Outcome.filter(round_id=finished.id).count() == 5
    assert any(p.support_count > 0 for p in proposals)

    # every proposal has a public history
    histories = Counter(
        await AuditEntry.filter(subject_type="proposal", public=True).values_list(
            "subject_id", flat=True
        )
    )
    assert all(histories[p.id] >= 1 for p in proposals)


async def test_demo_ballots_are_valid_and_mixed(db):
    await load_demo_data(PASSWORD)
    for rnd in await Round.all():
        ballots = await Ballot.filter(round_id=rnd.id).select_related("voter", "entered_by")
        assert len(ballots) >= 150
        channels = Counter(b.channel for b in ballots)
        assert channels[Channel.ONLINE] > channels[Channel.PAPER] > 0
        assert len({b.receipt for b in ballots}) == len(ballots)
        for b in ballots:
            assert b.area_id == b.voter.area_id
            if b.channel == Channel.PAPER:
                assert b.entered_by.role == Role.GRID_WORKER
                assert b.entered_by.area_id == b.area_id
        envelopes = {e.area_id: e.budget_fen for e in await Envelope.filter(round_id=rnd.id)}
        counted = await Proposal.filter(
            round_id=rnd.id,
            status__in=[ProposalStatus.FEASIBLE, ProposalStatus.FUNDED, ProposalStatus.NOT_FUNDED],
        )
        choices: dict[int, dict[int, int]] = {}
        for ballot_id, pid in await BallotChoice.filter(ballot__round_id=rnd.id).values_list(
            "ballot_id", "proposal_id"
        ):
            choices.setdefault(ballot_id, {})[pid] = 1
        for b in ballots:
            specs = [
                EnvelopeSpec(
                    str(area),
                    envelopes[area],
                    {p.id: p.effective_cost_fen for p in counted if p.area_id == area},
                )
                for area in (b.area_id, None)
            ]
            assert validate_ballot("budget_approval", specs, choices.get(b.id, {})).ok


async def test_demo_logins_sign_in(client, db):
    await load_demo_data(PASSWORD)
    usernames = [u for u, _role in DEMO_LOGINS]
    assert set(await User.filter(username__in=usernames).values_list("role", flat=True)) == set(
        Role
    )
    for username in usernames:
        client.cookies.clear()
        await login(client, username, PASSWORD)

    voting = await Round.get(phase=Phase.VOTING)
    resident = await User.get(username="resident")
    assert can(resident, "vote", voting)
    assert not await Ballot.exists(round_id=voting.id, voter_id=resident.id)
    assert await Ballot.exists(round_id=voting.id, voter_id=(await User.get(username="voter")).id)
    client.cookies.clear()
    await login(client, "resident", PASSWORD)
    response = await client.get(f"/budget/rounds/{voting.id}/ballot")
    assert response.status_code == 200

    funded = await Proposal.filter(status=ProposalStatus.FUNDED).first()
    response = await client.get(f"/budget/proposals/{funded.id}")
    assert response.status_code == 200
    assert funded.title in page_text(response.text)
