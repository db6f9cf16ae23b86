"""Fill a scratch database with a district-sized round, fast: rows are generated in Python and
written with the database driver directly (sqlite3 `executemany` in one transaction, asyncpg
`COPY`), bypassing the ORM. The schema comes from the real migrations
(`core.db.migrate_database`) and the rows are what the services would have written. Rows are
written by column name; the columns of each table are read from its model (`columns`), and a
column the rows leave out takes the model's default (`table_rows`), so a new column cannot
break `make bench` unnoticed (tests/test_bench_fill.py).

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
from operator import itemgetter
from typing import Any
from urllib.parse import urlsplit

from tortoise.models import Model

from budget.models import Ballot, BallotChoice, Envelope, Proposal, Round
from core.db import is_postgres
from core.models import Area, AuditEntry, User
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


# The tables fill writes, each after those it refers to.
MODELS: list[type[Model]] = [
    Area,
    User,
    Round,
    Envelope,
    Proposal,
    Ballot,
    BallotChoice,
    AuditEntry,
]


def columns(model: type[Model]) -> list[str]:
    """The columns of `model`'s table, from its metadata (foreign keys as their `_id` columns).
    The models' relations must be initialised (Tortoise.init, or core.db.migrate_database)."""
    meta = model._meta
    for name in meta.fk_fields | meta.o2o_fields:
        if meta.fields_map[name].source_field is None:
            raise RuntimeError(
                f"{model.__name__}.{name} has no column yet: initialise the models first "
                "(core.db.migrate_database or Tortoise.init)"
            )
    return list(meta.fields_db_projection.values())


def _default_of(model: type[Model], column: str, now: datetime) -> Any:
    """What the ORM would write in `column` when given nothing: `now` for auto_now(_add)
    fields, the field's default, else NULL where the column allows it."""
    meta = model._meta
    name = next(f for f, c in meta.fields_db_projection.items() if c == column)
    field = meta.fields_map[name]
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return now
    if field.default is not None:
        default = field.default() if callable(field.default) else field.default
        return field.to_db_value(default, None)
    if field.null:
        return None
    raise ValueError(
        f"{meta.db_table}.{column} has no default and fill.py gives it no value: "
        "add it to tests/bench/fill.py generate()"
    )


def table_rows(
    model: type[Model], rows: list[dict[str, Any]], now: datetime
) -> tuple[list[str], list[tuple]]:
    """`rows` ({column: value}, the same keys in each) as (every column of `model`'s table,
    value tuples in that order); a column the rows leave out gets `_default_of` it."""
    cols = columns(model)
    if not rows:
        return cols, []
    keys = rows[0].keys()
    if unknown := set(keys) - set(cols):
        raise ValueError(f"{model._meta.db_table} has no column {sorted(unknown)}")
    if any(row.keys() != keys for row in rows):
        raise ValueError(f"rows for {model._meta.db_table} do not all have the same columns")
    filler = {c: _default_of(model, c, now) for c in cols if c not in keys}
    get = itemgetter(*cols)
    if filler:
        return cols, [get({**filler, **row}) for row in rows]
    return cols, [get(row) for row in rows]


