"""Many simultaneous ballot submissions for the same resident produce exactly one ballot with
one consistent set of choices (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from budget.models import Ballot, BallotChoice, Phase, ProposalStatus
from budget.services import voting
from core.errors import Conflict
from core.models import Role
from tests.helpers import (
    csrf_token,
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
)

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 20


async def _setup():
    area = await make_area("East Gate")
    rnd = await make_round(
        phase=Phase.VOTING, fund_fen=1_000_000_00, envelopes={area: 1_000_000_00}
    )
    projects = [
        await make_proposal(rnd, None, f"Project {i}", 10_000_00, area, ProposalStatus.FEASIBLE)
        for i in range(N)
    ]
    resident = await make_user("alice", area=area)
    return rnd, area, projects, resident


async def _assert_one_consistent_ballot(rnd, resident, submitted: list[set[int]]):
    ballots = await Ballot.filter(round_id=rnd.id, voter_id=resident.id)
    assert len(ballots) == 1
    assert await Ballot.filter(round_id=rnd.id).count() == 1
    choices = set(
        await BallotChoice.filter(ballot_id=ballots[0].id).values_list("proposal_id", flat=True)
    )
    assert choices in submitted  # exactly one submission's choices, never a mix


async def test_concurrent_cast_ballot_makes_one_ballot(db):
    rnd, area, projects, resident = await _setup()
    submitted = [{projects[i].id, projects[(i + 1) % N].id} for i in range(N)]
    results = await asyncio.gather(
        *(voting.cast_ballot(resident, rnd.id, dict.fromkeys(s, 1)) for s in submitted),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    assert len({b.id for b in results}) == 1
    await _assert_one_consistent_ballot(rnd, resident, submitted)


async def test_concurrent_online_and_paper_make_one_ballot(db):
    rnd, area, projects, resident = await _setup()
    worker = await make_user("grid", role=Role.GRID_WORKER, area=area)
    submitted = [{projects[i].id} for i in range(N)]
    calls = [
        voting.cast_ballot(resident, rnd.id, {projects[i].id: 1})
        if i % 2
        else voting.enter_paper_ballot(worker, rnd.id, resident.id, {projects[i].id: 1})
        for i in range(N)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert not unexpected, unexpected
    await _assert_one_consistent_ballot(rnd, resident, submitted)
    ballot = await Ballot.get(voter_id=resident.id)
    # whichever channel won, every submission of the other channel was refused
    won = [r for r in results if not isinstance(r, Exception)]
    assert all(b.channel == ballot.channel for b in won)


async def test_concurrent_http_posts_make_one_ballot(app, db):
    rnd, area, projects, resident = await _setup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "alice")
        # the session cookie is shared by every request below, signed in as Alice
        assert client.cookies.get("yishi_session")
        ballot_page = await client.get(f"/budget/rounds/{rnd.id}/ballot")
        assert ballot_page.status_code == 200
        assert "Alice" in page_text(ballot_page.text)
        csrf = await csrf_token(client, f"/budget/rounds/{rnd.id}/ballot")
        submitted = [{projects[i].id, projects[(i + 3) % N].id} for i in range(N)]
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/budget/rounds/{rnd.id}/ballot",
                    data={"project": [str(p) for p in s], "csrf_token": csrf},
                )
                for s in submitted
            )
        )
    assert [r.status_code for r in responses] == [303] * N, [r.text[:300] for r in responses]
    await _assert_one_consistent_ballot(rnd, resident, submitted)


async def test_no_ballot_commits_after_voting_closes(db):
    """A council member closes voting while 50 residents cast: every ballot that was accepted
    was written before the close, and every later one was refused (nothing dated after it)."""
    from budget.models import Round
    from budget.services.rounds import advance_phase
    from core.errors import PermissionDenied

    rnd, area, projects, _resident = await _setup()
    residents = [await make_user(f"r{i:02d}", area=area) for i in range(50)]
    chair = await make_user("chair", role=Role.COUNCIL)
    casts = [
        voting.cast_ballot(r, rnd.id, {projects[i % N].id: 1}) for i, r in enumerate(residents)
    ]
    results = await asyncio.gather(
        *casts[:10], advance_phase(chair, rnd), *casts[10:], return_exceptions=True
    )
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, PermissionDenied)
    ]
    assert unexpected == []
    closed = await Round.get(id=rnd.id)
    assert closed.phase == Phase.RESULTS
    ballots = await Ballot.filter(round_id=rnd.id)
    accepted = [r for r in results if isinstance(r, Ballot)]
    assert len(ballots) == len(accepted)
    late = [b.id for b in ballots if b.created_at >= closed.updated_at]
    assert late == []
    refused = [r for r in results if isinstance(r, PermissionDenied)]
    assert len(accepted) + len(refused) == 50


async def test_publishing_while_counting_applies_the_count_it_publishes(db):
    """Council members count again and publish at the same moment, 20 times each: exactly one
    publication, and the proposals show exactly the frozen count that is published (never a
    count replaced between publishing's read and its commit)."""
    from budget.models import Outcome, Proposal, Round
    from budget.services import results
    from core.errors import PermissionDenied
    from core.models import AuditEntry

    rnd, area, projects, _resident = await _setup()
    for i, resident in enumerate([await make_user(f"r{i:02d}", area=area) for i in range(12)]):
        await voting.cast_ballot(resident, rnd.id, {projects[j].id: 1 for j in range(i % 5 + 1)})
    await Round.filter(id=rnd.id).update(phase=Phase.RESULTS)
    chair = await make_user("chair", role=Role.COUNCIL)
    await results.compute_results(chair, rnd.id)
    calls = []
    for _ in range(N):
        calls += [results.compute_results(chair, rnd.id), results.publish_results(chair, rnd.id)]
    done = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [r for r in done if isinstance(r, Exception)]
    assert all(isinstance(r, PermissionDenied) for r in unexpected), unexpected
    assert sum(isinstance(r, Round) for r in done) == 1
    assert await AuditEntry.filter(action="results.published", subject_id=rnd.id).count() == 1
    (outcome,) = await Outcome.filter(round_id=rnd.id)
    funded = set(
        await Proposal.filter(round_id=rnd.id, status=ProposalStatus.FUNDED).values_list(
            "id", flat=True
        )
    )
    assert funded == {int(key) for key in outcome.data["selected"]} and funded
    assert not await Proposal.filter(round_id=rnd.id, status=ProposalStatus.FEASIBLE).exists()
