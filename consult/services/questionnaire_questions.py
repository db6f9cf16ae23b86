"""Questionnaires: a draft's questions, built by the council (added, changed with their
options, removed, moved up or down) until the questionnaire is published; then they are fixed.
Each change takes the questionnaire's row lock (consult.services.questionnaires)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from consult.models import MAX_TEXT_ANSWER, Question, QuestionKind, QuestionOption
from consult.services.questionnaires import draft_only, locked
from core.audit import record
from core.errors import NotFound, ValidationError
from core.forms import parse_int, text
from core.i18n import _
from core.models import User

MAX_PROMPT = 300
MAX_HELP = 300
MAX_OPTION = 200
MAX_OPTIONS = 20
MAX_LABEL = 40
MAX_QUESTIONS = 50
DEFAULT_TEXT_LENGTH = 500
QUESTION_FIELDS = ("kind", "prompt", "help_text", "options", "max_choices", "low_label")
QUESTION_FIELDS += ("high_label", "max_length")


# --- questions --------------------------------------------------------------------------------


@dataclass
class QuestionInput:
    kind: QuestionKind
    prompt: str
    help_text: str
    required: bool
    options: list[str]
    max_choices: int | None
    low_label: str
    high_label: str
    max_length: int | None


def parse_question(data: Mapping[str, Any]) -> QuestionInput:
    """A question from its form: options one per line (choice questions), labels of the
    scale's ends, the longest free-text answer."""
    errors: dict[str, str] = {}
    kind_raw = str(data.get("kind") or "")
    if kind_raw not in QuestionKind._value2member_map_:
        errors["kind"] = _("Choose the kind of question.")
        kind = QuestionKind.SINGLE
    else:
        kind = QuestionKind(kind_raw)
    prompt = text(data.get("prompt"), "prompt", errors, max_length=MAX_PROMPT)
    help_text = text(
        data.get("help_text"), "help_text", errors, required=False, max_length=MAX_HELP
    )
    options: list[str] = []
    max_choices = max_length = None
    low = high = ""
    if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
        lines = [line.strip() for line in str(data.get("options") or "").splitlines()]
        options = [line for line in lines if line]
        if len(options) < 2:
            errors["options"] = _("Write at least two options, one per line.")
        elif len(options) > MAX_OPTIONS:
            errors["options"] = _("At most {n} options.", n=MAX_OPTIONS)
        elif any(len(o) > MAX_OPTION for o in options):
            errors["options"] = _("Each option may have at most {n} characters.", n=MAX_OPTION)
        elif len(set(options)) < len(options):
            errors["options"] = _("Each option must differ from the others.")
        if kind == QuestionKind.MULTIPLE:
            max_choices = parse_int(
                data.get("max_choices"),
                "max_choices",
                errors,
                required=False,
                minimum=1,
                maximum=max(1, len(options)),
            )
    elif kind == QuestionKind.SCALE:
        low = text(data.get("low_label"), "low_label", errors, required=False, max_length=MAX_LABEL)
        high = text(
            data.get("high_label"), "high_label", errors, required=False, max_length=MAX_LABEL
        )
    else:
        max_length = parse_int(
            data.get("max_length"),
            "max_length",
            errors,
            required=False,
            minimum=1,
            maximum=MAX_TEXT_ANSWER,
        )
        max_length = max_length or DEFAULT_TEXT_LENGTH
    if errors:
        raise ValidationError(errors=errors)
    required = str(data.get("required") or "") == "on"
    return QuestionInput(
        kind, prompt, help_text, required, options, max_choices, low, high, max_length
    )


def question_values(question: Question | None = None) -> dict[str, Any]:
    """The question form: a question's settings, or a blank required single-choice one."""
    if question is None:
        return {
            "kind": QuestionKind.SINGLE.value,
            "required": "on",
            "max_length": str(DEFAULT_TEXT_LENGTH),
        }
    return {
        "kind": str(question.kind),
        "prompt": question.prompt,
        "help_text": question.help_text,
        "required": "on" if question.required else "",
        "options": "\n".join(o.label for o in question.option_list),
        "max_choices": str(question.max_choices or ""),
        "low_label": question.low_label,
        "high_label": question.high_label,
        "max_length": str(question.max_length or DEFAULT_TEXT_LENGTH),
    }


