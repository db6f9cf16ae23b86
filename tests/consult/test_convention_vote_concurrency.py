"""Fifty simultaneous ratification votes by one resident leave exactly one voter row and one
counted vote; two members of one household voting at once (household mode) leave one; many
residents voting at once lose none (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from consult.models import Convention, RatificationVoter
from consult.services.ratification import cast_vote
from core.errors import Conflict
from tests.consult.convention_setup import district, ratifying
from tests.helpers import csrf_token, login, make_user

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 50
CHOICES = ["yes", "no", "abstain"]


def _counted(c: Convention) -> int:
    return c.yes_votes + c.no_votes + c.abstentions


async def test_fifty_simultaneous_votes_by_one_resident_count_once(db):
    s = await district()
    c = await ratifying(s)
    results = await asyncio.gather(
        *(cast_vote(s.alice, c.id, CHOICES[i % 3]) for i in range(N)), return_exceptions=True
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == N - 1 and all(isinstance(e, Conflict) for e in errors)
    assert await RatificationVoter.filter(convention_id=c.id).count() == 1
    assert _counted(await Convention.get(id=c.id)) == 1


async def test_fifty_simultaneous_http_votes_count_once(app, db):
    s = await district()
    c = await ratifying(s)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "alice")
        token = await csrf_token(client, f"/consult/conventions/{c.id}")
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/consult/conventions/{c.id}/vote",
                    data={"choice": CHOICES[i % 3], "csrf_token": token},
                )
                for i in range(N)
            )
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [303] + [409] * (N - 1)
    assert await RatificationVoter.filter(convention_id=c.id).count() == 1
    assert _counted(await Convention.get(id=c.id)) == 1


async def test_two_members_of_a_household_at_once_count_once(db):
    s = await district()
    c = await ratifying(s, voting_unit="household")
    results = await asyncio.gather(
        cast_vote(s.alice, c.id, "yes"), cast_vote(s.amy, c.id, "no"), return_exceptions=True
    )
    assert sum(isinstance(r, Conflict) for r in results) == 1
    assert await RatificationVoter.filter(convention_id=c.id).count() == 1
    assert _counted(await Convention.get(id=c.id)) == 1


async def test_many_residents_voting_at_once_lose_no_vote(db):
    s = await district()
    c = await ratifying(s)
    residents = [await make_user(f"r{i:02d}", area=s.east) for i in range(40)]
    results = await asyncio.gather(
        *(cast_vote(r, c.id, CHOICES[i % 3]) for i, r in enumerate(residents)),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    fresh = await Convention.get(id=c.id)
    assert (fresh.yes_votes, fresh.no_votes, fresh.abstentions) == (14, 13, 13)
