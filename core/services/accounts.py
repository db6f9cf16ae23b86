"""Accounts: the account list, accounts made and changed by staff one by one, and the first
administrator (command line); and what the other account services (`areas`, `roll`,
`invitations`, `reset_codes`) share: the username rule, the one-time codes, the permission
check and password hashing.

Every function that changes state runs in one transaction, checks `core.permissions.can`
first, validates its input (ValidationError with a message per field) and writes an audit entry.
Passwords are hashed with argon2 (`core.services.auth`) outside the transaction, in a thread.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import PermissionDenied, ValidationError
from core.forms import parse_int, text
from core.i18n import _
from core.models import Area, Role, User
from core.permissions import can
from core.services.auth import bump_session_version, hash_password, validate_password

USERNAME_RE = re.compile(r"^[a-z0-9_.-]{2,64}$")
# Codes avoid look-alikes (0/O, 1/I/L) so that they survive print.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
AREA_ROLES = (Role.RESIDENT, Role.GRID_WORKER)


def _now() -> datetime:
    return datetime.now(UTC)


def _deny(user: User | None, action: str, subject: Any = None) -> None:
    if not can(user, action, subject):
        raise PermissionDenied(_("You are not allowed to do this."))


async def _hash(password: str) -> str:
    # argon2 is slow on purpose; keep the event loop free while it works.
    return await asyncio.to_thread(hash_password, password)


def unusable_password_hash() -> str:
    """What an account without a password stores: no password matches it (it is no argon2
    hash), and it differs from account to account."""
    return "!" + secrets.token_urlsafe(24)


def generate_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _i in range(CODE_LENGTH))


def normalize_code(raw: str) -> str:
    """What a resident types ('abcde-fghjk ') → the stored code ('ABCDEFGHJK')."""
    return re.sub(r"[\s-]+", "", str(raw or "")).upper()


def format_code(code: str) -> str:
    """A code as printed: two groups of five."""
    return f"{code[:5]}-{code[5:]}" if len(code) == CODE_LENGTH else code


def clean_username(raw: object, errors: dict[str, str], key: str = "username") -> str:
    username = str(raw or "").strip().lower()
    if not username:
        errors[key] = _("This field is required.")
    elif not USERNAME_RE.match(username):
        errors[key] = _("Use 2 to 64 characters: lowercase letters a-z, digits and . _ - only.")
    return username


# --- accounts ------------------------------------------------------------------------------


async def search_accounts(q: str = "", role: str = "", area_id: int | None = None):
    """A queryset of accounts for the account list (area loaded with them)."""
    qs = User.all().select_related("area").order_by("username")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    if role in {r.value for r in Role}:
        qs = qs.filter(role=role)
    if area_id:
        qs = qs.filter(area_id=area_id)
    return qs


def _flag(value: Any) -> bool:
    return str(value or "").lower() in ("1", "on", "true", "yes")


async def _account_input(
    actor: User, data: Mapping[str, Any], *, target: User | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed account fields from a form, and a message per bad field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    if target is None:
        values["username"] = clean_username(data.get("username"), errors)
    values["display_name"] = text(data.get("display_name"), "display_name", errors, max_length=100)
    values["household"] = text(
        data.get("household"), "household", errors, required=False, max_length=100
    )
    role_raw = str(data.get("role") or "")
    try:
        role = Role(role_raw)
    except ValueError:
        role = None
        errors["role"] = _("Choose a role.")
    if (
        role is not None
        and not can(actor, "grant_role", role)
        and (target is None or role != target.role)
    ):
        errors["role"] = _("You may not give the role {role}.", role=role.label)
    values["role"] = role
    area_id = parse_int(data.get("area"), "area", errors, required=False, minimum=1)
    area = await Area.get_or_none(id=area_id) if area_id else None
    if area_id and area is None:
        errors["area"] = _("Choose an area from the list.")
    if role in AREA_ROLES and area is None and "area" not in errors:
        errors["area"] = _("Residents and grid workers belong to an area.")
    values["area"] = area
    values["verified"] = _flag(data.get("verified"))
    values["is_active"] = _flag(data.get("is_active")) if target is not None else True
    if "username" in values and "username" not in errors:
        if await User.filter(username=values["username"]).exists():
            errors["username"] = _("This username is taken.")
    if target is not None and target.id == actor.id:
        if not values["is_active"]:
            errors["is_active"] = _("You cannot deactivate your own account.")
        if role is not None and role != target.role:
            errors["role"] = _("You cannot change your own role.")
    return values, errors


async def create_account(actor: User, data: Mapping[str, Any]) -> User:
    """One account made by staff: role limited by `grant_role`, area for residents. It has no
    password until its owner chooses one with a first sign-in code (`core.services.
    reset_codes`), which staff make next and hand over: staff never know a password."""
    _deny(actor, "manage_accounts")
    values, errors = await _account_input(actor, data, target=None)
    if errors:
        raise ValidationError(errors=errors)
    password_hash = unusable_password_hash()
    try:
        async with in_transaction() as conn:
            user = await User.create(
                username=values["username"],
                display_name=values["display_name"],
                household=values["household"],
                password_hash=password_hash,
                role=values["role"],
                area=values["area"],
                verified=values["verified"],
                is_active=True,
                using_db=conn,
            )
            await record(
                actor,
                "account.create",
                user,
                using_db=conn,
                username=user.username,
                role=user.role.value,
                area=values["area"].name if values["area"] else None,
            )
    except IntegrityError as exc:
        raise ValidationError(errors={"username": _("This username is taken.")}) from exc
    return user


async def edit_account(actor: User, target: User, data: Mapping[str, Any]) -> User:
    """Change an account; deactivating replaces deleting. Staff never set a password here.
    A new role or a deactivation ends every session of the account."""
    _deny(actor, "manage_accounts")
    _deny(actor, "edit_account", target)
    values, errors = await _account_input(actor, data, target=target)
    if errors:
        raise ValidationError(errors=errors)
    changes: dict[str, Any] = {}
    for key in ("display_name", "household", "role", "verified", "is_active"):
        if getattr(target, key) != values[key]:
            changes[key] = str(values[key]) if key == "role" else values[key]
    new_area_id = values["area"].id if values["area"] else None
    if target.area_id != new_area_id:
        changes["area"] = values["area"].name if values["area"] else ""
    async with in_transaction() as conn:
        target.display_name = values["display_name"]
        target.household = values["household"]
        target.role = values["role"]
        target.area = values["area"]
        target.verified = values["verified"]
        target.is_active = values["is_active"]
        fields = ["display_name", "household", "role", "area_id", "verified", "is_active"]
        await target.save(using_db=conn, update_fields=fields)
        if "role" in changes or "is_active" in changes:
            target.session_version = await bump_session_version(target.id, conn)
        await record(actor, "account.edit", target, using_db=conn, **changes)
    return target


# --- the first administrator (command line) --------------------------------------------------


async def create_admin(username: str, display_name: str, password: str) -> User:
    """An administrator made from the command line (`python manage.py createadmin`), without a
    signed-in user: how a new deployment gets its first account. The password is the
    operator's own, typed in or read from the environment; there is no default."""
    errors: dict[str, str] = {}
    username = clean_username(username, errors)
    display_name = text(display_name or username, "display_name", errors, max_length=100)
    errors.update(validate_password(password))
    if errors:
        raise ValidationError(errors=errors)
    password_hash = await _hash(password)
    try:
        async with in_transaction() as conn:
            user = await User.create(
                username=username,
                display_name=display_name,
                password_hash=password_hash,
                role=Role.ADMIN,
                is_active=True,
                using_db=conn,
            )
            await record(
                None,
                "account.create",
                user,
                using_db=conn,
                username=username,
                role=Role.ADMIN.value,
                via="command line",
            )
    except IntegrityError as exc:
        raise ValidationError(errors={"username": _("This username is taken.")}) from exc
    return user
