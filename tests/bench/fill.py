"""Fill a scratch database with a district-sized round, fast: rows are generated in Python and
written with the database driver directly (sqlite3 `executemany` in one transaction, asyncpg
`COPY`), bypassing the ORM. The schema comes from the real migrations
(`core.db.migrate_database`) and the rows are what the services would have written.

`fill_district(url, sizes)` returns what the benchmark needs to know about the data (ids, the
feasible projects of each envelope, residents who have not voted yet).
"""

from __future__ import annotations

import json
import random
import sqlite3
from bisect import bisect
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from typing import Any
from urllib.parse import urlsplit

from core.db import is_postgres
from core.services.auth import hash_password

RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"

AREA_NAMES = [
    "东门",
    "南湖",
    "西河",
    "北山",
    "桂林",
    "枫桥",
    "柳岸",
    "松园",
    "梅岭",
    "竹溪",
    "杏坛",
    "荷塘",
    "云台",
    "星河",
    "金沙",
    "玉泉",
    "凤凰",
    "龙湾",
    "青石",
    "白塔",
]
PLACES = [
    "1号楼",
    "3号楼",
    "小区北门",
    "小区南门",
    "中心广场",
    "老年活动中心",
    "幼儿园门口",
    "菜市场",
    "沿河步道",
    "停车场",
    "党群服务中心",
    "健身广场",
    "公交站",
    "文化墙",
]
THINGS = [
    ("engineering", "路灯改造"),
    ("engineering", "加装楼梯扶手"),
    ("engineering", "无障碍坡道"),
    ("engineering", "垃圾分类亭"),
    ("engineering", "雨棚修缮"),
    ("engineering", "停车位划线"),
    ("equipment", "健身器材更新"),
    ("equipment", "儿童游乐设施"),
    ("equipment", "楼道监控"),
    ("equipment", "老年食堂设备"),
    ("equipment", "应急物资"),
    ("equipment", "图书采购"),
    ("service", "健康讲座服务"),
    ("service", "四点半课堂"),
    ("service", "助餐配送服务"),
    ("service", "心理咨询服务"),
    ("service", "法律咨询服务"),
]
STATUSES = ["feasible"] * 85 + ["infeasible"] * 10 + ["withdrawn"] * 3 + ["merged"] * 2


@dataclass
class Sizes:
    areas: int = 20
    residents: int = 100_000
    proposals: int = 5_000
    ballots: int = 60_000
    district_proposals: int = 200  # of `proposals`, the rest are spread over the areas


