"""What the meeting pages read: the list of occurrences (upcoming, recurring meetings
expanded, and past ones with a minutes marker), one meeting with its agenda and what happened
at each occurrence, one occurrence, and a meeting's time and recurrence in words.

Occurrences are computed, not stored: a meeting is its first occurrence and a rule of at
most 120 occurrences within five years (`consult.rules.recurrence`), expanded in Python.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from babel.dates import get_day_names
from babel.lists import format_list
from starlette_babel import get_locale

from consult.models import AgendaItem, FollowUpAction, Meeting, MeetingKind, MeetingRecord
from consult.rules import recurrence
from consult.services.meeting_agenda import subject_titles
from core.i18n import _, format_day, local_today
from core.models import Area
from core.web.pagination import Page

UPCOMING_DAYS = 92  # the list shows about three months ahead
PAGE_SIZE = 20  # past occurrences per page
NEXT_ON_DETAIL = 6
PAST_ON_DETAIL = 24
DISTRICT = "district"


# --- words -----------------------------------------------------------------------------------


def _weekday_names(codes: tuple[str, ...]) -> str:
    names = get_day_names("wide", locale=get_locale())
    return format_list([names[recurrence.WEEKDAYS.index(c)] for c in codes], locale=get_locale())


def _nth_weekday(nth: int, weekday: str) -> str:
    wd = _weekday_names((weekday,))
    match nth:
        case 1:
            return _("every month on the first {weekday}", weekday=wd)
        case 2:
            return _("every month on the second {weekday}", weekday=wd)
        case 3:
            return _("every month on the third {weekday}", weekday=wd)
        case 4:
            return _("every month on the fourth {weekday}", weekday=wd)
        case -1:
            return _("every month on the last {weekday}", weekday=wd)
    return _("every month on weekday {nth} {weekday}", nth=nth, weekday=wd)


def _rule_words(meeting: Meeting, s: recurrence.Shape) -> str:
    n = s.interval
    first = meeting.starts_at.astimezone(recurrence.DISTRICT_TZ)
    match s.kind:
        case "daily":
            return _("every day") if n == 1 else _("every {n} days", n=n)
        case "yearly":
            return _("every year") if n == 1 else _("every {n} years", n=n)
        case "weekly":
            days = _weekday_names(s.weekdays or (recurrence.WEEKDAYS[first.weekday()],))
            if n == 1:
                return _("every week on {weekdays}", weekdays=days)
            return _("every {n} weeks on {weekdays}", n=n, weekdays=days)
        case "monthly_day":
            days = s.monthdays or (first.day,)
            if days == (-1,):
                return (
                    _("every month on its last day")
                    if n == 1
                    else _("every {n} months on the last day", n=n)
                )
            listed = format_list([str(d) for d in days], locale=get_locale())
            if n == 1:
                return _("every month on day {days}", days=listed)
            return _("every {n} months on day {days}", n=n, days=listed)
        case "monthly_weekday" if n == 1 and s.nth is not None:
            return _nth_weekday(s.nth, s.weekdays[0])
    return _("by the rule {rule}", rule=meeting.rrule)


def recurrence_words(meeting: Meeting) -> str:
    """ "every month on day 16, 12 times" / "每月16日，共12次"; "" for a one-off meeting."""
    if not meeting.rrule:
        return ""
    s = recurrence.shape(meeting.rrule)
    words = _rule_words(meeting, s)
    if s.count is not None:
        words = _("{rule}, {count} times in all", rule=words, count=s.count)
    elif s.until is not None:
        words = _("{rule}, until {day}", rule=words, day=format_day(s.until, "long"))
    return words[:1].upper() + words[1:]  # a sentence in English; nothing changes in Chinese


def when_words(at: datetime, duration_minutes: int) -> str:
    """ "Friday, January 16, 2026, 19:00–20:30" in the district's time."""
    start = at.astimezone(recurrence.DISTRICT_TZ)
    end = start + timedelta(minutes=duration_minutes)
    hours = f"{start:%H:%M}–{end:%H:%M}"
    if end.date() != start.date():
        hours = f"{start:%H:%M}–{format_day(end.date(), 'short')} {end:%H:%M}"
    return _("{day}, {hours}", day=format_day(start.date(), "full"), hours=hours)


