"""Rule consultations: a residents' convention (居民公约 / 村规民约) drafted by the council as
numbered clauses, consulted on clause by clause, revised in published versions, and ratified
by a vote of the residents (or households) of its areas.

States: draft → consulting → ratifying → adopted | rejected, moved one way. The ratification
rule (minimum turnout, majority, one vote per resident or per household) is fixed when the
consultation opens. A clause (`Clause`) keeps its identity, and its discussion, across versions;
its words per version are a `ClauseText`.

The secret ballot: a vote adds one to the convention's yes / no / abstain counts and writes a
`RatificationVoter` row (who, or which household, has voted) in the same transaction; nothing
stores which way anyone voted.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from consult.rules import ratification as rules
from core.i18n import lazy_gettext as _l


class ConventionState(StrEnum):
    DRAFT = "draft"  # the council writes it; only staff see it
    CONSULTING = "consulting"  # residents of its areas comment on each clause
    RATIFYING = "ratifying"  # the text is fixed; residents vote yes / no / abstain
    ADOPTED = "adopted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(CONVENTION_STATE_LABELS[self])


CONVENTION_STATE_LABELS = {
    ConventionState.DRAFT: _l("Draft"),
    ConventionState.CONSULTING: _l("In consultation"),
    ConventionState.RATIFYING: _l("In ratification"),
    ConventionState.ADOPTED: _l("Adopted"),
    ConventionState.REJECTED: _l("Not adopted"),
}


class Majority(StrEnum):
    SIMPLE = rules.SIMPLE
    TWO_THIRDS = rules.TWO_THIRDS
    THREE_QUARTERS = rules.THREE_QUARTERS

    @property
    def label(self) -> str:
        return str(MAJORITY_LABELS[self])


MAJORITY_LABELS = {
    Majority.SIMPLE: _l("More than half of yes and no votes"),
    Majority.TWO_THIRDS: _l("At least two thirds of yes and no votes"),
    Majority.THREE_QUARTERS: _l("At least three quarters of yes and no votes"),
}


class VotingUnit(StrEnum):
    RESIDENT = "resident"
    HOUSEHOLD = "household"

    @property
    def label(self) -> str:
        return str(VOTING_UNIT_LABELS[self])


VOTING_UNIT_LABELS = {
    VotingUnit.RESIDENT: _l("One vote per resident"),
    VotingUnit.HOUSEHOLD: _l("One vote per household"),
}


class RatificationChoice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"

    @property
    def label(self) -> str:
        return str(RATIFICATION_CHOICE_LABELS[self])


RATIFICATION_CHOICE_LABELS = {
    RatificationChoice.YES: _l("Yes, I approve this convention"),
    RatificationChoice.NO: _l("No, I do not approve it"),
    RatificationChoice.ABSTAIN: _l("I abstain"),
}

MAX_TITLE = 200
MAX_HEADING = 100
MAX_CLAUSE = 2_000
MAX_PREAMBLE = 5_000
MAX_NOTE = 500


class Convention(Model):
    """A residents convention and its consultation, with the rule fixed at opening."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=MAX_TITLE)
    state = fields.CharEnumField(ConventionState, max_length=10, default=ConventionState.DRAFT)
    opens_on = fields.DateField()
    closes_on = fields.DateField()  # the last day of the ratification vote
    turnout_percent = fields.SmallIntField(default=50)
    majority = fields.CharEnumField(Majority, max_length=16, default=Majority.SIMPLE)
    voting_unit = fields.CharEnumField(VotingUnit, max_length=10, default=VotingUnit.RESIDENT)
    # the latest published version (1 while drafting), and a revision being written (none: 0)
    version = fields.SmallIntField(default=1)
    revision = fields.SmallIntField(default=0)
    # live counts of the secret vote (no voter attached), and at close the eligible count
    yes_votes = fields.IntField(default=0)
    no_votes = fields.IntField(default=0)
    abstentions = fields.IntField(default=0)
    eligible = fields.IntField(null=True)
    opened_at = fields.DatetimeField(null=True)
    ratification_opened_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    amends: fields.ForeignKeyNullableRelation[Convention] = fields.ForeignKeyField(
        "consult.Convention", related_name="amendments", null=True, on_delete=fields.SET_NULL
    )
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="conventions_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "convention"
        ordering = ["-opens_on", "-id"]
        indexes = [("state", "opens_on")]
        constraints = [
            CheckConstraint(check="opens_on <= closes_on", name="convention_dates_ordered"),
            CheckConstraint(
                check="turnout_percent BETWEEN 0 AND 100", name="convention_turnout_percent"
            ),
        ]

    @property
    def state_enum(self) -> ConventionState:
        return ConventionState(self.state)

    @property
    def voted(self) -> int:
        return self.yes_votes + self.no_votes + self.abstentions

    @property
    def is_closed(self) -> bool:
        return self.state in (ConventionState.ADOPTED, ConventionState.REJECTED)


