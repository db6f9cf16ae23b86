"""Questionnaires: a council's short survey (single choice, multiple choice, a 1–5 scale,
free text) answered once by each verified resident of its areas, who may change the answers
until it closes.

A questionnaire is a draft until published; then its questions are fixed. Its state after
publishing follows from its dates (scheduled → open → closed); closing early moves the close
date to the moment of closing. One response per resident is kept by the database (unique);
changing one replaces its answers in one transaction.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from core.i18n import lazy_gettext as _l


class QuestionnaireState(StrEnum):
    DRAFT = "draft"  # being built; only the council sees it
    SCHEDULED = "scheduled"  # published, not yet open
    OPEN = "open"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(QUESTIONNAIRE_STATE_LABELS[self])


QUESTIONNAIRE_STATE_LABELS = {
    QuestionnaireState.DRAFT: _l("Draft"),
    QuestionnaireState.SCHEDULED: _l("Not yet open"),
    QuestionnaireState.OPEN: _l("Open for answers"),
    QuestionnaireState.CLOSED: _l("Closed"),
}


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"
    SCALE = "scale"
    TEXT = "text"

    @property
    def label(self) -> str:
        return str(QUESTION_KIND_LABELS[self])


QUESTION_KIND_LABELS = {
    QuestionKind.SINGLE: _l("Single choice"),
    QuestionKind.MULTIPLE: _l("Multiple choice"),
    QuestionKind.SCALE: _l("Scale from 1 to 5"),
    QuestionKind.TEXT: _l("Free text"),
}

MAX_TEXT_ANSWER = 2000  # the longest free-text answer a question may allow


class Questionnaire(Model):
    """A council survey with its dates and whether residents see results while it is open."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    introduction = fields.TextField(default="")
    opens_at = fields.DatetimeField()
    closes_at = fields.DatetimeField()
    # null while a draft; set once on publishing, after which the questions are fixed
    published_at = fields.DatetimeField(null=True)
    # When its followers were told it is open: at publishing if it opens then, else by
    # announce_opened_questionnaires once its opening time has come (exactly once).
    announced_at = fields.DatetimeField(null=True)
    closed_early_at = fields.DatetimeField(null=True)
    show_results_live = fields.BooleanField(default=False)
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="questionnaires_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "questionnaire"
        ordering = ["-opens_at", "-id"]
        indexes = [("published_at", "closes_at")]
        constraints = [
            CheckConstraint(check="opens_at < closes_at", name="questionnaire_dates_ordered")
        ]

    def state_at(self, now: datetime) -> QuestionnaireState:
        if self.published_at is None:
            return QuestionnaireState.DRAFT
        if now < self.opens_at:
            return QuestionnaireState.SCHEDULED
        if now < self.closes_at:
            return QuestionnaireState.OPEN
        return QuestionnaireState.CLOSED


class QuestionnaireArea(Model):
    """An area whose residents may answer (none: every verified resident)."""

    id = fields.IntField(primary_key=True)
    questionnaire: fields.ForeignKeyRelation[Questionnaire] = fields.ForeignKeyField(
        "consult.Questionnaire", related_name="area_links", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.Area", related_name="questionnaire_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "questionnaire_area"
        unique_together = [("questionnaire_id", "area_id")]
        indexes = [("area_id",)]


class Question(Model):
    """One question, shown in `position` order. Choice questions have options, a scale has
    labels for its ends; free text has a maximum length."""

    id = fields.IntField(primary_key=True)
    questionnaire: fields.ForeignKeyRelation[Questionnaire] = fields.ForeignKeyField(
        "consult.Questionnaire", related_name="questions", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    kind = fields.CharEnumField(QuestionKind, max_length=8)
    prompt = fields.CharField(max_length=300)
    help_text = fields.CharField(max_length=300, default="")
    required = fields.BooleanField(default=True)
    max_choices = fields.SmallIntField(null=True)  # multiple choice: at most this many
    low_label = fields.CharField(max_length=40, default="")  # scale: what 1 means
    high_label = fields.CharField(max_length=40, default="")  # scale: what 5 means
    max_length = fields.IntField(null=True)  # free text

    class Meta:
        table = "question"
        ordering = ["position", "id"]
        indexes = [("questionnaire_id", "position")]

    @property
    def kind_enum(self) -> QuestionKind:
        return QuestionKind(self.kind)


class QuestionOption(Model):
    """One choice of a single- or multiple-choice question."""

    id = fields.IntField(primary_key=True)
    question: fields.ForeignKeyRelation[Question] = fields.ForeignKeyField(
        "consult.Question", related_name="options", on_delete=fields.CASCADE
    )
    position = fields.IntField()
    label = fields.CharField(max_length=200)

    class Meta:
        table = "question_option"
        ordering = ["position", "id"]
        indexes = [("question_id", "position")]


class QuestionnaireResponse(Model):
    """The answers of one resident to one questionnaire, kept once per resident by the database.
    `area` is the resident's area when they answered."""

    id = fields.IntField(primary_key=True)
    questionnaire: fields.ForeignKeyRelation[Questionnaire] = fields.ForeignKeyField(
        "consult.Questionnaire", related_name="responses", on_delete=fields.CASCADE
    )
    respondent: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.User", related_name="questionnaire_responses", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="questionnaire_responses", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField()
    updated_at = fields.DatetimeField()
    # raised by every change: tells one submission's answers from another's
    version = fields.IntField(default=0)

    class Meta:
        table = "questionnaire_response"
        unique_together = [("questionnaire_id", "respondent_id")]


class Answer(Model):
    """One answer to one question: a chosen option (one row per option chosen), a scale value
    or a text. Free-text answers may be hidden by a council member, with a reason."""

    id = fields.IntField(primary_key=True)
    response: fields.ForeignKeyRelation[QuestionnaireResponse] = fields.ForeignKeyField(
        "consult.QuestionnaireResponse", related_name="answers", on_delete=fields.CASCADE
    )
    questionnaire: fields.ForeignKeyRelation[Questionnaire] = fields.ForeignKeyField(
        "consult.Questionnaire", related_name="answers", on_delete=fields.CASCADE
    )
    question: fields.ForeignKeyRelation[Question] = fields.ForeignKeyField(
        "consult.Question", related_name="answers", on_delete=fields.CASCADE
    )
    option: fields.ForeignKeyNullableRelation[QuestionOption] = fields.ForeignKeyField(
        "consult.QuestionOption", related_name="answers", null=True, on_delete=fields.CASCADE
    )
    scale = fields.SmallIntField(null=True)
    text = fields.TextField(default="")
    hidden_at = fields.DatetimeField(null=True)
    hidden_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="answers_hidden", null=True, on_delete=fields.SET_NULL
    )
    hide_reason = fields.CharField(max_length=200, default="")

    class Meta:
        table = "answer"
        ordering = ["id"]
        indexes = [("question_id", "option_id"), ("response_id",), ("questionnaire_id",)]
        constraints = [
            CheckConstraint(check="scale IS NULL OR scale BETWEEN 1 AND 5", name="answer_scale")
        ]
