"""Passwords (argon2), sign-in with throttling, sign-out everywhere, a new password, language.

argon2 is slow on purpose (tens of milliseconds of CPU): every hash and every check runs in a
worker thread, so that the event loop keeps answering other pages meanwhile. An unknown
username is checked against a stand-in hash, so that it answers as slowly as a known one.
Guesses are throttled per (account, address) and per address (`core.services.throttle`).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import ValidationError
from core.i18n import _
from core.models import User
from core.services import throttle
from core.services.throttle import SIGN_IN, SIGN_IN_ADDRESS, Throttled

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
MAX_USERNAME_LENGTH = 64

# An argon2 hash of a random password, made once per process (the same parameters as real
# hashes): an unknown username is checked against it.
_dummy_hash: str | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password_off_loop(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password in a worker thread; without a hash (no such account), check it against
    the stand-in hash all the same and answer False."""
    global _dummy_hash
    if password_hash is None:
        if _dummy_hash is None:
            _dummy_hash = await hash_password_off_loop(secrets.token_urlsafe(16))
        await asyncio.to_thread(check_password, _dummy_hash, password)
        return False
    return await asyncio.to_thread(check_password, password_hash, password)


def validate_password(password: str, confirm: str | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    if len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = _("The password needs at least {n} characters.", n=MIN_PASSWORD_LENGTH)
    elif confirm is not None and password != confirm:
        errors["password_confirm"] = _("The two passwords differ.")
    return errors


def _now() -> datetime:
    return datetime.now(UTC)


def sign_in_keys(username: str, client: str) -> tuple[str, str]:
    """The throttle keys of a sign-in: (this account at this address, this address)."""
    return SIGN_IN.key(username, client), SIGN_IN_ADDRESS.key(client)


async def reserve_sign_in(username: str, client: str, field: str | None = None) -> tuple[int, int]:
    """Count a password check on the account at this address, then on the address, and return
    both counts; raise Throttled (and count nothing) when either must wait."""
    account_key, address_key = sign_in_keys(username, client)
    on_account = await throttle.reserve(SIGN_IN, account_key, field=field)
    try:
        on_address = await throttle.reserve(SIGN_IN_ADDRESS, address_key, field=field)
    except Throttled:
        await throttle.release(account_key)  # never checked: not a failure of this account
        raise
    return on_account, on_address


async def authenticate(username: str, password: str, client: str) -> User:
    """The user for these credentials, or ValidationError (Throttled while guesses from this
    address must wait).

    The audit log gets every sign-in and every failed one (the username tried, never the
    password; the client address; why), and a `login.locked` entry when a failure makes the
    account at this address, or the address, wait. An attempt refused while waiting is not
    logged: it checks nothing, and a flood of them would bury the log."""
    username = username.strip().lower()[:MAX_USERNAME_LENGTH]
    on_account, on_address = await reserve_sign_in(username, client)
    user = await User.get_or_none(username=username)
    right = await verify_password(user.password_hash if user else None, password)
    if user is None or not user.is_active or not right:
        await _record_failure(user, username, client, on_account, on_address)
        raise ValidationError(_("Wrong username or password."))
    account_key, address_key = sign_in_keys(username, client)
    async with in_transaction() as conn:
        await throttle.clear(account_key, using_db=conn)
        await throttle.release(address_key, using_db=conn)
        user.last_login_at = _now()
        await user.save(update_fields=["last_login_at"], using_db=conn)
        await record(user, "login", user, using_db=conn, client_address=client)
    return user


async def _record_failure(
    user: User | None, username: str, client: str, on_account: int, on_address: int
) -> None:
    """A failed sign-in, and the waits it starts. Nobody is known to have acted (actor None);
    the account, if there is one, is the subject."""
    if user is None:
        reason = "unknown_account"
    elif not user.is_active:
        reason = "inactive_account"
    else:
        reason = "wrong_password"
    async with in_transaction() as conn:
        await record(
            None,
            "login.failed",
            user,
            using_db=conn,
            client_address=client,
            username=username,
            reason=reason,
        )
        for policy, count, scope in (
            (SIGN_IN, on_account, "account"),
            (SIGN_IN_ADDRESS, on_address, "address"),
        ):
            if count == policy.free:  # the failure that starts the waits
                await record(
                    None,
                    "login.locked",
                    user if scope == "account" else None,
                    using_db=conn,
                    client_address=client,
                    username=username if scope == "account" else None,
                    scope=scope,
                    wait_seconds=int(policy.wait_after(count).total_seconds()),
                )


async def bump_session_version(user_id: int, using_db: Any) -> int:
    """End every session of an account (they carry the old version); returns the new one."""
    await (
        User.filter(id=user_id).using_db(using_db).update(session_version=F("session_version") + 1)
    )
    versions = (
        await User.filter(id=user_id).using_db(using_db).values_list("session_version", flat=True)
    )
    return int(versions[0])


async def sign_out_everywhere(user: User) -> None:
    """Sign out: every session of the account ends, on this device and every other one."""
    async with in_transaction() as conn:
        user.session_version = await bump_session_version(user.id, conn)
        await record(user, "logout", user, using_db=conn)


async def change_password(user: User, data: Mapping[str, Any], client: str) -> int:
    """A signed-in user sets a new password, giving the current one (checked and throttled
    like a sign-in). Every other session ends; returns the new session version, for this one."""
    current = str(data.get("current_password") or "")
    password = str(data.get("password") or "")
    errors = validate_password(password, str(data.get("password_confirm") or ""))
    if not current:
        errors["current_password"] = _("This field is required.")
    if errors:
        raise ValidationError(errors=errors)
    await reserve_sign_in(user.username, client, field="current_password")
    fresh = await User.get(id=user.id)
    if not await verify_password(fresh.password_hash, current):
        raise ValidationError(errors={"current_password": _("This is not your current password.")})
    password_hash = await hash_password_off_loop(password)
    account_key, address_key = sign_in_keys(user.username, client)
    async with in_transaction() as conn:
        await throttle.clear(account_key, using_db=conn)
        await throttle.release(address_key, using_db=conn)
        await User.filter(id=user.id).using_db(conn).update(password_hash=password_hash)
        user.password_hash = password_hash
        user.session_version = await bump_session_version(user.id, conn)
        await record(user, "account.password_changed", user, using_db=conn)
    return user.session_version


async def set_user_locale(user: User, locale: str) -> None:
    user.locale = locale
    await user.save(update_fields=["locale"])
