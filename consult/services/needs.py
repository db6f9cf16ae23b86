"""Raising needs and finding them again: a verified resident raises one online, a grid worker
enters one for a resident of their own area (with the channel it came through); each gets a
tracking number. Reading: one need (only its resident, the grid worker who entered it and
the council see it), a lookup by tracking number, "my needs" and a grid worker's entries.

Answering, resolving and rating are consult.services.need_answers; the council's list is
consult.services.need_list.

Raising a need is one transaction: the need, its photos, the resident following it and the
month's "received" count, so the dashboard never counts a need that is not there. The
tracking number is random; on the rare collision with an existing one (the unique index
says so) the whole transaction is tried again with a new number.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from budget.services.photo_encoding import Encoded
from budget.services.photos import (
    MAX_PHOTOS,
    QUOTA_DAYS,
    Upload,
    delete_photos,
    prepared_photos,
    quota_error,
    store_photo,
)
from consult.models import Need, NeedCategory, NeedChannel, NeedPhoto, NeedState, SubjectType
from consult.permissions import can
from consult.rules import needs as rules
from consult.rules.comments import clean_body, clean_line
from consult.services import need_stats
from core.audit import record
from core.db import lock_rows
from core.errors import NotFound, PermissionDenied, RateLimited, ValidationError
from core.i18n import _
from core.models import Invitation, Role, User
from core.services.notifications import follow
from core.web.pagination import Page, paginate

PAGE_SIZE = 20
DAILY_LIMIT = 10  # needs one resident may raise online in 24 hours
NUMBER_TRIES = 5  # fresh tracking numbers tried before giving up (a collision is ~1e-6)
FIELDS = ("title", "body", "place", "category", "channel")
OFFLINE_CHANNELS = tuple(c for c in NeedChannel if c != NeedChannel.ONLINE)


def need_path(need_id: int) -> str:
    """A need's page (consult:need_detail), for notifications written outside a request."""
    return f"/consult/needs/{need_id}"


# --- the form ------------------------------------------------------------------------------


def form_values(data: Mapping[str, Any] | None = None) -> dict[str, str]:
    """What was typed, to show again after a refusal (empty for a new need)."""
    return {key: str((data or {}).get(key) or "") for key in FIELDS}