@dataclass
class District:
    """What the benchmark needs to know about the filled data."""

    round_id: int
    chair_id: int
    area_ids: list[int]
    budgets: dict[int | None, int]  # envelope area id (None: district-wide) → budget (fen)
    feasible: dict[int | None, list[tuple[int, int]]]  # area → [(proposal id, cost fen)]
    non_voters: list[tuple[int, int]]  # (resident id, area id) without a ballot yet
    proposal_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def generate(sizes: Sizes, seed: int = 2026) -> tuple[dict[str, tuple[list[str], list]], District]:
    """Every row, per table: {table: (columns, rows)}, rows of Python values."""
    rng = random.Random(seed)
    now = _now()
    today = now.date()
    pw = hash_password("bench-password")
    joined = now - timedelta(days=400)
    tables: dict[str, tuple[list[str], list]] = {}

    area_ids = list(range(1, sizes.areas + 1))
    tables["area"] = (
        ["id", "name", "description", "created_at"],
        [
            (a, f"{AREA_NAMES[(a - 1) % len(AREA_NAMES)]}社区{'' if a <= 20 else a}", "", joined)
            for a in area_ids
        ],
    )

    user_cols = [
        "id",
        "username",
        "display_name",
        "password_hash",
        "role",
        "area_id",
        "verified",
        "is_active",
        "locale",
        "created_at",
    ]
    users = [(1, "bench-chair", "李秀英", pw, "council", None, True, True, "", joined)]
    grid = {}
    for a in area_ids:
        grid[a] = 1 + a
        users.append(
            (1 + a, f"grid-{a}", f"网格员{a}", pw, "grid_worker", a, True, True, "", joined)
        )
    first_resident = 2 + len(area_ids)
    resident_ids = list(range(first_resident, first_resident + sizes.residents))
    area_of = {}
    for i, uid in enumerate(resident_ids):
        area = area_ids[i % len(area_ids)]
        area_of[uid] = area
        users.append(
            (uid, f"r{i:06d}", f"居民{i:06d}", pw, "resident", area, True, True, "", joined)
        )
    tables["account"] = (user_cols, users)

    starts = {
        "proposing_starts": today - timedelta(days=75),
        "reviewing_starts": today - timedelta(days=40),
        "voting_starts": today - timedelta(days=10),
        "results_starts": today + timedelta(days=8),
        "implementing_starts": today + timedelta(days=30),
        "closes": today + timedelta(days=300),
    }
    area_budget = 1_500_000_00
    district_budget = 5_000_000_00
    fund = area_budget * len(area_ids) + district_budget
    tables["round"] = (
        [
            "id",
            "title",
            "description",
            "fund_fen",
            "phase",
            "ballot_type",
            "rule",
            *starts,
            "source",
            "created_by_id",
            "created_at",
            "updated_at",
        ],
        [
            (
                1,
                "2026年度社区微实事项目（压力测试）",
                "基准测试用的轮次。",
                fund,
                "voting",
                "budget_approval",
                "greedy",
                *starts.values(),
                "",
                1,
                joined,
                now,
            )
        ],
    )
    budgets: dict[int | None, int] = {a: area_budget for a in area_ids}
    budgets[None] = district_budget
    tables["envelope"] = (
        ["id", "round_id", "area_id", "budget_fen"],
        [(i + 1, 1, area, budget) for i, (area, budget) in enumerate(budgets.items())],
    )

    prop_cols = [
        "id",
        "round_id",
        "area_id",
        "title",
        "description",
        "category",
        "cost_fen",
        "revised_cost_fen",
        "beneficiaries",
        "location",
        "author_id",
        "status",
        "merged_into_id",
        "review_reason",
        "support_count",
        "vote_count",
        "external_id",
        "created_at",
        "updated_at",
    ]
    proposals, audit = [], []
    feasible: dict[int | None, list[tuple[int, int]]] = {a: [] for a in budgets}
    per_area = (sizes.proposals - sizes.district_proposals) // len(area_ids)
    homes: list[int | None] = [a for a in area_ids for _ in range(per_area)]
    homes += [None] * (sizes.proposals - len(homes))
    by_area_residents: dict[int, list[int]] = {a: [] for a in area_ids}
    for uid, a in area_of.items():
        by_area_residents[a].append(uid)
    propose_from = datetime.combine(starts["proposing_starts"], datetime.min.time(), UTC)
    for pid, area in enumerate(homes, start=1):
        category, thing = rng.choice(THINGS)
        place = rng.choice(PLACES)
        title = f"{place}{thing}（{pid}）"
        cost = rng.randrange(200, 3001) * 100_00
        status = rng.choice(STATUSES)
        author = rng.choice(by_area_residents[area] if area else resident_ids)
        created = propose_from + timedelta(minutes=rng.randrange(35 * 24 * 60))
        reason = (
            "经现场勘查，项目可行，费用测算合理。"
            if status == "feasible"
            else ("超出微实事项目范围。" if status == "infeasible" else "")
        )
        merged_into = max(1, pid - 1) if status == "merged" and pid > 1 else None
        if status == "merged" and merged_into is None:
            status = "feasible"
        proposals.append(
            (
                pid,
                1,
                area,
                title,
                f"建议在{place}实施{thing}项目。该项目惠及周边居民，费用经初步测算。",
                category,
                cost,
                None,
                rng.randrange(50, 5000),
                place,
                author,
                status,
                merged_into,
                reason,
                int(rng.paretovariate(1.2)) - 1,
                0,
                "",
                created,
                created,
            )
        )
        if status == "feasible":
            feasible[area].append((pid, cost))
        audit.append(
            (
                1,
                author,
                "proposal.submitted",
                "proposal",
                pid,
                True,
                json.dumps({"title": title, "cost_fen": cost}),
                created,
            )
        )
        if reason:
            audit.append(
                (
                    1,
                    1,
                    "proposal.reviewed",
                    "proposal",
                    pid,
                    True,
                    json.dumps({"feasible": status == "feasible", "reason": reason}),
                    created + timedelta(days=36),
                )
            )
    tables["proposal"] = (prop_cols, proposals)

    # ballots: popular projects are chosen more often (Zipf-like weights per envelope)
    cum: dict[int | None, list[float]] = {}
    for area, projects in feasible.items():
        rng.shuffle(projects)
        cum[area] = list(accumulate(1.0 / (rank + 3) for rank in range(len(projects))))

    def pick(area: int | None, k: int) -> list[int]:
        projects, weights = feasible[area], cum[area]
        chosen: dict[int, int] = {}
        total = 0
        for _ in range(k * 2):
            if len(chosen) >= k or not projects:
                break
            pid, cost = projects[bisect(weights, rng.random() * weights[-1])]
            if pid not in chosen and total + cost <= budgets[area]:
                chosen[pid] = cost
                total += cost
        return list(chosen)

    voters = rng.sample(resident_ids, sizes.ballots)
    receipts: set[str] = set()
    ballots, choices = [], []
    vote_from = datetime.combine(starts["voting_starts"], datetime.min.time(), UTC)
    choice_id = 0
    for bid, uid in enumerate(voters, start=1):
        area = area_of[uid]
        while True:
            receipt = "".join(rng.choices(RECEIPT_ALPHABET, k=10))
            if receipt not in receipts:
                receipts.add(receipt)
                break
        paper = rng.random() < 0.1
        when = vote_from + timedelta(seconds=rng.randrange(9 * 24 * 3600))
        ballots.append(
            (
                bid,
                1,
                uid,
                area,
                "paper" if paper else "online",
                grid[area] if paper else None,
                receipt,
                when,
                when,
            )
        )
        for pid in pick(area, rng.randint(1, 5)) + pick(None, rng.randint(0, 3)):
            choice_id += 1
            choices.append((choice_id, bid, pid, 1))
        audit.append(
            (
                1,
                grid[area] if paper else uid,
                "ballot.paper_entered" if paper else "ballot.cast",
                "ballot",
                bid,
                False,
                json.dumps({"round": 1}),
                when,
            )
        )
    tables["ballot"] = (
        [
            "id",
            "round_id",
            "voter_id",
            "area_id",
            "channel",
            "entered_by_id",
            "receipt",
            "created_at",
            "updated_at",
        ],
        ballots,
    )
    tables["ballot_choice"] = (["id", "ballot_id", "proposal_id", "points"], choices)
    audit.sort(key=lambda row: row[-1])
    tables["audit_entry"] = (
        [
            "id",
            "actor_id",
            "action",
            "subject_type",
            "subject_id",
            "public",
            "detail",
            "created_at",
        ],
        [(i, *row[1:]) for i, row in enumerate(audit, start=1)],
    )

    voted = set(voters)
    non_voters = [(uid, area_of[uid]) for uid in resident_ids if uid not in voted]
    rng.shuffle(non_voters)
    district = District(
        round_id=1,
        chair_id=1,
        area_ids=area_ids,
        budgets=budgets,
        feasible=feasible,
        non_voters=non_voters,
        proposal_ids=[p[0] for p in proposals],
        counts={name: len(rows) for name, (_cols, rows) in tables.items()},
    )
    return tables, district


