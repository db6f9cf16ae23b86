"""Deliberation rounds: open one (title, description, areas concerned, dates), edit it, move it
to the next phase by hand. Reading: one round with its areas, the list (filters, search,
pages), its timetable. Its decision is consult.services.decisions.

A round reaches "published" only through `decisions.publish_decision`. Every change takes
the round's row lock first, as statement votes and approvals do (consult.services.votes), so
a phase change waits for the votes in flight and a vote that comes after it finds the round
closed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.expressions import Q, Subquery
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from consult.models import (
    Deliberation,
    DeliberationArea,
    DeliberationPhase,
    Statement,
    StatementStatus,
)
from consult.permissions import can
from consult.services import notices
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import getlist, parse_date, text
from core.i18n import _
from core.models import Area, User
from core.services.areas import chosen_area_ids
from core.web.pagination import Page

MAX_TITLE = 200
MAX_TEXT = 20_000
PAGE_SIZE = 20
DISTRICT = "district"  # the area filter's value for rounds of the whole district


# --- opening and editing a round ------------------------------------------------------------


@dataclass
class DeliberationInput:
    title: str
    description: str
    area_ids: list[int]
    starts_on: date | None
    ends_on: date | None


def deliberation_form_values(d: Deliberation | None = None) -> dict[str, Any]:
    """What the form shows: a round's settings as text (empty for a new round)."""
    if d is None:
        return {"areas": []}
    return {
        "title": d.title,
        "description": d.description,
        "areas": [str(a) for a in d.area_ids],
        "starts_on": d.starts_on.isoformat(),
        "ends_on": d.ends_on.isoformat(),
    }


def form_values(data: Mapping[str, Any]) -> dict[str, Any]:
    """What was typed, to show again after a refusal."""
    values = {k: str(data.get(k) or "") for k in ("title", "description", "starts_on", "ends_on")}
    values["areas"] = getlist(data, "areas")
    return values


def parse_deliberation_input(data: Mapping[str, Any], areas: list[Area]) -> DeliberationInput:
    """Typed settings from a form, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    title = text(data.get("title"), "title", errors, max_length=MAX_TITLE)
    description = text(
        data.get("description"), "description", errors, required=False, max_length=MAX_TEXT
    )
    area_ids = chosen_area_ids(data, areas, errors)
    starts_on = parse_date(data.get("starts_on"), "starts_on", errors, required=True)
    ends_on = parse_date(data.get("ends_on"), "ends_on", errors, required=True)
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _(
            "The end date must not come before the start date ({day}).", day=starts_on.isoformat()
        )
    if errors:
        raise ValidationError(errors=errors)
    return DeliberationInput(title, description, area_ids, starts_on, ends_on)


async def create_deliberation(actor: User | None, data: Mapping[str, Any]) -> Deliberation:
    """Open a deliberation round, collecting statements."""
    if not can(actor, "create_deliberation"):
        raise PermissionDenied(_("Only council members open deliberation rounds."))
    values = parse_deliberation_input(data, await Area.all())
    async with in_transaction() as conn:
        d = await Deliberation.create(
            title=values.title,
            description=values.description,
            starts_on=values.starts_on,
            ends_on=values.ends_on,
            phase=DeliberationPhase.COLLECTING,
            created_by=actor,
            using_db=conn,
        )
        await DeliberationArea.bulk_create(
            [DeliberationArea(deliberation_id=d.id, area_id=a) for a in values.area_ids],
            using_db=conn,
        )
        await record(
            actor,
            "deliberation.create",
            d,
            public=True,
            using_db=conn,
            title=d.title,
            areas=values.area_ids,
            starts_on=d.starts_on.isoformat(),
            ends_on=d.ends_on.isoformat(),
        )
    d.area_ids = values.area_ids
    return d


async def edit_deliberation(
    actor: User | None, deliberation_id: int, data: Mapping[str, Any]
) -> Deliberation:
    """Change a round's title, description, areas or dates (until its decision is published)."""
    areas = await Area.all()
    async with in_transaction() as conn:
        locked = await lock_rows(conn, Deliberation, [deliberation_id])
        if not locked:
            raise NotFound(_("This deliberation round does not exist."))
        d = locked[0]
        if not can(actor, "edit_deliberation", d):
            raise PermissionDenied(_("You may not edit this deliberation round."))
        values = parse_deliberation_input(data, areas)
        before = await _area_ids(d.id, conn)
        changes: dict[str, Any] = {}
        for key in ("title", "description", "starts_on", "ends_on"):
            value = getattr(values, key)
            if getattr(d, key) != value:
                changes[key] = value.isoformat() if isinstance(value, date) else value
                setattr(d, key, value)
        await d.save(using_db=conn, update_fields=["title", "description", "starts_on", "ends_on"])
        if before != values.area_ids:
            changes["areas"] = values.area_ids
            gone = set(before) - set(values.area_ids)
            if gone:
                await (
                    DeliberationArea.filter(deliberation_id=d.id, area_id__in=list(gone))
                    .using_db(conn)
                    .delete()
                )
            await DeliberationArea.bulk_create(
                [
                    DeliberationArea(deliberation_id=d.id, area_id=a)
                    for a in values.area_ids
                    if a not in before
                ],
                using_db=conn,
            )
        await record(actor, "deliberation.edit", d, public=True, using_db=conn, **changes)
    d.area_ids = values.area_ids
    return d


