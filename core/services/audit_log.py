"""Reading the audit log, for its page: the entries (of one action, about one subject, or
all), the actions there are and their names. Services write it with `core.audit.record`;
exports of what is not public are recorded here (`record_export`)."""

from __future__ import annotations

import re
from typing import Any

from core.audit import record
from core.i18n import lazy_gettext as _l
from core.models import AuditEntry, User

# "procurement:12": a subject's table name and id, as `core.audit.record` keeps them
_SUBJECT = re.compile(r"^([a-z][a-z0-9_]{0,31}):([0-9]{1,10})$")

# The names the audit page shows for the actions an IT officer looks for first (sign-ins,
# lockouts, exports); any other action shows as its code.
ACTION_LABELS: dict[str, Any] = {
    "login": _l("Signed in"),
    "login.failed": _l("Failed sign-in"),
    "login.locked": _l("Sign-in attempts held back"),
    "logout": _l("Signed out everywhere"),
    "account.password_changed": _l("Password changed"),
    "export.ledger": _l("Ledger exported"),
    "export.pabulib": _l("Unpublished ballots exported (.pb file)"),
    "export.questionnaire": _l("Questionnaire answers exported"),
}

# The values of some details (why a sign-in failed, what is held back), named likewise.
DETAIL_LABELS: dict[tuple[str, str], Any] = {
    ("reason", "unknown_account"): _l("no such account"),
    ("reason", "inactive_account"): _l("account deactivated"),
    ("reason", "wrong_password"): _l("wrong password"),
    ("scope", "account"): _l("this account from this address"),
    ("scope", "address"): _l("every account from this address"),
}


def action_label(action: str) -> str:
    """The action's name in the current language, or its code when it has none."""
    found = ACTION_LABELS.get(action)
    return str(found) if found is not None else action


def detail_label(key: str, value: str) -> str:
    """A detail's value for the page: named when DETAIL_LABELS knows it, else as it is."""
    found = DETAIL_LABELS.get((key, value))
    return str(found) if found is not None else value


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


async def record_export(
    actor: User | None, what: str, subject: Any, client_address: str, **detail: Any
) -> None:
    """An export of what is not public (the ledger, a questionnaire's answers, a round's
    ballots before the results are out): who, from where, of what; never its contents.
    Open-data exports that anyone downloads (needs statistics, the meetings' calendar, OCDS,
    published .pb files) are not logged: they would bury the log and tell nothing."""
    await record(actor, f"export.{what}", subject, client_address=client_address, **detail)
