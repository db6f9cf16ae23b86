"""Reading the audit log, for its page: the entries (of one action, about one subject, or
all) and the actions there are. Services write it with `core.audit.record`."""

from __future__ import annotations

import re

from core.models import AuditEntry

# "procurement:12": a subject's table name and id, as `core.audit.record` keeps them
_SUBJECT = re.compile(r"^([a-z][a-z0-9_]{0,31}):([0-9]{1,10})$")


def parse_subject(value: str | None) -> tuple[str, int] | None:
    """("procurement", 12) for "procurement:12"; None for anything else."""
    match = _SUBJECT.match((value or "").strip())
    if match is None or int(match.group(2)) >= 2**31:
        return None
    return match.group(1), int(match.group(2))


async def audit_entries(action: str = "", subject: tuple[str, int] | None = None):
    qs = AuditEntry.all().select_related("actor")
    if action:
        qs = qs.filter(action=action)
    if subject is not None:
        qs = qs.filter(subject_type=subject[0], subject_id=subject[1])
    return qs


async def audit_actions() -> list[str]:
    return list(
        await AuditEntry.all().order_by("action").distinct().values_list("action", flat=True)
    )
