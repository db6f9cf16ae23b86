"""Fill a scratch database with consultation at the scale of `make bench`'s targets, on top of
a small district (tests/bench/fill.py): a proposal with 10,000 comments (threads with replies
two deep) and one with 10; a deliberation round with 200 approved statements voted on by
2,000 residents in two planted opinion groups; and an open round with statements for 64
residents voting at once. Rows are written as fill.py writes them (driver, not ORM).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from tortoise.models import Model

from consult.models import Comment, CommentTally, Deliberation, Statement, StatementVote
from core.db import is_postgres
from tests.bench.fill import District, _now, table_rows, write_postgres, write_sqlite


@dataclass
class ConsultSizes:
    comments: int = 10_000  # on one proposal
    small_thread: int = 10  # on another
    statements: int = 200  # approved, in the analysed round
    voters: int = 2_000  # residents voting in it
    votes_each: int = 60  # statements each of them voted on (on average)
    open_statements: int = 150  # in the round the 64 residents vote in


@dataclass
class Consult:
    big_proposal_id: int
    small_proposal_id: int
    big_thread_ids: list[int]  # top-level comments of the big thread, in id order (cursors)
    analysed_id: int  # the deliberation round with 2,000 voters
    open_id: int  # the round residents vote in during the benchmark
    open_statement_ids: list[int]
    fresh_voters: list[int]  # residents who have not voted in the open round
    counts: dict[str, int] = field(default_factory=dict)


PHRASES = [
    "这个项目很有必要，楼里老人多，上下楼确实不方便。",
    "费用是不是偏高了？建议多比较几家报价。",
    "支持！孩子们放学后终于有地方活动了。",
    "希望施工时间避开早晚高峰，别影响大家出行。",
    "我们单元也有同样的问题，能不能一起解决？",
    "建议先征求一下一楼住户的意见。",
    "去年类似的项目做得不错，可以参考。",
    "维护费用谁来出？建成后要有人管。",
]


def generate_consult(
    district: District, sizes: ConsultSizes, seed: int = 10
) -> tuple[dict[str, tuple[list[str], list]], Consult]:
    rng = random.Random(seed)
    now = _now()
    rows: dict[type[Model], list[dict[str, Any]]] = {}
    residents = [uid for uid, _area in district.non_voters]
    area_of = dict(district.non_voters)
    big, small = district.proposal_ids[0], district.proposal_ids[1]

    comments: list[dict[str, Any]] = []
    big_thread: list[int] = []

    def add_thread(proposal_id: int, n: int, start: int) -> None:
        tops: list[int] = []
        by_depth: dict[int, int] = {}
        first = start
        for i in range(n):
            cid = first + i
            created = now - timedelta(minutes=n - i)
            parent = None
            if tops and rng.random() < 0.3:  # a reply, one or two levels deep
                parent = rng.choice(tops[-50:])
                if rng.random() < 0.3:
                    child = [c for c in comments[-200:] if c["parent_id"] == parent]
                    if child:
                        parent = child[-1]["id"]
            depth = 0 if parent is None else by_depth[parent] + 1
            root = None if parent is None else (parent if depth == 1 else comments_by_id[parent])
            by_depth[cid] = depth
            row = {
                "id": cid,
                "subject_type": "proposal",
                "subject_id": proposal_id,
                "parent_id": parent,
                "root_id": root,
                "depth": depth,
                "author_id": rng.choice(residents),
                "stance": rng.choice(["for", "for", "against", "neutral"]),
                "body": rng.choice(PHRASES),
                "created_at": created,
            }
            comments.append(row)
            comments_by_id[cid] = root if root is not None else cid
            if depth == 0:
                tops.append(cid)
                if proposal_id == big:
                    big_thread.append(cid)

    comments_by_id: dict[int, int] = {}  # comment → its root
    add_thread(big, sizes.comments, 1)
    add_thread(small, sizes.small_thread, sizes.comments + 1)
    replies: dict[int, int] = {}
    for c in comments:
        if c["parent_id"] is not None:
            replies[c["parent_id"]] = replies.get(c["parent_id"], 0) + 1
    for c in comments:
        c["reply_count"] = replies.get(c["id"], 0)
    rows[Comment] = comments
    tallies: dict[int, dict[str, int]] = {}  # what the services keep with every comment
    column = {"for": "in_favour", "against": "against", "neutral": "neutral"}
    for c in comments:
        tally = tallies.setdefault(c["subject_id"], {"in_favour": 0, "against": 0, "neutral": 0})
        tally[column[c["stance"]]] += 1
    rows[CommentTally] = [
        {"id": i, "subject_type": "proposal", "subject_id": pid, **tally}
        for i, (pid, tally) in enumerate(sorted(tallies.items()), start=1)
    ]

    start = now.date() - timedelta(days=20)
    rows[Deliberation] = [
        {
            "id": i,
            "title": title,
            "description": "基准测试用的议题协商。",
            "phase": "discussing",
            "starts_on": start,
            "ends_on": start + timedelta(days=60),
            "created_by_id": district.chair_id,
            "created_at": now - timedelta(days=20),
            "votes_version": 1,
        }
        for i, title in ((1, "垃圾分类投放点怎么设（压力测试）"), (2, "小区停车管理（压力测试）"))
    ]
    # statements: the analysed round's, then the open round's
    statements = []
    for sid in range(1, sizes.statements + sizes.open_statements + 1):
        statements.append(
            {
                "id": sid,
                "deliberation_id": 1 if sid <= sizes.statements else 2,
                "author_id": residents[-sid],
                "body": f"第{sid}条意见：{rng.choice(PHRASES)}"[:140],
                "status": "approved",
                "created_at": now - timedelta(days=19),
                "decided_at": now - timedelta(days=19),
                "decided_by_id": district.chair_id,
            }
        )
    rows[Statement] = statements
    # two planted groups: each statement leans one way in group A and the other (or both
    # agree: common ground) in group B
    leaning = {
        sid: rng.choice([(0.85, 0.15), (0.15, 0.85), (0.8, 0.8), (0.5, 0.5)])
        for sid in range(1, sizes.statements + 1)
    }
    votes = []
    vid = 0
    voters = residents[: sizes.voters]
    for n, uid in enumerate(voters):
        group = n % 2
        k = min(sizes.statements, max(7, int(rng.gauss(sizes.votes_each, 15))))
        for sid in rng.sample(range(1, sizes.statements + 1), k):
            p = leaning[sid][group]
            r = rng.random()
            choice = "agree" if r < p else ("pass" if r < p + 0.1 else "disagree")
            vid += 1
            votes.append(
                {
                    "id": vid,
                    "statement_id": sid,
                    "deliberation_id": 1,
                    "voter_id": uid,
                    "area_id": area_of[uid],
                    "choice": choice,
                    "created_at": now - timedelta(days=5),
                    "updated_at": now - timedelta(days=5),
                }
            )
    rows[StatementVote] = votes
    authors = {s["author_id"] for s in statements}
    fresh = [uid for uid in residents[sizes.voters :] if uid not in authors]
    tables = {
        model._meta.db_table: table_rows(model, model_rows, now)
        for model, model_rows in rows.items()
    }
    consult = Consult(
        big_proposal_id=big,
        small_proposal_id=small,
        big_thread_ids=big_thread,
        analysed_id=1,
        open_id=2,
        open_statement_ids=list(
            range(sizes.statements + 1, sizes.statements + 1 + sizes.open_statements)
        ),
        fresh_voters=fresh,
        counts={name: len(values) for name, (_cols, values) in tables.items()},
    )
    return tables, consult


async def fill_consult(
    url: str, district: District, sizes: ConsultSizes | None = None, analyze: bool = True
) -> Consult:
    tables, consult = generate_consult(district, sizes or ConsultSizes())
    if is_postgres(url):
        await write_postgres(url, tables, analyze)
    else:
        write_sqlite(url.removeprefix("sqlite://"), tables, analyze)
    return consult
