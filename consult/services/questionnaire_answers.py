"""Answering a questionnaire: a verified resident of its areas answers once, and may change
the answers until it closes; the form shows their previous answers.

Refusals, asked in this order: someone who may not answer at all (not a verified resident,
or of another area) gets 403; a questionnaire that is not open (not yet, or any more) 409;
bad answers 422 with a message per question. Nothing is written on any refusal.

The database keeps one response per resident (unique); a submission inserts it if missing,
then locks it and replaces its answers, all in one transaction: twenty simultaneous
submissions by one resident leave one response holding one complete set of answers. Each
submission holds a shared lock on the questionnaire, so closing it waits for the answers in
flight and an answer that comes after the closing finds it closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.transactions import in_transaction

from consult.models import (
    Answer,
    Question,
    Questionnaire,
    QuestionnaireResponse,
    QuestionnaireState,
    SubjectType,
)
from consult.permissions import may_answer
from consult.rules.questionnaires import (
    ParsedAnswer,
    QuestionSpec,
    field_name,
    validate_answers,
)
from consult.services.questionnaires import get_questionnaire, load_questions
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, PermissionDenied, ValidationError
from core.i18n import _, format_dt
from core.models import User
from core.permissions import is_verified_resident
from core.services.notifications import follow


def spec(question: Question) -> QuestionSpec:
    return QuestionSpec(
        id=question.id,
        kind=str(question.kind),
        required=question.required,
        option_ids=tuple(o.id for o in question.option_list),
        max_choices=question.max_choices,
        max_length=question.max_length,
    )


def raw_answers(questions: list[Question], data: Mapping[str, Any]) -> dict[int, list[str]]:
    """What the form sent for each question (every value of its field)."""
    out: dict[int, list[str]] = {}
    for question in questions:
        name = field_name(question.id)
        if hasattr(data, "getlist"):
            values = data.getlist(name)
        else:
            value = data.get(name)
            values = (
                value if isinstance(value, list | tuple) else ([] if value is None else [value])
            )
        out[question.id] = [str(v) for v in values]
    return out


def typed_answers(questions: list[Question], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The answers as typed, by field name, to show again after a refusal."""
    return {field_name(qid): values for qid, values in raw_answers(questions, data).items()}


def refusal(
    user: User | None, q: Questionnaire, now: datetime
) -> tuple[type[Exception], str] | None:
    """Why `user` may not answer now (the error to raise and its message), or None."""
    if not is_verified_resident(user):
        return PermissionDenied, _("Only verified residents answer questionnaires.")
    if not may_answer(q, user):
        return PermissionDenied, _("This questionnaire is for residents of other areas.")
    state = q.state_at(now)
    if state == QuestionnaireState.SCHEDULED:
        return Conflict, _(
            "This questionnaire is not open yet: it opens on {day}.", day=format_dt(q.opens_at)
        )
    if state != QuestionnaireState.OPEN:
        return Conflict, _(
            "This questionnaire has closed: answers can no longer be given or changed."
        )
    return None


async def _hold(conn: Any, questionnaire_id: int) -> None:
    """A shared lock on the questionnaire's row for the rest of the transaction (closing
    takes the exclusive one). SQLite has no row locks: taking the write lock at once puts
    writers one after the other."""
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(
            'SELECT "id" FROM "questionnaire" WHERE "id" = $1 FOR SHARE', [questionnaire_id]
        )
    else:
        await lock_rows(conn, Questionnaire, [questionnaire_id])


def _rows(response_id: int, questionnaire_id: int, parsed: list[ParsedAnswer]) -> list[Answer]:
    rows = []
    for a in parsed:
        base = {
            "response_id": response_id,
            "questionnaire_id": questionnaire_id,
            "question_id": a.question_id,
        }
        if a.option_ids:
            rows += [Answer(option_id=option_id, **base) for option_id in a.option_ids]
        elif a.scale is not None:
            rows.append(Answer(scale=a.scale, **base))
        else:
            rows.append(Answer(text=a.text, **base))
    return rows


async def submit_response(
    actor: User | None, questionnaire_id: int, data: Mapping[str, Any]
) -> tuple[QuestionnaireResponse, bool]:
    """Store (or replace) the actor's answers; returns the response and whether it is new.
    The resident follows the questionnaire from then on."""
    q = await get_questionnaire(questionnaire_id, actor)
    questions = await load_questions(q.id)
    reason = refusal(actor, q, datetime.now(UTC))
    if reason:
        raise reason[0](reason[1])
    parsed, errors = validate_answers([spec(x) for x in questions], raw_answers(questions, data))
    if errors:
        raise ValidationError(
            _("Please correct the marked answers; nothing was saved."), errors=errors
        )
    assert actor is not None
    async with in_transaction() as conn:
        await _hold(conn, q.id)
        fresh = await Questionnaire.get(id=q.id).using_db(conn)
        fresh.area_ids = q.area_ids
        now = datetime.now(UTC)
        reason = refusal(actor, fresh, now)
        if reason:
            raise reason[0](reason[1])
        await QuestionnaireResponse.bulk_create(
            [
                QuestionnaireResponse(
                    questionnaire_id=q.id,
                    respondent_id=actor.id,
                    area_id=actor.area_id,
                    created_at=now,
                    updated_at=now,
                    version=0,
                )
            ],
            ignore_conflicts=True,
            using_db=conn,
        )
        response_ids = await (
            QuestionnaireResponse.filter(questionnaire_id=q.id, respondent_id=actor.id)
            .using_db(conn)
            .values_list("id", flat=True)
        )
        response = (await lock_rows(conn, QuestionnaireResponse, list(response_ids)))[0]
        created = response.version == 0
        # a free-text answer the council hid stays hidden if it is given again unchanged
        hidden = {
            (a.question_id, a.text): a
            for a in await Answer.filter(response_id=response.id, hidden_at__isnull=False).using_db(
                conn
            )
        }
        await Answer.filter(response_id=response.id).using_db(conn).delete()
        rows = _rows(response.id, q.id, parsed)
        for row in rows:
            before = hidden.get((row.question_id, row.text)) if row.text else None
            if before is not None:
                row.hidden_at, row.hidden_by_id, row.hide_reason = (
                    before.hidden_at,
                    before.hidden_by_id,
                    before.hide_reason,
                )
        await Answer.bulk_create(rows, using_db=conn)
        response.version += 1
        response.updated_at = now
        response.area_id = actor.area_id
        await response.save(using_db=conn, update_fields=["version", "updated_at", "area_id"])
        await follow(actor.id, SubjectType.QUESTIONNAIRE, q.id, using_db=conn)
        await record(
            actor,
            "questionnaire.answer" if created else "questionnaire.change_answers",
            q,
            using_db=conn,
        )
    return response, created


async def own_response(user: User | None, questionnaire_id: int) -> QuestionnaireResponse | None:
    """The user's response, with `values` (their answers by field name, as the form wants
    them), or None."""
    if user is None:
        return None
    response = await QuestionnaireResponse.get_or_none(
        questionnaire_id=questionnaire_id, respondent_id=user.id
    )
    if response is None:
        return None
    values: dict[str, list[str]] = {}
    for a in await Answer.filter(response_id=response.id).only(
        "question_id", "option_id", "scale", "text"
    ):
        name = field_name(a.question_id)
        if a.option_id is not None:
            values.setdefault(name, []).append(str(a.option_id))
        elif a.scale is not None:
            values[name] = [str(a.scale)]
        else:
            values[name] = [a.text]
    response.values = values
    return response
