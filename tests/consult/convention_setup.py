"""A small district for convention tests: two areas, residents (two of East sharing a
household through their invitation codes), a council member, and conventions in each state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from consult.models import Convention
from consult.services import convention_phases as phases
from consult.services import conventions
from core.i18n import local_today
from core.models import Area, Invitation, Role, User
from tests.helpers import make_area, make_user


@dataclass
class District:
    east: Area
    west: Area
    council: User
    alice: User  # East, household 3-101
    amy: User  # East, household 3-101 too
    bob: User  # East, no household recorded
    wendy: User  # West


async def district() -> District:
    east = await make_area("East Gate")
    west = await make_area("West Lake")
    council = await make_user("council", role=Role.COUNCIL)
    alice = await make_user("alice", area=east)
    amy = await make_user("amy", area=east)
    bob = await make_user("bob", area=east)
    wendy = await make_user("wendy", area=west)
    for i, user in enumerate((alice, amy)):
        await Invitation.create(code=f"C{i}", area=east, household="3-101", used_by=user)
    return District(east, west, council, alice, amy, bob, wendy)


def settings(s: District, **changes) -> dict:
    today = local_today()
    form = {
        "title": "East Gate residents' convention",
        "preamble": "为建设文明和谐社区，制定本公约。",
        "opens_on": today.isoformat(),
        "closes_on": (today + timedelta(days=30)).isoformat(),
        "areas": [str(s.east.id)],
        "turnout_percent": "50",
        "majority": "simple",
        "voting_unit": "resident",
    }
    form.update(changes)
    return form


CLAUSES = [
    ("爱护环境", "不乱扔垃圾，垃圾分类投放。"),
    ("文明养犬", "出门遛狗须拴绳。"),
    ("停车秩序", "车辆停放在划线车位内。"),
]


async def draft(s: District, **changes) -> Convention:
    c = await conventions.create_convention(s.council, settings(s, **changes))
    for heading, body in CLAUSES:
        await conventions.add_clause(s.council, c.id, {"heading": heading, "body": body})
    return c


async def consulting(s: District, **changes) -> Convention:
    c = await draft(s, **changes)
    return await phases.open_consultation(s.council, c.id)


async def ratifying(s: District, **changes) -> Convention:
    c = await consulting(s, **changes)
    return await phases.open_ratification(s.council, c.id)
