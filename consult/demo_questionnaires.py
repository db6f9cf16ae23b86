"""Demo questionnaires, loaded after the budgeting demo (budget.demo.load_demo_data) and the
other consultation demos:

- 社区安全问卷: the whole district, closed three weeks ago, answered by about three hundred
  residents of the four areas (all four kinds of question: how safe residents feel at night,
  what worries them — lighting, e-bikes charged in stairwells, telephone fraud…, night
  patrols, fraud awareness, suggestions); its results are public. One suggestion that named
  a neighbour with a telephone number is hidden by the council, with the reason.
- 社区食堂与居家养老服务需求调查: 东门社区 and 西河社区, open for another ten days, with
  some answers; the demo login `resident` (张伟, 东门社区) has not answered yet, so it can.

Deterministic (a fixed seed), dates relative to today, rows written with bulk inserts in one
transaction. The demo district has 400 residents and four grid workers: enough respondents
without making new accounts.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from tortoise.transactions import in_transaction

from consult.models import (
    Answer,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireArea,
    QuestionnaireResponse,
    QuestionOption,
    SubjectType,
)
from core.models import Area, AuditEntry, Follow, Role, User

# (kind, prompt, options or (low, high) labels or max length, required, max choices)
SAFETY_QUESTIONS = [
    (
        QuestionKind.SINGLE,
        "晚上在小区里走动时，您感觉安全吗？",
        ["很安全", "比较安全", "一般", "不太安全", "很不安全"],
        True,
        None,
    ),
    (
        QuestionKind.MULTIPLE,
        "您最担心小区里的哪些安全问题？（最多选三项）",
        [
            "路灯照明不足",
            "电动自行车在楼道里充电",
            "电信网络诈骗",
            "入室盗窃",
            "高空抛物",
            "消防通道被占用",
            "陌生人随意进出小区",
        ],
        True,
        3,
    ),
    (QuestionKind.SCALE, "您对目前小区夜间巡逻的满意程度", ("很不满意", "很满意"), True, None),
    (
        QuestionKind.SINGLE,
        "您是否愿意参加社区平安志愿巡逻队？",
        ["愿意，每周可以参加一次", "偶尔可以参加", "暂时不愿意"],
        False,
        None,
    ),
    (QuestionKind.SCALE, "您对防范电信诈骗知识的了解程度", ("完全不了解", "非常了解"), True, None),
    (QuestionKind.TEXT, "对社区安全工作，您还有什么建议？", 300, False, None),
]

SAFETY_SUGGESTIONS = [
    "三号楼和五号楼之间那段路晚上太黑了，希望尽快加装路灯。",
    "建议在小区里建集中的电动车充电棚，从根本上解决楼道充电的问题。",
    "希望民警能到社区给老年人讲讲防诈骗，最近很多老人接到冒充公检法的电话。",
    "小区东门晚上没人值守，外卖和快递员随便进出，建议装门禁。",
    "消防通道经常被私家车占用，物业应该加强管理，划线并定期巡查。",
    "夜间巡逻最好固定时间和路线，并在业主群里公布，让大家安心。",
    "建议在楼道和电梯口张贴防诈骗提示，字要大一点，老人看得清。",
    "高空抛物很危险，希望在高层楼下安装监控摄像头。",
    "可以组织退休的党员和志愿者一起巡逻，我愿意参加。",
    "地下车库的灯坏了好几盏，晚上去取车心里发怵。",
    "希望社区定期检查独居老人家里的燃气和电线。",
    "外来租户多，建议社区加强出租屋登记和安全检查。",
    "建议在公园和河边增加几个一键报警柱。",
    "电动车进电梯的问题要管一管，可以在电梯里装识别装置。",
    "防诈骗宣传可以请孩子们参与，让孩子回家提醒爷爷奶奶。",
    "希望把小区里的监控都修好，有的摄像头早就不亮了。",
    "晚上广场附近有人骑摩托车飙车，既吵又危险。",
    "建议每个楼栋确定一名安全联络员，有情况及时报告。",
    "希望物业公布巡逻记录，居民可以监督。",
    "小区围墙有个缺口一直没修，经常有人从那里翻进来。",
]
HIDDEN_SUGGESTION = "7号楼402那户天天半夜吵闹，还乱停车，他的电话是139xxxx5621，大家去找他。"

CANTEEN_QUESTIONS = [
    (
        QuestionKind.SINGLE,
        "您家中是否有65岁以上的老人？",
        ["有，和我一起住", "有，但不住在一起", "没有"],
        True,
        None,
    ),
    (
        QuestionKind.MULTIPLE,
        "您希望社区食堂提供哪些服务？（可多选）",
        ["老年助餐（堂食）", "送餐上门", "早餐", "晚餐", "节假日照常营业", "低盐低糖等特殊饮食"],
        True,
        None,
    ),
    (
        QuestionKind.SINGLE,
        "一份午餐（两荤一素加米饭），您能接受的价格是？",
        ["10元以下", "10～15元", "15～20元", "20元以上"],
        True,
        None,
    ),
    (
        QuestionKind.SCALE,
        "您对目前社区居家养老服务的满意程度",
        ("很不满意", "很满意"),
        True,
        None,
    ),
    (QuestionKind.TEXT, "对社区食堂的位置、菜品或开放时间，您有什么建议？", 500, False, None),
]

CANTEEN_SUGGESTIONS = [
    "食堂最好设在日间照料中心旁边，老人吃完饭还能在那里休息。",
    "希望菜品清淡一些，少油少盐，每周菜单提前公布。",
    "行动不便的老人多，送餐上门很有必要，可以收一点配送费。",
    "开放时间中午11点到下午1点比较合适，晚上也希望能开。",
    "希望年轻上班族也能来吃，价格可以和老人不一样。",
    "建议接入老年卡刷卡，八十岁以上的老人给一些补贴。",
    "食堂要注意卫生，后厨最好能透明，让大家放心。",
    "能不能做一些软烂的菜，牙口不好的老人也能吃。",
]


class _Rng:
    """Weighted choices with a fixed seed."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)

    def pick(self, weights: list[float]) -> int:
        return self.r.choices(range(len(weights)), weights=weights)[0]


