"""Fifty simultaneous ratings of one answer leave one rating and a rated count of 1; council
members answering (or resolving) one need at once leave one answer, counted once (PostgreSQL:
real concurrent transactions, each on its own pooled connection)."""

from __future__ import annotations

import asyncio
import os

import pytest

from consult.models import Need, NeedStat
from consult.services import need_answers
from core.errors import Conflict
from core.models import Notification
from tests.consult.needs_setup import accept_form, answered, raise_one, town

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 50


async def test_fifty_simultaneous_ratings_leave_one(db, tmp_path):
    t = await town()
    need = await answered(t, tmp_path)
    results = await asyncio.gather(
        *(need_answers.rate_need(t.alice, need.id, {"rating": str(1 + i % 5)}) for i in range(N)),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, Need)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == N - 1
    assert all(isinstance(e, Conflict) for e in lost), lost[:3]
    row = await Need.get(id=need.id)
    assert row.rating == won[0].rating
    [stat] = await NeedStat.all()
    assert (stat.rated, stat.satisfied) == (1, int(row.rating >= 4))


async def test_council_members_answering_at_once_leave_one_answer(db, tmp_path):
    t = await town()
    need = await raise_one(t.alice, tmp_path)
    forms = [accept_form(), {"answer": "declined", "answer_note": "No"}] * 10
    results = await asyncio.gather(
        *(need_answers.answer_need(t.carol, need.id, form) for form in forms),
        return_exceptions=True,
    )
    assert len([r for r in results if isinstance(r, Need)]) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, Need))
    [stat] = await NeedStat.all()
    assert stat.answered == 1
    assert await Notification.filter(kind="need_answered").count() == 1
    results = await asyncio.gather(
        *(need_answers.resolve_need(t.carol, need.id, {"resolution_note": "x"}) for _ in range(10)),
        return_exceptions=True,
    )
    resolved = [r for r in results if isinstance(r, Need)]
    if (await Need.get(id=need.id)).answer == "accepted":
        assert len(resolved) == 1
        assert (await NeedStat.get(id=stat.id)).resolved == 1
    else:  # a declined need is not resolved
        assert resolved == []
