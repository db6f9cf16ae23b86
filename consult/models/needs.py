"""Residents' needs ("micro-wishes"): raised online by a resident or entered for them by a grid
worker (with the channel it came through), answered by the council, resolved, and rated by the
resident. Each need has a tracking number to look it up by.

The public dashboard reads counts kept per month of receipt, area and channel (`NeedStat`) and
the response times as a histogram in hours (`NeedResponseTime`), both kept in the transaction
of each step (consult.services.need_stats), so 200,000 needs are summed from a few thousand
rows and the median response time comes from the histogram.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from core.i18n import lazy_gettext as _l


class NeedChannel(StrEnum):
    """How the need reached the council."""

    ONLINE = "online"  # raised by the resident here
    TALK_STATION = "talk_station"
    TALK_BOX = "talk_box"
    PHONE = "phone"
    HOME_VISIT = "home_visit"

    @property
    def label(self) -> str:
        return str(NEED_CHANNEL_LABELS[self])


NEED_CHANNEL_LABELS = {
    NeedChannel.ONLINE: _l("Online"),
    NeedChannel.TALK_STATION: _l("Talk station"),
    NeedChannel.TALK_BOX: _l("Talk box"),
    NeedChannel.PHONE: _l("Phone"),
    NeedChannel.HOME_VISIT: _l("Home visit"),
}


class NeedCategory(StrEnum):
    ENVIRONMENT = "environment"  # sanitation, greenery, noise
    ROADS = "roads"  # roads, lighting, parking
    SAFETY = "safety"
    ELDERLY = "elderly"  # elderly care, accessibility
    CHILDREN = "children"
    FACILITIES = "facilities"  # buildings, lifts, pipes, public facilities
    SERVICES = "services"  # public services, paperwork
    OTHER = "other"

    @property
    def label(self) -> str:
        return str(NEED_CATEGORY_LABELS[self])


NEED_CATEGORY_LABELS = {
    NeedCategory.ENVIRONMENT: _l("Environment and sanitation"),
    NeedCategory.ROADS: _l("Roads, lighting and parking"),
    NeedCategory.SAFETY: _l("Safety"),
    NeedCategory.ELDERLY: _l("Elderly care and accessibility"),
    NeedCategory.CHILDREN: _l("Children and families"),
    NeedCategory.FACILITIES: _l("Buildings and facilities"),
    NeedCategory.SERVICES: _l("Public services"),
    NeedCategory.OTHER: _l("Other"),
}


class NeedState(StrEnum):
    """Where a need is: received, answered one of four ways, then resolved."""

    RECEIVED = "received"
    ACCEPTED = "accepted"  # being handled, with an owner and a due date
    PROPOSED = "proposed"  # turned into a proposal for a budgeting round
    REFERRED = "referred"  # to another body
    DECLINED = "declined"  # with a reason
    RESOLVED = "resolved"

    @property
    def label(self) -> str:
        return str(NEED_STATE_LABELS[self])


NEED_STATE_LABELS = {
    NeedState.RECEIVED: _l("Received"),
    NeedState.ACCEPTED: _l("Accepted, being handled"),
    NeedState.PROPOSED: _l("Turned into a proposal"),
    NeedState.REFERRED: _l("Referred"),
    NeedState.DECLINED: _l("Declined"),
    NeedState.RESOLVED: _l("Resolved"),
}

ANSWER_STATES = (NeedState.ACCEPTED, NeedState.PROPOSED, NeedState.REFERRED, NeedState.DECLINED)


class Need(Model):
    """A resident's need and every step of its answer, each with its date."""

    id = fields.IntField(primary_key=True)
    number = fields.CharField(max_length=16, unique=True)  # the tracking number
    resident: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="needs", null=True, on_delete=fields.SET_NULL
    )
    # The grid worker who entered it for the resident (null when raised online).
    entered_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="needs_entered", null=True, on_delete=fields.SET_NULL
    )
    channel = fields.CharEnumField(NeedChannel, max_length=16, default=NeedChannel.ONLINE)
    area: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.Area", related_name="needs", on_delete=fields.RESTRICT
    )
    place = fields.CharField(max_length=200, default="")  # where, in the resident's words
    category = fields.CharEnumField(NeedCategory, max_length=16)
    title = fields.CharField(max_length=120)
    body = fields.TextField()
    state = fields.CharEnumField(NeedState, max_length=16, default=NeedState.RECEIVED)
    created_at = fields.DatetimeField()  # received; set by the service (the stats' month)

    # The answer (one of ANSWER_STATES), by whom and when. `answer` keeps which answer it was
    # once the need is resolved (`state` then says "resolved").
    answer = fields.CharEnumField(NeedState, max_length=16, null=True)
    answered_at = fields.DatetimeField(null=True)
    answered_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="needs_answered", null=True, on_delete=fields.SET_NULL
    )
    answer_note = fields.TextField(default="")  # the reason, for a decline; shown to all
    owner = fields.CharField(max_length=100, default="")  # accepted: who handles it
    due_on = fields.DateField(null=True)  # accepted: by when
    referred_to = fields.CharField(max_length=200, default="")  # referred: to which body
    proposal: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "budget.Proposal", related_name="needs", null=True, on_delete=fields.SET_NULL
    )

    resolved_at = fields.DatetimeField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="needs_resolved", null=True, on_delete=fields.SET_NULL
    )
    resolution_note = fields.TextField(default="")

    # The resident's rating of the answer: once, 1 to 5, within 30 days.
    rating = fields.SmallIntField(null=True)
    rating_comment = fields.TextField(default="")
    rated_at = fields.DatetimeField(null=True)

    class Meta:
        table = "need"
        ordering = ["-created_at", "-id"]
        indexes = [
            ("state", "created_at"),
            ("area_id", "created_at"),
            ("resident_id", "created_at"),
            ("entered_by_id", "created_at"),  # a grid worker's list of the needs they entered
            ("area_id", "state", "created_at"),  # the council's list filtered by area
            ("proposal_id",),  # "from need …" on the proposal's page
            ("created_at",),  # the council's list in any state, oldest or newest first
        ]
        constraints = [
            CheckConstraint(check="rating IS NULL OR rating BETWEEN 1 AND 5", name="need_rating"),
        ]

    def __str__(self) -> str:
        return self.title


