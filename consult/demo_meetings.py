"""Demo meetings: the district's monthly public-opinion talks (民情恳谈会) on the 16th and its
briefings (联户通报会, 居民说事会) on the 5th, recurring since half a year ago and planned for
the coming months, with the attendance, minutes and follow-up actions of every meeting held
(some actions done, some overdue), agendas that name the 2026 round's proposals, one council
meeting about a proposal, and an upcoming consultation on waste sorting.

Runs after `budget.demo.load_demo_data` (its areas, staff and 2026 round). Deterministic (a
fixed seed), dated relative to today, written with bulk inserts in one transaction.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from tortoise.transactions import in_transaction

from budget.models import Proposal, Round
from consult.models import (
    AgendaItem,
    Deliberation,
    FollowUpAction,
    Meeting,
    MeetingKind,
    MeetingRecord,
    SubjectType,
)
from consult.rules import recurrence
from core.i18n import local_today
from core.models import Area, AuditEntry, User

ROUND_2026 = "2026年度社区微实事项目"


@dataclass(frozen=True)
class Issue:
    """Something residents raise, and the follow-up agreed (about a proposal, or not)."""

    said: str
    action: str
    owner: str
    proposal: str = ""  # the title of a 2026 proposal it concerns


@dataclass(frozen=True)
class Series:
    title: str
    kind: MeetingKind
    area: str | None  # the area's name; None: the whole district
    day: int  # of the month
    at: time
    minutes: int
    place: str
    host: str
    guests: str
    description: str
    attendance: tuple[int, int]
    issues: tuple[Issue, ...]
    standing: tuple[str, ...]


EAST_ISSUES = (
    Issue(
        "三区12栋楼道灯坏了一个多月，老人晚上上下楼看不清台阶。",
        "修复三区12栋楼道照明",
        "东门物业服务中心",
    ),
    Issue(
        "三区单元门禁坏了好几年，外卖员和推销的人随意进出，居民希望尽快更换。",
        "对三区单元门禁更换方案进行现场踏勘",
        "社区居委会",
        "单元门禁系统更新",
    ),
    Issue(
        "主干道两边没有能歇脚的地方，老人买菜回来走一段就走不动了。",
        "会同街道城管科确定休息座椅的安装位置",
        "街道城管科",
        "适老化休息座椅安装",
    ),
    Issue(
        "东门小学放学时校门口车辆乱停，孩子过马路很不安全。",
        "协调交警中队在放学高峰增派警力",
        "街道平安办",
        "小学上下学护学岗服务",
    ),
    Issue(
        "二区楼道里的电动车电池又被偷了两块，居民要求加装监控。",
        "统计二区各单元监控点位并请物业报价",
        "东门物业服务中心",
        "东门二区楼道监控安装",
    ),
    Issue(
        "文化广场西侧围墙墙皮脱落，下雨天掉到人行道上。",
        "清理文化墙脱落墙皮并设置警示牌",
        "社区居委会",
        "社区文化墙修缮",
    ),
    Issue("一区化粪池夏天返味，低层住户意见很大。", "联系环卫所清掏一区化粪池", "街道城管科"),
    Issue("有居民在绿化带里种菜、堆放杂物。", "入户劝导清理绿化带堆放物", "网格员刘芳"),
)

SOUTH_ISSUES = (
    Issue(
        "长者食堂中午排队时间长，灶具不够用，饭菜端上桌就凉了。",
        "核实长者食堂厨房设备更新清单",
        "南湖社区长者食堂",
        "老年食堂厨房设备更新",
    ),
    Issue(
        "南湖公园东侧步道坑洼不平，推婴儿车和轮椅都很难走。",
        "对公园东侧步道破损路段进行测量",
        "街道城管科",
        "小区休闲步道铺设",
    ),
    Issue(
        "暑假里双职工家庭的孩子没人照看，希望社区办托管班。",
        "摸排有暑期托管需求的家庭数量",
        "社区居委会",
        "青少年暑期托管服务",
    ),
    Issue(
        "湖畔小区垃圾投放点晚上满溢，气味很大。",
        "调整湖畔小区垃圾清运时间",
        "街道城管科",
        "智能垃圾回收箱采购",
    ),
    Issue("小区里遛狗不拴绳，好几个孩子被吓哭了。", "张贴文明养犬告示并开展劝导", "网格员杨洋"),
    Issue("快递柜不够用，包裹都堆在门岗。", "与物业协商增设快递柜", "南湖物业服务中心"),
)

WEST_ISSUES = (
    Issue(
        "西河沿岸护栏有几段松动，晚上散步的人多，担心有人掉下去。",
        "对西河沿岸松动护栏设置临时围挡",
        "街道城管科",
        "沿河护栏加固",
    ),
    Issue(
        "农贸市场门口电动车乱停，早上挤得走不过去。",
        "在农贸市场东门划设电动车停放区",
        "街道城管科",
    ),
    Issue(
        "不少人把电动车推进楼道充电，去年隔壁街道就出过火灾。",
        "排查楼道飞线充电并开展消防宣传",
        "社区居委会",
        "电动车充电棚建设",
    ),
    Issue(
        "日间照料中心门口有三级台阶，坐轮椅的老人进不去。",
        "测量日间照料中心入口坡道尺寸",
        "西河日间照料中心",
        "无障碍坡道改造",
    ),
    Issue(
        "希望家庭医生定期上门，给行动不便的老人量血压。",
        "与社区卫生服务站商定上门服务时间",
        "社区卫生服务站",
        "家庭医生签约健康服务",
    ),
    Issue("老街下水道堵塞，一下大雨就积水。", "联系市政疏通老街排水管道", "街道城建办"),
)

NORTH_ISSUES = (
    Issue(
        "小区游乐设施老化，滑梯已经有裂缝了。",
        "检查儿童游乐设施，暂停使用破损滑梯",
        "北山物业服务中心",
        "儿童游乐设施更新",
    ),
    Issue(
        "安置小区的路灯一半不亮，晚上下班回家心里发慌。",
        "统计不亮路灯的位置并报修",
        "网格员吴桂兰",
        "小区路灯改造",
    ),
    Issue(
        "放学后孩子没地方写作业，家长下班都晚。",
        "联系大学生志愿者开设四点半课堂",
        "社区居委会",
        "四点半课堂服务",
    ),
    Issue(
        "停车位没有划线，车停得乱七八糟，消防通道也被堵了。",
        "清理占用消防通道的车辆",
        "北山物业服务中心",
        "停车位划线与标识",
    ),
    Issue("公交站离小区太远，希望增设站点。", "向区交通运输局反映增设公交站点的诉求", "街道党政办"),
    Issue(
        "新小区还没有菜市场，买菜要走两公里。", "与街道经济发展办对接便民菜店选址", "街道经济发展办"
    ),
)

DISTRICT_ISSUES = (
    Issue(
        "独居老人家里没人照看，万一摔倒了都没人知道。",
        "摸排全街道独居老人名单",
        "街道社会事务办",
        "独居老人智能呼叫设备采购",
    ),
    Issue(
        "希望多办一些健康讲座，讲讲高血压和糖尿病怎么管。",
        "制定下半年健康讲座计划",
        "街道社区卫生服务中心",
        "全街道健康讲座服务",
    ),
    Issue(
        "台风天通知不到位，很多老人不会看手机。",
        "检查各社区应急广播点位",
        "街道应急管理办",
        "社区应急广播系统",
    ),
    Issue(
        "社区食堂的价格对低保老人来说还是偏贵。",
        "测算低保老人配餐补贴标准",
        "街道社会事务办",
        "社区食堂配餐补贴",
    ),
    Issue(
        "微实事项目投票怎么参加？不会用手机的老人怎么办？",
        "各社区网格员上门协助老人填写纸质选票",
        "各社区网格员",
    ),
    Issue(
        "医保缴费时间快到了，很多居民不清楚怎么交。", "在各社区张贴医保缴费指引", "街道社会事务办"
    ),
)

TALK_STANDING = ("通报上月居民诉求办理情况", "居民反映问题，相关部门现场答复")

SERIES = (
    Series(
        "东门社区民情恳谈会",
        MeetingKind.TALK,
        "东门社区",
        16,
        time(19, 0),
        90,
        "东门社区党群服务中心二楼会议室",
        "社区党委书记王建华",
        "街道城管科、东门物业服务中心负责人和网格员",
        "每月16日晚上，社区干部、物业和街道相关科室面对面听取居民意见。有事说事，欢迎带上问题来。",
        (28, 52),
        EAST_ISSUES,
        TALK_STANDING,
    ),
    Series(
        "南湖社区民情恳谈会",
        MeetingKind.TALK,
        "南湖社区",
        16,
        time(19, 30),
        90,
        "南湖社区邻里中心多功能厅",
        "社区居委会主任孙丽华",
        "南湖物业服务中心、社区民警和长者食堂负责人",
        "每月16日晚上举行，带孩子来的家长可以把孩子送到隔壁活动室，有志愿者照看。",
        (22, 45),
        SOUTH_ISSUES,
        TALK_STANDING,
    ),
    Series(
        "西河社区民情恳谈会",
        MeetingKind.TALK,
        "西河社区",
        16,
        time(9, 30),
        90,
        "西河日间照料中心活动室",
        "社区党委书记何志明",
        "街道城管科、社区卫生服务站医生和农贸市场管理方",
        "每月16日上午，趁老人们到日间照料中心活动时一起开，听大家说说身边的事。",
        (30, 58),
        WEST_ISSUES,
        TALK_STANDING,
    ),
    Series(
        "全街道联户通报会",
        MeetingKind.BRIEFING,
        None,
        5,
        time(9, 30),
        120,
        "街道办事处三楼大会议室",
        "街道党工委副书记林国栋",
        "各社区书记、联户代表和街道各科室负责人",
        "每月5日，街道向各社区联户代表通报近期工作，联户代表把居民的问题带来，各部门现场答复。",
        (64, 110),
        DISTRICT_ISSUES,
        ("街道近期重点工作通报", "联户代表提问，各部门现场答复"),
    ),
    Series(
        "北山社区居民说事会",
        MeetingKind.BRIEFING,
        "北山社区",
        5,
        time(19, 0),
        90,
        "北山社区居委会一楼议事厅",
        "社区居委会主任郑海波",
        "北山物业服务中心、安置小区楼栋长和网格员吴桂兰",
        "每月5日晚上，居民有什么事都可以来说，社区当场记录、限期答复。",
        (18, 40),
        NORTH_ISSUES,
        ("上月事项办理情况通报", "居民说事"),
    ),
)

MONTHS_BACK = 6  # each series began half a year ago
COUNT = 12  # and runs for a year


def _month_day(today: date, months: int, day: int) -> date:
    index = today.year * 12 + today.month - 1 + months
    return date(index // 12, index % 12 + 1, day)


def _minutes(s: Series, n: int, raised: list[Issue], earlier: list[tuple[Issue, bool]]) -> str:
    """The minutes of one meeting, in the words a community secretary would use."""
    lines = [f"会议由{s.host}主持，{s.guests}参加，到场居民{n}人。", "", "一、居民反映的问题"]
    lines += [f"{i}. {issue.said}" for i, issue in enumerate(raised, 1)]
    if earlier:
        lines += ["", "二、上次会议事项办理情况"]
        for i, (issue, done) in enumerate(earlier, 1):
            state = "已办结" if done else "正在办理，下次会议继续通报"
            lines.append(f"{i}. {issue.action}：{state}。")
    lines += ["", "三、会议商定" if earlier else "二、会议商定"]
    for i, issue in enumerate(raised, 1):
        lines.append(f"{i}. 由{issue.owner}负责{issue.action}，办理结果在下次会议上通报。")
    return "\n".join(lines)


async def load_meetings_demo() -> None:
    """Add the demo meetings to a database filled by `budget.demo.load_demo_data`."""
    rng = random.Random(20260516)
    today = local_today()
    now = datetime.now(UTC)
    areas = dict(await Area.all().values_list("name", "id"))
    staff = dict(await User.filter(username__in=("chair", "council")).values_list("username", "id"))
    rnd = await Round.get_or_none(title=ROUND_2026)
    rows = (
        await Proposal.filter(round_id=rnd.id).values_list("title", "id", "created_at")
        if rnd
        else []
    )
    proposals = {title: (pid, created) for title, pid, created in rows}
    waste = await Deliberation.filter(title__contains="垃圾分类").first()

    def about(issue: Issue, at: datetime) -> dict:
        """The link to the 2026 proposal an issue concerns, once it was submitted (before,
        residents raised the issue and then proposed it)."""
        pid, created = proposals.get(issue.proposal, (None, None))
        if pid is None or created > at:
            return {}
        return {"subject_type": SubjectType.PROPOSAL, "subject_id": pid}

    async with in_transaction() as conn:
        specs = []  # (Series or None, Meeting)
        for s in SERIES:
            first = _month_day(today, -MONTHS_BACK, s.day)
            starts = recurrence.local_moment(first, s.at)
            specs.append(
                (
                    s,
                    Meeting(
                        title=s.title,
                        kind=s.kind,
                        description=s.description,
                        place=s.place,
                        area_id=areas.get(s.area) if s.area else None,
                        starts_at=starts,
                        duration_minutes=s.minutes,
                        rrule=recurrence.check(
                            f"FREQ=MONTHLY;BYMONTHDAY={s.day};COUNT={COUNT}", starts
                        ).rrule,
                        created_by_id=staff.get("chair"),
                        created_at=starts - timedelta(days=12),
                    ),
                )
            )
        council_day = today - timedelta(days=20)
        council_meeting = Meeting(
            title="议事会专题会议：东门二区楼道监控安装方案论证",
            kind=MeetingKind.COUNCIL,
            description="就居民提出的“东门二区楼道监控安装”项目，听取物业和居民代表意见，论证点位、费用和后续维护责任。",
            place="街道办事处二楼议事会会议室",
            area_id=areas.get("东门社区"),
            starts_at=recurrence.local_moment(council_day, time(15, 0)),
            duration_minutes=120,
            created_by_id=staff.get("council"),
            created_at=recurrence.local_moment(council_day - timedelta(days=7), time(10, 0)),
        )
        hearing_day = today + timedelta(days=12)
        hearing = Meeting(
            title="垃圾分类议题协商会",
            kind=MeetingKind.HEARING,
            description="湖畔小区垃圾投放点改造和定时定点投放怎么做？请居民、物业、保洁员一起来商量。",
            place="南湖社区邻里中心多功能厅",
            area_id=areas.get("南湖社区"),
            starts_at=recurrence.local_moment(hearing_day, time(19, 30)),
            duration_minutes=120,
            created_by_id=staff.get("council"),
            created_at=now - timedelta(days=3),
        )
        everything = [m for _s, m in specs] + [council_meeting, hearing]
        await Meeting.bulk_create(everything, using_db=conn)
        ids = dict(
            await Meeting.filter(title__in=[m.title for m in everything])
            .using_db(conn)
            .values_list("title", "id")
        )
        for m in everything:
            m.id = ids[m.title]

        agenda: list[AgendaItem] = []
        records: list[MeetingRecord] = []
        # meeting, occurrence, issue, due day, done at (None: not done)
        planned_actions: list[tuple[int, datetime, Issue, date, datetime | None]] = []

        def plan(meeting_id: int, at: datetime, issue: Issue, days: int) -> datetime | None:
            """An action due `days` after the meeting: most of those due are done, a few
            early; the rest are overdue or still open."""
            due = recurrence.local_date(at) + timedelta(days=days)
            done_at = None
            if due < today and rng.random() < 0.7:
                done_at = at + timedelta(days=rng.randint(3, days))
            elif due >= today and rng.random() < 0.2:
                done_at = min(now - timedelta(hours=2), at + timedelta(days=rng.randint(2, 6)))
            planned_actions.append((meeting_id, at, issue, due, done_at))
            return done_at

        entries: list[AuditEntry] = []
        for s, m in specs:
            moments = recurrence.occurrences(m.starts_at, m.rrule)
            agenda += [
                AgendaItem(meeting_id=m.id, position=i, title=t) for i, t in enumerate(s.standing)
            ]
            entries.append(
                AuditEntry(
                    actor_id=staff.get("chair"),
                    action="meeting.scheduled",
                    subject_type="meeting",
                    subject_id=m.id,
                    public=True,
                    detail={"title": m.title, "rrule": m.rrule},
                    created_at=m.created_at,
                )
            )
            held = [at for at in moments if at + timedelta(minutes=s.minutes) <= now]
            ahead = [at for at in moments if at > now]
            issues = list(s.issues)
            earlier: list[tuple[Issue, datetime | None]] = []  # the last meeting's actions
            for number, at in enumerate(held):
                if s.area == "北山社区" and number == len(held) - 1:
                    break  # the latest 居民说事会 has no minutes yet
                raised = rng.sample(issues, k=min(len(issues), rng.choice((2, 2, 3))))
                attendance = rng.randint(*s.attendance)
                states = [(issue, done is not None and done <= at) for issue, done in earlier]
                records.append(
                    MeetingRecord(
                        meeting_id=m.id,
                        occurrence_at=at,
                        attendance=attendance,
                        minutes=_minutes(s, attendance, raised, states),
                        recorded_by_id=staff.get("council"),
                        recorded_at=at + timedelta(days=1),
                    )
                )
                earlier = []
                for issue in raised[: rng.choice((1, 2, 2))]:
                    earlier.append((issue, plan(m.id, at, issue, rng.randint(10, 40))))
                # an item of its own agenda: what residents raised about a proposal
                for issue in raised:
                    if about(issue, at):
                        agenda.append(
                            AgendaItem(
                                meeting_id=m.id,
                                occurrence_at=at,
                                position=0,
                                title=f"听取居民对“{issue.proposal}”项目的意见",
                                **about(issue, at),
                            )
                        )
                        break
            # the next two meetings: the 2026 proposals of the area (and the round itself)
            upcoming = [i for i in s.issues if about(i, now)]
            for at in ahead[:2]:
                for position, issue in enumerate(upcoming[:2]):
                    agenda.append(
                        AgendaItem(
                            meeting_id=m.id,
                            occurrence_at=at,
                            position=position,
                            title=f"通报“{issue.proposal}”项目投票进展",
                            **about(issue, at),
                        )
                    )
                upcoming = upcoming[2:] + upcoming[:2]
            if s.area is None and rnd is not None and ahead:
                agenda.append(
                    AgendaItem(
                        meeting_id=m.id,
                        occurrence_at=ahead[0],
                        position=9,
                        title="2026年度微实事项目投票结果和公示安排",
                        subject_type=SubjectType.ROUND,
                        subject_id=rnd.id,
                    )
                )

        # the council meeting about a proposal: held, with minutes and actions
        cctv = proposals.get("东门二区楼道监控安装", (None,))[0]
        cctv_link = {"subject_type": SubjectType.PROPOSAL, "subject_id": cctv} if cctv else {}
        agenda += [
            AgendaItem(
                meeting_id=council_meeting.id,
                position=0,
                title="听取东门物业服务中心关于监控点位和报价的说明",
                **cctv_link,
            ),
            AgendaItem(
                meeting_id=council_meeting.id, position=1, title="讨论费用分担和后续维护责任"
            ),
        ]
        records.append(
            MeetingRecord(
                meeting_id=council_meeting.id,
                occurrence_at=council_meeting.starts_at,
                attendance=11,
                minutes=(
                    "会议由议事会主任李秀英主持，议事会成员7人、东门二区居民代表3人、"
                    "东门物业服务中心经理1人参加。\n\n"
                    "一、物业说明：二区共16个单元，建议在每个单元一楼入口和电动车集中停放处"
                    "各安装1个摄像头，共32个点位，含硬盘录像机和三年维保，报价约11万元。\n"
                    "二、居民代表意见：监控不能对着住户家门，录像只在发生失窃时由物业和"
                    "民警共同调取。\n"
                    "三、会议商定：项目费用基本合理，同意列入2026年度投票；由物业调整点位"
                    "避开住户门口，由社区起草监控使用和调取规定，在下次民情恳谈会上征求意见。"
                ),
                recorded_by_id=staff.get("council"),
                recorded_at=council_meeting.starts_at + timedelta(hours=20),
            )
        )
        cctv_issue = "东门二区楼道监控安装"
        for action, owner, days in (
            ("调整监控点位方案，避开住户家门", "东门物业服务中心", 10),
            ("起草楼道监控使用和录像调取规定", "社区居委会", 35),
        ):
            issue = Issue("", action, owner, cctv_issue)
            plan(council_meeting.id, council_meeting.starts_at, issue, days)
        agenda.append(
            AgendaItem(
                meeting_id=hearing.id,
                position=0,
                title="湖畔小区垃圾投放点改造方案",
                **about(SOUTH_ISSUES[3], hearing.starts_at),
            )
        )
        if waste is not None:
            agenda.append(
                AgendaItem(
                    meeting_id=hearing.id,
                    position=1,
                    title="通报垃圾分类议题协商中居民的共识",
                    subject_type=SubjectType.DELIBERATION,
                    subject_id=waste.id,
                )
            )

        await AgendaItem.bulk_create(agenda, batch_size=500, using_db=conn)
        await MeetingRecord.bulk_create(records, batch_size=500, using_db=conn)
        record_ids = {
            (mid, at.astimezone(UTC)): rid
            for rid, mid, at in await MeetingRecord.filter(
                meeting_id__in=[m.id for m in everything]
            )
            .using_db(conn)
            .values_list("id", "meeting_id", "occurrence_at")
        }
        actions = []
        for meeting_id, at, issue, due, done_at in planned_actions:
            actions.append(
                FollowUpAction(
                    meeting_id=meeting_id,
                    record_id=record_ids[(meeting_id, at)],
                    title=issue.action,
                    owner=issue.owner,
                    due_on=due,
                    done_at=done_at,
                    created_at=at + timedelta(days=1),
                    **about(issue, at),
                )
            )
        await FollowUpAction.bulk_create(actions, batch_size=500, using_db=conn)
        entries += [
            AuditEntry(
                actor_id=staff.get("council"),
                action="meeting.minutes_recorded",
                subject_type="meeting",
                subject_id=r.meeting_id,
                public=True,
                detail={"occurrence": r.occurrence_at.isoformat(), "attendance": r.attendance},
                created_at=r.recorded_at,
            )
            for r in records
        ]
        await AuditEntry.bulk_create(entries, batch_size=500, using_db=conn)
