"""Conventions: the council drafts one (title, preamble, dates, areas, ratification rule) and
its numbered clauses — add, edit, move, remove — in the draft, or later in a revision being
written; a convention with its areas, a version. Reading pages of them is
consult.services.convention_reading.

Every change takes the convention's row lock first (as votes and phase changes do,
consult.services.convention_phases and consult.services.ratification), so that a clause
cannot be edited while the council opens the consultation at the same moment. Each change is
one transaction with its audit entry. The phases are consult.services.convention_phases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from consult.models import (
    Clause,
    ClauseText,
    Convention,
    ConventionArea,
    ConventionState,
    ConventionVersion,
    Majority,
    VotingUnit,
)
from consult.models.conventions import (
    MAX_CLAUSE,
    MAX_HEADING,
    MAX_NOTE,
    MAX_PREAMBLE,
    MAX_TITLE,
)
from consult.permissions import can
from core.audit import record
from core.db import lock_rows
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import getlist, parse_date, parse_int, text
from core.i18n import _
from core.models import Area, User
from core.services.areas import chosen_area_ids

PAGE_SIZE = 20
# the convention's own fields on the settings form (the preamble is its first version's)
RULE_FIELDS = ("title", "opens_on", "closes_on", "turnout_percent", "majority", "voting_unit")
SETTINGS = (*RULE_FIELDS, "preamble")


def missing() -> NotFound:
    return NotFound(_("This convention does not exist."))


# --- loading --------------------------------------------------------------------------------


async def get_convention(convention_id: int, conn: Any = None, lock: bool = False) -> Convention:
    """A convention with its areas (`areas` by name, `area_ids`), or NotFound; `lock`: its
    row locked for the rest of the transaction on `conn`."""
    if lock:
        found = await lock_rows(conn, Convention, [convention_id])
        c = found[0] if found else None
    else:
        c = await Convention.get_or_none(id=convention_id).using_db(conn)
    if c is None:
        raise missing()
    links = await ConventionArea.filter(convention_id=c.id).using_db(conn).select_related("area")
    c.areas = sorted((link.area for link in links), key=lambda a: a.name)
    c.area_ids = sorted(a.id for a in c.areas)
    return c


async def visible_convention(user: User | None, convention_id: int) -> Convention:
    """A convention the user may see (a draft: staff only; 404 for others, as if missing)."""
    c = await get_convention(convention_id)
    if not can(user, "see_convention", c):
        raise missing()
    return c


def working_number(c: Convention) -> int:
    """The version the council is writing: the draft's first, or the revision (0: none)."""
    if c.state == ConventionState.DRAFT:
        return 1
    return c.revision


async def get_version(c: Convention, number: int, conn: Any = None) -> ConventionVersion:
    version = (
        await ConventionVersion.filter(convention_id=c.id, number=number).using_db(conn).first()
    )
    if version is None:
        raise NotFound(_("This version of the convention does not exist."))
    return version


async def texts_of(version_id: int, conn: Any = None) -> list[ClauseText]:
    """A version's clause texts in order."""
    return list(
        await ClauseText.filter(version_id=version_id).using_db(conn).order_by("position", "id")
    )


# --- the settings -----------------------------------------------------------------------------


@dataclass
class ConventionInput:
    title: str
    preamble: str
    opens_on: date | None
    closes_on: date | None
    area_ids: list[int]
    turnout_percent: int | None
    majority: Majority | None
    voting_unit: VotingUnit | None


def convention_form_values(c: Convention | None = None, preamble: str = "") -> dict[str, Any]:
    """What the settings form shows (defaults for a new convention)."""
    if c is None:
        return {
            "areas": [],
            "turnout_percent": "50",
            "majority": Majority.SIMPLE.value,
            "voting_unit": VotingUnit.RESIDENT.value,
        }
    return {
        "title": c.title,
        "preamble": preamble,
        "opens_on": c.opens_on.isoformat(),
        "closes_on": c.closes_on.isoformat(),
        "areas": [str(a) for a in c.area_ids],
        "turnout_percent": str(c.turnout_percent),
        "majority": str(c.majority),
        "voting_unit": str(c.voting_unit),
    }


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What was typed, to show again after a refusal."""
    values = {k: str(data.get(k) or "") for k in SETTINGS}
    values["areas"] = getlist(data, "areas")
    return values


def parse_convention_input(data: Mapping[str, Any], areas: list[Area]) -> ConventionInput:
    """Typed settings from a form, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    title = text(data.get("title"), "title", errors, max_length=MAX_TITLE)
    preamble = text(
        data.get("preamble"), "preamble", errors, required=False, max_length=MAX_PREAMBLE
    )
    area_ids = chosen_area_ids(data, areas, errors)
    opens_on = parse_date(data.get("opens_on"), "opens_on", errors, required=True)
    closes_on = parse_date(data.get("closes_on"), "closes_on", errors, required=True)
    if opens_on and closes_on and closes_on < opens_on:
        errors["closes_on"] = _(
            "The closing date must not come before the opening date ({day}).",
            day=opens_on.isoformat(),
        )
    turnout = parse_int(
        data.get("turnout_percent"), "turnout_percent", errors, minimum=0, maximum=100
    )
    try:
        majority = Majority(str(data.get("majority") or ""))
    except ValueError:
        errors["majority"] = _("Choose the majority from the list.")
        majority = None
    try:
        unit = VotingUnit(str(data.get("voting_unit") or ""))
    except ValueError:
        errors["voting_unit"] = _("Choose one vote per resident or one per household.")
        unit = None
    if errors:
        raise ValidationError(errors=errors)
    return ConventionInput(title, preamble, opens_on, closes_on, area_ids, turnout, majority, unit)


