"""Demo data, residents' needs: a year of needs across the demo's four areas, through every
channel (online, and entered by each area's grid worker from talk stations, the talk box,
phone calls and home visits), in every state. Most are answered within one to five days, a
few late, some still waiting (the overdue ones lead the council's list); most ratings are 4
or 5, some low. A handful of proposals of the budgeting rounds came from needs.

The demo residents have their own: "resident" (张伟) one waiting for an answer, one answered
and waiting for his rating, one resolved and rated, one a grid worker entered for him; "voter"
(周丽) one declined and one resolved. Every need is followed by its resident, and the demo
residents have their notifications (answered, resolved).

Runs after the budget demo. Deterministic (a fixed seed); dates are relative to now and never
in the future. Written with bulk inserts, then the dashboard's counts are recounted once.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import Proposal
from consult.models import Need, NeedCategory, NeedChannel, NeedState, SubjectType
from consult.rules.needs import ALPHABET
from consult.services import need_stats
from consult.services.needs import need_path
from core.models import Follow, Notification, Role, User

SEED = 20261130
COUNT = 3000  # needs over the year
DAYS = 365

C = NeedCategory
# What residents ask for, per category: (title, description, place)
WISHES: dict[NeedCategory, list[tuple[str, str, str]]] = {
    C.ENVIRONMENT: [
        (
            "垃圾分类点异味严重",
            "夏天垃圾分类点清运不及时，味道很大，希望增加清运次数。",
            "3号楼北侧",
        ),
        ("绿化带杂草丛生", "小区中心绿化带很久没修剪，蚊虫很多。", "中心花园"),
        ("夜市噪音扰民", "晚上十一点后夜市还很吵，影响老人和孩子休息。", "南门外"),
        ("楼道堆放杂物", "楼道里堆了很多旧家具，存在消防隐患。", "7号楼2单元"),
    ],
    C.ROADS: [
        ("路灯不亮", "北门通往菜市场的路灯坏了一个多月，晚上很黑。", "北门小路"),
        ("路面坑洼积水", "下雨后路面积水很深，老人走路容易滑倒。", "幼儿园门口"),
        ("电动车乱停占道", "人行道上停满电动车，轮椅和婴儿车过不去。", "东门人行道"),
        ("需要增设减速带", "小区主路车速太快，孩子放学时很危险。", "主干道中段"),
    ],
    C.SAFETY: [
        ("监控摄像头坏了", "车棚的监控坏了，最近丢了两辆电动车。", "1号车棚"),
        ("消防通道被占", "消防通道经常停私家车，希望划线并加强管理。", "5号楼东侧"),
        ("河边缺少护栏", "西河步道有一段没有护栏，孩子在边上玩很危险。", "西河步道"),
    ],
    C.ELDERLY: [
        ("希望加装扶手", "单元门口的台阶没有扶手，老人上下楼不方便。", "12号楼"),
        ("需要无障碍坡道", "社区卫生站门口只有台阶，坐轮椅进不去。", "卫生服务站"),
        ("老年食堂饭菜太咸", "日间照料中心的饭菜偏咸，希望照顾高血压老人。", "日间照料中心"),
    ],
    C.CHILDREN: [
        ("儿童游乐设施损坏", "滑梯扶手松动，秋千链条生锈，担心孩子受伤。", "南湖公园东侧"),
        ("希望开设课后托管", "双职工家庭下午放学没人接，希望社区提供托管。", "社区活动中心"),
    ],
    C.FACILITIES: [
        ("电梯经常故障", "电梯这个月停了三次，有老人被困过。", "9号楼"),
        ("水管漏水", "地下室水管漏水，车库一直有积水。", "地下车库"),
        ("公共厕所缺乏维护", "菜市场旁的公厕没有洗手液，门锁也坏了。", "农贸市场"),
    ],
    C.SERVICES: [
        ("办事窗口排队太久", "社区服务中心上午只开一个窗口，排队要一个多小时。", "社区服务中心"),
        ("希望增加快递柜", "快递都堆在门卫室，经常拿错。", "西门门卫室"),
    ],
    C.OTHER: [
        ("希望组织邻里活动", "新搬来的住户互相不认识，希望社区组织一些邻里活动。", ""),
        ("流浪猫越来越多", "小区流浪猫很多，晚上叫声扰民，希望有人管理。", "8号楼后面"),
    ],
}

OWNERS = ["物业服务中心", "社区居委会", "街道城管科", "社区网格站", "小区业委会"]
BODIES = ["区住建局", "供电公司", "自来水公司", "街道派出所", "区市场监管局", "区交通运输局"]
DECLINES = [
    "该区域属于私人产权，社区无权处理，已告知业主委员会。",
    "经现场查看，设施运行正常，暂不需要更换。",
    "此事项已列入市政年度计划，社区不重复立项。",
]
RESOLUTIONS = ["已完成维修，经回访居民满意。", "已处理完毕并拍照存档。", "相关部门已整改到位。"]
COMMENTS = {
    5: ["处理得很快，谢谢！", "非常满意。"],
    4: ["解决了，就是慢了点。"],
    2: ["拖了太久。"],
    1: ["没有真正解决。"],
}

CHANNELS = [
    (NeedChannel.ONLINE, 45),
    (NeedChannel.TALK_STATION, 15),
    (NeedChannel.TALK_BOX, 10),
    (NeedChannel.PHONE, 15),
    (NeedChannel.HOME_VISIT, 15),
]
ANSWERS = [
    (NeedState.ACCEPTED, 60),
    (NeedState.REFERRED, 22),
    (NeedState.DECLINED, 12),
    (NeedState.PROPOSED, 6),
]


@dataclass
class _People:
    areas: list[int]
    residents: dict[int, list[int]]  # area id → resident ids
    worker: dict[int, int]  # area id → grid worker id
    council: list[int]
    account: dict[str, Any]  # demo username → User


async def _people() -> _People:
    users = await User.all().only("id", "username", "role", "area_id")
    residents: dict[int, list[int]] = {}
    worker: dict[int, int] = {}
    for u in users:
        if u.role == Role.RESIDENT and u.area_id:
            residents.setdefault(u.area_id, []).append(u.id)
        elif u.role == Role.GRID_WORKER and u.area_id:
            worker.setdefault(u.area_id, u.id)
    council = [u.id for u in users if u.role == Role.COUNCIL]
    return _People(
        areas=sorted(residents),
        residents=residents,
        worker=worker,
        council=council,
        account={u.username: u for u in users},
    )


def _number(rng: random.Random, taken: set[str]) -> str:
    while True:
        chars = "".join(rng.choice(ALPHABET) for _ in range(8))
        number = f"XQ-{chars[:4]}-{chars[4:]}"
        if number not in taken:
            taken.add(number)
            return number


def _pick(rng: random.Random, weighted: list[tuple[Any, int]]) -> Any:
    return rng.choices([v for v, _w in weighted], [w for _v, w in weighted])[0]


def _response(rng: random.Random) -> timedelta:
    """How long the council took: mostly one to five days, a few up to two weeks."""
    if rng.random() < 0.88:
        return timedelta(hours=rng.uniform(6, 5 * 24))
    return timedelta(hours=rng.uniform(5 * 24, 14 * 24))


def _rating(rng: random.Random, answer: NeedState) -> int:
    if answer == NeedState.DECLINED:
        return _pick(rng, [(5, 10), (4, 20), (3, 30), (2, 25), (1, 15)])
    return _pick(rng, [(5, 55), (4, 30), (3, 8), (2, 4), (1, 3)])


def _need(
    rng: random.Random,
    p: _People,
    number: str,
    received: datetime,
    now: datetime,
    *,
    area: int,
    resident: int,
    channel: NeedChannel | None = None,
    answer: NeedState | None = None,
    proposal: int | None = None,
    outcome: str = "auto",  # "auto", "waiting", "answered", "resolved", "rated"
    respond_in: timedelta | None = None,
) -> Need:
    category = rng.choice(list(WISHES))
    title, body, place = rng.choice(WISHES[category])
    channel = channel or _pick(rng, CHANNELS)
    need = Need(
        number=number,
        resident_id=resident,
        entered_by_id=None if channel == NeedChannel.ONLINE else p.worker.get(area),
        channel=channel,
        area_id=area,
        place=place,
        category=category,
        title=title,
        body=body,
        state=NeedState.RECEIVED,
        created_at=received,
    )
    answered_at = received + (respond_in or _response(rng))
    # A few old needs slipped through: still unanswered, overdue on the council's list.
    if outcome == "waiting" or answered_at > now or (outcome == "auto" and rng.random() < 0.02):
        return need
    answer = answer or (NeedState.PROPOSED if proposal else _pick(rng, ANSWERS[:3]))
    need.state = need.answer = answer
    need.answered_at = answered_at
    need.answered_by_id = rng.choice(p.council)
    if answer == NeedState.ACCEPTED:
        need.owner = rng.choice(OWNERS)
        need.due_on = (answered_at + timedelta(days=rng.randint(7, 30))).date()
    elif answer == NeedState.REFERRED:
        need.referred_to = rng.choice(BODIES)
    elif answer == NeedState.DECLINED:
        need.answer_note = rng.choice(DECLINES)
    else:
        need.proposal_id = proposal
    if outcome == "answered":
        return need
    resolved_at = answered_at + timedelta(days=rng.uniform(2, 40))
    resolves = answer != NeedState.DECLINED and (answer != NeedState.PROPOSED or rng.random() < 0.3)
    if resolves and resolved_at <= now and (outcome != "auto" or rng.random() < 0.9):
        need.state = NeedState.RESOLVED
        need.resolved_at = resolved_at
        need.resolved_by_id = need.answered_by_id
        need.resolution_note = rng.choice(RESOLUTIONS)
    rated_at = (need.resolved_at or answered_at) + timedelta(days=rng.uniform(0.2, 10))
    rated_at = min(rated_at, answered_at + timedelta(days=29))
    if rated_at <= now and (outcome == "rated" or (outcome == "auto" and rng.random() < 0.65)):
        need.rating = 5 if outcome == "rated" else _rating(rng, answer)
        need.rating_comment = rng.choice(COMMENTS.get(need.rating, [""]))
        need.rated_at = rated_at
    return need


def _demo_residents(rng: random.Random, p: _People, taken: set[str], now: datetime) -> list[Need]:
    """The needs of the demo residents "resident" and "voter", one per step of the loop."""
    found = []
    resident, voter = p.account.get("resident"), p.account.get("voter")
    days = timedelta(days=1)
    if resident is not None and resident.area_id:
        a, r = resident.area_id, resident.id
        for ago, channel, answer, outcome in [
            (2 * days, NeedChannel.ONLINE, None, "waiting"),
            (6 * days, NeedChannel.ONLINE, NeedState.ACCEPTED, "answered"),
            (60 * days, NeedChannel.ONLINE, NeedState.ACCEPTED, "rated"),
            (20 * days, NeedChannel.PHONE, NeedState.REFERRED, "answered"),
        ]:
            found.append(
                _need(
                    rng,
                    p,
                    _number(rng, taken),
                    now - ago,
                    now,
                    area=a,
                    resident=r,
                    channel=channel,
                    answer=answer,
                    outcome=outcome,
                    respond_in=2 * days,
                )  # fmt: skip
            )
    if voter is not None and voter.area_id:
        for ago, answer, outcome in [
            (9 * days, NeedState.DECLINED, "answered"),
            (90 * days, NeedState.REFERRED, "resolved"),
        ]:
            found.append(
                _need(
                    rng,
                    p,
                    _number(rng, taken),
                    now - ago,
                    now,
                    area=voter.area_id,
                    resident=voter.id,
                    channel=NeedChannel.ONLINE,
                    answer=answer,
                    outcome=outcome,
                    respond_in=3 * days,
                )  # fmt: skip
            )
    return found


def _notifications(needs: list[Need], user_ids: set[int]) -> list[Notification]:
    """What the demo residents were told about their needs (the latest unread)."""
    rows = []
    for need in needs:
        if need.resident_id not in user_ids:
            continue
        url = need_path(need.id)
        if need.answered_at:
            params = {"number": need.number, "answer": {"msgid": _answer_msgid(need.answer)}}
            rows.append(
                Notification(
                    user_id=need.resident_id,
                    kind="need_answered",
                    subject_type=SubjectType.NEED,
                    subject_id=need.id,
                    params=params,
                    url=url,
                    created_at=need.answered_at,
                    read_at=need.rated_at or need.resolved_at,
                )  # fmt: skip
            )
        if need.resolved_at:
            rows.append(
                Notification(
                    user_id=need.resident_id,
                    kind="need_resolved",
                    subject_type=SubjectType.NEED,
                    subject_id=need.id,
                    params={"number": need.number},
                    url=url,
                    created_at=need.resolved_at,
                    read_at=need.rated_at,
                )  # fmt: skip
            )
    return sorted(rows, key=lambda n: n.created_at)


def _answer_msgid(answer: Any) -> str:
    from consult.models.needs import NEED_STATE_LABELS

    return NEED_STATE_LABELS[NeedState(answer)].msgid


async def load_needs_demo() -> None:
    """A year of needs (a few thousand), written in bulk, then the dashboard recounted."""
    rng = random.Random(SEED)
    now = datetime.now(UTC).replace(microsecond=0)
    p = await _people()
    if not p.areas or not p.council:
        return
    taken: set[str] = set()
    proposals = list(
        await Proposal.filter(area_id__isnull=False, author_id__isnull=False)
        .order_by("id")
        .values_list("id", "area_id", "author_id", "created_at")
    )
    rows: list[Need] = []
    for pid, area, author, created in rng.sample(proposals, min(len(proposals), 40)):
        received = created - timedelta(days=rng.uniform(20, 60))
        if received < now - timedelta(days=DAYS):
            continue
        rows.append(
            _need(
                rng,
                p,
                _number(rng, taken),
                received,
                now,
                area=area,
                resident=author,
                channel=NeedChannel.ONLINE,
                proposal=pid,
            )  # fmt: skip
        )
    while len(rows) < COUNT:
        area = rng.choice(p.areas)
        received = now - timedelta(seconds=rng.uniform(3600, DAYS * 86400))
        rows.append(
            _need(
                rng,
                p,
                _number(rng, taken),
                received,
                now,
                area=area,
                resident=rng.choice(p.residents[area]),
            )  # fmt: skip
        )
    rows.extend(_demo_residents(rng, p, taken, now))
    rows.sort(key=lambda n: n.created_at)  # ids grow with time, as the app's own would
    async with in_transaction() as conn:
        await Need.bulk_create(rows, batch_size=500, using_db=conn)
        # the ids, onto the needs in hand (reading 3,000 needs back costs more than writing)
        ids = dict(await Need.all().using_db(conn).values_list("number", "id"))
        for need in rows:
            need.id = ids[need.number]
        saved = rows
        await Follow.bulk_create(
            [
                Follow(user_id=n.resident_id, subject_type=SubjectType.NEED, subject_id=n.id)
                for n in saved
                if n.resident_id
            ],
            batch_size=1000,
            ignore_conflicts=True,
            using_db=conn,
        )
        demo = {u.id for name, u in p.account.items() if name in ("resident", "voter")}
        await Notification.bulk_create(_notifications(saved, demo), using_db=conn)
        await need_stats.recount_need_stats(using_db=conn)
