"""Participatory budgeting up to the count: rounds, envelopes, proposals, reviews, supports,
ballots, outcomes.

Money is integer fen everywhere (BigInt). Procurements and the ledger
(`budget.models.procurements`) hang off funded proposals and envelopes without changing these
tables.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from core.i18n import lazy_gettext as _l


class Phase(StrEnum):
    PROPOSING = "proposing"
    REVIEWING = "reviewing"
    VOTING = "voting"
    RESULTS = "results"
    IMPLEMENTING = "implementing"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(PHASE_LABELS[self])

    @property
    def next(self) -> Phase | None:
        order = list(Phase)
        i = order.index(self)
        return order[i + 1] if i + 1 < len(order) else None


PHASE_LABELS = {
    Phase.PROPOSING: _l("Proposing"),
    Phase.REVIEWING: _l("Reviewing"),
    Phase.VOTING: _l("Voting"),
    Phase.RESULTS: _l("Results"),
    Phase.IMPLEMENTING: _l("Implementing"),
    Phase.CLOSED: _l("Closed"),
}


class BallotType(StrEnum):
    APPROVAL = "approval"  # at most k projects per envelope
    BUDGET_APPROVAL = "budget_approval"  # chosen projects must fit each envelope's budget
    POINTS = "points"  # distribute a number of points per envelope

    @property
    def label(self) -> str:
        return str(BALLOT_TYPE_LABELS[self])


BALLOT_TYPE_LABELS = {
    BallotType.APPROVAL: _l("Approval (at most k projects)"),
    BallotType.BUDGET_APPROVAL: _l("Budget-limited approval"),
    BallotType.POINTS: _l("Points to distribute"),
}


class OutcomeRule(StrEnum):
    GREEDY = "greedy"
    EQUAL_SHARES = "equal-shares"

    @property
    def label(self) -> str:
        return str(RULE_LABELS[self])


RULE_LABELS = {
    OutcomeRule.GREEDY: _l("Greedy by votes"),
    OutcomeRule.EQUAL_SHARES: _l("Method of Equal Shares"),
}


class Category(StrEnum):
    ENGINEERING = "engineering"
    EQUIPMENT = "equipment"
    SERVICE = "service"

    @property
    def label(self) -> str:
        return str(CATEGORY_LABELS[self])


CATEGORY_LABELS = {
    Category.ENGINEERING: _l("Engineering construction"),
    Category.EQUIPMENT: _l("Equipment procurement"),
    Category.SERVICE: _l("Public-service procurement"),
}


class ProposalStatus(StrEnum):
    SUBMITTED = "submitted"  # waiting for review
    FEASIBLE = "feasible"  # on the ballot
    INFEASIBLE = "infeasible"
    MERGED = "merged"  # points to the survivor
    WITHDRAWN = "withdrawn"
    FUNDED = "funded"
    NOT_FUNDED = "not_funded"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    ProposalStatus.SUBMITTED: _l("Awaiting review"),
    ProposalStatus.FEASIBLE: _l("Feasible"),
    ProposalStatus.INFEASIBLE: _l("Not feasible"),
    ProposalStatus.MERGED: _l("Merged"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
    ProposalStatus.FUNDED: _l("Funded"),
    ProposalStatus.NOT_FUNDED: _l("Not funded"),
}


class Channel(StrEnum):
    ONLINE = "online"
    PAPER = "paper"
    IMPORTED = "imported"  # anonymous ballots of an imported (.pb) election

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    Channel.ONLINE: _l("Online"),
    Channel.PAPER: _l("Paper"),
    Channel.IMPORTED: _l("Imported"),
}


class Round(Model):
    """One participatory-budgeting cycle."""

    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    description = fields.TextField(default="")
    fund_fen = fields.BigIntField()
    phase = fields.CharEnumField(Phase, max_length=16, default=Phase.PROPOSING)
    ballot_type = fields.CharEnumField(
        BallotType, max_length=20, default=BallotType.BUDGET_APPROVAL
    )
    max_choices = fields.IntField(null=True)  # k, for approval ballots
    points_total = fields.IntField(null=True)  # points per envelope, for points ballots
    rule = fields.CharField(max_length=20, default=OutcomeRule.GREEDY.value)
    # The timetable: when each phase is planned to start (shown publicly).
    proposing_starts = fields.DateField(null=True)
    reviewing_starts = fields.DateField(null=True)
    voting_starts = fields.DateField(null=True)
    results_starts = fields.DateField(null=True)
    implementing_starts = fields.DateField(null=True)
    closes = fields.DateField(null=True)
    results_published_at = fields.DatetimeField(null=True)
    # Set for rounds imported from a Pabulib file (studying past elections).
    source = fields.CharField(max_length=200, default="")
    # An imported election is a study, not one of the district's rounds: kept out of the rounds,
    # the proposal list and the district's counts; seen by staff, by everyone once public.
    is_study = fields.BooleanField(default=False, db_default=False)
    study_public = fields.BooleanField(default=False, db_default=False)  # the council decides
    # sha256 of the imported file's text: the same file cannot become two studies.
    source_digest = fields.CharField(max_length=64, null=True, unique=True)
    # The file's own voter count (META num_votes, else its votes): a study's turnout.
    study_voters = fields.IntField(null=True)
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="rounds_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "round"
        ordering = ["-created_at", "-id"]
        constraints = [CheckConstraint(check="fund_fen >= 0", name="round_fund_nonnegative")]

    def __str__(self) -> str:
        return self.title

    @property
    def phase_enum(self) -> Phase:
        return Phase(self.phase)

    @property
    def locked(self) -> bool:
        """Ballot type, rule, fund and envelopes are locked once voting opens."""
        order = list(Phase)
        return order.index(Phase(self.phase)) >= order.index(Phase.VOTING)


class Envelope(Model):
    """A part of a round's fund: one per area, plus the district-wide rest (area is null)."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "budget.Round", related_name="envelopes", on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="envelopes", null=True, on_delete=fields.RESTRICT
    )
    budget_fen = fields.BigIntField()

    class Meta:
        table = "envelope"
        unique_together = [("round", "area")]
        constraints = [CheckConstraint(check="budget_fen >= 0", name="envelope_budget_nonnegative")]


