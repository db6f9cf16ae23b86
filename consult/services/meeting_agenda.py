"""Meetings' agendas, and what an agenda item or a follow-up action is about.

An agenda item belongs to the standing agenda of a meeting (every occurrence) or to one of
its occurrences, and may name a proposal (by its number), a budgeting round or a
deliberation round, which must exist; the linked page then lists the meeting
(`meeting_records.subject_items`). A council member adds, removes and reorders items: each one
transaction with a public audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import Proposal, Round
from consult.models import AgendaItem, Deliberation, Meeting, SubjectType
from consult.permissions import can
from consult.rules import recurrence
from core.audit import record
from core.db import lock_rows
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import text
from core.i18n import _
from core.models import User

MAX_TITLE = 200
LINK_PROPOSAL = "proposal"  # the link field's value for "a proposal, by its number"


@dataclass(frozen=True)
class Subject:
    type: SubjectType
    id: int


async def link_choices() -> list[tuple[str, str]]:
    """The link field's options: nothing, a proposal by number, each budgeting round (not the
    imported elections) and each deliberation round."""
    rounds = await Round.filter(is_study=False).order_by("-id").values_list("id", "title")
    deliberations = await Deliberation.all().values_list("id", "title")
    return [
        ("", _("Nothing")),
        (LINK_PROPOSAL, _("A proposal (give its number)")),
        *((f"round:{i}", _("Budgeting round: {title}", title=t)) for i, t in rounds),
        *(
            (f"deliberation:{i}", _("Deliberation round: {title}", title=t))
            for i, t in deliberations
        ),
    ]


async def parse_subject(
    form: Mapping[str, Any], errors: dict[str, str], conn: Any
) -> Subject | None:
    """The `link` (and `number`) fields: what an item is about, checked to exist; None for
    nothing (or with `errors` set)."""
    link = str(form.get("link") or "").strip()
    if not link:
        return None
    if link == LINK_PROPOSAL:
        raw = str(form.get("number") or "").strip().lstrip("#＃")
        number = int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else None
        if number is None:
            errors["number"] = _("Give the proposal's number, for example 12.")
            return None
        found = await Proposal.filter(id=number, round__is_study=False).using_db(conn).exists()
        if not found:
            errors["number"] = _("There is no proposal number {number}.", number=number)
            return None
        return Subject(SubjectType.PROPOSAL, number)
    kind, _sep, raw = link.partition(":")
    ident = int(raw) if (raw.isascii() and raw.isdigit()) and len(raw) < 10 else None
    if kind == "round" and ident is not None:
        if await Round.filter(id=ident, is_study=False).using_db(conn).exists():
            return Subject(SubjectType.ROUND, ident)
    elif kind == "deliberation" and ident is not None:
        if await Deliberation.filter(id=ident).using_db(conn).exists():
            return Subject(SubjectType.DELIBERATION, ident)
    errors["link"] = _("Choose what it is about from the list.")
    return None


async def subject_titles(
    subjects: Iterable[tuple[str | None, int | None]],
) -> dict[tuple[str, int], str]:
    """(type, id) → title of the proposals, rounds and deliberation rounds named; a query per
    kind named (at most three)."""
    wanted: dict[str, set[int]] = {}
    for kind, ident in subjects:
        if kind and ident is not None:
            wanted.setdefault(str(kind), set()).add(ident)
    models = {
        SubjectType.PROPOSAL.value: Proposal,
        SubjectType.ROUND.value: Round,
        SubjectType.DELIBERATION.value: Deliberation,
    }
    titles: dict[tuple[str, int], str] = {}
    for kind, ids in wanted.items():
        model = models.get(kind)
        if model is None:
            continue
        for ident, title in await model.filter(id__in=ids).values_list("id", "title"):
            titles[(kind, ident)] = title
    return titles


def _refusal(user: User | None, meeting: Meeting) -> str:
    if meeting.cancelled_at is not None and can(user, "schedule_meeting"):
        return _("This meeting was cancelled; its agenda can no longer be changed.")
    return _("Only council members change agendas.")


async def _meeting_for_agenda(conn: Any, user: User | None, meeting_id: int) -> Meeting:
    found = await lock_rows(conn, Meeting, [meeting_id])
    if not found:
        raise NotFound(_("This meeting does not exist."))
    if not can(user, "manage_agenda", found[0]):
        raise PermissionDenied(_refusal(user, found[0]))
    return found[0]


def parse_occurrence(
    meeting: Meeting, value: object, errors: dict[str, str], field: str = "occurrence"
) -> datetime | None:
    """The occurrence field: "" (the standing agenda: None) or one occurrence of `meeting`."""
    raw = str(value or "").strip()
    if not raw:
        return None
    moment = recurrence.parse_occurrence_key(raw)
    if moment is None or not recurrence.is_occurrence(meeting.starts_at, meeting.rrule, moment):
        errors[field] = _("Choose one of this meeting's dates.")
        return None
    return moment


def _group(meeting_id: int, occurrence: datetime | None) -> Any:
    """The items of the standing agenda (None) or of one occurrence's."""
    if occurrence is None:
        return AgendaItem.filter(meeting_id=meeting_id, occurrence_at__isnull=True)
    return AgendaItem.filter(meeting_id=meeting_id, occurrence_at=occurrence)


