"""Invitation codes and registration: staff make one-time codes for an area's households (one
printed slip each); a resident registers with one — used exactly once, and throttled per
address like a password — and becomes a verified resident of the code's area."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import ValidationError
from core.forms import parse_int, text
from core.i18n import _
from core.models import Area, Invitation, Role, User
from core.services import throttle
from core.services.accounts import _deny, _hash, _now, clean_username, generate_code, normalize_code
from core.services.auth import validate_password
from core.services.throttle import CODE_ADDRESS

MAX_INVITATIONS = 500


async def create_invitations(actor: User, data: Mapping[str, Any]) -> list[Invitation]:
    """N one-time codes for an area; each line of `households` labels one code."""
    _deny(actor, "create_invitations")
    errors: dict[str, str] = {}
    area_id = parse_int(data.get("area"), "area", errors, minimum=1)
    area = await Area.get_or_none(id=area_id) if area_id else None
    if area_id and area is None:
        errors["area"] = _("Choose an area from the list.")
    households = [
        line.strip() for line in str(data.get("households") or "").splitlines() if line.strip()
    ]
    count_raw = str(data.get("count") or "").strip()
    count = parse_int(
        count_raw, "count", errors, required=not households, minimum=1, maximum=MAX_INVITATIONS
    )
    if households:
        if any(len(h) > 100 for h in households):
            errors["households"] = _("Each household label has at most 100 characters.")
        elif len(households) > MAX_INVITATIONS:
            errors["households"] = _("At most {n} codes at a time.", n=MAX_INVITATIONS)
        elif count is not None and count != len(households):
            errors["count"] = _(
                "You listed {n} households; leave the number empty or make it {n}.",
                n=len(households),
            )
        count = len(households)
    if errors:
        raise ValidationError(errors=errors)
    labels = households or [""] * (count or 0)
    for _attempt in range(5):
        codes = set()
        while len(codes) < len(labels):
            codes.add(generate_code())
        if not await Invitation.filter(code__in=list(codes)).exists():
            break
    try:
        async with in_transaction() as conn:
            created = []
            for code, label in zip(sorted(codes), labels, strict=True):
                created.append(
                    await Invitation.create(
                        code=code, area=area, household=label, created_by=actor, using_db=conn
                    )
                )
            await record(actor, "invitation.create", area, using_db=conn, count=len(created))
    except IntegrityError as exc:  # a code collided after all (vanishingly rare): try again
        raise ValidationError(_("Please try again.")) from exc
    return created


async def search_invitations(
    area_id: int | None = None, state: str = "", batch: tuple[int, int] | None = None
):
    qs = Invitation.all().select_related("area", "used_by", "created_by").order_by("id")
    if area_id:
        qs = qs.filter(area_id=area_id)
    if state == "unused":
        qs = qs.filter(used_at__isnull=True)
    elif state == "used":
        qs = qs.filter(used_at__isnull=False)
    if batch:
        qs = qs.filter(id__gte=batch[0], id__lte=batch[1])
    return qs


async def register_with_code(data: Mapping[str, Any], client: str) -> User:
    """A resident registers with a household's invitation code: the code is used exactly once
    (a conditional update inside the transaction, so that two concurrent uses cannot both win)
    and the account is a verified resident of the code's area.

    The code is checked first, throttled per address like a password: without a valid code
    the answer says only that, never whether a username is taken."""
    code = normalize_code(str(data.get("code") or ""))
    if not code:
        raise ValidationError(errors={"code": _("This field is required.")})
    address_key = CODE_ADDRESS.key(client)
    await throttle.reserve(CODE_ADDRESS, address_key, field="code")
    # A code longer than the column matches none (and would be refused by the query itself).
    fits = len(code) <= Invitation._meta.fields_map["code"].max_length
    invitation = await Invitation.get_or_none(code=code).select_related("area") if fits else None
    if invitation is None:
        raise ValidationError(
            errors={"code": _("This code is not valid. Check it against your printed slip.")}
        )
    if invitation.used_at is not None:
        raise ValidationError(errors={"code": _("This code has been used already.")})
    await throttle.release(address_key)  # a real code: not a failed guess
    errors: dict[str, str] = {}
    username = clean_username(data.get("username"), errors)
    display_name = text(data.get("display_name"), "display_name", errors, max_length=100)
    errors.update(
        validate_password(str(data.get("password") or ""), str(data.get("password_confirm") or ""))
    )
    if "username" not in errors and await User.filter(username=username).exists():
        errors["username"] = _("This username is taken.")
    if errors:
        raise ValidationError(errors=errors)
    password_hash = await _hash(str(data["password"]))
    try:
        async with in_transaction() as conn:
            now = _now()
            claimed = (
                await Invitation.filter(id=invitation.id, used_at__isnull=True)
                .using_db(conn)
                .update(used_at=now)
            )
            if claimed != 1:
                raise ValidationError(errors={"code": _("This code has been used already.")})
            user = await User.create(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=Role.RESIDENT,
                area_id=invitation.area_id,
                # the code was handed to this household: grid workers tell residents of the
                # same name apart by it when they enter paper ballots
                household=invitation.household,
                verified=True,
                using_db=conn,
            )
            await Invitation.filter(id=invitation.id).using_db(conn).update(used_by_id=user.id)
            await record(
                user,
                "account.register",
                user,
                using_db=conn,
                invitation=invitation.id,
                area=invitation.area.name,
            )
    except IntegrityError as exc:
        raise ValidationError(errors={"username": _("This username is taken.")}) from exc
    user.area = invitation.area
    return user
