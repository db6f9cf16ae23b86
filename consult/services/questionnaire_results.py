"""A questionnaire's results: per question the counts and percentages (of the respondents who
answered it), the mean of a 1–5 scale, the free-text answers (a page at a time; those a
council member hid are neither listed nor exported), respondents and turnout; hiding a
free-text answer; and the CSV exports, which name nobody.

The figures come from a fixed number of grouped queries whatever the number of responses.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from consult.models import Answer, Question, QuestionKind, Questionnaire, QuestionnaireResponse
from consult.permissions import can
from consult.rules.comments import clean_line
from consult.rules.questionnaires import (
    Bar,
    ChoiceResult,
    ScaleResult,
    bars,
    tally_choices,
    tally_scale,
    turnout,
)
from consult.services.questionnaires import eligible_count, load_questions
from core.audit import record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import User
from core.web.pagination import Page

TEXT_SAMPLE = 5  # free-text answers shown on the results page; the rest on their own pages
TEXT_PAGE = 20
MAX_REASON = 200
BOM = "\ufeff"  # Excel opens UTF-8 (Chinese) correctly only with it


@dataclass
class QuestionResult:
    question: Question
    answered: int = 0
    choices: ChoiceResult | None = None
    scale: ScaleResult | None = None
    bars: list[Bar] = field(default_factory=list)
    height: int = 0
    texts: list[Answer] = field(default_factory=list)  # the first visible ones
    visible_texts: int = 0
    hidden_texts: int = 0


@dataclass
class Results:
    respondents: int
    eligible: int
    turnout: Fraction | None
    questions: list[QuestionResult]


async def _counts(questionnaire_id: int) -> tuple[dict, dict, dict, dict]:
    """Respondents per question, choices per option, scale values per question, and visible
    and hidden free-text answers per question: four grouped queries."""
    answered = dict(
        await Answer.filter(questionnaire_id=questionnaire_id)
        .group_by("question_id")
        .annotate(n=Count("response_id", distinct=True))
        .values_list("question_id", "n")
    )
    options = dict(
        await Answer.filter(questionnaire_id=questionnaire_id, option_id__isnull=False)
        .group_by("option_id")
        .annotate(n=Count("id"))
        .values_list("option_id", "n")
    )
    scales: dict[int, dict[int, int]] = {}
    for question_id, value, n in await (
        Answer.filter(questionnaire_id=questionnaire_id, scale__isnull=False)
        .group_by("question_id", "scale")
        .annotate(n=Count("id"))
        .values_list("question_id", "scale", "n")
    ):
        scales.setdefault(question_id, {})[value] = n
    texts: dict[tuple[int, bool], int] = {}
    for question_id, hidden, n in await (
        Answer.filter(questionnaire_id=questionnaire_id, option_id__isnull=True, scale__isnull=True)
        .group_by("question_id", "hidden_at")
        .annotate(n=Count("id"))
        .values_list("question_id", "hidden_at", "n")
    ):
        key = (question_id, hidden is not None)
        texts[key] = texts.get(key, 0) + n
    return answered, options, scales, texts


async def results(q: Questionnaire) -> Results:
    """Every question's figures, with chart bars, and respondents and turnout."""
    questions = await load_questions(q.id)
    answered, options, scales, texts = await _counts(q.id)
    respondents = await QuestionnaireResponse.filter(questionnaire_id=q.id).count()
    eligible = await eligible_count(q)
    out = []
    for question in questions:
        r = QuestionResult(question, answered.get(question.id, 0))
        kind = question.kind_enum
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            r.choices = tally_choices(
                [(o.id, o.label) for o in question.option_list], options, r.answered
            )
            rows = [(o.label, o.count, o.share) for o in r.choices.options]
            r.bars, r.height = bars(rows)
        elif kind == QuestionKind.SCALE:
            r.scale = tally_scale(scales.get(question.id, {}))
            rows = [(str(v), n, part) for v, n, part in r.scale.distribution]
            r.bars, r.height = bars(rows)
        else:
            r.visible_texts = texts.get((question.id, False), 0)
            r.hidden_texts = texts.get((question.id, True), 0)
            if r.visible_texts:
                r.texts = list(await _visible_texts(question.id).limit(TEXT_SAMPLE))
        out.append(r)
    return Results(respondents, eligible, turnout(respondents, eligible), out)


def _visible_texts(question_id: int):
    return Answer.filter(
        question_id=question_id, option_id__isnull=True, scale__isnull=True, hidden_at__isnull=True
    ).order_by("id")


async def text_question(q: Questionnaire, question_id: int) -> Question:
    question = await Question.get_or_none(id=question_id, questionnaire_id=q.id)
    if question is None or question.kind != QuestionKind.TEXT:
        raise NotFound(_("This question does not exist."))
    return question