ORDER = [
    "area",
    "account",
    "round",
    "envelope",
    "proposal",
    "ballot",
    "ballot_choice",
    "audit_entry",
]


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return str(value)
    return value


def write_sqlite(path: str, tables: dict[str, tuple[list[str], list]]) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        with conn:
            for table in ORDER:
                cols, rows = tables[table]
                sql = (
                    f'INSERT INTO "{table}" ({", ".join(cols)}) '
                    f"VALUES ({', '.join('?' * len(cols))})"
                )
                conn.executemany(sql, ([_sqlite_value(v) for v in row] for row in rows))
        conn.execute("ANALYZE")
    finally:
        conn.close()


async def write_postgres(url: str, tables: dict[str, tuple[list[str], list]]) -> None:
    import asyncpg

    parts = urlsplit(url)
    conn = await asyncpg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        database=parts.path.lstrip("/"),
    )
    try:
        async with conn.transaction():
            for table in ORDER:
                cols, rows = tables[table]
                await conn.copy_records_to_table(table, records=rows, columns=cols)
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def fill_district(url: str, sizes: Sizes | None = None) -> District:
    """Generate and write the district into the (migrated, empty) database at `url`."""
    tables, district = generate(sizes or Sizes())
    if is_postgres(url):
        await write_postgres(url, tables)
    else:
        write_sqlite(url.removeprefix("sqlite://"), tables)
    return district
