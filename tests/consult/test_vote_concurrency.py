"""Fifty simultaneous votes by one resident on one statement leave exactly one vote row, and
the round's votes version is raised once per vote without a deadlock (PostgreSQL: real
concurrent transactions, each on its own pooled connection)."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from consult.models import Choice, Deliberation, StatementVote
from consult.services import votes
from tests.consult.deliberation_setup import district, make_statement
from tests.helpers import csrf_token, login, make_user

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 50
CHOICES = [Choice.AGREE, Choice.DISAGREE, Choice.PASS]


async def test_fifty_simultaneous_votes_leave_one_row(db):
    s = await district()
    statement = await make_statement(s.d, s.bob, "Bins downstairs")
    before = (await Deliberation.get(id=s.d.id)).votes_version
    results = await asyncio.gather(
        *(votes.vote_statement(s.alice, statement.id, CHOICES[i % 3]) for i in range(N)),
        return_exceptions=True,
    )
    errors = [r for r in results if isinstance(r, Exception)]
    assert errors == []
    rows = await StatementVote.filter(statement_id=statement.id)
    assert len(rows) == 1
    assert rows[0].voter_id == s.alice.id and rows[0].choice in CHOICES
    assert {r.id for r in results} == {rows[0].id}
    assert (await Deliberation.get(id=s.d.id)).votes_version == before + N


async def test_fifty_simultaneous_http_votes_leave_one_row(app, db):
    s = await district()
    statement = await make_statement(s.d, s.bob, "Bins downstairs")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "alice")
        token = await csrf_token(client, f"/consult/deliberations/{s.d.id}")
        responses = await asyncio.gather(
            *(
                client.post(
                    f"/consult/statements/{statement.id}/vote",
                    data={"choice": CHOICES[i % 3].value, "csrf_token": token},
                )
                for i in range(N)
            )
        )
    assert [r.status_code for r in responses] == [303] * N, [r.text[:200] for r in responses]
    assert await StatementVote.filter(statement_id=statement.id).count() == 1


async def test_many_residents_voting_at_once_lose_no_vote(db):
    s = await district()
    statements = [await make_statement(s.d, s.bob, f"S{i}") for i in range(4)]
    residents = [await make_user(f"r{i:02d}", area=s.east) for i in range(30)]
    before = (await Deliberation.get(id=s.d.id)).votes_version
    calls = [
        votes.vote_statement(r, st.id, CHOICES[(i + j) % 3])
        for i, r in enumerate(residents)
        for j, st in enumerate(statements)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert await StatementVote.all().count() == len(calls)
    assert (await Deliberation.get(id=s.d.id)).votes_version == before + len(calls)
