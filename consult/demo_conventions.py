"""Demo conventions, loaded after the budgeting demo and the other consultation demos:

- 西河社区居民公约: consulted clause by clause, revised once (version 2: 文明养犬 and 停车秩序
  reworded after residents' comments, a clause on 邻里和睦 added, one merged away), then
  ratified by one vote per household (the households recorded with the residents' invitation
  codes) and adopted, with its figures.
- 东门社区、南湖社区文明养犬公约: in consultation now, with a few comments on its clauses.

Made through the services (so every rule, count, audit entry and notification is the real
thing), then dated back; deterministic (a fixed seed).
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from consult.models import Clause, Comment, Convention, ConventionVersion, SubjectType
from consult.services import convention_phases as phases
from consult.services import conventions
from consult.services.comments import post_comment
from consult.services.ratification import cast_vote
from core.models import Area, AuditEntry, Invitation, Role, User

WEST_PREAMBLE = (
    "为了建设文明、和谐、美丽的西河社区，依据有关法律法规，经全体居民讨论，"
    "制定本公约。全体居民应当自觉遵守。"
)
WEST_CLAUSES = [
    ("爱护环境", "爱护公共绿地和设施，不乱扔垃圾，不在楼道堆放杂物。"),
    ("垃圾分类", "按照厨余垃圾、可回收物、有害垃圾和其他垃圾分类投放，在规定时间投放到指定地点。"),
    ("文明养犬", "出门遛狗须拴绳，及时清理犬只粪便。"),
    ("停车秩序", "机动车停放在划线车位内，不占用消防通道。"),
    ("安全用电", "不私拉电线为电动车充电。"),
    ("移风易俗", "红白喜事从简办理，不大操大办。"),
]
# version 2: (clause index, new heading, new text, why it changed); None removes it
WEST_REVISION = {
    2: (
        "文明养犬",
        "出门遛狗须拴牵引绳，牵引绳长度不超过1.5米；及时清理犬只粪便，大型犬不得进入儿童游乐区。",
        "多位居民建议写明牵引绳长度，并保护儿童游乐区。",
    ),
    3: (
        "停车秩序",
        "机动车、非机动车停放在划线车位内，不占用消防通道和盲道；外来车辆按规定临时停放。",
        "居民反映电动自行车乱停、盲道被占，一并写入。",
    ),
    4: None,
}
WEST_SUMMARY = (
    "根据居民意见修改养犬和停车条款，增加邻里和睦条款，删去与物业规定重复的安全用电条款。"
)
WEST_ADDED = ("邻里和睦", "邻里之间互相尊重、互相帮助，有矛盾先协商，协商不成可请调解委员会调解。")
WEST_COMMENTS = [
    (2, "for", "赞成拴绳，但最好写清楚牵引绳多长，不然等于没写。"),
    (2, "against", "小区里大狗越来越多，孩子在游乐区玩的时候很害怕，应该禁止大型犬进入。"),
    (3, "for", "电动车乱停也要管，楼下经常堵着进不去。"),
    (3, "neutral", "盲道被占的情况也很严重，希望一并考虑。"),
    (4, "neutral", "私拉电线的问题物业的安全规定里已经有了，公约里是不是可以不写？"),
    (0, "for", "楼道堆杂物确实影响消防，支持。"),
]

DOG_PREAMBLE = "为规范养犬行为，保障居民人身安全和环境卫生，经两个社区居民协商，制定本公约。"
DOG_CLAUSES = [
    ("依法登记", "养犬居民应当为犬只办理登记，按时接种狂犬病疫苗。"),
    ("文明遛犬", "出门遛犬须拴牵引绳，主动避让老人和儿童，不在早晚高峰进入电梯。"),
    ("清理粪便", "随身携带拾便袋，及时清理犬只在公共区域的粪便。"),
    ("防止扰民", "采取措施防止犬只长时间吠叫，影响邻居休息。"),
]
DOG_COMMENTS = [
    (1, "for", "早晚高峰不进电梯这条很好，有的老人很怕狗。"),
    (1, "against", "住高层的怎么办？不能进电梯就没法出门了，建议改成主动等下一趟。"),
    (2, "for", "希望社区在几个路口放拾便袋箱。"),
    (3, "neutral", "吠叫怎么算扰民？要有个时间段，比如晚上十点以后。"),
]


def _ago(today: date, days: int, hour: int = 10) -> datetime:
    return datetime(today.year, today.month, today.day, hour, tzinfo=UTC) - timedelta(days=days)


async def load_conventions_demo() -> None:
    """Add the two demo conventions to the demo district (after budget.demo)."""
    rng = random.Random(20261130)
    today = date.today()
    chair = await User.get(username="chair")
    areas = dict(await Area.all().values_list("name", "id"))
    residents = await User.filter(role=Role.RESIDENT, verified=True, is_active=True).order_by("id")
    by_area: dict[int, list[User]] = {}
    for user in residents:
        by_area.setdefault(user.area_id, []).append(user)
    await _west(rng, today, chair, areas["西河社区"], by_area.get(areas["西河社区"], []))
    await _dogs(rng, chair, [areas["东门社区"], areas["南湖社区"]], by_area)


async def _households(rng: random.Random, area_id: int, people: list[User]) -> None:
    """Invitation codes used by the residents, two or three to a household (老街 numbers)."""
    rows, number, i = [], 1, 0
    while i < len(people):
        size = rng.choice((1, 2, 2, 3))
        for user in people[i : i + size]:
            rows.append(
                Invitation(
                    code=f"XH{area_id}-{user.id}",
                    area_id=area_id,
                    household=f"西河老街{number}号",
                    used_by_id=user.id,
                    used_at=datetime.now(UTC),
                )
            )
        number, i = number + 1, i + size
    await Invitation.bulk_create(rows)


async def _west(
    rng: random.Random, today: date, chair: User, area_id: int, people: list[User]
) -> None:
    await _households(rng, area_id, people)
    c = await conventions.create_convention(
        chair,
        {
            "title": "西河社区居民公约",
            "preamble": WEST_PREAMBLE,
            "opens_on": (today - timedelta(days=1)).isoformat(),
            "closes_on": (today + timedelta(days=1)).isoformat(),
            "areas": [str(area_id)],
            "turnout_percent": "50",
            "majority": "simple",
            "voting_unit": "household",
        },
    )
    clauses = []
    for heading, body in WEST_CLAUSES:
        clauses.append(
            await conventions.add_clause(chair, c.id, {"heading": heading, "body": body})
        )
    await phases.open_consultation(chair, c.id)
    for (index, stance, body), author in zip(
        WEST_COMMENTS, rng.sample(people, len(WEST_COMMENTS)), strict=True
    ):
        await post_comment(author, "clause", clauses[index].id, {"body": body, "stance": stance})
    await phases.start_revision(chair, c.id)
    for index, change in WEST_REVISION.items():
        if change is None:
            await conventions.remove_clause(chair, c.id, clauses[index].id)
        else:
            heading, body, note = change
            await conventions.edit_clause(
                chair,
                c.id,
                clauses[index].id,
                {"heading": heading, "body": body, "change_note": note},
            )
    heading, body = WEST_ADDED
    await conventions.add_clause(
        chair,
        c.id,
        {
            "heading": heading,
            "body": body,
            "change_note": "居民议事会建议增加邻里互助和矛盾调解的内容。",
        },
    )
    await conventions.edit_revision(
        chair,
        c.id,
        {
            "preamble": WEST_PREAMBLE,
            "summary": WEST_SUMMARY,
        },
    )
    await phases.publish_revision(chair, c.id)
    await phases.open_ratification(chair, c.id)
    voted_households: set[str] = set()
    household_of = dict(
        await Invitation.filter(area_id=area_id).values_list("used_by_id", "household")
    )
    for user in people:
        household = household_of.get(user.id, str(user.id))
        if household in voted_households or rng.random() < 0.3:
            continue
        voted_households.add(household)
        roll = rng.random()
        choice = "yes" if roll < 0.78 else "no" if roll < 0.9 else "abstain"
        await cast_vote(user, c.id, choice)
    await phases.close_ratification(chair, c.id)
    await _date_back(c.id, today, opened=40, revised=20, ratify=12, closed=2)


async def _date_back(
    convention_id: int, today: date, *, opened: int, revised: int, ratify: int, closed: int
) -> None:
    """The consultation as it happened over some weeks (the services ran just now)."""
    await Convention.filter(id=convention_id).update(
        opens_on=today - timedelta(days=opened),
        closes_on=today - timedelta(days=closed),
        opened_at=_ago(today, opened),
        ratification_opened_at=_ago(today, ratify),
        closed_at=_ago(today, closed, 18),
        created_at=_ago(today, opened + 10),
    )
    await ConventionVersion.filter(convention_id=convention_id, number=1).update(
        published_at=_ago(today, opened)
    )
    await ConventionVersion.filter(convention_id=convention_id, number=2).update(
        published_at=_ago(today, revised)
    )
    clause_ids = await Clause.filter(convention_id=convention_id).values_list("id", flat=True)
    for n, comment in enumerate(
        await Comment.filter(subject_type=SubjectType.CLAUSE, subject_id__in=list(clause_ids))
    ):
        await Comment.filter(id=comment.id).update(
            created_at=_ago(today, opened - 2 - n % 15, 9 + n % 10)
        )
    await AuditEntry.filter(subject_type="convention", subject_id=convention_id).update(
        created_at=_ago(today, closed, 18)
    )


async def _dogs(
    rng: random.Random, chair: User, area_ids: list[int], by_area: dict[int, list[User]]
) -> None:
    today = date.today()
    c = await conventions.create_convention(
        chair,
        {
            "title": "东门社区、南湖社区文明养犬公约",
            "preamble": DOG_PREAMBLE,
            "opens_on": (today - timedelta(days=6)).isoformat(),
            "closes_on": (today + timedelta(days=40)).isoformat(),
            "areas": [str(a) for a in area_ids],
            "turnout_percent": "40",
            "majority": "two_thirds",
            "voting_unit": "resident",
        },
    )
    clauses = []
    for heading, body in DOG_CLAUSES:
        clauses.append(
            await conventions.add_clause(chair, c.id, {"heading": heading, "body": body})
        )
    await phases.open_consultation(chair, c.id, today=today)
    people = [
        u for a in area_ids for u in by_area.get(a, []) if u.username not in ("resident", "voter")
    ]
    for (index, stance, body), author in zip(
        DOG_COMMENTS, rng.sample(people, len(DOG_COMMENTS)), strict=True
    ):
        await post_comment(author, "clause", clauses[index].id, {"body": body, "stance": stance})
    await Convention.filter(id=c.id).update(opened_at=_ago(today, 6))
    await ConventionVersion.filter(convention_id=c.id).update(published_at=_ago(today, 6))
