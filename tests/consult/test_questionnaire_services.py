"""Questionnaire services: building a draft, publishing (questions fixed, followers told),
closing early; answering once and changing until it closes; every refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult.models import (
    Answer,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    QuestionOption,
)
from consult.services import questionnaire_answers as answering
from consult.services import questionnaire_publishing as publishing
from consult.services import questionnaire_questions as builder
from consult.services import questionnaire_results as results
from consult.services import questionnaires as service
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry, Follow, Notification, Role
from tests.consult.questionnaire_setup import answers, world
from tests.helpers import make_user

SETTINGS = {
    "title": "社区安全问卷",
    "introduction": "请花两分钟回答。",
    "opens_on": "2026-12-01",
    "opens_time": "08:00",
    "closes_on": "2026-12-15",
    "closes_time": "20:00",
}


async def test_the_council_builds_a_draft_with_local_times_kept_in_utc(db):
    council = await make_user("council", role=Role.COUNCIL)
    q = await service.create_questionnaire(council, SETTINGS)
    assert q.published_at is None
    # 08:00 in Shanghai is 00:00 UTC
    assert q.opens_at == datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    assert q.closes_at == datetime(2026, 12, 15, 12, 0, tzinfo=UTC)
    assert service.settings_values(q)["opens_time"] == "08:00"
    question = await builder.add_question(
        council,
        q.id,
        {
            "kind": "multiple",
            "prompt": "担心什么？",
            "options": "偷盗\n诈骗\n\n电动车充电",
            "max_choices": "2",
            "required": "on",
        },
    )
    assert [o.label for o in await QuestionOption.filter(question_id=question.id)] == [
        "偷盗",
        "诈骗",
        "电动车充电",
    ]
    await builder.edit_question(
        council, q.id, question.id, {"kind": "single", "prompt": "安全吗？", "options": "是\n否"}
    )
    assert [o.label for o in await QuestionOption.filter(question_id=question.id)] == ["是", "否"]
    second = await builder.add_question(
        council, q.id, {"kind": "scale", "prompt": "路灯", "low_label": "差", "high_label": "好"}
    )
    await builder.move_question(council, q.id, second.id, "up")
    assert [x.id for x in await Question.filter(questionnaire_id=q.id)] == [second.id, question.id]
    await builder.delete_question(council, q.id, question.id)
    assert await Question.filter(questionnaire_id=q.id).count() == 1
    assert await AuditEntry.filter(action__startswith="questionnaire.").count() == 6


async def test_bad_settings_and_questions_are_refused_with_a_message_per_field(db):
    council = await make_user("council", role=Role.COUNCIL)
    with pytest.raises(ValidationError) as caught:
        await service.create_questionnaire(
            council, {**SETTINGS, "title": "", "closes_on": "2026-11-30", "opens_time": "8h"}
        )
    assert set(caught.value.errors) == {"title", "opens_time"}
    with pytest.raises(ValidationError) as caught:
        await service.create_questionnaire(council, {**SETTINGS, "closes_on": "2026-11-30"})
    assert caught.value.errors == {"closes_on": "The questionnaire must close after it opens."}
    q = await service.create_questionnaire(council, SETTINGS)
    with pytest.raises(ValidationError) as caught:
        await builder.add_question(
            council, q.id, {"kind": "single", "prompt": "?", "options": "only one"}
        )
    assert caught.value.errors == {"options": "Write at least two options, one per line."}
    with pytest.raises(ValidationError) as caught:
        await builder.add_question(
            council, q.id, {"kind": "single", "prompt": "?", "options": "a\na"}
        )
    assert caught.value.errors == {"options": "Each option must differ from the others."}
    assert await Question.all().count() == 0
    assert await Questionnaire.all().count() == 1


async def test_residents_may_not_build_questionnaires(db):
    w = await world(state="draft")
    with pytest.raises(PermissionDenied):
        await service.create_questionnaire(w.alice, SETTINGS)
    with pytest.raises(PermissionDenied):
        await builder.add_question(w.alice, w.q.id, {"kind": "text", "prompt": "?"})
    with pytest.raises(PermissionDenied):
        await publishing.publish_questionnaire(w.alice, w.q.id)
    with pytest.raises(NotFound):  # a draft is the council's alone
        await service.get_questionnaire(w.q.id, w.alice)


async def test_publishing_fixes_the_questions_and_tells_followers_when_it_opens(db):
    w = await world(state="draft")
    await Questionnaire.filter(id=w.q.id).update(opens_at=datetime.now(UTC) - timedelta(minutes=1))
    await Follow.create(user=w.alice, subject_type="questionnaire", subject_id=w.q.id)
    q = await publishing.publish_questionnaire(w.council, w.q.id)
    assert q.published_at is not None
    note = await Notification.get(user_id=w.alice.id)
    assert note.kind == "questionnaire_opened" and note.url == f"/consult/questionnaires/{q.id}"
    with pytest.raises(Conflict, match="can no longer change"):
        await builder.edit_question(w.council, q.id, w.single.id, {"kind": "text", "prompt": "x"})
    with pytest.raises(Conflict, match="already published"):
        await publishing.publish_questionnaire(w.council, w.q.id)


async def test_a_draft_without_questions_or_already_past_is_not_published(db):
    council = await make_user("council", role=Role.COUNCIL)
    q = await service.create_questionnaire(council, SETTINGS)
    with pytest.raises(Conflict, match="at least one question"):
        await publishing.publish_questionnaire(council, q.id)
    assert (await Questionnaire.get(id=q.id)).published_at is None


async def test_a_resident_answers_then_changes_the_answers(db):
    w = await world()
    response, created = await answering.submit_response(w.alice, w.q.id, answers(w))
    assert created
    response2, created2 = await answering.submit_response(
        w.alice, w.q.id, answers(w, single="No", multiple=("Fraud", "E-bikes"), scale="2", text="")
    )
    assert not created2 and response2.id == response.id
    assert await QuestionnaireResponse.all().count() == 1
    rows = await Answer.filter(response_id=response.id)
    assert sorted((r.question_id, r.option_id, r.scale, r.text) for r in rows) == sorted(
        [
            (w.single.id, w.options["No"], None, ""),
            (w.multiple.id, w.options["Fraud"], None, ""),
            (w.multiple.id, w.options["E-bikes"], None, ""),
            (w.scale.id, None, 2, ""),
        ]
    )
    own = await answering.own_response(w.alice, w.q.id)
    assert own.values[f"q{w.single.id}"] == [str(w.options["No"])]
    assert own.version == 2
    # answering makes the resident follow the questionnaire
    assert await Follow.filter(user_id=w.alice.id, subject_type="questionnaire").count() == 1
    assert await AuditEntry.filter(action="questionnaire.change_answers").count() == 1


async def test_refusals_write_nothing(db):
    w = await world()
    with pytest.raises(ValidationError) as caught:
        await answering.submit_response(w.alice, w.q.id, answers(w, single="", scale="9"))
    assert set(caught.value.errors) == {f"q{w.single.id}", f"q{w.scale.id}"}
    with pytest.raises(PermissionDenied, match="other areas"):
        await answering.submit_response(w.bob, w.q.id, answers(w))
    with pytest.raises(PermissionDenied):
        await answering.submit_response(w.council, w.q.id, answers(w))
    unverified = await make_user("carol", area=w.east, verified=False)
    with pytest.raises(PermissionDenied):
        await answering.submit_response(unverified, w.q.id, answers(w))
    assert await QuestionnaireResponse.all().count() == 0
    assert await Answer.all().count() == 0


@pytest.mark.parametrize("state", ["scheduled", "closed"])
async def test_answering_outside_the_dates_is_a_conflict(db, state):
    w = await world(state=state)
    with pytest.raises(Conflict):
        await answering.submit_response(w.alice, w.q.id, answers(w))
    assert await QuestionnaireResponse.all().count() == 0


async def test_answers_can_change_until_it_closes_early(db):
    w = await world()
    await answering.submit_response(w.alice, w.q.id, answers(w))
    q = await publishing.close_questionnaire(w.council, w.q.id)
    assert q.closed_early_at is not None and q.closes_at <= datetime.now(UTC)
    with pytest.raises(Conflict, match="has closed"):
        await answering.submit_response(w.alice, w.q.id, answers(w, single="No"))
    row = await Answer.get(question_id=w.single.id)
    assert row.option_id == w.options["Yes"]
    with pytest.raises(Conflict):
        await publishing.close_questionnaire(w.council, w.q.id)


async def test_results_count_those_who_answered_each_question(db):
    w = await world(limit_to_east=False)
    carol = await make_user("carol", area=w.east)
    await answering.submit_response(w.alice, w.q.id, answers(w, multiple=("Lighting", "Fraud")))
    await answering.submit_response(
        w.bob, w.q.id, answers(w, single="No", multiple=("Fraud",), scale="2", text="")
    )
    await answering.submit_response(
        carol, w.q.id, answers(w, multiple=(), scale="5", text="Cameras")
    )
    found = await results.results(await service.get_questionnaire(w.q.id))
    assert found.respondents == 3 and found.eligible == 3
    single, multiple, scale, text = found.questions
    assert [(o.label, o.count) for o in single.choices.options] == [
        ("Yes", 2),
        ("Mostly", 0),
        ("No", 1),
    ]
    assert multiple.answered == 2  # carol skipped it
    assert [(o.label, o.count, float(o.share)) for o in multiple.choices.options] == [
        ("Lighting", 1, 0.5),
        ("Fraud", 2, 1.0),
        ("E-bikes", 0, 0.0),
    ]
    assert scale.scale.mean * 3 == 4 + 2 + 5
    assert text.visible_texts == 2 and [a.text for a in text.texts] == ["More patrols", "Cameras"]


async def test_a_hidden_answer_is_neither_listed_nor_exported(db):
    w = await world()
    await answering.submit_response(w.alice, w.q.id, answers(w, text="Zhang on floor 3 is a thief"))
    q = await service.get_questionnaire(w.q.id)
    answer = await Answer.get(question_id=w.text.id)
    with pytest.raises(PermissionDenied):
        await results.hide_answer(w.alice, q, answer.id, "mine")
    with pytest.raises(ValidationError):
        await results.hide_answer(w.council, q, answer.id, "  ")
    await results.hide_answer(w.council, q, answer.id, "Names a neighbour")
    with pytest.raises(Conflict):
        await results.hide_answer(w.council, q, answer.id, "again")
    found = await results.results(q)
    assert found.questions[3].visible_texts == 0 and found.questions[3].hidden_texts == 1
    page = await results.text_answers_page(w.text, 1)
    assert page.total == 0
    assert "thief" not in await results.responses_csv(q)
    entry = await AuditEntry.get(action="questionnaire.hide_answer")
    assert entry.detail["reason"] == "Names a neighbour"
    # given again unchanged, it stays hidden
    await answering.submit_response(
        w.alice, w.q.id, answers(w, single="No", text="Zhang on floor 3 is a thief")
    )
    assert (await Answer.get(question_id=w.text.id)).hidden_at is not None


async def test_a_scheduled_questionnaire_is_announced_once_when_it_opens(db):
    w = await world(state="draft")  # opens tomorrow
    await Follow.create(user=w.alice, subject_type="questionnaire", subject_id=w.q.id)
    await publishing.publish_questionnaire(w.council, w.q.id)
    assert await publishing.announce_opened_questionnaires() == 0  # not open yet
    assert await Notification.filter(user_id=w.alice.id).count() == 0
    opened = datetime.now(UTC) + timedelta(days=2)
    assert await publishing.announce_opened_questionnaires(opened) == 1
    assert await publishing.announce_opened_questionnaires(opened) == 0  # once only
    note = await Notification.get(user_id=w.alice.id)
    assert note.kind == "questionnaire_opened" and note.url == f"/consult/questionnaires/{w.q.id}"
    assert (await Questionnaire.get(id=w.q.id)).announced_at == opened


async def test_one_announced_when_published_or_already_closed_is_not_announced_again(db):
    w = await world(state="draft")
    await Questionnaire.filter(id=w.q.id).update(opens_at=datetime.now(UTC) - timedelta(minutes=1))
    await Follow.create(user=w.alice, subject_type="questionnaire", subject_id=w.q.id)
    await publishing.publish_questionnaire(w.council, w.q.id)  # opens now: told at once
    assert await publishing.announce_opened_questionnaires() == 0
    assert await Notification.filter(user_id=w.alice.id).count() == 1
    await Questionnaire.filter(id=w.q.id).update(announced_at=None)
    after_closing = datetime.now(UTC) + timedelta(days=30)
    assert await publishing.announce_opened_questionnaires(after_closing) == 0
