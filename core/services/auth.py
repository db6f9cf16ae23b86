"""Passwords (argon2), sign-in with rate limiting, language preference."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import ValidationError
from core.i18n import _
from core.models import LoginThrottle, User

_hasher = PasswordHasher()

# After MAX_FAILURES failed sign-ins within WINDOW for one username or one address, further
# attempts are refused for LOCKOUT; the count resets after a success or when the window ends.
MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def validate_password(password: str, confirm: str | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("The password needs at least {n} characters.", n=MIN_PASSWORD_LENGTH)
    elif confirm is not None and password != confirm:
        errors["password_confirm"] = _("The two passwords differ.")
    return errors


def _now() -> datetime:
    return datetime.now(UTC)


async def _locked(keys: list[str]) -> bool:
    now = _now()
    rows = await LoginThrottle.filter(key__in=keys)
    return any(r.locked_until is not None and r.locked_until > now for r in rows)


async def _note_failure(keys: list[str]) -> None:
    now = _now()
    async with in_transaction() as conn:
        for key in keys:
            row = await LoginThrottle.select_for_update().using_db(conn).get_or_none(key=key)
            if row is None:
                await LoginThrottle.create(
                    key=key, failures=1, window_started_at=now, using_db=conn
                )
                continue
            if row.window_started_at + WINDOW < now:
                row.failures, row.window_started_at, row.locked_until = 1, now, None
            else:
                row.failures += 1
                if row.failures >= MAX_FAILURES:
                    row.locked_until = now + LOCKOUT
            await row.save(using_db=conn)


async def authenticate(username: str, password: str, client: str) -> User:
    """The user for these credentials, or ValidationError (also when rate-limited)."""
    username = username.strip().lower()
    keys = [f"user:{username}", f"addr:{client}"]
    if await _locked(keys):
        raise ValidationError(_("Too many failed attempts. Please wait 15 minutes and try again."))
    user = await User.get_or_none(username=username)
    if user is None or not user.is_active or not check_password(user.password_hash, password):
        await _note_failure(keys)
        raise ValidationError(_("Wrong username or password."))
    async with in_transaction() as conn:
        await LoginThrottle.filter(key__in=keys).using_db(conn).delete()
        user.last_login_at = _now()
        await user.save(update_fields=["last_login_at"], using_db=conn)
        await record(user, "login", user, using_db=conn)
    return user


async def set_user_locale(user: User, locale: str) -> None:
    user.locale = locale
    await user.save(update_fields=["locale"])
