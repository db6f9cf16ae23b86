"""What the needs dashboard keeps for reuse: a cache in the database (shared by every worker,
never a source of truth) of what costs most to make again on every request, the median
response times (merged from tens of thousands of histogram rows), the CSV's text and the
dashboard's figures as HTML.

A row is used only while its `stamp` still describes the data it was made from; the stamp is
read by the page before the data (consult.services.need_dashboard explains why that makes a
kept row provably current).
"""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class NeedDashboardCache(Model):
    """A computed part of the needs dashboard for one selection, valid while its stamp holds."""

    id = fields.IntField(primary_key=True)
    key = fields.CharField(max_length=64, unique=True)  # kind:first:last:area:channel
    stamp = fields.CharField(max_length=120)  # what the value was computed from
    value = fields.JSONField(default=dict)
    computed_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "need_dashboard_cache"
