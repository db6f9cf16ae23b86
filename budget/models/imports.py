"""What the work on a large round leaves in the database for any worker process to read:
`ImportJob`, the progress of a Pabulib import (the page of an import polls it, whichever
worker answers), and `ComparisonCache`, a round's comparison of rules kept while what it
counted is unchanged (`budget.services.compare`). Neither is a source of truth: a comparison
row may be deleted at any time, an import's result is its round."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class ImportPhase(StrEnum):
    READING = "reading"  # the file is read in a worker process (lines_read of lines_total)
    SAVING = "saving"  # its projects and ballots are saved and counted, in one transaction
    DONE = "done"  # round is the study it became
    FAILED = "failed"  # error says why; existing is the study a known file became


class ImportJob(Model):
    """One import of a .pb file, as its page shows it."""

    id = fields.IntField(primary_key=True)
    created_by = fields.ForeignKeyField(
        "core.User", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    filename = fields.CharField(max_length=200)
    phase = fields.CharEnumField(ImportPhase, max_length=10, default=ImportPhase.READING)
    lines_read = fields.IntField(default=0)
    lines_total = fields.IntField(default=0)
    round = fields.ForeignKeyField(
        "budget.Round", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    existing = fields.ForeignKeyField(
        "budget.Round", related_name=False, null=True, on_delete=fields.SET_NULL
    )
    error = fields.TextField(default="")
    error_status = fields.IntField(default=422)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "import_job"


class ComparisonCache(Model):
    """The counts of a round's comparison of rules (per rule, per envelope: what was funded
    and why), valid while `stamp` — a digest of exactly what was counted — holds."""

    id = fields.IntField(primary_key=True)
    round = fields.OneToOneField("budget.Round", related_name=False, on_delete=fields.CASCADE)
    stamp = fields.CharField(max_length=64)
    value = fields.JSONField(default=dict)
    computed_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "comparison_cache"