async def advance_deliberation(
    actor: User | None, deliberation_id: int, from_phase: str | None = None
) -> Deliberation:
    """Move a round to its next phase (collecting → discussing → deciding; publishing the
    decision is the last step). `from_phase` is the phase the confirmation page showed: if the
    round moved meanwhile (a second click, another council member), nothing happens (409)."""
    async with in_transaction() as conn:
        locked = await lock_rows(conn, Deliberation, [deliberation_id])
        if not locked:
            raise NotFound(_("This deliberation round does not exist."))
        d = locked[0]
        if from_phase is not None and d.phase != from_phase:
            raise Conflict(
                _(
                    "This deliberation round is already in the phase {phase}.",
                    phase=d.phase_enum.label,
                )
            )
        if not can(actor, "advance_deliberation", d):
            raise PermissionDenied(advance_refusal(d))
        before = d.phase_enum
        d.phase = before.next
        await d.save(using_db=conn, update_fields=["phase"])
        await notices.tell_deliberation_phase(conn, d, actor)
        await record(
            actor,
            "deliberation.advance",
            d,
            public=True,
            using_db=conn,
            **{"from": before.value, "to": d.phase_enum.value},
        )
    return d


def advance_refusal(d: Deliberation) -> str:
    if d.phase == DeliberationPhase.DECIDING:
        return _("A deliberation round moves on from deciding by publishing its decision.")
    if d.phase == DeliberationPhase.PUBLISHED:
        return _("This deliberation round's decision is published; it has no further phase.")
    return _("Only council members move a deliberation round to its next phase.")


# --- reading --------------------------------------------------------------------------------


async def _area_ids(deliberation_id: int, conn: Any = None) -> list[int]:
    return sorted(
        await DeliberationArea.filter(deliberation_id=deliberation_id)
        .using_db(conn)
        .values_list("area_id", flat=True)
    )


async def get_deliberation(deliberation_id: int) -> Deliberation:
    """A round with its areas (`areas`, by name; `area_ids`), or NotFound."""
    d = await Deliberation.get_or_none(id=deliberation_id)
    if d is None:
        raise NotFound(_("This deliberation round does not exist."))
    links = await DeliberationArea.filter(deliberation_id=d.id).select_related("area")
    d.areas = sorted((link.area for link in links), key=lambda a: a.name)
    d.area_ids = sorted(a.id for a in d.areas)
    return d


@dataclass
class DeliberationFilters:
    area: str = ""  # "" all, DISTRICT the district-wide ones, else an area id (its own + district)
    phase: str = ""
    year: int | None = None
    q: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> DeliberationFilters:
        area = params.get("area", "")
        if area != DISTRICT and not (area.isascii() and area.isdigit() and len(area) <= 9):
            area = ""  # an id the database's integer column can hold
        phase = params.get("phase", "")
        year = params.get("year", "")
        year_n = int(year) if year.isascii() and year.isdigit() and len(year) == 4 else 0
        return cls(
            area=area,
            phase=phase if phase in DeliberationPhase._value2member_map_ else "",
            year=year_n if 1900 < year_n < 3000 else None,
            q=params.get("q", "").strip()[:200],
        )

    @property
    def active(self) -> bool:
        return bool(self.area or self.phase or self.year or self.q)


def filtered_deliberations(filters: DeliberationFilters):
    """The rounds that match, newest first. A round of the whole district concerns every area,
    so filtering on an area keeps it too."""
    qs = Deliberation.all()
    with_areas = Subquery(DeliberationArea.all().values("deliberation_id"))
    if filters.area == DISTRICT:
        qs = qs.filter(~Q(id__in=with_areas))
    elif filters.area:
        of_area = Subquery(
            DeliberationArea.filter(area_id=int(filters.area)).values("deliberation_id")
        )
        qs = qs.filter(Q(id__in=of_area) | ~Q(id__in=with_areas))
    if filters.phase:
        qs = qs.filter(phase=filters.phase)
    if filters.year:
        qs = qs.filter(
            starts_on__gte=date(filters.year, 1, 1), starts_on__lte=date(filters.year, 12, 31)
        )
    if filters.q:
        qs = qs.filter(title__icontains=filters.q)
    return qs.order_by("-starts_on", "-id")


async def list_page(filters: DeliberationFilters, number: int | None) -> Page:
    """A page of rounds, each with its `areas` and `statement_count` (approved), in three
    queries whatever the page's size (and one to count)."""
    qs = filtered_deliberations(filters)
    total = await qs.count()
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number or 1), pages)
    items = list(
        await qs.offset((number - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
        .only("id", "title", "phase", "starts_on", "ends_on", "published_at")
    )
    ids = [d.id for d in items]
    areas: dict[int, list[Area]] = {i: [] for i in ids}
    counts: dict[int, int] = {}
    if ids:
        for link in await DeliberationArea.filter(deliberation_id__in=ids).select_related("area"):
            areas[link.deliberation_id].append(link.area)
        counts = dict(
            await Statement.filter(deliberation_id__in=ids, status=StatementStatus.APPROVED)
            .group_by("deliberation_id")
            .annotate(n=Count("id"))
            .values_list("deliberation_id", "n")
        )
    for d in items:
        d.areas = sorted(areas[d.id], key=lambda a: a.name)
        d.statement_count = counts.get(d.id, 0)
    return Page(items=items, number=number, size=PAGE_SIZE, total=total)


async def list_years() -> list[int]:
    """The years in which rounds started, newest first (for the year filter)."""
    days = (
        await Deliberation.all()
        .order_by("starts_on")
        .distinct()
        .values_list("starts_on", flat=True)
    )
    return sorted({d.year for d in days}, reverse=True)


def timetable(d: Deliberation) -> list[dict[str, Any]]:
    """The phases in order, marking the current one and those past."""
    phases = list(DeliberationPhase)
    current = phases.index(d.phase_enum)
    return [
        {"phase": p, "current": i == current, "past": i < current} for i, p in enumerate(phases)
    ]
