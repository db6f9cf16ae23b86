"""A discussion to test with: a voting round of East Gate with a proposal, an imported
election (a study) with a project, residents (verified and not), a council member and a
finance officer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from budget.models import Phase, Proposal, ProposalStatus, Round
from consult.models import Deliberation, DeliberationPhase, Meeting
from core.models import Area, Role, User
from tests.helpers import make_area, make_proposal, make_round, make_user


@dataclass
class Setup:
    east: Area
    alice: User  # verified resident of East Gate
    bob: User  # verified resident of East Gate
    dora: User  # resident, not verified
    council: User
    finance: User
    round: Round
    proposal: Proposal
    study: Round
    study_project: Proposal


async def setup() -> Setup:
    east = await make_area("East Gate")
    alice = await make_user("alice", area=east, display_name="Alice Wu")
    bob = await make_user("bob", area=east, display_name="Bob Li")
    dora = await make_user("dora", area=east, verified=False)
    council = await make_user("council", Role.COUNCIL, display_name="Chen Hui")
    finance = await make_user("finance", Role.FINANCE)
    rnd = await make_round(phase=Phase.VOTING, envelopes={east: 100_000_00})
    proposal = await make_proposal(
        rnd, alice, "Benches by the canal", area=east, status=ProposalStatus.FEASIBLE
    )
    study = await make_round("Imported election", phase=Phase.CLOSED, is_study=True)
    project = await make_proposal(study, None, "Imported project", area=east)
    return Setup(east, alice, bob, dora, council, finance, rnd, proposal, study, project)


async def make_deliberation(phase: DeliberationPhase) -> Deliberation:
    return await Deliberation.create(
        title="Waste sorting",
        phase=phase,
        starts_on=date(2026, 3, 1),
        ends_on=date(2026, 4, 30),
    )


async def make_meeting() -> Meeting:
    from datetime import UTC, datetime

    return await Meeting.create(
        title="Public-opinion talk",
        place="East Gate community hall",
        starts_at=datetime(2026, 5, 16, 7, 0, tzinfo=UTC),
    )


def form(body: str = "A comment", stance: str = "neutral") -> dict[str, str]:
    return {"body": body, "stance": stance}


async def many_threads(subject_type: str, subject_id: int, author: User, n: int) -> list:
    """`n` top-level comments, written at once (the rate limit is for people, not tests)."""
    from consult.models import Comment

    await Comment.bulk_create(
        [
            Comment(subject_type=subject_type, subject_id=subject_id, author=author, body=f"t{i}")
            for i in range(n)
        ]
    )
    return await Comment.filter(subject_type=subject_type, subject_id=subject_id).order_by("id")
