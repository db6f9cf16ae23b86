"""The needs dashboard's counts (consult.services.need_stats): kept step by step in the
steps' transactions, they equal a recount from the needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from consult.models import Need, NeedCategory, NeedChannel, NeedResponseTime, NeedStat
from consult.services import need_stats
from tests.helpers import make_area


async def _stats() -> tuple[list[tuple], list[tuple]]:
    stats = (
        await NeedStat.all()
        .order_by("month", "channel")
        .values_list(
            "month", "area_id", "channel", "received", "answered", "resolved", "rated", "satisfied"
        )
    )
    times = (
        await NeedResponseTime.all()
        .order_by("month", "hours")
        .values_list("month", "channel", "hours", "count")
    )
    return sorted(stats), sorted(times)


async def test_counts_kept_step_by_step_equal_a_recount(db):
    area = await make_area()
    # 23:30 UTC on 31 October is 07:30 on 1 November in the district: November's need.
    received = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)
    needs = []
    for i, channel in enumerate([NeedChannel.ONLINE, NeedChannel.ONLINE, NeedChannel.PHONE]):
        needs.append(
            await Need.create(
                number=f"N{i}",
                area=area,
                category=NeedCategory.ROADS,
                title="Lamp",
                body="Broken",
                channel=channel,
                created_at=received,
            )
        )
    async with in_transaction() as conn:
        for need in needs:
            await need_stats.count_received(conn, need)
    for need, hours, rating in zip(needs[:2], (5, 50), (5, 2), strict=True):
        need.answered_at = received + timedelta(hours=hours, minutes=20)
        need.resolved_at = need.answered_at
        need.rating = rating
        await need.save()
        async with in_transaction() as conn:
            await need_stats.count_answered(conn, need)
            await need_stats.count_resolved(conn, need)
            await need_stats.count_rated(conn, need, rating)
    kept = await _stats()
    assert kept[0] == [
        ("2026-11", area.id, "online", 2, 2, 2, 2, 1),
        ("2026-11", area.id, "phone", 1, 0, 0, 0, 0),
    ]
    assert kept[1] == [("2026-11", "online", 5, 1), ("2026-11", "online", 50, 1)]
    await need_stats.recount_need_stats()
    assert await _stats() == kept
