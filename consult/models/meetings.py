"""Council meetings: one-off or recurring (an RFC 5545 RRULE such as monthly on the 16th),
with a place, an area, agenda items linked to what they discuss, and after each occurrence an
attendance count, minutes and follow-up actions that show on the linked items.

Times are aware UTC in the database; pages and the iCalendar feed show them in the
district's time zone (Asia/Shanghai), where a recurrence is also expanded.
"""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.migrations.constraints import CheckConstraint
from tortoise.models import Model

from consult.models.comments import SubjectType
from core.i18n import lazy_gettext as _l


class MeetingKind(StrEnum):
    TALK = "talk"  # the monthly public-opinion talk (民情恳谈, on the 16th)
    BRIEFING = "briefing"  # residents put questions to officials (on the 5th)
    COUNCIL = "council"  # a council's working meeting
    HEARING = "hearing"  # a consultation or hearing on one topic

    @property
    def label(self) -> str:
        return str(MEETING_KIND_LABELS[self])


MEETING_KIND_LABELS = {
    MeetingKind.TALK: _l("Public-opinion talk"),
    MeetingKind.BRIEFING: _l("Residents' briefing"),
    MeetingKind.COUNCIL: _l("Council meeting"),
    MeetingKind.HEARING: _l("Consultation meeting"),
}


class Meeting(Model):
    id = fields.IntField(primary_key=True)
    title = fields.CharField(max_length=200)
    kind = fields.CharEnumField(MeetingKind, max_length=10, default=MeetingKind.COUNCIL)
    description = fields.TextField(default="")
    place = fields.CharField(max_length=200)
    area: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.Area", related_name="meetings", null=True, on_delete=fields.RESTRICT
    )
    # The first (or only) occurrence, aware UTC, and how long each lasts.
    starts_at = fields.DatetimeField()
    duration_minutes = fields.IntField(default=90)
    # "" for a one-off meeting; else an RRULE value without the "RRULE:" prefix
    # ("FREQ=MONTHLY;BYMONTHDAY=16;COUNT=12"), always bounded by COUNT or UNTIL.
    rrule = fields.CharField(max_length=200, default="")
    cancelled_at = fields.DatetimeField(null=True)
    cancel_reason = fields.CharField(max_length=200, default="")
    created_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="meetings_created", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    # The iCalendar SEQUENCE: raised whenever the time, place or recurrence changes.
    sequence = fields.IntField(default=0)

    class Meta:
        table = "meeting"
        ordering = ["starts_at", "id"]
        indexes = [("area_id", "starts_at"), ("starts_at",)]
        constraints = [
            CheckConstraint(
                check="duration_minutes > 0 AND duration_minutes <= 1440",
                name="meeting_duration_range",
            )
        ]

    @property
    def recurring(self) -> bool:
        return bool(self.rrule)


class AgendaItem(Model):
    """One item on the agenda of a meeting, optionally about a proposal, a budgeting round or a
    deliberation round. `occurrence_at` names one occurrence of a recurring meeting (null: the
    standing agenda of the meeting, or the only occurrence of a one-off meeting)."""

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "consult.Meeting", related_name="agenda", on_delete=fields.CASCADE
    )
    occurrence_at = fields.DatetimeField(null=True)
    position = fields.IntField(default=0)
    title = fields.CharField(max_length=200)
    subject_type = fields.CharEnumField(SubjectType, max_length=16, null=True)
    subject_id = fields.IntField(null=True)

    class Meta:
        table = "agenda_item"
        ordering = ["position", "id"]
        indexes = [("meeting_id", "occurrence_at"), ("subject_type", "subject_id")]


class MeetingRecord(Model):
    """What happened at one occurrence of a meeting: attendance and minutes. Only for an
    occurrence that has begun; one per occurrence."""

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "consult.Meeting", related_name="records", on_delete=fields.CASCADE
    )
    occurrence_at = fields.DatetimeField()
    attendance = fields.IntField()
    minutes = fields.TextField()
    recorded_by: fields.ForeignKeyNullableRelation = fields.ForeignKeyField(
        "core.User", related_name="meeting_records", null=True, on_delete=fields.SET_NULL
    )
    recorded_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "meeting_record"
        ordering = ["-occurrence_at"]
        unique_together = [("meeting_id", "occurrence_at")]
        constraints = [CheckConstraint(check="attendance >= 0", name="meeting_attendance")]


class FollowUpAction(Model):
    """A follow-up decided at a meeting: who does what by when, and whether it is done. Shown
    on the item it concerns (a proposal, a round, a deliberation round)."""

    id = fields.IntField(primary_key=True)
    meeting: fields.ForeignKeyRelation[Meeting] = fields.ForeignKeyField(
        "consult.Meeting", related_name="actions", on_delete=fields.CASCADE
    )
    record: fields.ForeignKeyRelation[MeetingRecord] = fields.ForeignKeyField(
        "consult.MeetingRecord", related_name="actions", on_delete=fields.CASCADE
    )
    title = fields.CharField(max_length=200)
    owner = fields.CharField(max_length=100)  # a person or a body: "街道城管科"
    due_on = fields.DateField()
    done_at = fields.DatetimeField(null=True)
    subject_type = fields.CharEnumField(SubjectType, max_length=16, null=True)
    subject_id = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "follow_up_action"
        ordering = ["due_on", "id"]
        indexes = [("subject_type", "subject_id"), ("record_id",)]