class Proposal(Model):
    """A micro-project."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "budget.Round", related_name="proposals", on_delete=fields.CASCADE
    )
    # null: district-wide (concerns no single area)
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="proposals", null=True, on_delete=fields.RESTRICT
    )
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    category = fields.CharEnumField(Category, max_length=16)
    cost_fen = fields.BigIntField()  # estimated by the author
    revised_cost_fen = fields.BigIntField(null=True)  # set by review
    beneficiaries = fields.IntField(default=0)
    location = fields.CharField(max_length=200, default="")
    author: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="proposals", null=True, on_delete=fields.SET_NULL
    )
    status = fields.CharEnumField(ProposalStatus, max_length=16, default=ProposalStatus.SUBMITTED)
    merged_into: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "budget.Proposal", related_name="merged_from", null=True, on_delete=fields.SET_NULL
    )
    review_reason = fields.TextField(default="")  # the latest verdict's public reason
    # Kept in step by the services that add/remove supports and ballots (lists sort on them).
    support_count = fields.IntField(default=0)
    vote_count = fields.IntField(default=0)  # filled when the outcome is computed
    # The id the project had in an imported .pb file.
    external_id = fields.CharField(max_length=64, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "proposal"
        ordering = ["-created_at", "-id"]
        indexes = [
            ("round_id", "status"),
            ("round_id", "area_id"),
            ("round_id", "category"),
            ("round_id", "created_at"),
            ("merged_into_id",),
        ]
        constraints = [
            CheckConstraint(check="cost_fen > 0", name="proposal_cost_positive"),
            CheckConstraint(check="beneficiaries >= 0", name="proposal_beneficiaries_nonneg"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def effective_cost_fen(self) -> int:
        """What the project costs on the ballot: the reviewed cost where the council revised it."""
        return self.revised_cost_fen if self.revised_cost_fen is not None else self.cost_fen


class ProposalPhoto(Model):
    id = fields.IntField(primary_key=True)
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField(
        "budget.Proposal", related_name="photos", on_delete=fields.CASCADE
    )
    stored_name = fields.CharField(max_length=64, unique=True)  # random name under data/uploads
    content_type = fields.CharField(max_length=32)
    size = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "proposal_photo"
        ordering = ["id"]
        indexes = [("proposal_id",)]


class Support(Model):
    """A resident's endorsement of a proposal (one each)."""

    id = fields.IntField(primary_key=True)
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField(
        "budget.Proposal", related_name="supports", on_delete=fields.CASCADE
    )
    user: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.User", related_name="supports", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "support"
        unique_together = [("proposal", "user")]
        indexes = [("user_id",)]