async def add_agenda_item(
    user: User | None, meeting_id: int, form: Mapping[str, Any]
) -> AgendaItem:
    """A council member adds an item at the end of the standing agenda or of one occurrence's."""
    errors: dict[str, str] = {}
    title = text(form.get("title"), "title", errors, max_length=MAX_TITLE)
    async with in_transaction() as conn:
        meeting = await _meeting_for_agenda(conn, user, meeting_id)
        occurrence = parse_occurrence(meeting, form.get("occurrence"), errors)
        subject = await parse_subject(form, errors, conn)
        if errors:
            raise ValidationError(errors=errors)
        last = (
            await _group(meeting.id, occurrence)
            .using_db(conn)
            .order_by("-position")
            .first()
            .values_list("position", flat=True)
        )
        item = await AgendaItem.create(
            meeting_id=meeting.id,
            occurrence_at=occurrence,
            position=(last if last is not None else -1) + 1,
            title=title,
            subject_type=subject.type if subject else None,
            subject_id=subject.id if subject else None,
            using_db=conn,
        )
        await record(
            user,
            "meeting.agenda_added",
            meeting,
            using_db=conn,
            public=True,
            item=item.id,
            title=title,
            occurrence=occurrence.isoformat() if occurrence else None,
            subject_type=str(subject.type) if subject else None,
            subject_id=subject.id if subject else None,
        )
    return item


async def _item_for_agenda(
    conn: Any, user: User | None, item_id: int
) -> tuple[AgendaItem, Meeting]:
    item = await AgendaItem.get_or_none(id=item_id).using_db(conn)
    if item is None:
        raise NotFound(_("This agenda item does not exist."))
    return item, await _meeting_for_agenda(conn, user, item.meeting_id)


async def remove_agenda_item(user: User | None, item_id: int) -> int:
    """A council member removes an item; returns its meeting's id."""
    async with in_transaction() as conn:
        item, meeting = await _item_for_agenda(conn, user, item_id)
        await item.delete(using_db=conn)
        await record(
            user,
            "meeting.agenda_removed",
            meeting,
            using_db=conn,
            public=True,
            item=item_id,
            title=item.title,
        )
    return meeting.id


async def move_agenda_item(user: User | None, item_id: int, direction: str) -> int:
    """A council member moves an item one place up or down within its agenda (the positions
    are renumbered 0, 1, 2… on the way); returns its meeting's id."""
    if direction not in ("up", "down"):
        raise ValidationError(_("Move an item up or down."))
    async with in_transaction() as conn:
        item, meeting = await _item_for_agenda(conn, user, item_id)
        items = list(
            await _group(meeting.id, item.occurrence_at).using_db(conn).order_by("position", "id")
        )
        i = next(n for n, other in enumerate(items) if other.id == item.id)
        j = i - 1 if direction == "up" else i + 1
        if 0 <= j < len(items):
            items[i], items[j] = items[j], items[i]
        changed = [other for n, other in enumerate(items) if other.position != n]
        for n, other in enumerate(items):
            other.position = n
        if changed:
            await AgendaItem.bulk_update(changed, fields=["position"], using_db=conn)
        await record(
            user,
            "meeting.agenda_moved",
            meeting,
            using_db=conn,
            public=True,
            item=item.id,
            direction=direction,
        )
    return meeting.id
