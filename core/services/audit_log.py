"""Reading the audit log, for its page: the entries (of one action, or all) and the actions
there are. Services write it with `core.audit.record`."""

from __future__ import annotations

from core.models import AuditEntry


async def audit_entries(action: str = ""):
    qs = AuditEntry.all().select_related("actor")
    if action:
        qs = qs.filter(action=action)
    return qs


async def audit_actions() -> list[str]:
    return list(
        await AuditEntry.all().order_by("action").distinct().values_list("action", flat=True)
    )