# --- the list --------------------------------------------------------------------------------


@dataclass
class ListFilters:
    area: str = ""  # "", DISTRICT or an area id
    kind: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str], area_ids: set[int]) -> ListFilters:
        """The list's filters; values that mean nothing are ignored (the list shows all)."""
        area = str(params.get("area") or "")
        if area != DISTRICT and not (area.isascii() and area.isdigit() and int(area) in area_ids):
            area = ""
        kind = str(params.get("kind") or "")
        if kind not in {k.value for k in MeetingKind}:
            kind = ""
        return cls(area=area, kind=kind)

    @property
    def area_id(self) -> int | None:
        return int(self.area) if (self.area.isascii() and self.area.isdigit()) else None


@dataclass
class Occurrence:
    meeting_id: int
    title: str
    kind: MeetingKind
    place: str
    area_name: str | None
    at: datetime
    duration_minutes: int
    cancelled: bool = False
    attendance: int | None = None  # set when minutes were recorded

    @property
    def key(self) -> str:
        return recurrence.occurrence_key(self.at)

    @property
    def ends(self) -> datetime:
        return self.at + timedelta(minutes=self.duration_minutes)

    @property
    def has_minutes(self) -> bool:
        return self.attendance is not None


def meetings_query(area_id: int | None = None, district_only: bool = False) -> Any:
    """Meetings of an area and the district-wide ones (all: no area given)."""
    from tortoise.expressions import Q

    qs = Meeting.all()
    if district_only:
        return qs.filter(area_id__isnull=True)
    if area_id is not None:
        return qs.filter(Q(area_id=area_id) | Q(area_id__isnull=True))
    return qs


def cancelled_at(meeting_cancelled: datetime | None, at: datetime) -> bool:
    """Whether the occurrence at `at` is cancelled (it had not begun at the cancellation)."""
    return meeting_cancelled is not None and at >= meeting_cancelled