def generate(sizes: Sizes, seed: int = 2026) -> tuple[dict[str, tuple[list[str], list]], District]:
    """Every row, per table: {table: (columns, rows)}, rows of Python values in the order of
    the columns (every column of the table: see `table_rows`)."""
    rng = random.Random(seed)
    now = _now()
    today = now.date()
    pw = hash_password("bench-password")
    joined = now - timedelta(days=400)
    rows: dict[type[Model], list[dict[str, Any]]] = {}

    area_ids = list(range(1, sizes.areas + 1))
    rows[Area] = [
        {
            "id": a,
            "name": f"{AREA_NAMES[(a - 1) % len(AREA_NAMES)]}社区{'' if a <= 20 else a}",
            "created_at": joined,
        }
        for a in area_ids
    ]

    def user(uid: int, username: str, name: str, role: str, area: int | None) -> dict[str, Any]:
        return {
            "id": uid,
            "username": username,
            "display_name": name,
            "password_hash": pw,
            "role": role,
            "area_id": area,
            "verified": True,
            "created_at": joined,
        }

    users = [user(1, "bench-chair", "李秀英", "council", None)]
    grid = {}
    for a in area_ids:
        grid[a] = 1 + a
        users.append(user(1 + a, f"grid-{a}", f"网格员{a}", "grid_worker", a))
    first_resident = 2 + len(area_ids)
    resident_ids = list(range(first_resident, first_resident + sizes.residents))
    area_of = {}
    for i, uid in enumerate(resident_ids):
        area = area_ids[i % len(area_ids)]
        area_of[uid] = area
        users.append(user(uid, f"r{i:06d}", f"居民{i:06d}", "resident", area))
    rows[User] = users

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
    rows[Round] = [
        {
            "id": 1,
            "title": "2026年度社区微实事项目（压力测试）",
            "description": "基准测试用的轮次。",
            "fund_fen": fund,
            "phase": "voting",
            "ballot_type": "budget_approval",
            "rule": "greedy",
            **starts,
            "created_by_id": 1,
            "created_at": joined,
            "updated_at": now,
        }
    ]
    budgets: dict[int | None, int] = {a: area_budget for a in area_ids}
    budgets[None] = district_budget
    rows[Envelope] = [
        {"id": i + 1, "round_id": 1, "area_id": area, "budget_fen": budget}
        for i, (area, budget) in enumerate(budgets.items())
    ]

    proposals: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []

    def entry(actor: int, action: str, subject: str, sid: int, public: bool, detail, when):
        return {
            "actor_id": actor,
            "action": action,
            "subject_type": subject,
            "subject_id": sid,
            "public": public,
            "detail": json.dumps(detail),
            "created_at": when,
        }

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
            {
                "id": pid,
                "round_id": 1,
                "area_id": area,
                "title": title,
                "description": f"建议在{place}实施{thing}项目。"
                "该项目惠及周边居民，费用经初步测算。",
                "category": category,
                "cost_fen": cost,
                "beneficiaries": rng.randrange(50, 5000),
                "location": place,
                "author_id": author,
                "status": status,
                "merged_into_id": merged_into,
                "review_reason": reason,
                "support_count": int(rng.paretovariate(1.2)) - 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        if status == "feasible":
            feasible[area].append((pid, cost))
        detail = {"title": title, "cost_fen": cost}
        audit.append(entry(author, "proposal.submitted", "proposal", pid, True, detail, created))
        if reason:
            detail = {"feasible": status == "feasible", "reason": reason}
            when = created + timedelta(days=36)
            audit.append(entry(1, "proposal.reviewed", "proposal", pid, True, detail, when))
    rows[Proposal] = proposals

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
            {
                "id": bid,
                "round_id": 1,
                "voter_id": uid,
                "area_id": area,
                "channel": "paper" if paper else "online",
                "entered_by_id": grid[area] if paper else None,
                "receipt": receipt,
                "created_at": when,
                "updated_at": when,
            }
        )
        for pid in pick(area, rng.randint(1, 5)) + pick(None, rng.randint(0, 3)):
            choice_id += 1
            choices.append({"id": choice_id, "ballot_id": bid, "proposal_id": pid, "points": 1})
        actor, action = (grid[area], "ballot.paper_entered") if paper else (uid, "ballot.cast")
        audit.append(entry(actor, action, "ballot", bid, False, {"round": 1}, when))
    rows[Ballot] = ballots
    rows[BallotChoice] = choices
    audit.sort(key=lambda row: row["created_at"])
    for i, row in enumerate(audit, start=1):
        row["id"] = i
    rows[AuditEntry] = audit
    tables = {model._meta.db_table: table_rows(model, rows[model], now) for model in MODELS}

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
        proposal_ids=[p["id"] for p in proposals],
        counts={name: len(values) for name, (_cols, values) in tables.items()},
    )
    return tables, district


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime | date):
        return str(value)
    return value


def write_sqlite(
    path: str, tables: dict[str, tuple[list[str], list]], analyze: bool = True
) -> None:
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        with conn:
            for table, (cols, rows) in tables.items():  # each after those it refers to
                sql = (
                    f'INSERT INTO "{table}" ({", ".join(cols)}) '
                    f"VALUES ({', '.join('?' * len(cols))})"
                )
                conn.executemany(sql, ([_sqlite_value(v) for v in row] for row in rows))
        if analyze:
            conn.execute("ANALYZE")
    finally:
        conn.close()


async def pg_connect(url: str):
    """An asyncpg connection to the PostgreSQL database at `url` (a Tortoise URL)."""
    import asyncpg

    parts = urlsplit(url)
    return await asyncpg.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        database=parts.path.lstrip("/"),
    )


async def write_postgres(
    url: str, tables: dict[str, tuple[list[str], list]], analyze: bool = True
) -> None:
    conn = await pg_connect(url)
    try:
        async with conn.transaction():
            for table, (cols, rows) in tables.items():  # each after those it refers to
                await conn.copy_records_to_table(table, records=rows, columns=cols)
                await conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table}"))'
                )
        if analyze:
            await conn.execute("ANALYZE")
    finally:
        await conn.close()


async def fill_district(url: str, sizes: Sizes | None = None, analyze: bool = True) -> District:
    """Generate and write the district into the (migrated, empty) database at `url`, then
    gather the planner's statistics (`analyze`; the tests leave them out, so that a tiny
    district does not steer the plans of the tests after it)."""
    tables, district = generate(sizes or Sizes())
    if is_postgres(url):
        await write_postgres(url, tables, analyze)
    else:
        write_sqlite(url.removeprefix("sqlite://"), tables, analyze)
    return district
