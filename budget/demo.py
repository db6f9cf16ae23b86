"""Demo data: a believable district for `make run` (manage.py loads it into an empty
database after the migrations).

Four neighbourhoods (社区) of one street district, an account for every role, a few hundred
verified residents, a finished 2025 round whose results were computed and published by the
real results service and whose funded projects are being bought and paid for
(`budget.demo_money`), and a 2026 round in the voting phase with ballots already cast (online
and on paper) — so that every page shows a living app. Everything is deterministic (a fixed
random seed); dates are relative to today. Rows go in with bulk inserts in one transaction, so
loading takes a second or two.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from budget.demo_money import load_demo_money
from budget.models import (
    Ballot,
    BallotChoice,
    BallotType,
    Category,
    Channel,
    Envelope,
    Outcome,
    OutcomeRule,
    Phase,
    Proposal,
    ProposalStatus,
    Review,
    Round,
    Support,
)
from budget.services.voting import new_receipt
from core.models import Area, AuditEntry, Role, User
from core.services.auth import hash_password
from core.settings import upload_dir_from_env

# (username, what the account is) — printed by `make run`; every account has the demo password.
DEMO_LOGINS: list[tuple[str, str]] = [
    ("admin", "Administrator: areas, accounts, invitations, the audit log"),
    ("chair", "Council chair: opens and runs rounds, reviews proposals, publishes results"),
    ("council", "Council member: reviews and merges proposals"),
    (
        "finance",
        "Finance officer: the 2025 round's procurements and ledger (contract the one in "
        "tendering, record payments, complete milestones, upload documents)",
    ),
    ("grid-east", "Grid worker of 东门社区: enter paper ballots and needs for its residents"),
    ("grid-south", "Grid worker of 南湖社区: the same for 南湖社区"),
    ("grid-west", "Grid worker of 西河社区: the same for 西河社区"),
    ("grid-north", "Grid worker of 北山社区: the same for 北山社区"),
    (
        "resident",
        "Resident of 东门社区: try voting in the 2026 round (and changing the ballot while "
        "voting is open), and rating the new stair handrails",
    ),
    (
        "voter",
        "Resident of 南湖社区 whose demo ballot was cast online: see it and check its receipt",
    ),
]

AREAS = [
    ("东门社区", "老城区东侧，以上世纪九十年代的多层住宅为主，老年居民较多。"),
    ("南湖社区", "环南湖公园的居住区，年轻家庭和儿童较多。"),
    ("西河社区", "沿西河两岸的老街区，有日间照料中心和农贸市场。"),
    ("北山社区", "北山脚下的新建小区与安置小区，配套设施仍在完善。"),
]
EAST, SOUTH, WEST, NORTH = range(4)
DISTRICT = None
RESIDENTS_PER_AREA = 100

STAFF = [
    # username, display name, role, area index
    ("admin", "王磊", Role.ADMIN, None),
    ("chair", "李秀英", Role.COUNCIL, None),
    ("council", "陈建国", Role.COUNCIL, None),
    ("finance", "赵敏", Role.FINANCE, None),
    ("grid-east", "刘芳", Role.GRID_WORKER, EAST),
    ("grid-south", "杨洋", Role.GRID_WORKER, SOUTH),
    ("grid-west", "黄海涛", Role.GRID_WORKER, WEST),
    ("grid-north", "吴桂兰", Role.GRID_WORKER, NORTH),
    ("resident", "张伟", Role.RESIDENT, EAST),
    ("voter", "周丽", Role.RESIDENT, SOUTH),
]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
GIVEN = [
    "秀兰",
    "建华",
    "桂英",
    "志强",
    "丽娟",
    "国庆",
    "海燕",
    "德明",
    "玉梅",
    "建军",
    "淑珍",
    "春生",
    "晓东",
    "红梅",
    "文博",
    "子涵",
    "欣怡",
    "浩然",
    "雨桐",
    "宇航",
    "佳怡",
    "俊杰",
    "梓萱",
    "明轩",
    "素芬",
    "永福",
    "金凤",
    "立新",
    "雪梅",
    "振华",
    "思远",
    "一鸣",
    "婉婷",
    "家豪",
    "凤英",
    "长林",
]


@dataclass
class P:
    """One demo proposal."""

    title: str
    category: Category
    cost_yuan: int
    area: int | None
    beneficiaries: int
    location: str
    description: str
    status: ProposalStatus = ProposalStatus.FEASIBLE
    reason: str = ""  # the review's public reason (defaults to a feasible one)
    revised_yuan: int | None = None
    merged_into: str = ""  # title of the survivor
    popularity: float = 0.5  # chance that a voter of its envelope picks it
    author: str = ""  # a named demo account, else a resident of its area


ENG, EQUIP, SERVICE = Category.ENGINEERING, Category.EQUIPMENT, Category.SERVICE

PROPOSALS_2025 = [
    P(
        "老旧楼栋加装楼梯扶手",
        ENG,
        68_000,
        EAST,
        620,
        "东门一区1–12栋",
        "东门一区12栋老楼没有电梯，楼梯只有一侧有扶手。建议在两侧加装不锈钢扶手，方便老人上下楼。",
        popularity=0.8,
    ),
    P(
        "菜市场至公交站路灯改造",
        ENG,
        95_000,
        EAST,
        2_400,
        "东门菜市场至东门公交站步行道",
        "这段步行道晚上很暗，下班买菜的居民常常看不清台阶。建议更换为节能LED路灯并增加4盏。",
        popularity=0.6,
        revised_yuan=88_000,
        reason="经现场勘查可行；按街道路灯维护单位的询价，费用调整为8.8万元。",
    ),
    P(
        "社区老年食堂设备采购",
        EQUIP,
        52_000,
        EAST,
        300,
        "东门社区老年食堂",
        "老年食堂的蒸柜和消毒柜已使用十年，经常出故障。采购一台商用蒸柜、一台消毒柜和保温餐车。",
        popularity=0.55,
    ),
    P(
        "东门二区楼道监控安装",
        EQUIP,
        120_000,
        EAST,
        900,
        "东门二区全部单元楼道",
        "二区近两年多次发生电动车电池被盗。建议在每个单元楼道入口安装监控并接入物业值班室。",
        popularity=0.35,
    ),
    P(
        "广场舞音响采购",
        EQUIP,
        20_000,
        EAST,
        150,
        "东门社区文化广场",
        "为广场舞队采购一套户外音响。",
        status=ProposalStatus.WITHDRAWN,
    ),
    P(
        "南湖公园儿童游乐设施更新",
        EQUIP,
        135_000,
        SOUTH,
        1_100,
        "南湖公园东侧儿童活动区",
        "现有滑梯和秋千已老化生锈，地面是硬地砖。建议更换成套游乐设施并铺设塑胶安全地垫。",
        popularity=0.75,
    ),
    P(
        "南湖公园滑梯更换",
        EQUIP,
        40_000,
        SOUTH,
        600,
        "南湖公园儿童活动区",
        "公园里的滑梯已经生锈，有孩子被划伤，希望尽快更换。",
        status=ProposalStatus.MERGED,
        merged_into="南湖公园儿童游乐设施更新",
    ),
    P(
        "垃圾分类亭建设",
        ENG,
        48_000,
        SOUTH,
        1_800,
        "南湖小区3个出入口",
        "在小区三个出入口各建一座带洗手池和遮雨棚的垃圾分类亭，替换露天垃圾桶。",
        popularity=0.5,
    ),
    P(
        "健康讲座服务",
        SERVICE,
        30_000,
        SOUTH,
        800,
        "南湖社区党群服务中心",
        "全年请社区医院医生开展12场健康讲座，内容包括高血压、糖尿病管理和儿童营养。",
        popularity=0.4,
    ),
    P(
        "电动自行车集中充电棚",
        ENG,
        86_000,
        SOUTH,
        1_200,
        "南湖小区北门停车区",
        "居民把电动车推进楼道充电，存在火灾隐患。建议建设带智能充电桩的集中充电棚。",
        popularity=0.45,
    ),
    P(
        "西河沿岸步道修缮",
        ENG,
        160_000,
        WEST,
        3_000,
        "西河桥至农贸市场沿河步道",
        "沿河步道的石板松动、积水，雨天容易滑倒。建议重新铺设透水砖并修补护栏。",
        popularity=0.6,
    ),
    P(
        "日间照料中心康复器材采购",
        EQUIP,
        45_000,
        WEST,
        260,
        "西河社区日间照料中心",
        "为日间照料中心采购上下肢康复训练器、平衡训练器和按摩椅，方便老人就近康复。",
        popularity=0.55,
    ),
    P(
        "防汛应急物资储备",
        EQUIP,
        28_000,
        WEST,
        2_000,
        "西河社区应急物资仓库",
        "西河每年汛期水位上涨。建议储备沙袋、抽水泵、救生衣和应急照明，放在社区仓库。",
        popularity=0.45,
    ),
    P(
        "楼道声控灯更换",
        ENG,
        36_000,
        WEST,
        700,
        "西河小区1–20栋",
        "很多楼道的声控灯已损坏，老人晚上上下楼不安全。建议统一更换为感应LED灯。",
        popularity=0.5,
    ),
    P(
        "社区图书角图书采购",
        EQUIP,
        25_000,
        NORTH,
        500,
        "北山社区党群服务中心二楼",
        "为图书角采购约1500册儿童绘本、养生和历史类图书，并添置两个书架。",
        popularity=0.5,
    ),
    P(
        "老年大学书法班服务",
        SERVICE,
        40_000,
        NORTH,
        120,
        "北山社区活动室",
        "请书法老师每周开课两次，为期一年，免费向社区老人开放。",
        popularity=0.35,
    ),
    P(
        "北山小区雨污分流改造",
        ENG,
        280_000,
        NORTH,
        3_500,
        "北山小区全域",
        "小区雨水和污水混流，下大雨时检查井冒水。建议进行雨污分流改造。",
        status=ProposalStatus.INFEASIBLE,
        reason="该工程涉及市政管网改造，费用超过社区单项上限，已转交街道城建部门纳入明年计划。",
    ),
    P(
        "独居老人助餐配送服务",
        SERVICE,
        180_000,
        DISTRICT,
        420,
        "全街道",
        "为全街道80岁以上独居老人每天配送一顿午餐，为期一年，由社区食堂制作、志愿者配送。",
        popularity=0.6,
    ),
    P(
        "社区心理健康咨询服务",
        SERVICE,
        60_000,
        DISTRICT,
        1_500,
        "各社区党群服务中心轮流",
        "购买专业社工机构服务，每月在各社区开设心理咨询日，关注老人和青少年心理健康。",
        popularity=0.4,
    ),
    P(
        "志愿者应急救护培训",
        SERVICE,
        35_000,
        DISTRICT,
        400,
        "街道文体中心",
        "组织红十字会为400名居民志愿者开展心肺复苏和AED使用培训，并颁发证书。",
        popularity=0.5,
    ),
]

PROPOSALS_2026 = [
    P(
        "单元门禁系统更新",
        EQUIP,
        88_000,
        EAST,
        1_300,
        "东门三区1–16单元",
        "三区的单元门禁已损坏多年，陌生人可以随意进出。建议更换为刷卡和人脸识别门禁。",
        popularity=0.5,
    ),
    P(
        "社区文化墙修缮",
        ENG,
        42_000,
        EAST,
        2_000,
        "东门社区文化广场西侧围墙",
        "文化墙墙皮脱落、内容陈旧。建议重新粉刷，绘制社区历史和垃圾分类宣传画。",
        popularity=0.3,
    ),
    P(
        "小学上下学护学岗服务",
        SERVICE,
        36_000,
        EAST,
        850,
        "东门小学门口",
        "上下学高峰时校门口车辆拥堵。购买一年护学岗服务，由专人在高峰时段疏导交通。",
        popularity=0.55,
    ),
    P(
        "适老化休息座椅安装",
        ENG,
        28_000,
        EAST,
        900,
        "东门社区主干道两侧",
        "老人出门买菜走一段路就要休息，建议沿主干道每隔100米安装一张带扶手的座椅。",
        popularity=0.6,
        author="resident",
    ),
    P(
        "东门二区楼道监控安装",
        EQUIP,
        110_000,
        EAST,
        900,
        "东门二区全部单元楼道",
        "去年未获资助，今年再次提出：在二区每个单元楼道入口安装监控，防止电动车电池被盗。",
        popularity=0.4,
    ),
    P(
        "老年食堂厨房设备更新",
        EQUIP,
        75_000,
        SOUTH,
        350,
        "南湖社区长者食堂",
        "长者食堂用餐人数增加，现有灶具不够用。采购一台双头炒灶、一台蒸饭柜和冷藏柜。",
        popularity=0.5,
        revised_yuan=70_000,
        reason="项目可行；按询价结果，费用调整为7万元。",
    ),
    P(
        "小区休闲步道铺设",
        ENG,
        150_000,
        SOUTH,
        2_600,
        "南湖小区中心绿地",
        "中心绿地只有草坪没有步道，雨后泥泞。建议铺设一条环形塑胶步道，方便居民散步健身。",
        popularity=0.45,
    ),
    P(
        "青少年暑期托管服务",
        SERVICE,
        58_000,
        SOUTH,
        180,
        "南湖社区活动中心",
        "双职工家庭暑假孩子无人照看。购买暑期托管服务，提供作业辅导、阅读和体育活动。",
        popularity=0.5,
        author="voter",
    ),
    P(
        "智能垃圾回收箱采购",
        EQUIP,
        96_000,
        SOUTH,
        2_000,
        "南湖小区各楼栋",
        "采购智能分类回收箱，居民投放可回收物可以积分兑换生活用品。",
        status=ProposalStatus.INFEASIBLE,
        reason="智能回收箱每年需要支付运营和积分兑换费用，不属于一次性的微实事项目，"
        "建议与区环卫部门的试点项目对接。",
    ),
    P(
        "无障碍坡道改造",
        ENG,
        64_000,
        WEST,
        400,
        "西河社区各单元入口",
        "多个单元入口只有台阶，轮椅和婴儿车无法通行。建议在12个单元入口加建无障碍坡道。",
        popularity=0.55,
    ),
    P(
        "电动车充电棚建设",
        ENG,
        92_000,
        WEST,
        1_000,
        "西河小区南门停车区",
        "居民私拉电线给电动车充电，存在安全隐患。建议建设一座带20个充电口的充电棚。",
        popularity=0.6,
    ),
    P(
        "家庭医生签约健康服务",
        SERVICE,
        45_000,
        WEST,
        1_200,
        "西河社区卫生服务站",
        "购买家庭医生团队服务，为签约老人每季度上门体检一次，并建立健康档案。",
        popularity=0.45,
    ),
    P(
        "沿河护栏加固",
        ENG,
        120_000,
        WEST,
        3_000,
        "西河沿岸步道",
        "沿河护栏部分锈蚀松动，孩子在河边玩耍有落水危险。建议全面更换加固。",
        popularity=0.4,
    ),
    P(
        "西河小区充电桩安装",
        ENG,
        50_000,
        WEST,
        600,
        "西河小区南门",
        "希望在小区里装几个电动车充电桩，不要再在楼道里充电。",
        status=ProposalStatus.MERGED,
        merged_into="电动车充电棚建设",
    ),
    P(
        "儿童游乐设施更新",
        EQUIP,
        98_000,
        NORTH,
        700,
        "北山小区中心广场",
        "小区里只有一个小滑梯，孩子们没有地方玩。建议更新一组适合3–12岁儿童的游乐设施。",
        popularity=0.55,
    ),
    P(
        "小区路灯改造",
        ENG,
        85_000,
        NORTH,
        2_200,
        "北山小区主干道及停车场",
        "安置小区的路灯间距太大，停车场几乎没有照明。建议加装太阳能路灯18盏。",
        popularity=0.5,
    ),
    P(
        "四点半课堂服务",
        SERVICE,
        40_000,
        NORTH,
        160,
        "北山社区党群服务中心",
        "小学生下午四点半放学后无人接送。购买一年课后托管服务，由专业老师辅导作业。",
        popularity=0.45,
    ),
    P(
        "停车位划线与标识",
        ENG,
        22_000,
        NORTH,
        1_500,
        "北山小区地面停车场",
        "地面停车无序，经常堵住消防通道。建议重新划设停车位、设置消防通道标识。",
        popularity=0.35,
    ),
    P(
        "独居老人智能呼叫设备采购",
        EQUIP,
        210_000,
        DISTRICT,
        600,
        "全街道独居老人家中",
        "为全街道600户独居老人安装一键呼叫设备和烟感报警器，接入社区网格员手机。",
        popularity=0.55,
    ),
    P(
        "全街道健康讲座服务",
        SERVICE,
        48_000,
        DISTRICT,
        3_000,
        "各社区轮流举办",
        "全年在四个社区轮流举办24场健康讲座，涵盖慢病管理、防诈骗和急救知识。",
        popularity=0.45,
    ),
    P(
        "社区应急广播系统",
        EQUIP,
        260_000,
        DISTRICT,
        12_000,
        "四个社区主要路口",
        "汛期和突发事件时需要及时通知居民。建议在四个社区主要路口安装应急广播。",
        popularity=0.35,
    ),
    P(
        "社区食堂配餐补贴",
        SERVICE,
        300_000,
        DISTRICT,
        2_000,
        "全街道",
        "为60岁以上老人在社区食堂就餐提供每餐3元补贴。",
        status=ProposalStatus.INFEASIBLE,
        reason="这是长期的经常性补贴，不属于一次性的微实事项目；已转交街道民政部门研究。",
    ),
]

FEASIBLE_REASONS = [
    "经现场勘查，项目可行，费用测算合理。",
    "符合微实事项目范围，费用在社区单项上限以内，同意纳入投票。",
    "已与物业和相关部门确认，实施条件具备，同意纳入投票。",
    "项目受益面广，预算合理，可行。",
]


def _at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=UTC)


def _household(area: int, k: int) -> str:
    """The k-th household of a demo area (building, room): distinct for every k, so that
    residents with the same name (two 唐家豪 in 东门社区) live at different addresses."""
    prefix = AREAS[area][0].removesuffix("社区")
    return f"{prefix}{k // 10 + 1}栋{(k % 10) // 2 + 1}0{k % 2 + 1}室"


def _names(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(SURNAMES) + rng.choice(GIVEN) for _ in range(n)]


async def load_demo_data(password: str, upload_dir: Path | None = None) -> None:
    """Fill an empty (migrated) database with the demo district; every account gets `password`.
    Procurement documents are written to `upload_dir` (default: the settings' UPLOAD_DIR)."""
    rng = random.Random(20261122)
    today = date.today()
    password_hash = hash_password(password)  # argon2 is slow on purpose: hash once
    y2025 = _timetable(today - timedelta(days=400))
    y2026 = {
        "proposing_starts": today - timedelta(days=75),
        "reviewing_starts": today - timedelta(days=40),
        "voting_starts": today - timedelta(days=10),
        "results_starts": today + timedelta(days=8),
        "implementing_starts": today + timedelta(days=30),
        "closes": today + timedelta(days=300),
    }
    joined = _at(y2025["proposing_starts"] - timedelta(days=30), 9)

    async with in_transaction() as conn:
        await Area.bulk_create(
            [Area(name=name, description=text, created_at=joined) for name, text in AREAS],
            using_db=conn,
        )
        by_name = dict(await Area.all().using_db(conn).values_list("name", "id"))
        area_ids = [by_name[name] for name, _text in AREAS]

        users = [
            User(
                username=username,
                display_name=display,
                password_hash=password_hash,
                role=role,
                area_id=None if area is None else area_ids[area],
                household="" if area is None else _household(area, 100 + j),
                verified=True,
                created_at=joined,
            )
            for j, (username, display, role, area) in enumerate(STAFF)
        ]
        names = _names(rng, RESIDENTS_PER_AREA * len(AREAS))
        for i, name in enumerate(names):
            users.append(
                User(
                    username=f"r{i + 1:04d}",
                    display_name=name,
                    password_hash=password_hash,
                    role=Role.RESIDENT,
                    area_id=area_ids[i % len(AREAS)],
                    household=_household(i % len(AREAS), i // len(AREAS)),
                    verified=True,
                    created_at=joined + timedelta(minutes=i),
                )
            )
        await User.bulk_create(users, batch_size=500, using_db=conn)
        ids = dict(await User.all().using_db(conn).values_list("username", "id"))
        account = {u: ids[u] for u, *_rest in STAFF}
        residents: dict[int, list[int]] = {a: [] for a in area_ids}  # area id → user ids
        for u in users:
            if u.role in (Role.RESIDENT, Role.GRID_WORKER):
                residents[u.area_id].append(ids[u.username])
        grid_worker = {
            area_ids[a]: account[u] for u, _d, role, a in STAFF if role == Role.GRID_WORKER
        }
        ctx = _Ctx(conn, rng, area_ids, account, residents, grid_worker)

        await ctx.audit(account["admin"], "demo.loaded", None, joined)
        finished = await ctx.round(
            "2025年度社区微实事项目",
            "2025年度街道社区微实事资金100万元，四个社区各20万元，其余用于全街道项目。"
            "居民提出的项目经社区议事会审核后由居民投票决定。",
            fund_yuan=1_000_000,
            area_yuan=200_000,
            phase=Phase.RESULTS,
            rule=OutcomeRule.GREEDY,
            dates=y2025,
        )
        current = await ctx.round(
            "2026年度社区微实事项目",
            "2026年度微实事资金120万元：四个社区各22万元，其余32万元用于惠及全街道的项目。"
            "每位居民可以在本社区和全街道两个预算内分别选择项目，所选项目的总费用不超过各自预算。",
            fund_yuan=1_200_000,
            area_yuan=220_000,
            phase=Phase.VOTING,
            rule=OutcomeRule.EQUAL_SHARES,
            dates=y2026,
        )
        await ctx.proposals(finished, PROPOSALS_2025, y2025)
        await ctx.proposals(current, PROPOSALS_2026, y2026)
        await ctx.ballots(finished, y2025, voters=230, paper=30, exclude=set())
        await ctx.ballots(
            current,
            y2026,
            voters=180,
            paper=24,
            exclude={account["resident"]},
            include={account["voter"]},
        )
        await AuditEntry.bulk_create(ctx.entries, batch_size=500, using_db=conn)

    await _publish_results(finished, account["chair"], y2025)
    await load_demo_money(finished.id, upload_dir or upload_dir_from_env())


def _timetable(start: date) -> dict[str, date]:
    return {
        "proposing_starts": start,
        "reviewing_starts": start + timedelta(days=35),
        "voting_starts": start + timedelta(days=60),
        "results_starts": start + timedelta(days=75),
        "implementing_starts": start + timedelta(days=90),
        "closes": start + timedelta(days=450),
    }


class _Ctx:
    """What the loader builds up: ids, and audit entries written in one bulk insert at the end."""

    def __init__(
        self,
        conn: Any,
        rng: random.Random,
        area_ids: list[int],
        account: dict[str, int],
        residents: dict[int, list[int]],
        grid_worker: dict[int, int],
    ) -> None:
        self.conn, self.rng = conn, rng
        self.area_ids, self.account = area_ids, account
        self.residents, self.grid_worker = residents, grid_worker
        self.everyone = [uid for ids in residents.values() for uid in ids]
        self.entries: list[AuditEntry] = []
        self.projects: dict[int, list[tuple[int, int | None, int, float]]] = {}

    async def audit(
        self,
        actor: int | None,
        action: str,
        subject: Any,
        when: datetime,
        *,
        public: bool = False,
        **detail: Any,
    ) -> None:
        self.entries.append(
            AuditEntry(
                actor_id=actor,
                action=action,
                subject_type=subject._meta.db_table if subject is not None else "",
                subject_id=getattr(subject, "id", None),
                public=public,
                detail={k: v for k, v in detail.items() if v is not None},
                created_at=when,
            )
        )

    async def round(
        self,
        title: str,
        description: str,
        *,
        fund_yuan: int,
        area_yuan: int,
        phase: Phase,
        rule: OutcomeRule,
        dates: dict[str, date],
    ) -> Round:
        chair = self.account["chair"]
        created = _at(dates["proposing_starts"] - timedelta(days=7), 15)
        rnd = await Round.create(
            title=title,
            description=description,
            fund_fen=fund_yuan * 100,
            phase=phase,
            ballot_type=BallotType.BUDGET_APPROVAL,
            rule=rule.value,
            created_by_id=chair,
            using_db=self.conn,
            **dates,
        )
        await Round.filter(id=rnd.id).using_db(self.conn).update(created_at=created)
        envelopes = [
            Envelope(round_id=rnd.id, area_id=a, budget_fen=area_yuan * 100) for a in self.area_ids
        ]
        rest = (fund_yuan - area_yuan * len(self.area_ids)) * 100
        envelopes.append(Envelope(round_id=rnd.id, area_id=None, budget_fen=rest))
        await Envelope.bulk_create(envelopes, using_db=self.conn)
        await self.audit(
            chair,
            "round.create",
            rnd,
            created,
            title=title,
            fund_fen=rnd.fund_fen,
            ballot_type=BallotType.BUDGET_APPROVAL.value,
            rule=rule.value,
            envelopes={str(a): area_yuan * 100 for a in self.area_ids},
        )
        order = list(Phase)
        starts = [dates["reviewing_starts"], dates["voting_starts"], dates["results_starts"]]
        for before, after, day in zip(
            order, order[1 : order.index(phase) + 1], starts, strict=False
        ):
            await self.audit(
                chair,
                "round.advance",
                rnd,
                _at(day, 8),
                public=True,
                **{"from": before.value, "to": after.value},
            )
        return rnd

    async def proposals(self, rnd: Round, specs: list[P], dates: dict[str, date]) -> None:
        rng, conn = self.rng, self.conn
        propose_days = (dates["reviewing_starts"] - dates["proposing_starts"]).days
        review_days = (dates["voting_starts"] - dates["reviewing_starts"]).days
        rows, meta = [], []
        for spec in specs:
            area_id = None if spec.area is None else self.area_ids[spec.area]
            if spec.author:
                author = self.account[spec.author]
            else:
                author = rng.choice(self.residents[area_id] if area_id else self.everyone)
            submitted = _at(
                dates["proposing_starts"] + timedelta(days=rng.randrange(propose_days)),
                rng.randrange(8, 22),
                rng.randrange(60),
            )
            rows.append(
                Proposal(
                    round_id=rnd.id,
                    area_id=area_id,
                    title=spec.title,
                    description=spec.description,
                    category=spec.category,
                    cost_fen=spec.cost_yuan * 100,
                    revised_cost_fen=None if spec.revised_yuan is None else spec.revised_yuan * 100,
                    beneficiaries=spec.beneficiaries,
                    location=spec.location,
                    author_id=author,
                    status=spec.status,
                    created_at=submitted,
                )
            )
            meta.append((spec, author, submitted))
        await Proposal.bulk_create(rows, using_db=conn)
        pid = dict(await Proposal.filter(round_id=rnd.id).using_db(conn).values_list("title", "id"))
        reviews, supports, counts = [], [], {}
        projects = self.projects.setdefault(rnd.id, [])
        for row, (spec, author, submitted) in zip(rows, meta, strict=True):
            row.id = pid[spec.title]
            await self.audit(
                author,
                "proposal.submitted",
                row,
                submitted,
                public=True,
                title=spec.title,
                cost_fen=row.cost_fen,
            )
            # supports from residents of its area (anyone for district-wide ones)
            pool = self.residents[row.area_id] if row.area_id else self.everyone
            n = (
                0
                if spec.status == ProposalStatus.MERGED
                else int(len(pool) * spec.popularity * rng.uniform(0.2, 0.6))
            )
            for uid in rng.sample(pool, min(n, len(pool))):
                supports.append(
                    Support(
                        proposal_id=row.id,
                        user_id=uid,
                        created_at=submitted + timedelta(hours=rng.randrange(1, propose_days * 24)),
                    )
                )
            counts[row.id] = n
            reviewed = _at(
                dates["reviewing_starts"] + timedelta(days=rng.randrange(review_days)),
                rng.randrange(9, 18),
                rng.randrange(60),
            )
            reviewer = self.account[rng.choice(["chair", "council"])]
            if spec.status == ProposalStatus.WITHDRAWN:
                await self.audit(
                    author, "proposal.withdrawn", row, submitted + timedelta(days=3), public=True
                )
            elif spec.status == ProposalStatus.MERGED:
                survivor = pid[spec.merged_into]
                await self.audit(
                    reviewer,
                    "proposal.merged",
                    row,
                    reviewed,
                    public=True,
                    into_id=survivor,
                    into_title=spec.merged_into,
                    supports_moved=0,
                )
                await self.audit(
                    reviewer,
                    "proposal.merged_from",
                    _ProposalRef(survivor),
                    reviewed,
                    public=True,
                    from_id=row.id,
                    from_title=spec.title,
                    supports_moved=0,
                )
                row.merged_into_id = survivor
            else:
                feasible = spec.status == ProposalStatus.FEASIBLE
                reason = spec.reason or rng.choice(FEASIBLE_REASONS)
                reviews.append(
                    Review(
                        proposal_id=row.id,
                        reviewer_id=reviewer,
                        feasible=feasible,
                        reason=reason,
                        revised_cost_fen=row.revised_cost_fen,
                        created_at=reviewed,
                    )
                )
                row.review_reason = reason
                await self.audit(
                    reviewer,
                    "proposal.reviewed",
                    row,
                    reviewed,
                    public=True,
                    feasible=feasible,
                    reason=reason,
                    revised_cost_fen=row.revised_cost_fen,
                )
                if feasible:
                    projects.append((row.id, row.area_id, row.effective_cost_fen, spec.popularity))
        await Support.bulk_create(supports, batch_size=500, using_db=conn)
        await Review.bulk_create(reviews, using_db=conn)
        for row in rows:
            await (
                Proposal.filter(id=row.id)
                .using_db(conn)
                .update(
                    support_count=counts[row.id],
                    review_reason=row.review_reason,
                    merged_into_id=row.merged_into_id,
                )
            )

    async def ballots(
        self,
        rnd: Round,
        dates: dict[str, date],
        *,
        voters: int,
        paper: int,
        exclude: set[int],
        include: set[int] | None = None,
    ) -> None:
        """`voters` residents cast budget-limited ballots (`paper` of them on paper, entered by
        their area's grid worker); each envelope's choices fit its budget."""
        rng, conn = self.rng, self.conn
        budgets = dict(
            await Envelope.filter(round_id=rnd.id)
            .using_db(conn)
            .values_list("area_id", "budget_fen")
        )
        pool = [
            u
            for u in self.everyone
            if u not in exclude
            and u not in (include or set())
            and u not in self.grid_worker.values()
        ]
        chosen = sorted(include or set()) + rng.sample(pool, voters - len(include or set()))
        on_paper = set(rng.sample(chosen[len(include or set()) :], paper))
        area_of = {uid: area for area, ids in self.residents.items() for uid in ids}
        vote_days = (dates["results_starts"] - dates["voting_starts"]).days
        last_day = min(vote_days, (date.today() - dates["voting_starts"]).days)
        ballots, picks = [], []
        for uid in chosen:
            area_id = area_of[uid]
            when = _at(
                dates["voting_starts"] + timedelta(days=rng.randrange(max(last_day, 1))),
                rng.randrange(7, 22),
                rng.randrange(60),
            )
            paper_ballot = uid in on_paper
            ballots.append(
                Ballot(
                    round_id=rnd.id,
                    voter_id=uid,
                    area_id=area_id,
                    channel=Channel.PAPER if paper_ballot else Channel.ONLINE,
                    entered_by_id=self.grid_worker[area_id] if paper_ballot else None,
                    receipt=new_receipt(),
                    created_at=when,
                    updated_at=when,
                )
            )
            choice = []
            for envelope_area in (area_id, None):
                choice += self._pick(rnd.id, envelope_area, budgets[envelope_area])
            picks.append(choice)
        await Ballot.bulk_create(ballots, batch_size=500, using_db=conn)
        ballot_id = dict(
            await Ballot.filter(round_id=rnd.id).using_db(conn).values_list("voter_id", "id")
        )
        rows = []
        for ballot, choice in zip(ballots, picks, strict=True):
            ballot.id = ballot_id[ballot.voter_id]
            rows += [BallotChoice(ballot_id=ballot.id, proposal_id=p, points=1) for p in choice]
            # as `voting._save_ballot` logs it: who voted in the round, never which ballot
            if ballot.channel == Channel.PAPER:
                await self.audit(
                    ballot.entered_by_id,
                    "ballot.paper_entered",
                    rnd,
                    ballot.created_at,
                    channel=Channel.PAPER.value,
                    resident=ballot.voter_id,
                )
            else:
                await self.audit(
                    ballot.voter_id,
                    "ballot.cast",
                    rnd,
                    ballot.created_at,
                    channel=Channel.ONLINE.value,
                )
        await BallotChoice.bulk_create(rows, batch_size=1000, using_db=conn)

    def _pick(self, round_id: int, area_id: int | None, budget_fen: int) -> list[int]:
        """A believable approval set for one envelope: popular projects more often, the total
        within the budget, at least one project."""
        projects = [p for p in self.projects[round_id] if p[1] == area_id]
        if not projects:
            return []
        taken = [p for p in projects if self.rng.random() < p[3]]
        self.rng.shuffle(taken)
        result, total = [], 0
        for pid, _area, cost, _pop in taken:
            if total + cost <= budget_fen:
                result.append(pid)
                total += cost
        if not result:
            best = max(projects, key=lambda p: (p[3], -p[0]))
            if best[2] <= budget_fen:
                result.append(best[0])
        return result


class _ProposalRef:
    """A stand-in subject for an audit entry about a proposal we only know the id of."""

    _meta = Proposal._meta

    def __init__(self, proposal_id: int) -> None:
        self.id = proposal_id


async def _publish_results(rnd: Round, chair_id: int, dates: dict[str, date]) -> None:
    """Count and publish the finished round with the real results service, then move it on to
    implementing; the entries they write are back-dated to the round's timetable."""
    from budget.services.results import compute_results, publish_results
    from budget.services.rounds import advance_phase

    started = datetime.now(UTC) - timedelta(minutes=1)
    chair = await User.get(id=chair_id)
    await compute_results(chair, rnd.id)
    await publish_results(chair, rnd.id)
    await advance_phase(chair, await Round.get(id=rnd.id))
    published = _at(dates["results_starts"] + timedelta(days=3), 16)
    await Round.filter(id=rnd.id).update(results_published_at=published)
    await Outcome.filter(round_id=rnd.id).update(computed_at=published - timedelta(hours=2))
    when = {
        "results.computed": published - timedelta(hours=2),
        "results.published": published,
        "round.advance": _at(dates["implementing_starts"], 8),
    }
    for action, at in when.items():
        await AuditEntry.filter(
            subject_type="round", subject_id=rnd.id, action=action, created_at__gte=started
        ).update(created_at=at)