async def text_answers_page(question: Question, number: int | None) -> Page:
    """A page of a free-text question's visible answers, oldest first."""
    qs = _visible_texts(question.id)
    total = await qs.count()
    pages = max(1, -(-total // TEXT_PAGE))
    number = min(max(1, number or 1), pages)
    items = list(await qs.offset((number - 1) * TEXT_PAGE).limit(TEXT_PAGE))
    return Page(items, number, TEXT_PAGE, total)


async def get_text_answer(q: Questionnaire, answer_id: int) -> Answer:
    answer = await Answer.get_or_none(id=answer_id, questionnaire_id=q.id).select_related(
        "question"
    )
    if answer is None or answer.question.kind != QuestionKind.TEXT:
        raise NotFound(_("This answer does not exist."))
    return answer


async def hide_answer(
    actor: User | None, q: Questionnaire, answer_id: int, reason: object
) -> Answer:
    """A council member hides a free-text answer, with a reason (kept in the audit log)."""
    if not can(actor, "moderate_answers", q):
        raise PermissionDenied(_("Only council members hide answers."))
    text = clean_line(reason)
    if not text:
        raise ValidationError(errors={"reason": _("Say why the answer is hidden.")})
    if len(text) > MAX_REASON:
        raise ValidationError(errors={"reason": _("At most {n} characters.", n=MAX_REASON)})
    async with in_transaction() as conn:
        answer = await get_text_answer(q, answer_id)
        now = datetime.now(UTC)
        updated = await (
            Answer.filter(id=answer.id, hidden_at__isnull=True)
            .using_db(conn)
            .update(hidden_at=now, hidden_by_id=actor.id, hide_reason=text)
        )
        if not updated:
            raise Conflict(_("This answer is already hidden."))
        await record(
            actor, "questionnaire.hide_answer", q, using_db=conn, answer=answer.id, reason=text
        )
    answer.hidden_at, answer.hide_reason = now, text
    return answer


# --- CSV exports ------------------------------------------------------------------------------


def _csv(rows: list[list[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(rows)
    return BOM + out.getvalue()


def _header(question: Question) -> str:
    return f"{question.number}. {question.prompt}"


async def responses_csv(q: Questionnaire) -> str:
    """One row per response in a random order, numbered 1…n: no names, no user ids, no
    times; a column per question (multiple choices as "A; B"; hidden free text blank)."""
    questions = await load_questions(q.id)
    labels = {o.id: o.label for question in questions for o in question.option_list}
    response_ids = list(
        await QuestionnaireResponse.filter(questionnaire_id=q.id).values_list("id", flat=True)
    )
    random.SystemRandom().shuffle(response_ids)
    cells: dict[int, dict[int, list[str]]] = {rid: {} for rid in response_ids}
    rows = (
        await Answer.filter(questionnaire_id=q.id)
        .order_by("id")
        .values_list("response_id", "question_id", "option_id", "scale", "text", "hidden_at")
    )
    for response_id, question_id, option_id, scale, text, hidden_at in rows:
        if option_id is not None:
            value = labels.get(option_id, "")
        elif scale is not None:
            value = str(scale)
        else:
            value = "" if hidden_at is not None else text
        cells.setdefault(response_id, {}).setdefault(question_id, []).append(value)
    order = {question.id: {o.id: o.label for o in question.option_list} for question in questions}
    table: list[list[Any]] = [[_("Response"), *(_header(question) for question in questions)]]
    for n, rid in enumerate(response_ids, 1):
        row: list[Any] = [n]
        for question in questions:
            values = cells[rid].get(question.id, [])
            if question.kind_enum == QuestionKind.MULTIPLE:
                ranks = {label: i for i, label in enumerate(order[question.id].values())}
                values = sorted(values, key=lambda v: ranks.get(v, 0))
            row.append("; ".join(v for v in values if v))
        table.append(row)
    return _csv(table)


def _percent(part: Fraction | None) -> str:
    return "" if part is None else f"{float(part) * 100:.1f}"


async def summary_csv(q: Questionnaire) -> str:
    """One row per option (or scale value): its count and its percentage of those who
    answered the question; a scale's mean; a free-text question's number of answers."""
    found = await results(q)
    table: list[list[Any]] = [
        [
            _("Question"),
            _("Answer"),
            _("Count"),
            _("Percent of those who answered"),
            _("People who answered"),
        ]
    ]
    for r in found.questions:
        head = _header(r.question)
        if r.choices is not None:
            for o in r.choices.options:
                table.append([head, o.label, o.count, _percent(o.share), r.answered])
        elif r.scale is not None:
            for value, n, part in r.scale.distribution:
                table.append([head, value, n, _percent(part), r.answered])
            mean = "" if r.scale.mean is None else f"{float(r.scale.mean):.2f}"
            table.append([head, _("Mean"), mean, "", r.answered])
        else:
            table.append([head, _("Free-text answers shown"), r.visible_texts, "", r.answered])
    return _csv(table)