class NeedPhoto(Model):
    id = fields.IntField(primary_key=True)
    need: fields.ForeignKeyRelation[Need] = fields.ForeignKeyField(
        "consult.Need", related_name="photos", on_delete=fields.CASCADE
    )
    stored_name = fields.CharField(max_length=64, unique=True)  # random name under uploads
    content_type = fields.CharField(max_length=32)
    size = fields.IntField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "need_photo"
        ordering = ["id"]
        indexes = [("need_id",)]


class NeedStat(Model):
    """Counts of the needs received in one month, area and channel: how many were received,
    answered, resolved, rated, and rated 4 or 5 (satisfied)."""

    id = fields.IntField(primary_key=True)
    month = fields.CharField(max_length=7)  # "2026-11", the month of receipt (UTC+8)
    area: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.Area", related_name="need_stats", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(NeedChannel, max_length=16)
    received = fields.IntField(default=0)
    answered = fields.IntField(default=0)
    resolved = fields.IntField(default=0)
    rated = fields.IntField(default=0)
    satisfied = fields.IntField(default=0)

    class Meta:
        table = "need_stat"
        unique_together = (("month", "area", "channel"),)
        # The dashboard sums a year of rows per month and channel and per area from this
        # index alone (SQLite reads no table row; consult.services.need_selection).
        indexes = [
            (
                "month",
                "channel",
                "area_id",
                "received",
                "answered",
                "resolved",
                "rated",
                "satisfied",
                "id",
            )
        ]


class NeedResponseTime(Model):
    """How many needs of a month, area and channel were answered after so many whole hours."""

    id = fields.IntField(primary_key=True)
    month = fields.CharField(max_length=7)
    area: fields.ForeignKeyRelation = fields.ForeignKeyField(
        "core.Area", related_name="need_response_times", on_delete=fields.CASCADE
    )
    channel = fields.CharEnumField(NeedChannel, max_length=16)
    hours = fields.IntField()
    count = fields.IntField(default=0)

    class Meta:
        table = "need_response_time"
        unique_together = (("month", "area", "channel", "hours"),)
