"""Deliberation rounds: a council-run consultation on a topic, with short statements that
residents mark agree / disagree / pass, a published summary and decision, and links to what
the decision concerns (proposals, budgeting rounds, meetings; needs later).

Phases: collecting → discussing → deciding → published, moved one way like budgeting rounds.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from consult.models.comments import SubjectType
from core.i18n import lazy_gettext as _l


class DeliberationPhase(StrEnum):
    COLLECTING = "collecting"  # statements are submitted (and voted on once approved)
    DISCUSSING = "discussing"  # statements are voted on and discussed
    DECIDING = "deciding"  # closed to statements and votes; the council writes its decision
    PUBLISHED = "published"  # summary and decision public

    @property
    def label(self) -> str:
        return str(DELIBERATION_PHASE_LABELS[self])

    @property
    def next(self) -> DeliberationPhase | None:
        order = list(DeliberationPhase)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


DELIBERATION_PHASE_LABELS = {
    DeliberationPhase.COLLECTING: _l("Collecting statements"),
    DeliberationPhase.DISCUSSING: _l("Discussing"),
    DeliberationPhase.DECIDING: _l("Deciding"),
    DeliberationPhase.PUBLISHED: _l("Decision published"),
}


class Deliberation(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    phase = fields.CharEnumField(
        DeliberationPhase, max_length=12, default=DeliberationPhase.COLLECTING
    )
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    summary = fields.TextField(default="")
    decision = fields.TextField(default="")
    published_at = fields.DatetimeField(null=True)
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="deliberations_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    # Raised by every statement vote (in the vote's transaction): common ground and opinion
    # groups are computed for one value of it, so a page never shows a stale computation.
    votes_version = fields.IntField(default=0)

    class Meta:
        table = "deliberation"
        ordering = ["-starts_on", "-id"]
        indexes = [("phase", "starts_on")]
        constraints = [
            CheckConstraint(check="starts_on <= ends_on", name="deliberation_dates_ordered")
        ]

    @property
    def phase_enum(self) -> DeliberationPhase:
        return DeliberationPhase(self.phase)

    @property
    def open_for_votes(self) -> bool:
        return self.phase in (DeliberationPhase.COLLECTING, DeliberationPhase.DISCUSSING)


class DeliberationArea(Model):
    """An area a deliberation round concerns (none: the whole district)."""

    id = fields.IntField(primary_key=True)
    deliberation: fields.ForeignKeyRelation[Deliberation] = fields.ForeignKeyField(
        "consult.Deliberation", related_name="area_links", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.Area", related_name="deliberation_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "deliberation_area"
        unique_together = [("deliberation_id", "area_id")]
        indexes = [("area_id",)]


class DeliberationLink(Model):
    """What the decision of a deliberation round concerns: a proposal, a budgeting round or a
    meeting, keyed like comments; the linked pages show the link back."""

    id = fields.IntField(primary_key=True)
    deliberation: fields.ForeignKeyRelation[Deliberation] = fields.ForeignKeyField(
        "consult.Deliberation", related_name="links", on_delete=fields.CASCADE
    )
    subject_type = fields.CharEnumField(SubjectType, max_length=16)
    subject_id = fields.IntField()

    class Meta:
        table = "deliberation_link"
        unique_together = [("deliberation_id", "subject_type", "subject_id")]
        indexes = [("subject_type", "subject_id")]


class StatementStatus(StrEnum):
    PENDING = "pending"  # waiting for a council member
    APPROVED = "approved"  # shown and voted on
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(STATEMENT_STATUS_LABELS[self])


STATEMENT_STATUS_LABELS = {
    StatementStatus.PENDING: _l("Waiting for approval"),
    StatementStatus.APPROVED: _l("Approved"),
    StatementStatus.REJECTED: _l("Not approved"),
}

MAX_STATEMENT = 140


class Statement(Model):
    id = fields.IntField(primary_key=True)
    deliberation: fields.ForeignKeyRelation[Deliberation] = fields.ForeignKeyField(
        "consult.Deliberation", related_name="statements", on_delete=fields.CASCADE
    )
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="statements", null=True, on_delete=fields.SET_NULL
    )
    body = fields.CharField(max_length=MAX_STATEMENT)
    status = fields.CharEnumField(StatementStatus, max_length=10, default=StatementStatus.PENDING)
    reject_reason = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    decided_at = fields.DatetimeField(null=True)
    decided_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="statements_decided", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "statement"
        ordering = ["id"]
        indexes = [("deliberation_id", "status", "id"), ("author_id", "created_at")]


class Choice(StrEnum):
    AGREE = "agree"
    DISAGREE = "disagree"
    PASS = "pass"

    @property
    def label(self) -> str:
        return str(CHOICE_LABELS[self])


CHOICE_LABELS = {
    Choice.AGREE: _l("Agree"),
    Choice.DISAGREE: _l("Disagree"),
    Choice.PASS: _l("Pass / unsure"),
}


class StatementVote(Model):
    """The vote of one resident on one statement, the database keeps one per resident and
    statement. `area` is the area of the voter when they voted (common ground is per area)."""

    id = fields.IntField(primary_key=True)
    statement: fields.ForeignKeyRelation[Statement] = fields.ForeignKeyField(
        "consult.Statement", related_name="votes", on_delete=fields.CASCADE
    )
    deliberation: fields.ForeignKeyRelation[Deliberation] = fields.ForeignKeyField(
        "consult.Deliberation", related_name="statement_votes", on_delete=fields.CASCADE
    )
    voter: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.User", related_name="statement_votes", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="statement_votes", null=True, on_delete=fields.SET_NULL
    )
    choice = fields.CharEnumField(Choice, max_length=8)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "statement_vote"
        unique_together = [("statement_id", "voter_id")]
        indexes = [("deliberation_id", "voter_id")]


class DeliberationAnalysis(Model):
    """Common ground, opinion groups and divisive statements of a deliberation round,
    computed for one `votes_version` of it and reused while that version holds: a vote raises
    the version in its transaction, so a page never shows an analysis older than the votes.
    Any worker may compute it; the row is a cache shared by all, never a source of truth."""

    id = fields.IntField(primary_key=True)
    deliberation: fields.OneToOneRelation[Deliberation] = fields.OneToOneField(
        "consult.Deliberation", related_name="analysis", on_delete=fields.CASCADE
    )
    votes_version = fields.IntField()
    result = fields.JSONField(default=dict)
    computed_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "deliberation_analysis"
