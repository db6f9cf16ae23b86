"""Fill a scratch database with residents' needs at the scale of the issue's speed target:
200,000 needs over three years, across the areas of a small district (tests/bench/fill.py),
every channel and every state, written with the database driver as fill.py writes (no ORM),
then the dashboard's counts rebuilt from them (`recount_need_stats`), as after any bulk write.

The shape is a district's: more needs online than through any one offline channel, areas of
different sizes, most needs answered within a day or two (log-normal, a long tail past the
seven days after which a need is overdue), most answered needs resolved, about half of them
rated (mostly 4 or 5), and the last days' needs still waiting for their answer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from consult.models import Need, NeedCategory, NeedChannel
from core.db import is_postgres
from tests.bench.fill import PLACES, District, _now, table_rows, write_postgres, write_sqlite

CHANNELS = [  # (channel, weight)
    (NeedChannel.ONLINE, 45),
    (NeedChannel.TALK_STATION, 15),
    (NeedChannel.TALK_BOX, 10),
    (NeedChannel.PHONE, 15),
    (NeedChannel.HOME_VISIT, 15),
]
ANSWERS = [("accepted", 55), ("proposed", 10), ("referred", 20), ("declined", 15)]
RESOLVED_SHARE = {"accepted": 0.96, "proposed": 0.6, "referred": 0.85, "declined": 0.0}
RATINGS = [(5, 60), (4, 25), (3, 8), (2, 4), (1, 3)]
WISHES = [
    ("路灯不亮，晚上走路看不清", NeedCategory.ROADS),
    ("楼道堆放杂物，存在消防隐患", NeedCategory.SAFETY),
    ("希望增设电动车充电桩", NeedCategory.FACILITIES),
    ("垃圾分类点异味严重", NeedCategory.ENVIRONMENT),
    ("小区门口缺少无障碍坡道", NeedCategory.ELDERLY),
    ("希望开设四点半课堂", NeedCategory.CHILDREN),
    ("办理居住证明要跑好几趟", NeedCategory.SERVICES),
    ("广场舞音响太吵", NeedCategory.OTHER),
    ("电梯经常故障", NeedCategory.FACILITIES),
    ("绿化带杂草丛生", NeedCategory.ENVIRONMENT),
]


@dataclass
class NeedSizes:
    needs: int = 200_000
    days: int = 3 * 365  # spread over the last `days` days
    median_hours: float = 20.0  # of the answers' response times
    never_answered: float = 0.005  # overdue needs, left without an answer


@dataclass
class Needs:
    """What the benchmark needs to know about the filled needs."""

    months: list[str]  # of receipt, oldest first (district time)
    counts: dict[str, int] = field(default_factory=dict)
    answered: int = 0
    resolved: int = 0
    rated: int = 0
    overdue: int = 0  # unanswered after seven days


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


def generate_needs(
    district: District, sizes: NeedSizes, seed: int = 11
) -> tuple[dict[str, tuple[list[str], list]], Needs]:
    """Every need as a row of the `need` table (every column: see fill.table_rows)."""
    from consult.services.need_stats import stat_month

    rng = random.Random(seed)
    now = _now()
    start = now - timedelta(days=sizes.days)
    span = (now - start).total_seconds()
    residents: dict[int, list[int]] = {}
    for uid, area in district.non_voters:
        residents.setdefault(area, []).append(uid)
    areas = [a for a in district.area_ids if residents.get(a)]
    area_weights = [1 + (i % 5) for i in range(len(areas))]  # areas of different sizes
    sigma = 1.1
    mu = math.log(sizes.median_hours)
    rows: list[dict[str, Any]] = []
    info = Needs(months=[])
    for nid in range(1, sizes.needs + 1):
        # more needs lately: the density grows by half over the three years
        u = rng.random()
        created = start + timedelta(seconds=span * (math.sqrt(1 + 3 * u) - 1))
        created = created.replace(microsecond=0)
        area = rng.choices(areas, area_weights)[0]
        channel = _pick(rng, CHANNELS)
        title, category = rng.choice(WISHES)
        row: dict[str, Any] = {
            "id": nid,
            "number": f"XQ{nid:08d}",
            "resident_id": rng.choice(residents[area]),
            "entered_by_id": None if channel == NeedChannel.ONLINE else 1 + area,
            "channel": channel.value,
            "area_id": area,
            "place": rng.choice(PLACES),
            "category": category.value,
            "title": title,
            "body": f"{title}，请社区帮忙解决。",
            "state": "received",
            "created_at": created,
            "answered_at": None,
            "answered_by_id": None,
            "resolved_at": None,
            "resolved_by_id": None,
            "rating": None,
            "rated_at": None,
        }
        answered = created + timedelta(hours=rng.lognormvariate(mu, sigma))
        answered = answered.replace(microsecond=0)
        if answered > now or rng.random() < sizes.never_answered:
            info.overdue += now - created > timedelta(days=7)
            rows.append(row)
            continue
        state = _pick(rng, ANSWERS)
        row.update(state=state, answered_at=answered, answered_by_id=district.chair_id)
        info.answered += 1
        last = answered
        if rng.random() < RESOLVED_SHARE[state]:
            resolved = answered + timedelta(hours=rng.uniform(2, 24 * 40))
            if resolved <= now:
                row.update(state="resolved", resolved_at=resolved, resolved_by_id=1)
                info.resolved += 1
                last = resolved
        if rng.random() < 0.55:
            rated = last + timedelta(hours=rng.uniform(1, 24 * 29))
            if rated <= now:
                row.update(rating=_pick(rng, RATINGS), rated_at=rated)
                info.rated += 1
        rows.append(row)
    info.months = sorted({stat_month(r["created_at"]) for r in rows})
    tables = {"need": table_rows(Need, rows, now)}
    info.counts = {"need": len(rows)}
    return tables, info


async def fill_needs(
    url: str, district: District, sizes: NeedSizes | None = None, analyze: bool = True
) -> Needs:
    """Write the needs into the database at `url` (migrated, with `district` in it), then
    rebuild the dashboard's counts from them (Tortoise must be initialised on `url`)."""
    from consult.services.need_stats import recount_need_stats

    tables, needs = generate_needs(district, sizes or NeedSizes())
    if is_postgres(url):
        await write_postgres(url, tables, analyze=False)
    else:
        write_sqlite(url.removeprefix("sqlite://"), tables, analyze=False)
    await recount_need_stats()
    if analyze:
        await _analyze(url)
    return needs


async def _analyze(url: str) -> None:
    from tortoise import connections

    await connections.get("default").execute_script("ANALYZE")