def typed_question(data: Mapping[str, Any]) -> dict[str, Any]:
    return {k: str(data.get(k) or "") for k in (*QUESTION_FIELDS, "required")}


def _apply(question: Question, values: QuestionInput) -> None:
    question.kind = values.kind
    question.prompt = values.prompt
    question.help_text = values.help_text
    question.required = values.required
    question.max_choices = values.max_choices
    question.low_label = values.low_label
    question.high_label = values.high_label
    question.max_length = values.max_length


async def _write_options(conn: Any, question: Question, labels: list[str]) -> None:
    await QuestionOption.filter(question_id=question.id).using_db(conn).delete()
    await QuestionOption.bulk_create(
        [
            QuestionOption(question_id=question.id, position=i, label=label)
            for i, label in enumerate(labels)
        ],
        using_db=conn,
    )


async def add_question(
    actor: User | None, questionnaire_id: int, data: Mapping[str, Any]
) -> Question:
    """Add a question at the end of a draft."""
    async with in_transaction() as conn:
        q = await locked(conn, questionnaire_id)
        draft_only(actor, q)
        values = parse_question(data)
        count = await Question.filter(questionnaire_id=q.id).using_db(conn).count()
        if count >= MAX_QUESTIONS:
            raise ValidationError(errors={"prompt": _("At most {n} questions.", n=MAX_QUESTIONS)})
        last = await (
            Question.filter(questionnaire_id=q.id).using_db(conn).order_by("-position").first()
        )
        question = Question(questionnaire_id=q.id, position=(last.position if last else 0) + 1)
        _apply(question, values)
        await question.save(using_db=conn)
        await _write_options(conn, question, values.options)
        await record(actor, "questionnaire.add_question", q, using_db=conn, question=question.id)
    return question


async def _locked_question(
    conn: Any, actor: User | None, questionnaire_id: int, question_id: int
) -> Question:
    q = await locked(conn, questionnaire_id)
    draft_only(actor, q)
    question = await Question.get_or_none(id=question_id, questionnaire_id=q.id).using_db(conn)
    if question is None:
        raise NotFound(_("This question does not exist."))
    return question


async def edit_question(
    actor: User | None, questionnaire_id: int, question_id: int, data: Mapping[str, Any]
) -> Question:
    """Change a draft's question, its options included."""
    async with in_transaction() as conn:
        question = await _locked_question(conn, actor, questionnaire_id, question_id)
        values = parse_question(data)
        _apply(question, values)
        await question.save(using_db=conn)
        await _write_options(conn, question, values.options)
        await record(
            actor,
            "questionnaire.edit_question",
            question,
            using_db=conn,
            questionnaire=questionnaire_id,
        )
    return question


async def delete_question(actor: User | None, questionnaire_id: int, question_id: int) -> None:
    """Remove a question from a draft."""
    async with in_transaction() as conn:
        question = await _locked_question(conn, actor, questionnaire_id, question_id)
        await question.delete(using_db=conn)
        await record(
            actor,
            "questionnaire.delete_question",
            question,
            using_db=conn,
            questionnaire=questionnaire_id,
            prompt=question.prompt,
        )


async def move_question(
    actor: User | None, questionnaire_id: int, question_id: int, direction: str
) -> None:
    """Swap a draft's question with the one before ("up") or after ("down") it."""
    async with in_transaction() as conn:
        question = await _locked_question(conn, actor, questionnaire_id, question_id)
        ordered = list(await Question.filter(questionnaire_id=questionnaire_id).using_db(conn))
        i = next(n for n, other in enumerate(ordered) if other.id == question.id)
        j = i - 1 if direction == "up" else i + 1
        if not 0 <= j < len(ordered):
            return
        for n, other in enumerate(ordered):
            other.position = n + 1
        ordered[i].position, ordered[j].position = ordered[j].position, ordered[i].position
        for changed in (ordered[i], ordered[j]):
            await changed.save(using_db=conn, update_fields=["position"])
        await record(
            actor, "questionnaire.move_question", question, using_db=conn, direction=direction
        )
