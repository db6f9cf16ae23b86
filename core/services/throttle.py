"""Throttling of guesses (passwords, invitation codes, reset codes), with growing delays rather
than a hard lock, counted in the database so that every worker process sees the same counts.

Each attempt first reserves itself on each of its keys with one atomic statement

    INSERT … ON CONFLICT (key) DO UPDATE SET failures = failures + 1 …
    WHERE <the key need not wait> RETURNING failures

A row comes back when the attempt may go ahead (it is then counted), none when the key must
wait: the database orders simultaneous attempts, so of 60 guesses fired at once exactly the
free ones go ahead and the others are refused. A refused attempt changes nothing (it neither
counts nor prolongs the wait). An attempt that turns out right gives its reservation back
(`release`) or clears its key (`clear`).

The numbers. A community centre's residents share one public address; a guesser has one or a
few. After `free` failures of a key, the next attempt waits `base`, doubling with each further
failure, up to `cap`; the count starts again `window` after its first failure.

| key                                   | free | then the next attempt waits | window |
| ------------------------------------- | ---- | --------------------------- | ------ |
| sign-in, one account at one address   | 5    | 30 s, doubling, ≤ 15 min    | 24 h   |
| sign-in, one address (every account)  | 50   | 2 s, doubling, ≤ 5 min      | 1 h    |
| invitation / reset codes, one address | 20   | 5 s, doubling, ≤ 15 min     | 1 h    |

So guessing one account's password from one address gives 5 tries, then one every 15 minutes
at most (about 100 a day); spraying many accounts from one address, 50 tries an hour, then
one every 5 minutes. The chair or the admin signing in from another address is never slowed
by somebody else's guesses, and a forgetful resident at the community centre waits on their
own account only. Only wrong passwords count: fifty residents mistyping within one hour at the
centre's shared address pass untouched; beyond that each further attempt from there waits a
little, a few minutes at most, until the hour is over.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.dates import format_timedelta
from starlette_babel import get_locale
from tortoise.expressions import F

from core.errors import ValidationError
from core.i18n import _
from core.models import LoginThrottle

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class Policy:
    prefix: str
    free: int  # failures allowed before any wait
    base: timedelta  # the wait after `free` failures, doubling with each further one
    cap: timedelta  # the longest wait
    window: timedelta  # counts start again this long after the first failure

    def wait_after(self, failures: int) -> timedelta:
        """How long the next attempt waits after `failures` counted failures."""
        if failures < self.free:
            return timedelta(0)
        return min(self.cap, self.base * 2 ** min(failures - self.free, 30))

    def steps(self) -> list[timedelta]:
        """The distinct waits, from `base` up to and including `cap`."""
        waits = [self.base]
        while waits[-1] < self.cap:
            waits.append(min(self.cap, waits[-1] * 2))
        return waits

    def key(self, *parts: str) -> str:
        return f"{self.prefix}:{'|'.join(parts)}"[:MAX_KEY_LENGTH]


SIGN_IN = Policy("login", 5, timedelta(seconds=30), timedelta(minutes=15), timedelta(hours=24))
SIGN_IN_ADDRESS = Policy(
    "login-addr", 50, timedelta(seconds=2), timedelta(minutes=5), timedelta(hours=1)
)
CODE_ADDRESS = Policy(
    "code-addr", 20, timedelta(seconds=5), timedelta(minutes=15), timedelta(hours=1)
)


class Throttled(ValidationError):
    """Too many failures for a key: the message says how long to wait (status 429; next to
    the form field `field` when given)."""

    status_code = 429

    def __init__(self, wait: timedelta, field: str | None = None) -> None:
        self.wait = wait
        message = _(
            "Too many failed attempts. Please wait {wait} and try again.", wait=format_wait(wait)
        )
        super().__init__(message, errors={field: message} if field else None)


def format_wait(wait: timedelta) -> str:
    """'30 seconds', '2 minutes' in the current language, rounded up (never too short)."""
    seconds = max(1, math.ceil(wait.total_seconds()))
    if seconds > 60:
        wait = timedelta(minutes=math.ceil(seconds / 60))
    else:
        wait = timedelta(seconds=seconds)
    return format_timedelta(wait, threshold=1, locale=get_locale())


def _now() -> datetime:
    return datetime.now(UTC)


@functools.cache
def _reserve_sql(dialect: str, policy: Policy) -> str:
    """The reserving upsert (plain SQL for SQLite ≥ 3.35 and PostgreSQL). Parameters: the key,
    now, the start of a current window, then for each step k of the waits: the latest time of
    the last attempt with which a key of `free + k` failures may go ahead now."""
    table = f'"{LoginThrottle._meta.db_table}"'

    def p(i: int, time: bool = True) -> str:
        if dialect == "postgres":
            return f"${i}::timestamptz" if time else f"${i}"
        return f"?{i}"

    steps = policy.steps()
    whens = " ".join(f"WHEN {k} THEN {p(4 + k)}" for k in range(len(steps) - 1))
    latest = f'CASE {table}."failures" - {policy.free} {whens} ELSE {p(3 + len(steps))} END'
    stale = f'{table}."window_started_at" < {p(3)}'
    return (
        f'INSERT INTO {table} ("key", "failures", "window_started_at", "last_attempt_at") '
        f"VALUES ({p(1, time=False)}, 1, {p(2)}, {p(2)}) "
        'ON CONFLICT ("key") DO UPDATE SET '
        f'"failures" = CASE WHEN {stale} THEN 1 ELSE {table}."failures" + 1 END, '
        f'"window_started_at" = CASE WHEN {stale} THEN {p(2)} '
        f'ELSE {table}."window_started_at" END, '
        f'"last_attempt_at" = {p(2)} '
        f'WHERE {stale} OR {table}."failures" < {policy.free} '
        f'OR {table}."last_attempt_at" <= {latest} '
        'RETURNING "failures"'
    )


def _db(using_db: Any) -> Any:
    return using_db or LoginThrottle._meta.db


async def reserve(
    policy: Policy, key: str, *, field: str | None = None, using_db: Any = None
) -> int:
    """Count an attempt on `key` and return its number in the window, or raise Throttled
    (nothing counted) while the key must wait."""
    db = _db(using_db)
    now = _now()
    await prune_stale(db, now)
    params: list[Any] = [key, now, now - policy.window]
    params += [now - wait for wait in policy.steps()]
    rows = await db.execute_query_dict(_reserve_sql(db.capabilities.dialect, policy), params)
    if rows:
        return int(rows[0]["failures"])
    row = await LoginThrottle.filter(key=key).using_db(db).first()
    if row is None or row.last_attempt_at is None:  # cleared meanwhile
        raise Throttled(policy.base, field)
    wait = row.last_attempt_at + policy.wait_after(row.failures) - now
    raise Throttled(max(wait, timedelta(seconds=1)), field)


# Rows whose window started longer ago than the longest window start again at their next
# attempt anyway: forgetting them changes nothing, and keeps the table from growing with every
# address that ever mistyped. Each reservation prunes them (one indexed DELETE).
LONGEST_WINDOW = max(p.window for p in (SIGN_IN, SIGN_IN_ADDRESS, CODE_ADDRESS))


async def prune_stale(using_db: Any = None, now: datetime | None = None) -> int:
    """Delete the rows past the longest window; return how many went."""
    cutoff = (now or _now()) - LONGEST_WINDOW
    return await LoginThrottle.filter(window_started_at__lt=cutoff).using_db(_db(using_db)).delete()


async def release(key: str, using_db: Any = None) -> None:
    """Give back one reserved attempt that was not a failure (a right password at a shared
    address, a valid code)."""
    await (
        LoginThrottle.filter(key=key, failures__gt=0)
        .using_db(_db(using_db))
        .update(failures=F("failures") - 1)
    )


async def clear(key: str, using_db: Any = None) -> None:
    """Forget every failure of `key` (a right password for that account at that address)."""
    await LoginThrottle.filter(key=key).using_db(_db(using_db)).delete()
