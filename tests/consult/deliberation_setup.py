"""A small district for deliberation tests: two areas, a council member, residents of each,
and helpers to make rounds, statements and votes directly."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from consult.models import (
    Choice,
    Deliberation,
    DeliberationArea,
    DeliberationPhase,
    Statement,
    StatementStatus,
    StatementVote,
)
from core.models import Area, Role, User
from tests.helpers import make_area, make_user


async def make_deliberation(
    title: str = "How should we sort our waste?",
    phase: DeliberationPhase = DeliberationPhase.COLLECTING,
    areas: tuple[Area, ...] = (),
    starts_on: date = date(2026, 3, 1),
    ends_on: date = date(2026, 4, 30),
    **kwargs,
) -> Deliberation:
    d = await Deliberation.create(
        title=title, phase=phase, starts_on=starts_on, ends_on=ends_on, **kwargs
    )
    for area in areas:
        await DeliberationArea.create(deliberation=d, area=area)
    return d


async def make_statement(
    d: Deliberation,
    author: User | None,
    body: str = "More sorting guidance at the bins",
    status: StatementStatus = StatementStatus.APPROVED,
    **kwargs,
) -> Statement:
    return await Statement.create(deliberation=d, author=author, body=body, status=status, **kwargs)


async def make_vote(statement: Statement, voter: User, choice: Choice) -> StatementVote:
    return await StatementVote.create(
        statement=statement,
        deliberation_id=statement.deliberation_id,
        voter=voter,
        area_id=voter.area_id,
        choice=choice,
    )


@dataclass
class District:
    east: Area
    west: Area
    council: User
    alice: User  # East
    bob: User  # East
    carol: User  # West
    unverified: User  # East, not verified
    d: Deliberation  # East only, collecting


async def district(phase: DeliberationPhase = DeliberationPhase.COLLECTING) -> District:
    east = await make_area("East Gate")
    west = await make_area("West River")
    council = await make_user("council", role=Role.COUNCIL)
    alice = await make_user("alice", area=east, display_name="Alice Liu")
    bob = await make_user("bob", area=east, display_name="Bob Wang")
    carol = await make_user("carol", area=west, display_name="Carol Chen")
    unverified = await make_user("dave", area=east, verified=False)
    d = await make_deliberation(phase=phase, areas=(east,))
    return District(east, west, council, alice, bob, carol, unverified, d)