async def load_questionnaires_demo() -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    rng = _Rng(20261130)
    areas = dict(await Area.all().values_list("name", "id"))
    residents = list(
        await User.filter(
            verified=True, is_active=True, role__in=[Role.RESIDENT, Role.GRID_WORKER]
        ).values_list("id", "area_id", "username")
    )
    chair = await User.get_or_none(username="chair")
    chair_id = chair.id if chair else None
    async with in_transaction() as conn:
        safety = await _questionnaire(
            conn,
            "社区安全问卷",
            "为了解居民对小区治安、消防和防诈骗等方面的感受和需求，社区两委开展本次问卷调查。"
            "问卷匿名统计，大约需要三分钟。调查结果将作为明年平安社区建设和微实事项目立项的参考。",
            opens_at=now - timedelta(days=50),
            closes_at=now - timedelta(days=21),
            area_ids=[],
            created_by=chair_id,
        )
        questions = await _questions(conn, safety.id, SAFETY_QUESTIONS)
        east = areas.get("东门社区")
        north = areas.get("北山社区")
        pool = list(residents)
        rng.r.shuffle(pool)
        respondents = pool[:300]

        def safety_answers(area_id: int | None) -> list[tuple[int, object]]:
            older = area_id == east
            newer = area_id == north
            feel = rng.pick([14, 38, 26, 16, 6] if not newer else [8, 26, 30, 26, 10])
            worries = [3, 4, 5, 2, 2, 2, 3]
            if older:  # stairwell charging and fraud worry the old town most
                worries[1] += 3
                worries[2] += 3
            if newer:  # the new estate is still dark
                worries[0] += 5
                worries[6] += 2
            n = rng.r.choice([1, 2, 2, 3, 3, 3])
            chosen: list[int] = []
            while len(chosen) < n:
                i = rng.pick(worries)
                if i not in chosen:
                    chosen.append(i)
            out: list[tuple[int, object]] = [(0, [feel]), (1, sorted(chosen))]
            out.append((2, 1 + rng.pick([8, 17, 33, 29, 13])))
            if rng.r.random() < 0.85:
                out.append((3, [rng.pick([22, 41, 37])]))
            out.append(
                (4, 1 + rng.pick([6, 14, 30, 32, 18] if not older else [12, 22, 32, 24, 10]))
            )
            if rng.r.random() < 0.3:
                out.append((5, rng.r.choice(SAFETY_SUGGESTIONS)))
            return out

        responses = await _responses(
            conn,
            safety,
            questions,
            [(uid, area_id, safety_answers(area_id)) for uid, area_id, _u in respondents],
            rng,
        )
        hidden_by = responses[0]
        hidden_at = safety.closes_at - timedelta(days=3)
        await (
            Answer.filter(response_id=hidden_by, question_id=questions[5].id)
            .using_db(conn)
            .delete()
        )
        await Answer.create(
            response_id=hidden_by,
            questionnaire_id=safety.id,
            question_id=questions[5].id,
            text=HIDDEN_SUGGESTION,
            hidden_at=hidden_at,
            hidden_by_id=chair_id,
            hide_reason="含有他人的电话号码等个人信息",
            using_db=conn,
        )
        audit = [
            AuditEntry(
                actor_id=chair_id,
                action="questionnaire.create",
                subject_type="questionnaire",
                subject_id=safety.id,
                detail={"title": safety.title},
                created_at=safety.opens_at - timedelta(days=3),
            ),
            AuditEntry(
                actor_id=chair_id,
                action="questionnaire.publish",
                subject_type="questionnaire",
                subject_id=safety.id,
                public=True,
                detail={"title": safety.title},
                created_at=safety.published_at,
            ),
            AuditEntry(
                actor_id=chair_id,
                action="questionnaire.hide_answer",
                subject_type="questionnaire",
                subject_id=safety.id,
                detail={"reason": "含有他人的电话号码等个人信息"},
                created_at=hidden_at,
            ),
        ]

        west = areas.get("西河社区")
        canteen = await _questionnaire(
            conn,
            "社区食堂与居家养老服务需求调查",
            "社区计划在西河日间照料中心附近开办一处社区食堂，主要为老年人提供助餐服务，"
            "也向其他居民开放。请东门社区和西河社区的居民谈谈您的需求和想法。",
            opens_at=now - timedelta(days=5),
            closes_at=now + timedelta(days=10),
            area_ids=[a for a in (east, west) if a is not None],
            created_by=chair_id,
        )
        questions = await _questions(conn, canteen.id, CANTEEN_QUESTIONS)
        eligible = [
            r for r in pool if r[1] in (east, west) and r[2] not in ("resident", "grid-east")
        ]

        def canteen_answers(area_id: int | None) -> list[tuple[int, object]]:
            out: list[tuple[int, object]] = [(0, [rng.pick([35, 30, 35])])]
            services = [6, 5, 2, 3, 3, 4]
            chosen = sorted({rng.pick(services) for _ in range(rng.r.choice([1, 2, 3]))})
            out += [(1, chosen), (2, [rng.pick([28, 49, 19, 4])])]
            out.append((3, 1 + rng.pick([10, 22, 36, 22, 10])))
            if rng.r.random() < 0.35:
                out.append((4, rng.r.choice(CANTEEN_SUGGESTIONS)))
            return out

        await _responses(
            conn,
            canteen,
            questions,
            [(uid, area_id, canteen_answers(area_id)) for uid, area_id, _u in eligible[:64]],
            rng,
        )
        audit.append(
            AuditEntry(
                actor_id=chair_id,
                action="questionnaire.publish",
                subject_type="questionnaire",
                subject_id=canteen.id,
                public=True,
                detail={"title": canteen.title},
                created_at=canteen.published_at,
            )
        )
        await AuditEntry.bulk_create(audit, using_db=conn)


