"""Areas: each with its number of active residents, and an area made or changed by staff (one
transaction with its audit entry; names are unique)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import ValidationError
from core.forms import getlist, text
from core.i18n import _
from core.models import Area, Role, User
from core.services.accounts import _deny


async def areas_with_counts() -> list[tuple[Area, int]]:
    """Every area with its number of active residents (one grouped query for the counts)."""
    areas = await Area.all()
    rows = (
        await User.filter(role=Role.RESIDENT, is_active=True, area_id__isnull=False)
        .group_by("area_id")
        .annotate(n=Count("id"))
        .values_list("area_id", "n")
    )
    counts = {area_id: n for area_id, n in rows}
    return [(area, counts.get(area.id, 0)) for area in areas]


def _area_input(data: Mapping[str, Any]) -> tuple[str, str, dict[str, str]]:
    errors: dict[str, str] = {}
    name = text(data.get("name"), "name", errors, max_length=100)
    description = text(
        data.get("description"), "description", errors, required=False, max_length=2000
    )
    return name, description, errors


async def create_area(actor: User, data: Mapping[str, Any]) -> Area:
    _deny(actor, "manage_areas")
    name, description, errors = _area_input(data)
    if not errors and await Area.filter(name=name).exists():
        errors["name"] = _("An area with this name exists already.")
    if errors:
        raise ValidationError(errors=errors)
    try:
        async with in_transaction() as conn:
            area = await Area.create(name=name, description=description, using_db=conn)
            await record(actor, "area.create", area, using_db=conn, name=name)
    except IntegrityError as exc:
        raise ValidationError(errors={"name": _("An area with this name exists already.")}) from exc
    return area


async def edit_area(actor: User, area: Area, data: Mapping[str, Any]) -> Area:
    _deny(actor, "manage_areas")
    name, description, errors = _area_input(data)
    if not errors and await Area.filter(name=name).exclude(id=area.id).exists():
        errors["name"] = _("An area with this name exists already.")
    if errors:
        raise ValidationError(errors=errors)
    changes = {
        k: v for k, v in (("name", name), ("description", description)) if getattr(area, k) != v
    }
    try:
        async with in_transaction() as conn:
            area.name, area.description = name, description
            await area.save(using_db=conn, update_fields=["name", "description"])
            await record(actor, "area.edit", area, using_db=conn, **changes)
    except IntegrityError as exc:
        raise ValidationError(errors={"name": _("An area with this name exists already.")}) from exc
    return area


def chosen_area_ids(
    data: Mapping[str, Any], areas: list[Area], errors: dict[str, str], field: str = "areas"
) -> list[int]:
    """The ids of the areas ticked in a form (sorted, each once); an id that is not one of
    `areas` sets errors[field]."""
    known = {a.id for a in areas}
    chosen: set[int] = set()
    for raw in getlist(data, field):
        if not (raw.isascii() and raw.isdigit()) or int(raw) not in known:
            errors[field] = _("Choose the areas from the list.")
            break
        chosen.add(int(raw))
    return sorted(chosen)
