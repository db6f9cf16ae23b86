"""The audit log: every service that changes state records who did what, in its transaction."""

from __future__ import annotations

from typing import Any

from core.models import AuditEntry, User


async def record(
    actor: User | None,
    action: str,
    subject: Any = None,
    *,
    public: bool = False,
    using_db: Any = None,
    client_address: str = "",
    **detail: Any,
) -> AuditEntry:
    """Append one audit entry; `subject` is a model instance (its table name and id are kept).
    `client_address` only for the entries whose actor is not enough: sign-in attempts and
    exports of what is not public."""
    subject_type = subject._meta.db_table if subject is not None else ""
    subject_id = getattr(subject, "id", None)
    return await AuditEntry.create(
        actor=actor,
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        public=public,
        client_address=client_address[:64],
        detail={k: v for k, v in detail.items() if v is not None},
        using_db=using_db,
    )