class ConventionArea(Model):
    """An area whose residents take part (none: the whole district)."""

    id = fields.IntField(primary_key=True)
    convention: fields.ForeignKeyRelation[Convention] = fields.ForeignKeyField(
        "consult.Convention", related_name="area_links", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.Area", related_name="convention_links", on_delete=fields.RESTRICT
    )

    class Meta:
        table = "convention_area"
        unique_together = [("convention_id", "area_id")]
        indexes = [("area_id",)]


class ConventionVersion(Model):
    """One version of the text: its preamble and a summary of what changed. Unpublished while
    the council writes it (the first, until the consultation opens). Kept forever."""

    id = fields.IntField(primary_key=True)
    convention: fields.ForeignKeyRelation[Convention] = fields.ForeignKeyField(
        "consult.Convention", related_name="versions", on_delete=fields.CASCADE
    )
    number = fields.SmallIntField()
    preamble = fields.TextField(default="")
    summary = fields.CharField(max_length=MAX_NOTE, default="")
    published_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "convention_version"
        unique_together = [("convention_id", "number")]


class Clause(Model):
    """A clause as a subject of discussion, the same across versions (its words: ClauseText)."""

    id = fields.IntField(primary_key=True)
    convention: fields.ForeignKeyRelation[Convention] = fields.ForeignKeyField(
        "consult.Convention", related_name="clauses", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "convention_clause"


class ClauseText(Model):
    """The words of a clause in one version, its place there, and why it changed."""

    id = fields.IntField(primary_key=True)
    clause: fields.ForeignKeyRelation[Clause] = fields.ForeignKeyField(
        "consult.Clause", related_name="texts", on_delete=fields.CASCADE
    )
    version: fields.ForeignKeyRelation[ConventionVersion] = fields.ForeignKeyField(
        "consult.ConventionVersion", related_name="clause_texts", on_delete=fields.CASCADE
    )
    position = fields.SmallIntField()
    heading = fields.CharField(max_length=MAX_HEADING)
    body = fields.TextField()
    change_note = fields.CharField(max_length=MAX_NOTE, default="")

    class Meta:
        table = "convention_clause_text"
        ordering = ["position", "id"]
        unique_together = [("version_id", "clause_id")]
        indexes = [("version_id", "position")]


class RatificationVoter(Model):
    """That a resident, or their household, has voted on a convention: one row each, kept
    unique by the database. It never says how (the counts are on the convention)."""

    id = fields.IntField(primary_key=True)
    convention: fields.ForeignKeyRelation[Convention] = fields.ForeignKeyField(
        "consult.Convention", related_name="voters", on_delete=fields.CASCADE
    )
    voter: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="ratification_votes", null=True, on_delete=fields.SET_NULL
    )
    # who the vote stands for: "u:<user id>" (a resident), "h:<area id>:<household>"
    ballot_key = fields.CharField(max_length=160)

    class Meta:
        table = "ratification_voter"
        unique_together = [("convention_id", "ballot_key"), ("convention_id", "voter_id")]
