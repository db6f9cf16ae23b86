"""One-time password reset codes: the "forgot my password" path, and the only way staff can
help with a password.

A council member (or the resident's own grid worker) makes a code on the account's page and
hands it over in person; it is shown to them once, kept only as an argon2 hash, valid for
RESET_CODE_LIFETIME and used at most once. With it the resident sets a new password on a
public page that staff never see. A new code replaces the previous one; using it ends every
session of the account. Both steps are audited (who made a code for whom, and its use),
never the code itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import PermissionDenied, ValidationError
from core.i18n import _
from core.models import ResetCode, Role, User
from core.permissions import can
from core.services import throttle
from core.services.accounts import generate_code, normalize_code
from core.services.auth import (
    MAX_USERNAME_LENGTH,
    bump_session_version,
    hash_password_off_loop,
    validate_password,
    verify_password,
)
from core.services.throttle import CODE_ADDRESS, SIGN_IN

RESET_CODE_LIFETIME = timedelta(hours=24)


@dataclass
class IssuedCode:
    user: User
    code: str  # in clear only here, to show once
    expires_at: datetime


def _now() -> datetime:
    return datetime.now(UTC)


def reset_candidates(actor: User, q: str = ""):
    """The accounts `actor` may make reset codes for, as a queryset (name or username search):
    a grid worker's are the residents of their area."""
    qs = User.filter(is_active=True).select_related("area").order_by("username")
    if actor.role == Role.GRID_WORKER:
        qs = qs.filter(role=Role.RESIDENT, area_id=actor.area_id or 0)
    elif actor.role == Role.COUNCIL:
        qs = qs.filter(role__in=[Role.RESIDENT, Role.GRID_WORKER])
    elif actor.role != Role.ADMIN:
        qs = qs.filter(id=0)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(display_name__icontains=q))
    return qs


async def issue_reset_code(actor: User, target: User) -> IssuedCode:
    """A new one-time code for `target` (any earlier one stops working)."""
    if not can(actor, "issue_reset_code", target):
        raise PermissionDenied(_("You may not make a reset code for this account."))
    code = generate_code()
    code_hash = await hash_password_off_loop(code)
    expires_at = _now() + RESET_CODE_LIFETIME
    async with in_transaction() as conn:
        # The account row is locked, so that two codes made at once leave one.
        await User.filter(id=target.id).using_db(conn).select_for_update().first()
        await ResetCode.filter(user_id=target.id).using_db(conn).delete()
        await ResetCode.create(
            user_id=target.id,
            code_hash=code_hash,
            created_by_id=actor.id,
            expires_at=expires_at,
            using_db=conn,
        )
        await record(
            actor,
            "account.reset_code",
            target,
            using_db=conn,
            username=target.username,
            expires_at=expires_at.isoformat(timespec="minutes"),
        )
    return IssuedCode(target, code, expires_at)


async def set_password_with_code(data: Mapping[str, Any], client: str) -> User:
    """The resident's side: username, reset code and a new password. Throttled per address
    like every code; a wrong or expired code and an unknown username get the same answer."""
    errors: dict[str, str] = {}
    username = str(data.get("username") or "").strip().lower()[:MAX_USERNAME_LENGTH]
    code = normalize_code(str(data.get("code") or ""))
    if not username:
        errors["username"] = _("This field is required.")
    if not code:
        errors["code"] = _("This field is required.")
    password = str(data.get("password") or "")
    errors.update(validate_password(password, str(data.get("password_confirm") or "")))
    if errors:
        raise ValidationError(errors=errors)
    address_key = CODE_ADDRESS.key(client)
    await throttle.reserve(CODE_ADDRESS, address_key, field="code")
    user = await User.get_or_none(username=username, is_active=True)
    pending = await ResetCode.get_or_none(user_id=user.id) if user is not None else None
    if pending is not None and pending.expires_at <= _now():
        pending = None
    right = await verify_password(pending.code_hash if pending else None, code)
    if user is None or pending is None or not right:
        raise ValidationError(
            errors={
                "code": _(
                    "This username and reset code do not match, or the code has expired or "
                    "been used. Ask for a new code."
                )
            }
        )
    password_hash = await hash_password_off_loop(password)
    async with in_transaction() as conn:
        # Used once: of two uses at once, one deletes the row and the other finds it gone.
        used = (
            await ResetCode.filter(id=pending.id, code_hash=pending.code_hash)
            .using_db(conn)
            .delete()
        )
        if used != 1:
            raise ValidationError(
                errors={"code": _("This reset code has been used already. Ask for a new code.")}
            )
        await User.filter(id=user.id).using_db(conn).update(password_hash=password_hash)
        user.password_hash = password_hash
        user.session_version = await bump_session_version(user.id, conn)
        await throttle.release(address_key, using_db=conn)
        await throttle.clear(SIGN_IN.key(username, client), using_db=conn)
        await record(
            user,
            "account.password_reset",
            user,
            using_db=conn,
            code_made_by=pending.created_by_id,
        )
    return user