async def create_convention(actor: User | None, data: Mapping[str, Any]) -> Convention:
    """A new draft convention with its (unpublished) first version; no clause yet."""
    if not can(actor, "create_convention"):
        raise PermissionDenied(_("Only council members draft conventions."))
    values = parse_convention_input(data, await Area.all())
    async with in_transaction() as conn:
        c = await Convention.create(
            title=values.title,
            opens_on=values.opens_on,
            closes_on=values.closes_on,
            turnout_percent=values.turnout_percent,
            majority=values.majority,
            voting_unit=values.voting_unit,
            created_by=actor,
            using_db=conn,
        )
        await ConventionVersion.create(
            convention=c, number=1, preamble=values.preamble, using_db=conn
        )
        await ConventionArea.bulk_create(
            [ConventionArea(convention_id=c.id, area_id=a) for a in values.area_ids],
            using_db=conn,
        )
        await record(
            actor, "convention.create", c, using_db=conn, title=c.title, areas=values.area_ids
        )
    c.area_ids = values.area_ids
    return c


async def edit_convention(
    actor: User | None, convention_id: int, data: Mapping[str, Any]
) -> Convention:
    """Change a draft's settings and preamble (never after its consultation opened: the rule
    is fixed then)."""
    areas = await Area.all()
    async with in_transaction() as conn:
        c = await get_convention(convention_id, conn, lock=True)
        if not can(actor, "edit_convention", c):
            raise PermissionDenied(edit_refusal(c))
        values = parse_convention_input(data, areas)
        changes: dict[str, Any] = {}
        for key in RULE_FIELDS:
            value = getattr(values, key)
            if getattr(c, key) != value:
                changes[key] = value.isoformat() if isinstance(value, date) else str(value)
                setattr(c, key, value)
        await c.save(using_db=conn, update_fields=list(RULE_FIELDS))
        await (
            ConventionVersion.filter(convention_id=c.id, number=1)
            .using_db(conn)
            .update(preamble=values.preamble)
        )
        if c.area_ids != values.area_ids:
            changes["areas"] = values.area_ids
            await ConventionArea.filter(convention_id=c.id).using_db(conn).delete()
            await ConventionArea.bulk_create(
                [ConventionArea(convention_id=c.id, area_id=a) for a in values.area_ids],
                using_db=conn,
            )
            c.area_ids = values.area_ids
        await record(actor, "convention.edit", c, using_db=conn, **changes)
    return c


def edit_refusal(c: Convention) -> str:
    if c.state != ConventionState.DRAFT:
        return _("The consultation is open: its settings and ratification rule are fixed.")
    return _("Only council members draft conventions.")


def text_refusal(c: Convention) -> str:
    if c.state == ConventionState.CONSULTING:
        return _("Start a revision to change the text of a convention in consultation.")
    if c.state != ConventionState.DRAFT:
        return _("The text of this convention is fixed.")
    return _("Only council members draft conventions.")


# --- clauses of the version being written ---------------------------------------------------


def parse_clause(data: Mapping[str, Any], revising: bool) -> tuple[str, str, str]:
    """A clause's heading, text and (in a revision) why it changed; ValidationError else."""
    errors: dict[str, str] = {}
    heading = text(data.get("heading"), "heading", errors, max_length=MAX_HEADING)
    body = text(data.get("body"), "body", errors, max_length=MAX_CLAUSE)
    note = text(data.get("change_note"), "change_note", errors, required=False, max_length=MAX_NOTE)
    if errors:
        raise ValidationError(errors=errors)
    return heading, body, note if revising else ""


async def _writable(
    conn: Any, actor: User | None, convention_id: int
) -> tuple[Convention, ConventionVersion]:
    c = await get_convention(convention_id, conn, lock=True)
    if not can(actor, "edit_text", c):
        raise PermissionDenied(text_refusal(c))
    return c, await get_version(c, working_number(c), conn)