async def list_occurrences(
    filters: ListFilters, page: int | None, now: datetime | None = None
) -> tuple[list[Occurrence], Page]:
    """The occurrences of the next three months not yet over (cancelled ones marked), and a
    page of those held, latest first, with their attendance when minutes were recorded.
    Three queries: the meetings, the areas' names, the page's records."""
    now = now or datetime.now(UTC)
    horizon = now + timedelta(days=UPCOMING_DAYS)
    qs = meetings_query(filters.area_id, filters.area == DISTRICT).filter(starts_at__lt=horizon)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    rows = await qs.values(
        "id",
        "title",
        "kind",
        "place",
        "area_id",
        "starts_at",
        "duration_minutes",
        "rrule",
        "cancelled_at",
    )
    names = dict(await Area.all().values_list("id", "name")) if rows else {}
    upcoming, held = [], []
    for row in rows:
        for at in recurrence.occurrences(row["starts_at"], row["rrule"]):
            if at >= horizon:
                break
            occ = Occurrence(
                meeting_id=row["id"],
                title=row["title"],
                kind=MeetingKind(row["kind"]),
                place=row["place"],
                area_name=names.get(row["area_id"]),
                at=at,
                duration_minutes=row["duration_minutes"],
                cancelled=cancelled_at(row["cancelled_at"], at),
            )
            if occ.ends > now:
                upcoming.append(occ)
            elif not occ.cancelled:
                held.append(occ)
    upcoming.sort(key=lambda o: (o.at, o.meeting_id))
    held.sort(key=lambda o: (o.at, o.meeting_id), reverse=True)
    pages = max(1, -(-len(held) // PAGE_SIZE))
    number = min(max(1, page or 1), pages)
    shown = held[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
    await _attach_attendance(shown)
    return upcoming, Page(items=shown, number=number, size=PAGE_SIZE, total=len(held))


async def _attach_attendance(shown: list[Occurrence]) -> None:
    if not shown:
        return
    records = await MeetingRecord.filter(
        meeting_id__in={o.meeting_id for o in shown},
        occurrence_at__gte=min(o.at for o in shown),
        occurrence_at__lte=max(o.at for o in shown),
    ).values_list("meeting_id", "occurrence_at", "attendance")
    found = {(m, at.astimezone(UTC)): n for m, at, n in records}
    for occ in shown:
        occ.attendance = found.get((occ.meeting_id, occ.at))


# --- one meeting -----------------------------------------------------------------------------


@dataclass
class Held:
    """An occurrence that took place: its record (None: no minutes yet), actions, agenda."""

    at: datetime
    record: MeetingRecord | None = None
    actions: list[FollowUpAction] = field(default_factory=list)
    agenda: list[AgendaItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        return recurrence.occurrence_key(self.at)


@dataclass
class Planned:
    at: datetime
    cancelled: bool
    agenda: list[AgendaItem] = field(default_factory=list)

    @property
    def key(self) -> str:
        return recurrence.occurrence_key(self.at)


@dataclass
class MeetingPage:
    meeting: Meeting
    standing: list[AgendaItem]  # the agenda of every occurrence
    upcoming: list[Planned]  # the next ones not yet over
    held: list[Held]  # latest first (at most PAST_ON_DETAIL)
    held_total: int
    titles: dict[tuple[str, int], str]  # the linked subjects' titles
    upcoming_keys: list[tuple[str, datetime]]  # for the agenda form's occurrence choice


def overdue(action: FollowUpAction) -> bool:
    return action.done_at is None and action.due_on < local_today()


async def meeting_page(meeting: Meeting, now: datetime | None = None) -> MeetingPage:
    """One meeting as its page shows it: five queries (agenda, records, actions, and the
    titles of the linked subjects, one per kind named)."""
    now = now or datetime.now(UTC)
    moments = recurrence.occurrences(meeting.starts_at, meeting.rrule)
    duration = timedelta(minutes=meeting.duration_minutes)
    agenda = await AgendaItem.filter(meeting_id=meeting.id).order_by("position", "id")
    records = {
        r.occurrence_at.astimezone(UTC): r
        for r in await MeetingRecord.filter(meeting_id=meeting.id)
    }
    actions = await FollowUpAction.filter(meeting_id=meeting.id).order_by("due_on", "id")
    by_record: dict[int, list[FollowUpAction]] = {}
    for act in actions:
        act.overdue = overdue(act)
        by_record.setdefault(act.record_id, []).append(act)
    by_occurrence: dict[datetime, list[AgendaItem]] = {}
    standing = []
    for item in agenda:
        if item.occurrence_at is None:
            standing.append(item)
        else:
            by_occurrence.setdefault(item.occurrence_at.astimezone(UTC), []).append(item)
    upcoming = [
        Planned(at, cancelled_at(meeting.cancelled_at, at), by_occurrence.get(at, []))
        for at in moments
        if at + duration > now
    ]
    held_moments = [
        at for at in reversed(moments) if at <= now and not cancelled_at(meeting.cancelled_at, at)
    ]
    held = []
    for at in held_moments[:PAST_ON_DETAIL]:
        rec = records.get(at)
        held.append(
            Held(
                at,
                rec,
                by_record.get(rec.id, []) if rec else [],
                by_occurrence.get(at, []),
            )
        )
    titles = await subject_titles(
        [(i.subject_type, i.subject_id) for i in agenda]
        + [(a.subject_type, a.subject_id) for a in actions]
    )
    keys = [(p.key, p.at) for p in upcoming if not p.cancelled][:12]
    return MeetingPage(
        meeting=meeting,
        standing=standing,
        upcoming=upcoming[:NEXT_ON_DETAIL],
        held=held,
        held_total=len(held_moments),
        titles=titles,
        upcoming_keys=keys,
    )


async def occurrence_page(meeting: Meeting, at: datetime) -> dict[str, Any]:
    """One occurrence: its agenda (the standing one and its own), record and actions."""
    agenda = await AgendaItem.filter(meeting_id=meeting.id).order_by("position", "id")
    agenda = [i for i in agenda if i.occurrence_at is None or i.occurrence_at == at]
    rec = await MeetingRecord.get_or_none(meeting_id=meeting.id, occurrence_at=at)
    actions = await FollowUpAction.filter(record_id=rec.id).order_by("due_on", "id") if rec else []
    for act in actions:
        act.overdue = overdue(act)
    titles = await subject_titles(
        [(i.subject_type, i.subject_id) for i in agenda]
        + [(a.subject_type, a.subject_id) for a in actions]
    )
    return {"agenda": agenda, "record": rec, "actions": list(actions), "titles": titles}
