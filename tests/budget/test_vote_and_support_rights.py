"""Every ballot action checks who may vote, the running-total preview too; a resident supports
only proposals they could vote for (their own area's and district-wide ones)."""

from __future__ import annotations

import pytest

from budget.models import BallotType, Phase, ProposalStatus, Support
from budget.services import proposal_changes
from core.errors import PermissionDenied
from core.models import Role
from tests.helpers import login, make_area, make_proposal, make_round, make_user, post_form

FEASIBLE = ProposalStatus.FEASIBLE


@pytest.mark.parametrize("role", [Role.COUNCIL, Role.FINANCE, Role.ADMIN])
async def test_the_ballot_preview_is_refused_to_staff(client, db, role):
    east = await make_area("East Gate")
    rnd = await make_round(phase=Phase.VOTING, envelopes={east: 100_000_00})
    project = await make_proposal(rnd, None, "Benches", 10_000_00, east, FEASIBLE)
    await make_user("staff", role=role, area=east if role == Role.COUNCIL else None)
    await login(client, "staff")
    response = await post_form(
        client,
        f"/budget/rounds/{rnd.id}/ballot",
        {"project": str(project.id), "preview": "1"},
    )
    assert response.status_code == 403


async def test_the_ballot_preview_needs_an_open_vote(client, db):
    east = await make_area("East Gate")
    proposing = await make_round("Proposing", phase=Phase.PROPOSING, envelopes={east: 100_00})
    voting = await make_round(
        "Voting", phase=Phase.VOTING, ballot_type=BallotType.APPROVAL, envelopes={east: 100_00}
    )
    project = await make_proposal(voting, None, "Benches", 50_00, east, FEASIBLE)
    await make_user("alice", area=east)
    await login(client, "alice")
    response = await post_form(client, f"/budget/rounds/{proposing.id}/ballot", {"preview": "1"})
    assert response.status_code == 403
    response = await post_form(
        client,
        f"/budget/rounds/{voting.id}/ballot",
        {"project": str(project.id), "preview": "1"},
    )
    assert response.status_code == 200


async def test_support_only_for_own_area_or_district_wide(client, db):
    east, west = await make_area("East Gate"), await make_area("West Bank")
    rnd = await make_round(phase=Phase.PROPOSING, envelopes={east: 100_00, west: 100_00})
    author = await make_user("author", area=east)
    eastern = await make_proposal(rnd, author, "East benches", 50_00, east)
    district = await make_proposal(rnd, author, "Library", 50_00, None)
    own = await make_proposal(rnd, author, "West lights", 50_00, west)
    bob = await make_user("bob", area=west)
    with pytest.raises(PermissionDenied) as exc:
        await proposal_changes.toggle_support(bob, eastern.id)
    assert "your own area and district-wide" in exc.value.message
    await login(client, "bob")
    page = await client.get(f"/budget/proposals/{eastern.id}")
    assert "Support this proposal" not in page.text
    assert "Only residents of East Gate can support this proposal." in page.text
    response = await post_form(client, f"/budget/proposals/{eastern.id}/support")
    assert response.status_code == 403
    for proposal in (district, own):
        response = await post_form(client, f"/budget/proposals/{proposal.id}/support")
        assert response.status_code == 303
    supported = set(await Support.filter(user_id=bob.id).values_list("proposal_id", flat=True))
    assert supported == {district.id, own.id}