async def _questionnaire(
    conn, title: str, intro: str, *, opens_at, closes_at, area_ids: list[int], created_by
) -> Questionnaire:
    q = await Questionnaire.create(
        title=title,
        introduction=intro,
        opens_at=opens_at,
        closes_at=closes_at,
        published_at=opens_at - timedelta(hours=2),
        # opened in the past, so announced then: the ticker must not announce it again today
        announced_at=opens_at,
        created_by_id=created_by,
        created_at=opens_at - timedelta(days=3),
        using_db=conn,
    )
    await QuestionnaireArea.bulk_create(
        [QuestionnaireArea(questionnaire_id=q.id, area_id=a) for a in area_ids], using_db=conn
    )
    return q


async def _questions(conn, questionnaire_id: int, specs: list) -> list[Question]:
    """The questions, each with `option_ids` in order."""
    out = []
    for position, (kind, prompt, extra, required, max_choices) in enumerate(specs, 1):
        question = await Question.create(
            questionnaire_id=questionnaire_id,
            position=position,
            kind=kind,
            prompt=prompt,
            required=required,
            max_choices=max_choices,
            low_label=extra[0] if kind == QuestionKind.SCALE else "",
            high_label=extra[1] if kind == QuestionKind.SCALE else "",
            max_length=extra if kind == QuestionKind.TEXT else None,
            using_db=conn,
        )
        question.option_ids = []
        if kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            await QuestionOption.bulk_create(
                [
                    QuestionOption(question_id=question.id, position=i, label=label)
                    for i, label in enumerate(extra)
                ],
                using_db=conn,
            )
            question.option_ids = list(
                await QuestionOption.filter(question_id=question.id)
                .using_db(conn)
                .order_by("position")
                .values_list("id", flat=True)
            )
        out.append(question)
    return out


