"""Discussion: threaded comments on any subject (a proposal, a budgeting round, a
deliberation round, a meeting; later a need or a clause), and residents' reports of them.

One comment table keyed by subject (`subject_type`, `subject_id`): a new kind of subject needs
no new table. Replies go two levels deep (`depth` 0, 1, 2); `root` is the top-level comment of
a thread, so a page of threads loads its replies in one query.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from core.i18n import lazy_gettext as _l


class SubjectType(StrEnum):
    """What a comment, a link or an agenda item is about."""

    PROPOSAL = "proposal"
    ROUND = "round"
    DELIBERATION = "deliberation"
    MEETING = "meeting"
    NEED = "need"
    CONSULTATION = "consultation"  # a rule consultation (a draft convention)
    CLAUSE = "clause"  # one clause of a convention
    QUESTIONNAIRE = "questionnaire"

    @property
    def label(self) -> str:
        return str(SUBJECT_LABELS[self])


SUBJECT_LABELS = {
    SubjectType.PROPOSAL: _l("Proposal"),
    SubjectType.ROUND: _l("Budgeting round"),
    SubjectType.DELIBERATION: _l("Deliberation round"),
    SubjectType.MEETING: _l("Meeting"),
    SubjectType.NEED: _l("Need"),
    SubjectType.CONSULTATION: _l("Rule consultation"),
    SubjectType.CLAUSE: _l("Clause"),
    SubjectType.QUESTIONNAIRE: _l("Questionnaire"),
}


class Stance(StrEnum):
    FOR = "for"
    AGAINST = "against"
    NEUTRAL = "neutral"

    @property
    def label(self) -> str:
        return str(STANCE_LABELS[self])


STANCE_LABELS = {
    Stance.FOR: _l("In favour"),
    Stance.AGAINST: _l("Against"),
    Stance.NEUTRAL: _l("Neutral"),
}

MAX_DEPTH = 2  # a reply to a reply, no deeper


class Comment(Model):
    id = fields.IntField(primary_key=True)
    subject_type = fields.CharEnumField(SubjectType, max_length=16)
    subject_id = fields.IntField()
    # null for a top-level comment; `root` is the top-level comment of the thread (itself for
    # a top-level one is not stored: null), so one query loads a page of threads' replies.
    parent: fields.ForeignKeyNullableRelation[Comment] = fields.ForeignKeyField(
        "consult.Comment", related_name="replies", null=True, on_delete=fields.RESTRICT
    )
    root: fields.ForeignKeyNullableRelation[Comment] = fields.ForeignKeyField(
        "consult.Comment", related_name="thread", null=True, on_delete=fields.RESTRICT
    )
    depth = fields.SmallIntField(default=0)
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="comments", null=True, on_delete=fields.SET_NULL
    )
    stance = fields.CharEnumField(Stance, max_length=8, default=Stance.NEUTRAL)
    body = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)
    edited_at = fields.DatetimeField(null=True)
    # Hidden by the council: the body is emptied and the reason shown in its place; the
    # original text stays in the (non-public) audit log only.
    hidden_reason = fields.CharField(max_length=200, default="")
    hidden_at = fields.DatetimeField(null=True)
    hidden_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="comments_hidden", null=True, on_delete=fields.SET_NULL
    )
    report_count = fields.IntField(default=0)
    reply_count = fields.IntField(default=0)

    class Meta:
        table = "comment"
        ordering = ["id"]
        indexes = [
            # a subject's threads, by cursor (id), and its stance counts
            ("subject_type", "subject_id", "depth", "id"),
            ("subject_type", "subject_id", "stance"),
            ("root_id", "id"),
            # the per-user posting limit counts a user's recent comments
            ("author_id", "created_at"),
            # the council's queue of reported comments
            ("report_count",),
        ]
        constraints = [CheckConstraint(check="depth BETWEEN 0 AND 2", name="comment_depth")]

    @property
    def hidden(self) -> bool:
        return bool(self.hidden_reason)


class CommentTally(Model):
    """How many comments on a subject take each stance, replies and hidden ones included.

    Kept in the transaction that posts a comment or changes its stance (an atomic upsert), so
    a page reads one row instead of counting a long thread (consult.services.comment_tally).
    """

    id = fields.IntField(primary_key=True)
    subject_type = fields.CharEnumField(SubjectType, max_length=16)
    subject_id = fields.IntField()
    in_favour = fields.IntField(default=0)
    against = fields.IntField(default=0)
    neutral = fields.IntField(default=0)

    class Meta:
        table = "comment_tally"
        unique_together = [("subject_type", "subject_id")]


class CommentReport(Model):
    """A report of a comment to the council by a resident, one per resident and comment."""

    id = fields.IntField(primary_key=True)
    comment: fields.ForeignKeyRelation[Comment] = fields.ForeignKeyField(
        "consult.Comment", related_name="reports", on_delete=fields.CASCADE
    )
    reporter: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="comment_reports", null=True, on_delete=fields.SET_NULL
    )
    reason = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "comment_report"
        ordering = ["id"]
        unique_together = [("comment_id", "reporter_id")]
