"""Demo data, the discussion: residents of each proposal's area talk over several proposals of
the current (2026, voting) and the finished 2025 round — in favour, against and undecided,
with replies two deep, the council answering questions, one comment edited, one hidden by the
council with its reason (the text kept in the audit log) and one reported, waiting in the
council's queue.

Runs after `budget.demo.load_demo_data`. Deterministic (a fixed seed picks the residents);
dates follow the rounds' timetables and are never in the future. Rows go in with bulk inserts,
one level of the threads at a time, so that ids grow with the threads as the app's own would.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tortoise.transactions import in_transaction

from budget.models import Proposal, Round
from consult.models import Comment, CommentReport, Stance
from consult.services.comment_tally import recount_tallies
from core.i18n import DISPLAY_TIMEZONE
from core.models import AuditEntry, Role, User

SEED = 20260516
FOR, AGAINST, NEUTRAL = Stance.FOR, Stance.AGAINST, Stance.NEUTRAL
ROUND_2026 = "2026年度社区微实事项目"
ROUND_2025 = "2025年度社区微实事项目"
LOCAL = ZoneInfo(DISPLAY_TIMEZONE)


@dataclass
class C:
    """One comment of the script. `who`: a demo account's username, "op" (whoever wrote the
    top-level comment of the thread) or "" (a resident of the proposal's area)."""

    who: str
    stance: Stance
    text: str
    replies: list[C] = field(default_factory=list)
    edited_from: str = ""  # the text before its author edited it
    hidden: str = ""  # the council's public reason
    reports: int = 0  # residents who reported it (waiting for the council)


DISCUSSIONS: list[tuple[str, str, list[C]]] = [
    (
        ROUND_2026,
        "适老化休息座椅安装",
        [
            C(
                "",
                FOR,
                "我家老母亲八十多了，每天去菜市场买菜，走到一半就得扶着墙歇一会儿。"
                "要是路边有带扶手的椅子，她就能自己出门了，非常支持！",
                [
                    C(
                        "resident",
                        FOR,
                        "谢谢支持！提案里写的是每隔100米一张，具体放在哪里大家还可以提意见。",
                        [C("op", NEUTRAL, "菜市场门口那段一定要放一张，那里人最多。")],
                    )
                ],
            ),
            C(
                "",
                AGAINST,
                "椅子放在人行道上会不会占道？主干道两侧本来就窄，早上还有电动车停在上面，"
                "轮椅和婴儿车都不好过。",
                [
                    C(
                        "council",
                        NEUTRAL,
                        "议事会审核时到现场看过：只在人行道宽度超过2.5米的路段安装，"
                        "窄的路段改为靠墙的折叠座椅，不会影响通行。",
                    ),
                    C("", FOR, "折叠座椅这个办法好，支持。"),
                ],
            ),
            C(
                "",
                FOR,
                "建议座椅选木质的，不锈钢的夏天晒得烫、冬天又冰，老人坐着不舒服。\n"
                "扶手也最好包一层防滑的材料。",
                edited_from="建议座椅选木质的，不锈钢的夏天晒得烫、冬天又冰，老人坐着不舒服。",
            ),
            C(
                "",
                NEUTRAL,
                "2.8万元能装多少张？希望公示一下单价和数量，让大家心里有数。",
                [
                    C(
                        "resident",
                        NEUTRAL,
                        "询价大概一张1800元左右，含安装，一共15张。"
                        "入选后具体价格会在项目页面公开。",
                    )
                ],
            ),
            C(
                "grid-east",
                NEUTRAL,
                "我是东门社区的网格员，走访时不少老人都提到这件事。"
                "不会用手机的老人，我会帮他们把意见带到议事会。",
            ),
            C(
                "",
                AGAINST,
                "座椅装好了谁来维护？以前公园的长椅坏了半年都没人修。",
                [C("", NEUTRAL, "可以写进项目里：物业每月巡查一次，坏了在网格群里报修。")],
            ),
        ],
    ),
    (
        ROUND_2026,
        "东门二区楼道监控安装",
        [
            C(
                "",
                FOR,
                "去年我家电动车电池在楼道里被偷了两次，报警也没找回来。"
                "装监控是最直接的办法，强烈支持。",
                [C("", FOR, "我们单元也丢过，现在大家都把电池拎回家充电，反而更危险。")],
            ),
            C(
                "",
                AGAINST,
                "监控装在楼道里，谁几点出门、谁家来了什么人都拍得清清楚楚。录像由谁保管？"
                "我担心隐私问题。",
                [
                    C(
                        "",
                        AGAINST,
                        "楼上说怕隐私的，是不是自己心里有鬼？你家那几辆车的电池哪来的自己清楚。",
                        hidden="人身攻击，请就事论事",
                    ),
                    C(
                        "council",
                        NEUTRAL,
                        "关于隐私：方案只拍单元入口，不对着住户家门；录像保存30天，"
                        "只有派出所依法调取时才能查看，查看要登记。这些会写进实施要求。",
                        [
                            C(
                                "op",
                                NEUTRAL,
                                "如果能做到这几条，我可以接受。希望实施时公开每个摄像头的位置。",
                            )
                        ],
                    ),
                ],
            ),
            C("", NEUTRAL, "比起监控，是不是先建个集中充电棚更治本？电池不放楼道就不会被偷了。"),
            C("", FOR, "今年终于又提了，去年差一点就入选了。大家投票的时候别忘了它。"),
        ],
    ),
    (
        ROUND_2026,
        "小区休闲步道铺设",
        [
            C(
                "voter",
                FOR,
                "晚饭后带孩子在中心绿地散步，现在全是泥地，下过雨根本没法走。"
                "铺了步道，老人孩子都能用。",
                [C("", FOR, "同意，最好用透水砖，下雨不积水。")],
            ),
            C(
                "",
                AGAINST,
                "15万元铺一条步道有点贵了。能不能先把现有的小路修一修，省下来的钱做别的项目？",
                [
                    C(
                        "",
                        NEUTRAL,
                        "看了一下提案，这个价格包括排水和两侧的照明，不只是铺路面。",
                        [C("op", NEUTRAL, "原来包括照明，那还算合理，我再考虑一下。")],
                    )
                ],
            ),
            C("", NEUTRAL, "希望施工避开暑假，孩子们放假都在绿地玩。"),
            C(
                "grid-south",
                NEUTRAL,
                "大家的意见我已整理给议事会，施工时间会在实施阶段再和居民商量。",
            ),
        ],
    ),
    (
        ROUND_2026,
        "电动车充电棚建设",
        [
            C(
                "",
                FOR,
                "南门那片天天有人从楼上拉电线下来充电，太危险了。充电棚早该建了。",
            ),
            C(
                "",
                FOR,
                "支持。建议扫码按次付费，价格要比外面的充电站便宜，不然大家还是会偷偷拉线。",
                [C("", NEUTRAL, "收费标准应该在建好之前公示，先听听居民的意见。")],
            ),
            C(
                "",
                AGAINST,
                "充电棚离三号楼太近了，万一起火怎么办？建议挪到停车区最里面，配上灭火器和烟感。",
                [
                    C(
                        "council",
                        NEUTRAL,
                        "消防是审核的重点：充电棚距离楼栋不少于6米，配自动断电和烟感报警，"
                        "这一条已写进审核意见。",
                    )
                ],
            ),
            C(
                "",
                NEUTRAL,
                "专业安装充电桩、充电棚，价格全市最低，有需要的邻居加我微信 xh-chongdian888。",
                reports=2,
            ),
        ],
    ),
    (
        ROUND_2026,
        "儿童游乐设施更新",
        [
            C(
                "",
                FOR,
                "中心广场的滑梯掉漆生锈，秋千的链条也松了，孩子玩的时候我一直提心吊胆。",
                [C("", FOR, "是的，上个月还有小朋友被划伤了手。")],
            ),
            C("", NEUTRAL, "希望地面换成塑胶软垫，现在是水泥地，摔一跤很疼。"),
            C(
                "",
                AGAINST,
                "北山小区老人比孩子多，9.8万元是不是可以分一部分给健身器材？",
                [C("", NEUTRAL, "这两年搬进来的年轻家庭挺多的，周末广场上全是孩子。")],
            ),
        ],
    ),
    (
        ROUND_2026,
        "社区应急广播系统",
        [
            C(
                "",
                FOR,
                "去年夏天发大水，很多老人没看手机群里的消息，是网格员挨家敲门通知的。"
                "有广播就方便多了。",
            ),
            C(
                "",
                AGAINST,
                "广播会不会天天响？我们楼就在路口，最怕噪音。",
                [
                    C(
                        "chair",
                        NEUTRAL,
                        "应急广播只在汛期预警、火灾等紧急情况下使用，平时不播放宣传内容。"
                        "使用规定会在项目页面公示。",
                        [C("op", FOR, "如果只用于紧急情况，那我支持。")],
                    )
                ],
            ),
            C("", NEUTRAL, "26万元占了全街道预算的一大块，希望说明一下为什么四个社区都要装。"),
        ],
    ),
    (
        ROUND_2025,
        "老旧楼栋加装楼梯扶手",
        [
            C(
                "",
                FOR,
                "我住五楼，膝盖不好，每次上楼都要扶着墙。两边都有扶手就好多了。",
                [C("", FOR, "楼梯转角的地方也要装，转弯最容易摔。")],
            ),
            C("", NEUTRAL, "扶手高度要照顾老人和孩子，可以装高低两道。"),
            C(
                "chair",
                NEUTRAL,
                "感谢大家的建议，高低两道扶手和转角处的安装要求已经转给施工方。",
            ),
        ],
    ),
    (
        ROUND_2025,
        "南湖公园儿童游乐设施更新",
        [
            C("voter", FOR, "南湖公园是附近孩子们最常去的地方，设施老化得厉害，支持更新。"),
            C(
                "",
                AGAINST,
                "公园归园林部门管理，用社区微实事资金合适吗？",
                [
                    C(
                        "council",
                        NEUTRAL,
                        "已与园林部门确认：设施采购由微实事资金承担，日常维护由园林部门负责，"
                        "双方会签协议。",
                    )
                ],
            ),
            C("", NEUTRAL, "滑梯更换的提案已经合并进来了，希望滑梯不要漏掉。"),
        ],
    ),
]


@dataclass
class _Row:
    """A comment to insert, with where it sits in the script."""

    script: C
    comment: Comment
    parent: _Row | None = None
    root: _Row | None = None
    children: list[_Row] = field(default_factory=list)


async def load_comments_demo() -> None:
    """Add the discussions to the demo district (after `budget.demo.load_demo_data`)."""
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    accounts = dict(await User.all().values_list("username", "id"))
    residents: dict[int | None, list[int]] = {}
    for user_id, area_id in await User.filter(
        role=Role.RESIDENT, username__startswith="r0"
    ).values_list("id", "area_id"):
        residents.setdefault(area_id, []).append(user_id)
    everyone = sorted(i for ids in residents.values() for i in ids)
    rounds = dict(await Round.filter(title__in=[ROUND_2025, ROUND_2026]).values_list("title", "id"))

    levels: list[list[_Row]] = [[], [], []]
    for round_title, proposal_title, script in DISCUSSIONS:
        proposal = await Proposal.get(round_id=rounds[round_title], title=proposal_title)
        pool = list(residents.get(proposal.area_id) or everyone)
        rng.shuffle(pool)
        start = proposal.created_at + timedelta(days=2)
        last = min(now - timedelta(hours=2), start + timedelta(days=30))
        step = (last - start) / (len(script) + 1)
        for i, top in enumerate(script):
            when = _awake(start + step * i + timedelta(minutes=rng.randrange(0, 600)), rng, now)
            _place(top, proposal.id, when, None, None, pool, accounts, rng, levels, now)

    async with in_transaction() as conn:
        hidden_by = accounts["council"]
        entries: list[AuditEntry] = []
        reports: list[CommentReport] = []
        for depth, rows in enumerate(levels):
            rows.sort(key=lambda r: r.comment.created_at)
            for row in rows:
                if row.parent is not None:
                    row.comment.parent_id = row.parent.comment.id
                    row.comment.root_id = row.root.comment.id
                    row.comment.depth = depth
                if row.script.hidden:
                    row.comment.hidden_reason = row.script.hidden
                    row.comment.hidden_at = row.comment.created_at + timedelta(hours=3)
                    row.comment.hidden_by_id = hidden_by
                    row.comment.body = ""
            before = await Comment.all().using_db(conn).order_by("-id").first()
            await Comment.bulk_create([r.comment for r in rows], using_db=conn)
            await recount_tallies(using_db=conn)  # the stance counts of what was written in bulk
            ids = await (
                Comment.filter(id__gt=before.id if before else 0)
                .using_db(conn)
                .order_by("id")
                .values_list("id", flat=True)
            )
            for row, comment_id in zip(rows, ids, strict=True):
                row.comment.id = comment_id
                entries += _audit(row, hidden_by)
                reports += _reports(row, rng, residents, entries)
        await CommentReport.bulk_create(reports, using_db=conn)
        await AuditEntry.bulk_create(entries, batch_size=500, using_db=conn)


def _place(
    script: C,
    subject_id: int,
    when: datetime,
    parent: _Row | None,
    root: _Row | None,
    pool: list[int],
    accounts: dict[str, int],
    rng: random.Random,
    levels: list[list[_Row]],
    now: datetime,
) -> _Row:
    """Put one comment of the script and its replies in `levels`, each reply a few hours after
    what it answers (never after `now`)."""
    if script.who == "op":
        author = (root or parent).comment.author_id
    elif script.who:
        author = accounts[script.who]
    else:
        author = pool.pop()
    replies = _count(script) - 1
    comment = Comment(
        subject_type="proposal",
        subject_id=subject_id,
        author_id=author,
        stance=script.stance,
        body=script.text,
        created_at=when,
        edited_at=when + timedelta(minutes=6) if script.edited_from else None,
        reply_count=replies,
        report_count=script.reports,
    )
    row = _Row(script, comment, parent, root)
    depth = 0 if parent is None else (1 if parent.parent is None else 2)
    levels[depth].append(row)
    later = when
    for reply in script.replies:
        later = _awake(later + timedelta(minutes=rng.randrange(40, 900)), rng, now)
        row.children.append(
            _place(reply, subject_id, later, row, root or row, pool, accounts, rng, levels, now)
        )
    return row


def _awake(when: datetime, rng: random.Random, now: datetime) -> datetime:
    """`when`, or the next morning if it falls at night in the district (residents post
    between 7:00 and 23:00 local time); never later than a few minutes ago."""
    local = when.astimezone(LOCAL)
    if local.hour < 7 or local.hour >= 23:
        morning = local.replace(hour=7, minute=0) + timedelta(minutes=rng.randrange(0, 120))
        if local.hour >= 23:
            morning += timedelta(days=1)
        when = morning.astimezone(UTC)
    return min(when, now - timedelta(minutes=5))


def _count(script: C) -> int:
    return 1 + sum(_count(r) for r in script.replies)


def _audit(row: _Row, council: int) -> list[AuditEntry]:
    """The audit entries the services would have written for this comment."""
    c = row.comment
    entries = [
        AuditEntry(
            actor_id=c.author_id,
            action="comment.posted",
            subject_type="comment",
            subject_id=c.id,
            public=True,
            detail={
                "on": "proposal",
                "on_id": c.subject_id,
                "stance": str(c.stance),
                **({"parent": c.parent_id} if c.parent_id else {}),
            },
            created_at=c.created_at,
        )
    ]
    if row.script.edited_from:
        entries.append(
            AuditEntry(
                actor_id=c.author_id,
                action="comment.edited",
                subject_type="comment",
                subject_id=c.id,
                public=False,
                detail={
                    "old_body": row.script.edited_from,
                    "old_stance": str(c.stance),
                    "stance": str(c.stance),
                },
                created_at=c.edited_at,
            )
        )
    if row.script.hidden:
        entries.append(
            AuditEntry(
                actor_id=council,
                action="comment.hidden",
                subject_type="comment",
                subject_id=c.id,
                public=False,
                detail={
                    "reason": row.script.hidden,
                    "author": c.author_id,
                    "original_body": row.script.text,
                    "reports": 0,
                },
                created_at=c.hidden_at,
            )
        )
    return entries


def _reports(
    row: _Row, rng: random.Random, residents: dict[int | None, list[int]], entries: list
) -> list[CommentReport]:
    """Reports of this comment by residents of its area (not its author)."""
    if not row.script.reports:
        return []
    c = row.comment
    area_of_author = next((a for a, ids in residents.items() if c.author_id in ids), None)
    others = [i for i in residents.get(area_of_author, []) if i != c.author_id]
    reporters = rng.sample(others, row.script.reports)
    reasons = ["广告", ""]
    found = []
    for n, reporter in enumerate(reporters):
        when = c.created_at + timedelta(hours=2 + n * 5)
        found.append(
            CommentReport(
                comment_id=c.id, reporter_id=reporter, reason=reasons[n % 2], created_at=when
            )
        )
        entries.append(
            AuditEntry(
                actor_id=reporter,
                action="comment.reported",
                subject_type="comment",
                subject_id=c.id,
                public=False,
                detail={"reason": reasons[n % 2]} if reasons[n % 2] else {},
                created_at=when,
            )
        )
    return found
