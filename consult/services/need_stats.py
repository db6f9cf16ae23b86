"""The counts behind the needs dashboard, kept per month of receipt, area and channel.

Each step of a need (received, answered, resolved, rated) adds to its month's row with one
atomic upsert (INSERT … ON CONFLICT DO UPDATE, on SQLite and PostgreSQL) **in the step's own
transaction**, so the counts never drift from the needs and two steps at once both count. The
response time goes into a histogram in whole hours, from which the dashboard takes the median.
A need counts in the month it was received (in the district's time zone), whatever month it
was answered in: each month's rates describe the needs raised that month.

`recount_need_stats` rebuilds everything from the needs, for data written in bulk (the demo,
tests, the benchmark's fill).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from tortoise import connections

from consult.models import Need, NeedResponseTime, NeedStat
from core.db import bind_named
from core.i18n import _display_tz

SATISFIED_FROM = 4  # a rating of 4 or 5 counts as satisfied

COUNTS = ("received", "answered", "resolved", "rated", "satisfied")


def stat_month(at: datetime) -> str:
    """The month ("2026-11") of a moment, in the district's time zone."""
    return at.astimezone(_display_tz()).strftime("%Y-%m")


def response_hours(need: Need) -> int:
    """Whole hours from receipt to answer."""
    return max(0, int((need.answered_at - need.created_at).total_seconds() // 3600))


async def _add(conn: Any, need: Need, columns: dict[str, int]) -> None:
    first = {name: columns.get(name, 0) for name in COUNTS}
    updates = ", ".join(f"{name} = need_stat.{name} + :{name}" for name in columns)
    sql = (
        "INSERT INTO need_stat (month, area_id, channel, received, answered, resolved, rated,"
        " satisfied) VALUES (:month, :area, :channel, :received, :answered, :resolved, :rated,"
        " :satisfied)"
        f" ON CONFLICT (month, area_id, channel) DO UPDATE SET {updates}"
    )
    params = {
        "month": stat_month(need.created_at),
        "area": need.area_id,
        "channel": str(need.channel),
        **first,
    }
    await conn.execute_query(*bind_named(conn.capabilities.dialect, sql, params))


async def count_received(conn: Any, need: Need) -> None:
    """A need was received (in the transaction that creates it)."""
    await _add(conn, need, {"received": 1})


async def count_answered(conn: Any, need: Need) -> None:
    """A need was answered (`answered_at` set), in the answering transaction."""
    await _add(conn, need, {"answered": 1})
    sql = (
        "INSERT INTO need_response_time (month, area_id, channel, hours, count)"
        " VALUES (:month, :area, :channel, :hours, 1)"
        " ON CONFLICT (month, area_id, channel, hours)"
        " DO UPDATE SET count = need_response_time.count + 1"
    )
    params = {
        "month": stat_month(need.created_at),
        "area": need.area_id,
        "channel": str(need.channel),
        "hours": response_hours(need),
    }
    await conn.execute_query(*bind_named(conn.capabilities.dialect, sql, params))


async def count_resolved(conn: Any, need: Need) -> None:
    """A need was resolved, in the resolving transaction."""
    await _add(conn, need, {"resolved": 1})


async def count_rated(conn: Any, need: Need, rating: int) -> None:
    """A need's answer was rated (once), in the rating transaction."""
    await _add(conn, need, {"rated": 1, "satisfied": int(rating >= SATISFIED_FROM)})


async def recount_need_stats(using_db: Any = None) -> None:
    """Every count and response time built again from the needs (after a bulk insert)."""
    conn = using_db or connections.get("default")
    stats: dict[tuple[str, int, str], Counter] = {}
    times: Counter = Counter()
    rows = (
        await Need.all()
        .using_db(conn)
        .values("created_at", "area_id", "channel", "answered_at", "resolved_at", "rating")
    )
    for row in rows:
        key = (stat_month(row["created_at"]), row["area_id"], str(row["channel"]))
        counts = stats.setdefault(key, Counter())
        counts["received"] += 1
        if row["answered_at"] is not None:
            counts["answered"] += 1
            hours = int((row["answered_at"] - row["created_at"]).total_seconds() // 3600)
            times[(*key, max(0, hours))] += 1
        if row["resolved_at"] is not None:
            counts["resolved"] += 1
        if row["rating"] is not None:
            counts["rated"] += 1
            counts["satisfied"] += int(row["rating"] >= SATISFIED_FROM)
    await NeedStat.all().using_db(conn).delete()
    await NeedResponseTime.all().using_db(conn).delete()
    await NeedStat.bulk_create(
        [
            NeedStat(month=m, area_id=a, channel=c, **{n: counts[n] for n in COUNTS})
            for (m, a, c), counts in stats.items()
        ],
        batch_size=1000,
        using_db=conn,
    )
    await NeedResponseTime.bulk_create(
        [
            NeedResponseTime(month=m, area_id=a, channel=c, hours=h, count=n)
            for (m, a, c, h), n in times.items()
        ],
        batch_size=1000,
        using_db=conn,
    )