class Review(Model):
    """A council member's verdict, the latest one is the proposal's status."""

    id = fields.IntField(primary_key=True)
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField(
        "budget.Proposal", related_name="reviews", on_delete=fields.CASCADE
    )
    reviewer: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="reviews", null=True, on_delete=fields.SET_NULL
    )
    feasible = fields.BooleanField()
    reason = fields.TextField()
    revised_cost_fen = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "review"
        ordering = ["-created_at", "-id"]
        indexes = [("proposal_id",)]


class Ballot(Model):
    """One resident's ballot in one round. The unique (round, voter) constraint is what keeps
    concurrent submissions (online or paper) from creating two."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "budget.Round", related_name="ballots", on_delete=fields.CASCADE
    )
    # null only for anonymous ballots of an imported election
    voter: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="ballots", null=True, on_delete=fields.RESTRICT
    )
    # the voter's area when the ballot was cast (turnout per area; imported ballots: null)
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="ballots", null=True, on_delete=fields.RESTRICT
    )
    channel = fields.CharEnumField(Channel, max_length=10, default=Channel.ONLINE)
    entered_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="ballots_entered", null=True, on_delete=fields.SET_NULL
    )
    receipt = fields.CharField(max_length=16, unique=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "ballot"
        unique_together = [("round", "voter")]
        indexes = [("round_id", "area_id", "channel")]


class BallotChoice(Model):
    id = fields.BigIntField(primary_key=True)
    ballot: fields.ForeignKeyRelation[Ballot] = fields.ForeignKeyField(
        "budget.Ballot", related_name="choices", on_delete=fields.CASCADE
    )
    proposal: fields.ForeignKeyRelation[Proposal] = fields.ForeignKeyField(
        "budget.Proposal", related_name="ballot_choices", on_delete=fields.CASCADE
    )
    points = fields.IntField(default=1)

    class Meta:
        table = "ballot_choice"
        unique_together = [("ballot", "proposal")]
        indexes = [("proposal_id",)]
        constraints = [CheckConstraint(check="points > 0", name="ballot_choice_points_positive")]


class Outcome(Model):
    """The frozen count of one envelope: which proposals are funded, and why (explanations)."""

    id = fields.IntField(primary_key=True)
    round: fields.ForeignKeyRelation[Round] = fields.ForeignKeyField(
        "budget.Round", related_name="outcomes", on_delete=fields.CASCADE
    )
    envelope: fields.ForeignKeyRelation[Envelope] = fields.ForeignKeyField(
        "budget.Envelope", related_name="outcomes", on_delete=fields.CASCADE
    )
    rule = fields.CharField(max_length=20)
    budget_fen = fields.BigIntField()
    total_cost_fen = fields.BigIntField()
    ballots_counted = fields.IntField()
    # the rule's explanation per proposal, as JSON (budget.rules.Outcome.to_json())
    data = fields.JSONField()
    computed_at = fields.DatetimeField(auto_now=True)
    computed_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="outcomes_computed", null=True, on_delete=fields.SET_NULL
    )

    class Meta:
        table = "outcome"
        unique_together = [("round", "envelope")]