async def _responses(
    conn, q: Questionnaire, questions: list[Question], rows: list, rng: _Rng
) -> list[int]:
    """One response per (user id, area id, answers) row, answered at a random time while the
    questionnaire was open; respondents follow it. Returns the response ids."""
    end = min(q.closes_at, datetime.now(UTC))
    span = int((end - q.opens_at).total_seconds())
    made = []
    for uid, area_id, _answers in rows:
        at = q.opens_at + timedelta(seconds=rng.r.randrange(60, span))
        made.append(
            QuestionnaireResponse(
                questionnaire_id=q.id,
                respondent_id=uid,
                area_id=area_id,
                created_at=at,
                updated_at=at,
                version=1,
            )
        )
    await QuestionnaireResponse.bulk_create(made, batch_size=500, using_db=conn)
    ids = dict(
        await QuestionnaireResponse.filter(questionnaire_id=q.id)
        .using_db(conn)
        .values_list("respondent_id", "id")
    )
    answers = []
    for uid, _area_id, given in rows:
        base = {"response_id": ids[uid], "questionnaire_id": q.id}
        for index, value in given:
            question = questions[index]
            if question.kind == QuestionKind.SCALE:
                answers.append(Answer(question_id=question.id, scale=value, **base))
            elif question.kind == QuestionKind.TEXT:
                answers.append(Answer(question_id=question.id, text=value, **base))
            else:
                answers += [
                    Answer(question_id=question.id, option_id=question.option_ids[i], **base)
                    for i in value
                ]
    await Answer.bulk_create(answers, batch_size=1000, using_db=conn)
    await Follow.bulk_create(
        [
            Follow(user_id=uid, subject_type=SubjectType.QUESTIONNAIRE, subject_id=q.id)
            for uid, *_r in rows
        ],
        batch_size=500,
        ignore_conflicts=True,
        using_db=conn,
    )
    return [ids[uid] for uid, *_r in rows]
