"""Twenty simultaneous submissions by one resident leave one response whose answers are one
complete set (one submission's, never a mix); answers racing the council's early closing are
either in before it or refused (PostgreSQL: real concurrent transactions)."""

from __future__ import annotations

import asyncio
import os

import pytest

from consult.models import Answer, QuestionnaireResponse
from consult.services import questionnaire_answers as answering
from consult.services import questionnaire_publishing as publishing
from core.errors import Conflict
from tests.consult.questionnaire_setup import answers, world
from tests.helpers import make_user

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 20
SINGLES = ["Yes", "Mostly", "No"]
MULTIPLES = [("Lighting",), ("Fraud", "E-bikes"), ("Lighting", "Fraud")]


def _submission(w, i: int) -> dict:
    return answers(
        w,
        single=SINGLES[i % 3],
        multiple=MULTIPLES[i % 3],
        scale=str(i % 5 + 1),
        text=f"submission {i}",
    )


async def test_twenty_simultaneous_submissions_leave_one_complete_set(db):
    w = await world()
    results = await asyncio.gather(
        *(answering.submit_response(w.alice, w.q.id, _submission(w, i)) for i in range(N)),
        return_exceptions=True,
    )
    assert [r for r in results if isinstance(r, Exception)] == []
    assert sum(1 for _response, created in results if created) == 1
    responses = await QuestionnaireResponse.filter(questionnaire_id=w.q.id)
    assert len(responses) == 1 and responses[0].version == N
    rows = await Answer.filter(response_id=responses[0].id)
    text = next(r.text for r in rows if r.question_id == w.text.id)
    i = int(text.split()[1])  # the submission whose answers were kept last
    expected = _submission(w, i)
    assert sorted(r.option_id for r in rows if r.question_id == w.multiple.id) == sorted(
        int(v) for v in expected[f"q{w.multiple.id}"]
    )
    assert [r.option_id for r in rows if r.question_id == w.single.id] == [
        int(expected[f"q{w.single.id}"])
    ]
    assert [r.scale for r in rows if r.question_id == w.scale.id] == [i % 5 + 1]
    assert len(rows) == 3 + len(MULTIPLES[i % 3])


async def test_answers_racing_the_closing_are_in_before_it_or_refused(db):
    w = await world()
    residents = [await make_user(f"r{i:02d}", area=w.east) for i in range(15)]
    calls = [
        answering.submit_response(r, w.q.id, _submission(w, i)) for i, r in enumerate(residents)
    ]
    calls.insert(7, publishing.close_questionnaire(w.council, w.q.id))
    results = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, Conflict)]
    assert unexpected == []
    q = results[7]
    accepted = await QuestionnaireResponse.filter(questionnaire_id=w.q.id)
    assert all(r.updated_at <= q.closes_at for r in accepted)
    refused = sum(1 for r in results if isinstance(r, Conflict))
    assert len(accepted) + refused == len(residents)


async def test_processes_announcing_an_opening_at_once_tell_each_follower_once(db):
    from datetime import UTC, datetime, timedelta

    from core.models import Follow, Notification

    w = await world(state="draft")  # opens tomorrow
    await Follow.create(user=w.alice, subject_type="questionnaire", subject_id=w.q.id)
    await publishing.publish_questionnaire(w.council, w.q.id)
    opened = datetime.now(UTC) + timedelta(days=2)
    counts = await asyncio.gather(
        *(publishing.announce_opened_questionnaires(opened) for _ in range(8))
    )
    assert sorted(counts) == [0] * 7 + [1]
    assert await Notification.filter(user_id=w.alice.id).count() == 1
