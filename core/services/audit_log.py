"""Reading the audit log, for its page: the entries (of one action, about one subject, or
all), the actions there are and their names. Services write it with `core.audit.record`;
exports of what is not public are recorded here (`record_export`)."""

from __future__ import annotations

import json
import re
from typing import Any

from core.audit import record
from core.i18n import _, format_money, label
from core.i18n import lazy_gettext as _l
from core.models import AuditEntry, User
from core.services.audit_labels import ACTIONS, DETAIL_KEYS, DETAIL_VALUES, SUBJECTS

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
    found = ACTION_LABELS.get(action) or ACTIONS.get(action)
    return str(found) if found is not None else action


def subject_label(subject_type: str) -> str:
    """The name of a kind of record ("procurement" → 采购项目), or its code."""
    found = SUBJECTS.get(subject_type)
    return str(found) if found is not None else subject_type


def detail_key_label(key: str) -> str:
    found = DETAIL_KEYS.get(key)
    return str(found) if found is not None else key


# Detail values that are an enum's value (a role, a status, a channel), named by that enum's
# label. Core imports no feature package: the enums are found among those loaded, by name.
_VALUE_ENUMS: dict[str, tuple[str, ...]] = {
    "role": ("Role",),
    "stance": ("Stance",),
    "old_stance": ("Stance",),
    "channel": ("Channel", "NeedChannel"),
    "from_status": ("ProcurementStatus", "ProposalStatus"),
    "to_status": ("ProcurementStatus", "ProposalStatus"),
    "kind": ("EntryKind", "DocumentKind", "ProcurementKind", "MeetingKind", "QuestionKind"),
    "ballot_type": ("BallotType",),
    "rule": ("OutcomeRule",),
    "majority": ("Majority",),
    "voting_unit": ("VotingUnit",),
    "category": ("Category", "NeedCategory"),
    "outcome": ("ProposalStatus",),
}


def _enum_label(key: str, value: str) -> str | None:
    from enum import StrEnum

    names = _VALUE_ENUMS.get(key, ())
    loaded = {cls.__name__: cls for cls in StrEnum.__subclasses__() if hasattr(cls, "label")}
    for name in names:
        cls = loaded.get(name)
        if cls is not None and value in cls._value2member_map_:
            return label(cls(value))
    return None


def detail_label(key: str, value: str) -> str:
    """A detail's value for the page: named when it is a known code, else as it is."""
    found = DETAIL_LABELS.get((key, value)) or DETAIL_VALUES.get((key, value))
    if found is not None:
        return str(found)
    return _enum_label(key, value) or value


def detail_items(detail: dict) -> list[tuple[str, str, bool]]:
    """An entry's details as (name, value, shown as code) for the page: keys and known codes
    named in the reader's language, amounts in yuan, yes / no; structured values (a file's
    metadata) stay as the data they are."""
    items = []
    for key, value in (detail or {}).items():
        name = detail_key_label(str(key))
        if isinstance(value, bool):
            items.append((name, str(_l("yes") if value else _l("no")), False))
        elif isinstance(value, int) and str(key).endswith("_fen"):
            items.append((name, format_money(value), False))
        elif isinstance(value, int | float):
            items.append((name, str(value), False))
        elif isinstance(value, str):
            items.append((name, detail_label(str(key), value), False))
        elif isinstance(value, list) and all(isinstance(v, str | int) for v in value):
            items.append((name, _(", ").join(detail_label(str(key), str(v)) for v in value), False))
        elif value is None:
            items.append((name, "–", False))
        else:
            items.append((name, json.dumps(value, ensure_ascii=False), True))
    return items


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
