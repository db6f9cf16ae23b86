"""Shared setup for the needs tests: two areas, a resident and a grid worker in East, a
resident in West, a council member; and quick ways to raise and answer a need."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from consult.models import Need
from consult.services import need_answers, needs
from core.models import Area, Invitation, Role, User
from tests.helpers import make_area, make_user

NEED = {"title": "Broken lamp", "body": "The lamp at gate 3 is out.", "category": "roads"}


@dataclass
class Town:
    east: Area
    west: Area
    alice: User  # resident of East
    bob: User  # another resident of East
    wendy: User  # grid worker of East
    walt: User  # resident of West
    carol: User  # council


async def town() -> Town:
    east = await make_area("East Gate")
    west = await make_area("West River")
    alice = await make_user("alice", area=east, display_name="Alice Wang")
    bob = await make_user("bob", area=east, display_name="Alice Wang")  # a namesake
    wendy = await make_user("wendy", role=Role.GRID_WORKER, area=east)
    walt = await make_user("walt", area=west)
    carol = await make_user("carol", role=Role.COUNCIL)
    await Invitation.create(code="A1", area=east, household="Building 3, flat 201", used_by=alice)
    await Invitation.create(code="B1", area=east, household="Building 7, flat 502", used_by=bob)
    return Town(east, west, alice, bob, wendy, walt, carol)


async def raise_one(user: User, upload_dir: Path, **changes) -> Need:
    return await needs.raise_need(
        user, {**NEED, **changes}, [], upload_dir=upload_dir, max_bytes=5_000_000
    )


def accept_form(days: int = 10) -> dict:
    return {
        "answer": "accepted",
        "owner": "Property office",
        "due_on": (date.today() + timedelta(days=days)).isoformat(),
    }


async def answered(t: Town, upload_dir: Path) -> Need:
    need = await raise_one(t.alice, upload_dir)
    return await need_answers.answer_need(t.carol, need.id, accept_form())
