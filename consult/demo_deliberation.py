"""Demo deliberation rounds, loaded after the budgeting demo (budget.demo.load_demo_data):

- 生活垃圾分类: the whole district, in the discussing phase, 60 approved statements and the
  votes of about three hundred residents of the four areas. The residents hold one of two
  views — fixed-time collection points with the bins downstairs removed (定时定点、撤桶并点),
  or keeping the bins downstairs / collection at the door for the elderly (保留楼下垃圾桶、
  上门收集) — and vote with their side on those statements, while everyone agrees on more
  guidance, clean bins and clear labels: two real opinion groups and real common ground.
  A few statements wait in the council's queue; one was rejected with a reason.
- 北山小区地面停车秩序: an earlier round of 北山社区, published, its decision linked to the
  2026 proposal 停车位划线与标识 and to the 2026 budgeting round.
- 南湖公园广场舞: a round of 南湖社区 that has just begun collecting statements.

Deterministic (a fixed seed), dates relative to today, rows written with bulk inserts in one
transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tortoise.expressions import F
from tortoise.transactions import in_transaction

from budget.models import Proposal, Round
from consult.models import (
    Choice,
    Deliberation,
    DeliberationArea,
    DeliberationLink,
    DeliberationPhase,
    Statement,
    StatementStatus,
    StatementVote,
    SubjectType,
)
from core.models import Area, AuditEntry, Role, User

# The kinds of statement, and how each side votes on them: (agree, disagree) chances; the
# rest passes.
CONSENSUS, FIXED, DOOR, MIXED = "consensus", "fixed", "door", "mixed"
CHANCES = {
    CONSENSUS: {FIXED: (0.86, 0.06), DOOR: (0.84, 0.07)},
    FIXED: {FIXED: (0.82, 0.07), DOOR: (0.10, 0.78)},
    DOOR: {FIXED: (0.11, 0.76), DOOR: (0.83, 0.06)},
    MIXED: {FIXED: (0.45, 0.33), DOOR: (0.45, 0.33)},
}

WASTE_STATEMENTS = [
    (CONSENSUS, "希望每个小区都有志愿者在投放点做分类指导，尤其是刚开始的头几个月。"),
    (CONSENSUS, "垃圾桶上的分类标识要更大更清楚，最好配上图片，老人也能看懂。"),
    (CONSENSUS, "社区应该定期组织垃圾分类培训，讲清楚哪些东西属于厨余垃圾。"),
    (CONSENSUS, "垃圾桶要每天清洗，夏天尤其要防止异味和蚊蝇。"),
    (CONSENSUS, "给每户发放厨余垃圾专用袋和分类小桶，大家会更愿意分类。"),
    (CONSENSUS, "大件垃圾和装修垃圾应该有固定的堆放点和清运时间。"),
    (CONSENSUS, "电池、灯管、过期药品这些有害垃圾要有专门的回收箱。"),
    (CONSENSUS, "分好类的垃圾要分类运走，最后又混在一起拉走的话，谁还愿意分？"),
    (CONSENSUS, "物业、居委会和环卫所要明确各自的责任，出了问题知道找谁。"),
    (CONSENSUS, "可以在业主群里定期公布各楼栋的分类情况，表扬做得好的。"),
    (CONSENSUS, "孩子们在学校学了分类，可以请小学生当“小小宣传员”带动家长。"),
    (CONSENSUS, "投放点旁边要有洗手池，倒完厨余垃圾能洗个手。"),
    (CONSENSUS, "旧衣物回收箱要定期清理，不要让衣服堆在外面。"),
    (CONSENSUS, "分类规则要全街道统一，不要每个小区说法不一样。"),
    (FIXED, "支持撤掉楼下的垃圾桶，改为小区集中投放点，楼道环境会干净很多。"),
    (FIXED, "定时定点投放才能有督导员在场，分类准确率才能真正提高。"),
    (FIXED, "早上7点到9点、晚上6点到8点两个时段投放，大多数上班族都赶得上。"),
    (FIXED, "楼下垃圾桶招老鼠、有异味，夏天一楼住户苦不堪言，应该撤掉。"),
    (FIXED, "别的城市的经验说明，不撤桶就很难真正做好分类。"),
    (FIXED, "集中投放点可以装监控，乱扔垃圾的情况一查就清楚。"),
    (FIXED, "与其花钱请人上门收垃圾，不如把钱用在建设规范的分类亭上。"),
    (FIXED, "定时投放能让清运车按时来，路边不用整天摆着垃圾桶。"),
    (FIXED, "垃圾分类本来就要改变习惯，多走几步路是值得的。"),
    (FIXED, "投放点应该建成有雨棚、有照明的分类亭，替换现在的露天垃圾桶。"),
    (FIXED, "错过投放时间的，可以用投放点的“误时投放桶”，但只限少量。"),
    (FIXED, "对多次乱投放的住户，应该由物业上门劝导，屡劝不改的公示。"),
    (FIXED, "楼下不放垃圾桶，小区的消防通道也能腾出来。"),
    (FIXED, "督导员在投放点值守比上门收集更省人力，钱花得更值。"),
    (FIXED, "我愿意每天固定时间下楼投放垃圾，顺便散散步。"),
    (DOOR, "楼下的垃圾桶不能撤，老人腿脚不方便，走到集中投放点太远了。"),
    (DOOR, "上班族早出晚归，定时投放的时间根本赶不上。"),
    (DOOR, "建议为高龄和行动不便的老人提供上门收集垃圾的服务。"),
    (DOOR, "可以保留楼下垃圾桶，但要换成分类桶，每天清运两次。"),
    (DOOR, "集中投放点离我家那栋楼有四五百米，提着厨余垃圾走过去不现实。"),
    (DOOR, "定时定点听起来好，可实际执行时投放点外面常常堆满了垃圾。"),
    (DOOR, "老小区没有电梯，让六楼的老人每天定时下楼倒垃圾太难了。"),
    (DOOR, "应该先把楼下的分类桶管好，而不是一刀切撤桶。"),
    (DOOR, "上门收集可以由楼栋长或志愿者每天固定时间到各楼层收。"),
    (DOOR, "双职工家庭早上送孩子、晚上加班，希望投放时间不受限制。"),
    (DOOR, "撤桶以后有人会把垃圾扔在路边或者楼道里，反而更脏。"),
    (DOOR, "集中投放点建在谁家楼下，谁家就要闻异味，很难找到合适的位置。"),
    (DOOR, "可以试点“楼下分类桶＋督导员巡查”，不一定非要定时定点。"),
    (DOOR, "撤桶这么大的事，应该每个小区单独征求居民意见，不能统一决定。"),
    (DOOR, "下雨天、冬天晚上让老人去集中点扔垃圾，容易摔倒。"),
    (MIXED, "可以试行积分奖励，分类做得好的家庭用积分兑换生活用品。"),
    (MIXED, "对不分类的行为应该罚款，不然规定没有约束力。"),
    (MIXED, "厨余垃圾可以在小区里就地堆肥，给花坛用。"),
    (MIXED, "快递纸箱可以在楼下设专门的回收点，由回收公司定期来收。"),
    (MIXED, "垃圾分类的费用应该由政府承担，不能加到物业费里。"),
    (MIXED, "智能分类回收箱扫码投放很方便，建议引进。"),
    (MIXED, "可以请专业公司负责整个小区的垃圾分类运营。"),
    (MIXED, "物业费里应该单列垃圾分类的支出，账目要公开。"),
    (MIXED, "投放点的督导员可以优先招聘本小区的低龄老人和困难居民。"),
    (MIXED, "可以先在一个小区试点半年，再决定要不要在全街道推广。"),
    (MIXED, "小区门口的废品收购点应该规范管理，不要占道。"),
    (MIXED, "宠物粪便也应该有专门的垃圾桶。"),
    (MIXED, "外卖餐盒要先倒掉汤水再扔，这一点应该重点宣传。"),
    (MIXED, "年底请居民给各小区的垃圾分类工作打分，结果公开。"),
    (MIXED, "建议每个楼栋选一位分类“楼长”，负责提醒和答疑。"),
    (MIXED, "夜间清运垃圾车噪音太大，希望调整清运时间。"),
]
WASTE_PENDING = [
    "能不能在投放点旁边放一个旧电池回收的小盒子？",
    "建议给坚持分类一年的家庭发个荣誉证书。",
    "小区里的流浪猫经常翻垃圾桶，垃圾桶需要加盖。",
    "垃圾分类宣传栏上的内容太旧了，应该更新。",
    "希望清运车不要停在小区门口挡住出入。",
]
WASTE_REJECTED = [
    (
        "物业经理根本不作为，应该马上换掉！",
        "与本议题无关。对物业服务的意见，请在每月16日的民情恳谈会上提出。",
    ),
    (
        "楼下垃圾桶绝对不能撤！",
        "与已有观点“楼下的垃圾桶不能撤，老人腿脚不方便……”重复，请直接对那条投票。",
    ),
]
# Of the residents of each area who take part, the share on the fixed-time side: the old
# quarters (东门, 西河) lean towards keeping the bins downstairs, the newer ones the other way.
FIXED_SHARE = {"东门社区": 0.35, "南湖社区": 0.6, "西河社区": 0.4, "北山社区": 0.65}
WASTE_VOTERS = 300

PARKING_STATEMENTS = [
    (CONSENSUS, "消防通道必须保持畅通，占用消防通道的车辆应该立即清走。"),
    (CONSENSUS, "地面停车位应该重新划线，现在的线已经看不清了。"),
    (CONSENSUS, "单元门口不允许停车，要给救护车留出位置。"),
    (CONSENSUS, "电动自行车应该有固定的停放区域，不能堵在楼道口。"),
    (CONSENSUS, "停车管理的规定要在小区公告栏公示，让每户都知道。"),
    (FIXED, "外来车辆进小区停车应该收费，这样能减少占位。"),
    (FIXED, "夜间外来车辆一律不得进入小区。"),
    (FIXED, "停车收入应该用于小区道路和车位的维护，账目公开。"),
    (DOOR, "停车收费以后亲戚朋友来探望都不方便，不赞成收费。"),
    (DOOR, "车位本来就不够，收费解决不了问题，应该多建车位。"),
    (DOOR, "可以把小区北侧的空地改成临时停车场。"),
    (MIXED, "建议在小区门口安装车牌识别道闸。"),
]
PARKING_VOTERS = 70

SQUARE_DANCE_STATEMENTS = [
    (CONSENSUS, "广场舞音响晚上九点以后应该关掉。"),
    (CONSENSUS, "跳舞的队伍可以固定在离住宅楼远一点的场地。"),
    (MIXED, "建议给广场舞队配发无线耳机，跳舞不外放音乐。"),
    (MIXED, "周末早上八点以前不要放音乐，让上班族睡个好觉。"),
    (CONSENSUS, "公园应该给跳舞、打太极、孩子玩耍的人分好区域。"),
    (MIXED, "音量可以请社区用分贝仪测一测，定一个标准。"),
    (CONSENSUS, "希望各舞蹈队和周边居民坐下来一起商量，互相体谅。"),
    (MIXED, "夏天可以把跳舞时间提前到晚上七点开始。"),
]
SQUARE_DANCE_PENDING = [
    "篮球场晚上的灯也太亮了，能不能一起管一管？",
    "希望公园里多放几把长椅，跳舞的老人累了能歇歇。",
]


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


@dataclass
class _People:
    chair: int
    by_area: dict[str, list[int]]  # area name → ids of the residents who may take part
    area_of: dict[int, int]  # resident id → area id
    area_id: dict[str, int]


class _Builder:
    def __init__(self, conn, rng: random.Random, people: _People) -> None:
        self.conn = conn
        self.rng = rng
        self.people = people
        self.audit: list[AuditEntry] = []

    async def round(
        self,
        title: str,
        description: str,
        phase: DeliberationPhase,
        starts_on: date,
        ends_on: date,
        areas: list[str],
        **fields,
    ) -> Deliberation:
        d = await Deliberation.create(
            title=title,
            description=description,
            phase=phase,
            starts_on=starts_on,
            ends_on=ends_on,
            created_by_id=self.people.chair,
            using_db=self.conn,
            **fields,
        )
        await (
            Deliberation.filter(id=d.id)
            .using_db(self.conn)
            .update(created_at=_at(starts_on - timedelta(days=3), 9))
        )
        await DeliberationArea.bulk_create(
            [
                DeliberationArea(deliberation_id=d.id, area_id=self.people.area_id[name])
                for name in areas
            ],
            using_db=self.conn,
        )
        self._audit(
            "deliberation.create",
            d.id,
            _at(starts_on - timedelta(days=3), 9),
            {"title": title, "areas": [self.people.area_id[a] for a in areas]},
        )
        return d

    def _audit(self, action: str, subject_id: int, at: datetime, detail: dict) -> None:
        self.audit.append(
            AuditEntry(
                actor_id=self.people.chair,
                action=action,
                subject_type="deliberation",
                subject_id=subject_id,
                public=True,
                detail=detail,
                created_at=at,
            )
        )

    async def statements(
        self,
        d: Deliberation,
        approved: list[tuple[str, str]],
        voters: list[tuple[int, str]],
        *,
        pending: list[str] = (),
        rejected: list[tuple[str, str]] = (),
        per_voter: tuple[int, int],
    ) -> None:
        """Statements by residents among `voters` (each (id, side)), and their votes."""
        rng = self.rng
        start = _at(d.starts_on, 8)
        span = max(1, (d.ends_on - d.starts_on).days) * 86_400

        def when(fraction: float) -> datetime:
            return start + timedelta(seconds=int(span * fraction))

        authors = [v for v, _side in voters]
        rows: list[Statement] = []
        for i, (_kind, body) in enumerate(approved):
            at = when(0.5 * i / max(1, len(approved)))
            rows.append(
                Statement(
                    deliberation_id=d.id,
                    author_id=rng.choice(authors),
                    body=body,
                    status=StatementStatus.APPROVED,
                    created_at=at,
                    decided_at=at + timedelta(hours=5),
                    decided_by_id=self.people.chair,
                )
            )
        for body in pending:
            rows.append(
                Statement(
                    deliberation_id=d.id,
                    author_id=rng.choice(authors),
                    body=body,
                    status=StatementStatus.PENDING,
                    created_at=when(0.55 + 0.05 * rng.random()),
                )
            )
        for body, reason in rejected:
            at = when(0.3 * rng.random())
            rows.append(
                Statement(
                    deliberation_id=d.id,
                    author_id=rng.choice(authors),
                    body=body,
                    status=StatementStatus.REJECTED,
                    reject_reason=reason,
                    created_at=at,
                    decided_at=at + timedelta(hours=6),
                    decided_by_id=self.people.chair,
                )
            )
        await Statement.bulk_create(rows, using_db=self.conn)
        saved = await Statement.filter(deliberation_id=d.id).using_db(self.conn).order_by("id")
        kind_of = {body: kind for kind, body in approved}
        ballot = [
            (s.id, s.author_id, kind_of[s.body], s.created_at)
            for s in saved
            if s.status == StatementStatus.APPROVED
        ]
        votes: list[StatementVote] = []
        for voter, side in voters:
            take = rng.randint(*per_voter)
            for sid, author, kind, shown in rng.sample(ballot, min(take, len(ballot))):
                if author == voter:
                    continue
                agree, disagree = CHANCES[kind][side]
                draw = rng.random()
                choice = (
                    Choice.AGREE
                    if draw < agree
                    else Choice.DISAGREE
                    if draw < agree + disagree
                    else Choice.PASS
                )
                at = shown + timedelta(hours=6 + rng.randint(0, 24 * 10))
                votes.append(
                    StatementVote(
                        statement_id=sid,
                        deliberation_id=d.id,
                        voter_id=voter,
                        area_id=self.people.area_of[voter],
                        choice=choice,
                        created_at=at,
                        updated_at=at,
                    )
                )
        await StatementVote.bulk_create(votes, batch_size=1000, using_db=self.conn)
        # `updated_at` is written as now by the insert: make it the (past) time of the vote
        await (
            StatementVote.filter(deliberation_id=d.id)
            .using_db(self.conn)
            .update(updated_at=F("created_at"))
        )
        # as if each vote and approval had raised it
        await (
            Deliberation.filter(id=d.id)
            .using_db(self.conn)
            .update(votes_version=len(votes) + len(ballot))
        )

    def voters(
        self, areas: list[str], n: int, exclude: set[int], fixed_share: dict[str, float]
    ) -> list[tuple[int, str]]:
        """`n` residents of `areas` (spread over them), each on one side."""
        pool = [
            (rid, name) for name in areas for rid in self.people.by_area[name] if rid not in exclude
        ]
        chosen = self.rng.sample(pool, min(n, len(pool)))
        return [
            (rid, FIXED if self.rng.random() < fixed_share.get(name, 0.5) else DOOR)
            for rid, name in sorted(chosen)
        ]


async def load_deliberation_demo() -> None:
    """Add the demo deliberation rounds to the demo district (after budget.demo)."""
    rng = random.Random(20261016)
    today = date.today()
    areas = dict(await Area.all().values_list("name", "id"))
    users = await User.filter(verified=True, is_active=True).values_list(
        "id", "username", "role", "area_id"
    )
    name_of = {i: n for n, i in areas.items()}
    chair = next(i for i, u, _r, _a in users if u == "chair")
    residents = [(i, u, a) for i, u, r, a in users if r == Role.RESIDENT and a is not None]
    by_area: dict[str, list[int]] = {name: [] for name in areas}
    for i, _u, a in residents:
        by_area[name_of[a]].append(i)
    people = _People(chair, by_area, {i: a for i, _u, a in residents}, areas)
    # 张伟 (`resident`) has not voted anywhere: he can try it. 周丽 (`voter`) has.
    untouched = {i for i, u, _a in residents if u == "resident"}
    voter = next((i for i, u, _a in residents if u == "voter"), None)

    async with in_transaction() as conn:
        b = _Builder(conn, rng, people)
        await _waste_round(b, today, untouched, voter)
        await _parking_round(b, today, untouched)
        await _square_dance_round(b, today, untouched)
        await AuditEntry.bulk_create(b.audit, batch_size=500, using_db=conn)


async def _waste_round(b: _Builder, today: date, untouched: set[int], voter: int | None) -> None:
    d = await b.round(
        "生活垃圾分类怎么做：定时定点还是楼下投放？",
        "街道将在明年全面推行生活垃圾分类。议事会想听听大家的意见：是撤掉楼下垃圾桶、"
        "改为定时定点集中投放，还是保留楼下分类桶、为老人提供上门收集？\n"
        "请写下你的观点（每条不超过140字），并对其他居民的观点表示赞成、反对或中立。"
        "议事会将在讨论结束后公布决定。",
        DeliberationPhase.DISCUSSING,
        today - timedelta(days=30),
        today + timedelta(days=14),
        [],
    )
    b._audit(
        "deliberation.advance",
        d.id,
        _at(today - timedelta(days=9), 9),
        {"from": "collecting", "to": "discussing"},
    )
    all_areas = list(FIXED_SHARE)
    voters = b.voters(all_areas, WASTE_VOTERS, untouched, FIXED_SHARE)
    if voter is not None and voter not in {v for v, _s in voters}:
        voters.append((voter, DOOR))
    await b.statements(
        d,
        WASTE_STATEMENTS,
        voters,
        pending=WASTE_PENDING,
        rejected=WASTE_REJECTED,
        per_voter=(25, 50),
    )


async def _parking_round(b: _Builder, today: date, untouched: set[int]) -> None:
    starts = today - timedelta(days=210)
    d = await b.round(
        "北山小区地面停车秩序",
        "北山小区地面停车位不足，车辆占用消防通道、堵住单元门口的情况时有发生。"
        "议事会就停车位划线、外来车辆管理和电动自行车停放征求北山社区居民的意见。",
        DeliberationPhase.COLLECTING,
        starts,
        starts + timedelta(days=30),
        ["北山社区"],
    )
    voters = b.voters(["北山社区"], PARKING_VOTERS, untouched, {"北山社区": 0.5})
    await b.statements(d, PARKING_STATEMENTS, voters, per_voter=(8, 12))
    published = _at(starts + timedelta(days=40), 10)
    await (
        Deliberation.filter(id=d.id)
        .using_db(b.conn)
        .update(
            phase=DeliberationPhase.PUBLISHED,
            published_at=published,
            summary=(
                f"共有{len(voters)}位北山社区居民参与，审核通过观点{len(PARKING_STATEMENTS)}条。\n"
                "居民普遍赞成重新划设停车位、在消防通道和单元门口设置禁停标识，"
                "并优先保障消防通道畅通；电动自行车集中停放也得到广泛支持。\n"
                "对是否向外来车辆收取停车费，居民分成两种意见：一部分居民支持收费以减少外来车辆占位，"
                "另一部分居民担心收费影响亲友探望、也解决不了车位不足。"
            ),
            decision=(
                "一、将“停车位划线与标识”项目推荐纳入2026年度社区微实事项目，由居民投票决定是否实施。\n"
                "二、由物业在一个月内清理消防通道内的车辆，并设置禁停标识。\n"
                "三、外来车辆是否收费暂不决定，提交下一次民情恳谈会继续讨论。"
            ),
        )
    )
    for phase_from, phase_to, day in (
        ("collecting", "discussing", 20),
        ("discussing", "deciding", 31),
    ):
        b._audit(
            "deliberation.advance",
            d.id,
            _at(starts + timedelta(days=day), 9),
            {"from": phase_from, "to": phase_to},
        )
    proposal = await Proposal.filter(title="停车位划线与标识").using_db(b.conn).first()
    rnd = await Round.filter(title="2026年度社区微实事项目").using_db(b.conn).first()
    links = [(SubjectType.PROPOSAL, proposal), (SubjectType.ROUND, rnd)]
    await DeliberationLink.bulk_create(
        [
            DeliberationLink(deliberation_id=d.id, subject_type=kind, subject_id=item.id)
            for kind, item in links
            if item is not None
        ],
        using_db=b.conn,
    )
    b._audit(
        "deliberation.publish",
        d.id,
        published,
        {
            "proposals": [proposal.id] if proposal else [],
            "rounds": [rnd.id] if rnd else [],
            "meetings": [],
        },
    )


async def _square_dance_round(b: _Builder, today: date, untouched: set[int]) -> None:
    d = await b.round(
        "南湖公园广场舞的音量和时段",
        "南湖公园每晚都有几支广场舞队，跳舞的居民很开心，周边楼栋的居民反映音乐声太大。"
        "怎样兼顾两边？欢迎南湖社区居民提出观点。",
        DeliberationPhase.COLLECTING,
        today - timedelta(days=4),
        today + timedelta(days=26),
        ["南湖社区"],
    )
    voters = b.voters(["南湖社区"], 35, untouched, {"南湖社区": 0.5})
    await b.statements(
        d, SQUARE_DANCE_STATEMENTS, voters, pending=SQUARE_DANCE_PENDING, per_voter=(2, 6)
    )