def parse_need_input(
    data: Mapping[str, Any],
    uploads: list[Upload],
    *,
    offline: bool,
    photo_errors: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The cleaned need, or ValidationError with a message per field (with `photo_errors`,
    what re-encoding the photos found). `offline`: entered by a grid worker, who says the
    channel."""
    errors: dict[str, str] = dict(photo_errors or {})
    values = {
        "title": _limited(clean_line(data.get("title")), "title", rules.MAX_TITLE, errors),
        "body": _limited(clean_body(data.get("body")), "body", rules.MAX_BODY, errors),
        "place": _limited(
            clean_line(data.get("place")), "place", rules.MAX_PLACE, errors, required=False
        ),
    }
    category = str(data.get("category") or "")
    if category not in NeedCategory._value2member_map_:
        errors["category"] = _("Choose what the need is about.")
    values["category"] = category
    if offline:
        channel = str(data.get("channel") or "")
        if channel not in {c.value for c in OFFLINE_CHANNELS}:
            errors["channel"] = _("Choose how the resident brought the need to you.")
        values["channel"] = channel
    else:
        values["channel"] = NeedChannel.ONLINE.value
    if len(uploads) > MAX_PHOTOS:
        errors["photos"] = _("At most {n} photos.", n=MAX_PHOTOS)
    if errors:
        raise ValidationError(errors=errors)
    return values


def _limited(
    value: str, field: str, limit: int, errors: dict[str, str], *, required: bool = True
) -> str:
    if required and not value:
        errors[field] = _("This field is required.")
    elif len(value) > limit:
        errors[field] = _("At most {n} characters.", n=limit)
    return value


# --- raising and entering ------------------------------------------------------------------


async def raise_need(
    user: User | None,
    data: Mapping[str, Any],
    uploads: list[Upload],
    *,
    upload_dir: Path,
    max_bytes: int,
) -> Need:
    """A verified resident raises a need online, in their own area."""
    if not can(user, "raise_need"):
        raise PermissionDenied(_("Only verified residents with an area can raise a need."))
    photos, photo_errors = await prepared_photos(uploads, max_bytes)
    values = parse_need_input(data, uploads, offline=False, photo_errors=photo_errors)
    return await _create_need(user, user, None, values, photos, upload_dir=upload_dir, limit=True)


async def enter_need(
    worker: User | None,
    resident_id: int,
    data: Mapping[str, Any],
    uploads: list[Upload],
    *,
    upload_dir: Path,
    max_bytes: int,
) -> Need:
    """A grid worker enters a need for a verified resident of their own area, marked with the
    channel it came through (talk station, talk box, phone, home visit)."""
    resident = await entry_resident(worker, resident_id)
    photos, photo_errors = await prepared_photos(uploads, max_bytes)
    values = parse_need_input(data, uploads, offline=True, photo_errors=photo_errors)
    return await _create_need(
        worker, resident, worker, values, photos, upload_dir=upload_dir, limit=False
    )


async def entry_resident(worker: User | None, resident_id: int | None) -> User:
    """The resident `worker` may enter a need for (403 with the reason otherwise)."""
    if not can(worker, "enter_need"):
        raise PermissionDenied(_("Only grid workers with an area enter needs for residents."))
    resident = await User.get_or_none(id=resident_id) if resident_id else None
    if resident is None:
        raise NotFound(_("This resident does not exist."))
    if resident.area_id != worker.area_id:
        raise PermissionDenied(_("You can only enter needs for residents of your own area."))
    if not can(worker, "enter_need", resident):
        if resident.id == worker.id:
            raise PermissionDenied(_("Raise your own needs online; entries are for others."))
        raise PermissionDenied(_("This person is not a verified resident of your area."))
    return resident


async def _create_need(
    actor: User,
    resident: User,
    worker: User | None,
    values: dict[str, Any],
    photos: list[Encoded],
    *,
    upload_dir: Path,
    limit: bool,
) -> Need:
    for attempt in range(NUMBER_TRIES):
        written: list[str] = []
        try:
            async with in_transaction() as conn:
                if limit:
                    await _within_daily_limit(conn, resident)
                if photos:
                    await _within_photo_quota(conn, resident, photos)
                need = await Need.create(
                    number=rules.new_number(),
                    resident_id=resident.id,
                    entered_by_id=worker.id if worker else None,
                    area_id=resident.area_id,
                    created_at=datetime.now(UTC),
                    state=NeedState.RECEIVED,
                    using_db=conn,
                    **values,
                )
                for photo in photos:
                    name = store_photo(upload_dir, photo)
                    written.append(name)
                    await NeedPhoto.create(
                        need_id=need.id,
                        stored_name=name,
                        content_type=photo.content_type,
                        size=len(photo.data),
                        using_db=conn,
                    )
                await follow(resident.id, SubjectType.NEED, need.id, using_db=conn)
                await need_stats.count_received(conn, need)
                await record(
                    actor,
                    "need.entered" if worker else "need.raised",
                    need,
                    using_db=conn,
                    number=need.number,
                    channel=str(need.channel),
                    resident=resident.id,
                    photos=len(written) or None,
                )
            return need
        except IntegrityError:
            # The tracking number is the only unique value a new need has: it collided.
            delete_photos(upload_dir, written)
            if attempt == NUMBER_TRIES - 1:
                raise
        except BaseException:
            delete_photos(upload_dir, written)
            raise
    raise AssertionError("unreachable")


async def _within_photo_quota(conn: Any, resident: User, photos: list[Encoded]) -> None:
    """Refuse photos past the quota of the resident's needs in QUOTA_DAYS (raised online or
    entered for them); their row is locked so that two needs sent at once count in turn."""
    await lock_rows(conn, User, [resident.id])
    since = datetime.now(UTC) - timedelta(days=QUOTA_DAYS)
    sizes = await (
        NeedPhoto.filter(need__resident_id=resident.id, created_at__gte=since)
        .using_db(conn)
        .values_list("size", flat=True)
    )
    message = quota_error(len(sizes), sum(sizes), photos, per_round=False)
    if message:
        raise ValidationError(errors={"photos": message})


async def _within_daily_limit(conn: Any, resident: User) -> None:
    """Refuse a need past DAILY_LIMIT in 24 hours; the resident's row is locked so that two
    raised at once count one after the other."""
    await lock_rows(conn, User, [resident.id])
    since = datetime.now(UTC) - timedelta(days=1)
    recent = await (
        Need.filter(resident_id=resident.id, created_at__gte=since, entered_by_id=None)
        .using_db(conn)
        .count()
    )
    if recent >= DAILY_LIMIT:
        raise RateLimited(
            _(
                "You have raised {n} needs in the last 24 hours, the most there can be. "
                "Please try again tomorrow: your text is kept below.",
                n=recent,
            )
        )


# --- choosing the resident (grid workers) --------------------------------------------------


def resident_candidates(worker: User, q: str = "") -> QuerySet[User]:
    """Verified residents of the worker's area except the worker, searched by name or
    username, by name."""
    qs = User.filter(
        area_id=worker.area_id,
        is_active=True,
        verified=True,
        role__in=[Role.RESIDENT, Role.GRID_WORKER],
    ).exclude(id=worker.id)
    if q:
        qs = qs.filter(Q(display_name__icontains=q) | Q(username__icontains=q))
    return qs.order_by("display_name", "id")


async def households_of(user_ids: list[int]) -> dict[int, str]:
    """user id → the household on the invitation code they registered with (one query), so
    that two residents of the same name can be told apart."""
    if not user_ids:
        return {}
    rows = await Invitation.filter(used_by_id__in=user_ids).values_list("used_by_id", "household")
    return {user_id: household for user_id, household in rows if household}


# --- reading -------------------------------------------------------------------------------


async def get_need_for(user: User | None, need_id: int) -> Need:
    """A need with its area, people, proposal and photos, for someone who may see it (404
    when it does not exist, 403 otherwise)."""
    need = await Need.get_or_none(id=need_id).select_related(
        "area", "resident", "entered_by", "answered_by", "resolved_by", "proposal"
    )
    if need is None:
        raise NotFound(_("This need does not exist."))
    if not can(user, "view_need", need):
        raise PermissionDenied(
            _("Only the resident, the grid worker who entered it and the council see a need.")
        )
    need.photo_list = list(await NeedPhoto.filter(need_id=need.id).order_by("id"))
    return need


async def find_by_number(user: User | None, raw: str) -> Need:
    """The need with this tracking number, if `user` may see it. A number that exists but is
    someone else's is answered as unknown: the lookup tells nobody that it exists."""
    number = rules.normalize_number(raw)
    if number is None:
        raise ValidationError(
            errors={"number": _("A tracking number looks like XQ-7K3M-9P2D: please check it.")}
        )
    need = await Need.get_or_none(number=number)
    if need is None or not can(user, "view_need", need):
        message = _("No need of yours has the tracking number {number}.", number=number)
        raise NotFound(message, errors={"number": message})
    return need


async def my_needs(user: User, number: int | None) -> Page:
    """The resident's own needs, newest first, a page at a time (with their areas)."""
    qs = Need.filter(resident_id=user.id).select_related("area").order_by("-created_at", "-id")
    return await paginate(qs, number, PAGE_SIZE)


async def entered_needs(worker: User, number: int | None) -> Page:
    """The needs a grid worker entered, newest first, with their residents and areas."""
    qs = (
        Need.filter(entered_by_id=worker.id)
        .select_related("area", "resident")
        .order_by("-created_at", "-id")
    )
    return await paginate(qs, number, PAGE_SIZE)


async def need_photo(user: User | None, photo_id: int) -> NeedPhoto:
    """A need's photo, for someone who may see the need (404 for anyone else)."""
    photo = await NeedPhoto.get_or_none(id=photo_id).select_related("need")
    if photo is None or not can(user, "view_need", photo.need):
        raise NotFound(_("This photo does not exist."))
    return photo
