"""The database holds the discussion's limits when requests arrive at once (PostgreSQL: real
concurrent transactions): at most 10 comments a minute per user, however many posts race;
one report per resident and comment; a reply never lands on a comment hidden before it."""

from __future__ import annotations

import asyncio
import os

import httpx
import pytest

from consult.models import Comment, CommentReport
from consult.services import comments as svc
from core.errors import Conflict, RateLimited, ValidationError
from tests.consult.discussion_setup import form, setup
from tests.helpers import csrf_token, login, make_user

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 20


async def test_two_posts_at_the_limit_cannot_both_pass(db):
    s = await setup()
    for i in range(svc.RATE_LIMIT - 1):
        await svc.post_comment(s.alice, "proposal", s.proposal.id, form(f"c{i}"))
    results = await asyncio.gather(
        svc.post_comment(s.alice, "proposal", s.proposal.id, form("left")),
        svc.post_comment(s.alice, "round", s.round.id, form("right")),
        return_exceptions=True,
    )
    assert sorted(type(r).__name__ for r in results) == ["Comment", "RateLimited"]
    assert await Comment.filter(author_id=s.alice.id).count() == svc.RATE_LIMIT


async def test_many_simultaneous_posts_by_one_user_keep_the_limit(db):
    s = await setup()
    top = await svc.post_comment(s.bob, "proposal", s.proposal.id, form("top"))
    calls = [
        svc.reply_to_comment(s.alice, top.id, form(f"r{i}"))
        if i % 2
        else svc.post_comment(s.alice, "proposal", s.proposal.id, form(f"c{i}"))
        for i in range(N)
    ]
    results = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, RateLimited)]
    assert unexpected == []
    posted = [r for r in results if isinstance(r, Comment)]
    assert len(posted) == svc.RATE_LIMIT
    assert await Comment.filter(author_id=s.alice.id).count() == svc.RATE_LIMIT
    replies = await Comment.filter(root_id=top.id).count()
    assert (await Comment.get(id=top.id)).reply_count == replies  # no increment lost


async def test_different_users_are_not_held_back_by_each_other(db):
    s = await setup()
    residents = [await make_user(f"r{i:02d}", area=s.east) for i in range(N)]
    results = await asyncio.gather(
        *(svc.post_comment(r, "proposal", s.proposal.id, form("hi")) for r in residents),
        return_exceptions=True,
    )
    assert all(isinstance(r, Comment) for r in results), results
    assert await Comment.filter(subject_id=s.proposal.id).count() == N


async def test_simultaneous_posts_over_http_are_limited_too(app, db):
    s = await setup()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        await login(client, "alice")
        token = await csrf_token(client, f"/budget/proposals/{s.proposal.id}")
        url = f"/consult/discussions/proposal/{s.proposal.id}/comments"
        responses = await asyncio.gather(
            *(client.post(url, data={**form(f"c{i}"), "csrf_token": token}) for i in range(N))
        )
    codes = sorted(r.status_code for r in responses)
    assert codes == [303] * svc.RATE_LIMIT + [429] * (N - svc.RATE_LIMIT)
    assert await Comment.filter(author_id=s.alice.id).count() == svc.RATE_LIMIT


async def test_simultaneous_reports_by_one_resident_make_one(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("spam"))
    results = await asyncio.gather(
        *(svc.report_comment(s.bob, comment.id, {"reason": f"r{i}"}) for i in range(N)),
        return_exceptions=True,
    )
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert unexpected == []
    assert len([r for r in results if isinstance(r, CommentReport)]) == 1
    assert await CommentReport.filter(comment_id=comment.id).count() == 1
    assert (await Comment.get(id=comment.id)).report_count == 1


async def test_no_reply_lands_on_a_comment_hidden_before_it(db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("rude"))
    residents = [await make_user(f"r{i:02d}", area=s.east) for i in range(N)]
    replies = [svc.reply_to_comment(r, top.id, form("answer")) for r in residents]
    results = await asyncio.gather(
        *replies[: N // 2],
        svc.hide_comment(s.council, top.id, {"reason": "personal attack"}),
        *replies[N // 2 :],
        return_exceptions=True,
    )
    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, ValidationError)
    ]
    assert unexpected == []
    hidden = await Comment.get(id=top.id)
    assert hidden.hidden
    accepted = await Comment.filter(root_id=top.id)
    assert all(c.created_at <= hidden.hidden_at for c in accepted)
    assert hidden.reply_count == len(accepted)
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(accepted) + len(refused) == N