async def add_clause(actor: User | None, convention_id: int, data: Mapping[str, Any]) -> Clause:
    """A new clause at the end of the version being written."""
    async with in_transaction() as conn:
        c, version = await _writable(conn, actor, convention_id)
        heading, body, note = parse_clause(data, c.revision > 0)
        last = (
            await ClauseText.filter(version_id=version.id)
            .using_db(conn)
            .order_by("-position")
            .first()
        )
        clause = await Clause.create(convention_id=c.id, using_db=conn)
        await ClauseText.create(
            clause=clause,
            version=version,
            position=(last.position + 1) if last else 1,
            heading=heading,
            body=body,
            change_note=note,
            using_db=conn,
        )
        await record(
            actor,
            "convention.clause_add",
            c,
            using_db=conn,
            clause=clause.id,
            version=version.number,
            heading=heading,
        )
    return clause


async def working_text(c: Convention, clause_id: int) -> ClauseText:
    """A clause's text in the version being written (NotFound when it has none)."""
    found = await ClauseText.filter(
        clause_id=clause_id,
        clause__convention_id=c.id,
        version__convention_id=c.id,
        version__number=working_number(c),
    ).first()
    if found is None:
        raise NotFound(_("This clause does not exist."))
    return found


async def edit_clause(
    actor: User | None, convention_id: int, clause_id: int, data: Mapping[str, Any]
) -> ClauseText:
    """Change a clause's heading and text (in a revision, with why it changed)."""
    async with in_transaction() as conn:
        c, version = await _writable(conn, actor, convention_id)
        row = await ClauseText.get_or_none(version_id=version.id, clause_id=clause_id).using_db(
            conn
        )
        if row is None:
            raise NotFound(_("This clause does not exist."))
        heading, body, note = parse_clause(data, c.revision > 0)
        old = {"heading": row.heading, "body": row.body}
        row.heading, row.body, row.change_note = heading, body, note
        await row.save(using_db=conn, update_fields=["heading", "body", "change_note"])
        await record(
            actor,
            "convention.clause_edit",
            c,
            using_db=conn,
            clause=clause_id,
            version=version.number,
            old_heading=old["heading"],
            old_body=old["body"],
            change_note=note or None,
        )
    return row


async def move_clause(
    actor: User | None, convention_id: int, clause_id: int, direction: str
) -> None:
    """Swap a clause with the one before ("up") or after ("down") it; at an end, nothing."""
    if direction not in ("up", "down"):
        raise ValidationError(_("Move a clause up or down."))
    async with in_transaction() as conn:
        c, version = await _writable(conn, actor, convention_id)
        rows = await texts_of(version.id, conn)
        at = next((i for i, r in enumerate(rows) if r.clause_id == clause_id), None)
        if at is None:
            raise NotFound(_("This clause does not exist."))
        other = at - 1 if direction == "up" else at + 1
        if not 0 <= other < len(rows):
            return
        rows[at], rows[other] = rows[other], rows[at]
        for position, row in enumerate(rows, 1):
            if row.position != position:
                row.position = position
                await row.save(using_db=conn, update_fields=["position"])
        await record(
            actor,
            "convention.clause_move",
            c,
            using_db=conn,
            clause=clause_id,
            version=version.number,
            direction=direction,
        )


async def remove_clause(actor: User | None, convention_id: int, clause_id: int) -> None:
    """Take a clause out of the version being written (a clause never published is deleted;
    one of an earlier version stays there). The others are numbered again."""
    async with in_transaction() as conn:
        c, version = await _writable(conn, actor, convention_id)
        row = await ClauseText.get_or_none(version_id=version.id, clause_id=clause_id).using_db(
            conn
        )
        if row is None:
            raise NotFound(_("This clause does not exist."))
        await row.delete(using_db=conn)
        if not await ClauseText.filter(clause_id=clause_id).using_db(conn).exists():
            await Clause.filter(id=clause_id).using_db(conn).delete()
        for position, r in enumerate(await texts_of(version.id, conn), 1):
            if r.position != position:
                r.position = position
                await r.save(using_db=conn, update_fields=["position"])
        await record(
            actor,
            "convention.clause_remove",
            c,
            using_db=conn,
            clause=clause_id,
            version=version.number,
            heading=row.heading,
            body=row.body,
        )


async def edit_revision(
    actor: User | None, convention_id: int, data: Mapping[str, Any]
) -> ConventionVersion:
    """The preamble and the summary of changes of a revision being written."""
    errors: dict[str, str] = {}
    preamble = text(
        data.get("preamble"), "preamble", errors, required=False, max_length=MAX_PREAMBLE
    )
    summary = text(data.get("summary"), "summary", errors, required=False, max_length=MAX_NOTE)
    async with in_transaction() as conn:
        c, version = await _writable(conn, actor, convention_id)
        if c.revision == 0:
            raise PermissionDenied(text_refusal(c))
        if errors:
            raise ValidationError(errors=errors)
        version.preamble, version.summary = preamble, summary
        await version.save(using_db=conn, update_fields=["preamble", "summary"])
        await record(actor, "convention.revision_edit", c, using_db=conn, version=version.number)
    return version
