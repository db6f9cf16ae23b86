"""Questionnaires, the council's side: build one (settings and questions, while a draft),
publish it (the questions are then fixed), close it early; and reading one with its areas and
questions, and the lists.

Dates are typed in the district's local time and kept as aware UTC. Every change to a
questionnaire takes its row lock first, so two council members editing at once, or a question
added while another publishes, are put one after the other; answers hold a shared lock on it
(consult.services.questionnaire_answers), so closing waits for the answers in flight.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from consult.models import (
    Question,
    Questionnaire,
    QuestionnaireArea,
    QuestionnaireResponse,
    QuestionOption,
)
from consult.permissions import can
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import getlist, parse_date, text
from core.i18n import DISPLAY_TIMEZONE, _
from core.models import Area, Role, User
from core.services.areas import chosen_area_ids
from core.web.pagination import Page

LOCAL = ZoneInfo(DISPLAY_TIMEZONE)
MAX_TITLE = 200
MAX_INTRO = 5000
PAGE_SIZE = 20
SETTINGS_FIELDS = ("title", "introduction", "opens_on", "opens_time", "closes_on", "closes_time")


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- the settings form ------------------------------------------------------------------------


@dataclass
class SettingsInput:
    title: str
    introduction: str
    area_ids: list[int]
    opens_at: datetime
    closes_at: datetime
    show_results_live: bool


def _parse_time(value: object, field: str, errors: dict[str, str]) -> time | None:
    raw = str(value or "").strip()
    if not raw:
        errors[field] = _("This field is required.")
        return None
    try:
        return time.fromisoformat(raw)
    except ValueError:
        errors[field] = _("Enter a time as HH:MM, for example 08:00.")
        return None


def local_moment(day: date, at: time) -> datetime:
    """A local date and time in the district, as aware UTC."""
    return datetime.combine(day, at.replace(tzinfo=None), tzinfo=LOCAL).astimezone(UTC)


def parse_settings(data: Mapping[str, Any], areas: list[Area]) -> SettingsInput:
    """Typed settings from the form, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    title = text(data.get("title"), "title", errors, max_length=MAX_TITLE)
    intro = text(
        data.get("introduction"), "introduction", errors, required=False, max_length=MAX_INTRO
    )
    area_ids = chosen_area_ids(data, areas, errors)
    opens_on = parse_date(data.get("opens_on"), "opens_on", errors, required=True)
    opens_time = _parse_time(data.get("opens_time"), "opens_time", errors)
    closes_on = parse_date(data.get("closes_on"), "closes_on", errors, required=True)
    closes_time = _parse_time(data.get("closes_time"), "closes_time", errors)
    opens_at = closes_at = None
    if opens_on and opens_time:
        opens_at = local_moment(opens_on, opens_time)
    if closes_on and closes_time:
        closes_at = local_moment(closes_on, closes_time)
    if opens_at and closes_at and closes_at <= opens_at:
        errors["closes_on"] = _("The questionnaire must close after it opens.")
    if errors:
        raise ValidationError(errors=errors)
    assert opens_at is not None and closes_at is not None
    live = str(data.get("show_results_live") or "") == "on"
    return SettingsInput(title, intro, area_ids, opens_at, closes_at, live)


def settings_values(q: Questionnaire | None = None) -> dict[str, Any]:
    """What the settings form shows: a questionnaire's settings, or for a new one two weeks
    from tomorrow morning to the evening."""
    if q is None:
        start = datetime.now(LOCAL).date() + timedelta(days=1)
        return {
            "opens_on": start.isoformat(),
            "opens_time": "08:00",
            "closes_on": (start + timedelta(days=14)).isoformat(),
            "closes_time": "20:00",
            "areas": [],
        }
    opens, closes = q.opens_at.astimezone(LOCAL), q.closes_at.astimezone(LOCAL)
    return {
        "title": q.title,
        "introduction": q.introduction,
        "opens_on": opens.date().isoformat(),
        "opens_time": opens.strftime("%H:%M"),
        "closes_on": closes.date().isoformat(),
        "closes_time": closes.strftime("%H:%M"),
        "areas": [str(a) for a in q.area_ids],
        "show_results_live": "on" if q.show_results_live else "",
    }


def typed_settings(data: Mapping[str, Any]) -> dict[str, Any]:
    """What was typed in the settings form, to show again after a refusal."""
    values = {k: str(data.get(k) or "") for k in (*SETTINGS_FIELDS, "show_results_live")}
    values["areas"] = getlist(data, "areas")
    return values


async def create_questionnaire(actor: User | None, data: Mapping[str, Any]) -> Questionnaire:
    """Start a questionnaire as a draft (only the council sees it until it is published)."""
    if not can(actor, "create_questionnaire"):
        raise PermissionDenied(_("Only council members make questionnaires."))
    values = parse_settings(data, await Area.all())
    async with in_transaction() as conn:
        q = await Questionnaire.create(
            title=values.title,
            introduction=values.introduction,
            opens_at=values.opens_at,
            closes_at=values.closes_at,
            show_results_live=values.show_results_live,
            created_by=actor,
            using_db=conn,
        )
        await QuestionnaireArea.bulk_create(
            [QuestionnaireArea(questionnaire_id=q.id, area_id=a) for a in values.area_ids],
            using_db=conn,
        )
        await record(actor, "questionnaire.create", q, using_db=conn, title=q.title)
    q.area_ids = values.area_ids
    return q


async def locked(conn: Any, questionnaire_id: int) -> Questionnaire:
    found = await lock_rows(conn, Questionnaire, [questionnaire_id])
    if not found:
        raise NotFound(_("This questionnaire does not exist."))
    q = found[0]
    q.area_ids = await _area_ids(q.id, conn)
    return q


def draft_only(actor: User | None, q: Questionnaire) -> None:
    if not can(actor, "edit_questionnaire", q):
        if q.published_at is not None and can(actor, "create_questionnaire"):
            raise Conflict(
                _("This questionnaire is published: its questions can no longer change.")
            )
        raise PermissionDenied(_("Only council members change questionnaires."))


async def edit_questionnaire(
    actor: User | None, questionnaire_id: int, data: Mapping[str, Any]
) -> Questionnaire:
    """Change a draft's title, introduction, areas, dates or whether results show while open."""
    areas = await Area.all()
    async with in_transaction() as conn:
        q = await locked(conn, questionnaire_id)
        draft_only(actor, q)
        values = parse_settings(data, areas)
        for key in ("title", "introduction", "opens_at", "closes_at", "show_results_live"):
            setattr(q, key, getattr(values, key))
        await q.save(using_db=conn)
        if q.area_ids != values.area_ids:
            await QuestionnaireArea.filter(questionnaire_id=q.id).using_db(conn).delete()
            await QuestionnaireArea.bulk_create(
                [QuestionnaireArea(questionnaire_id=q.id, area_id=a) for a in values.area_ids],
                using_db=conn,
            )
        await record(actor, "questionnaire.edit", q, using_db=conn, title=q.title)
    q.area_ids = values.area_ids
    return q


# --- reading ----------------------------------------------------------------------------------


async def _area_ids(questionnaire_id: int, conn: Any = None) -> list[int]:
    return sorted(
        await QuestionnaireArea.filter(questionnaire_id=questionnaire_id)
        .using_db(conn)
        .values_list("area_id", flat=True)
    )


async def get_questionnaire(questionnaire_id: int, user: User | None = None) -> Questionnaire:
    """A questionnaire with its areas (`areas`, `area_ids`); NotFound also for a draft that
    `user` may not see."""
    q = await Questionnaire.get_or_none(id=questionnaire_id)
    if q is None or (q.published_at is None and not can(user, "create_questionnaire")):
        raise NotFound(_("This questionnaire does not exist."))
    links = await QuestionnaireArea.filter(questionnaire_id=q.id).select_related("area")
    q.areas = sorted((link.area for link in links), key=lambda a: a.name)
    q.area_ids = sorted(a.id for a in q.areas)
    return q


async def load_questions(questionnaire_id: int) -> list[Question]:
    """The questions in order, each with its `option_list` (two queries)."""
    questions = list(await Question.filter(questionnaire_id=questionnaire_id))
    by_question: dict[int, list[QuestionOption]] = {question.id: [] for question in questions}
    if questions:
        for option in await QuestionOption.filter(question_id__in=list(by_question)):
            by_question[option.question_id].append(option)
    for n, question in enumerate(questions, 1):
        question.number = n
        question.option_list = by_question[question.id]
    return questions


async def respondent_count(questionnaire_id: int) -> int:
    return await QuestionnaireResponse.filter(questionnaire_id=questionnaire_id).count()


async def eligible_count(q: Questionnaire) -> int:
    """How many verified residents may answer (its areas', or everyone's)."""
    qs = User.filter(
        is_active=True,
        verified=True,
        area_id__isnull=False,
        role__in=[Role.RESIDENT, Role.GRID_WORKER],
    )
    if q.area_ids:
        qs = qs.filter(area_id__in=q.area_ids)
    return await qs.count()


@dataclass
class Listing:
    """The list page: open questionnaires (those the user may answer first), the coming ones,
    drafts (council), and a page of closed ones."""

    open: list[Questionnaire]
    scheduled: list[Questionnaire]
    drafts: list[Questionnaire]
    closed: Page

    @property
    def empty(self) -> bool:
        return not (self.open or self.scheduled or self.drafts or self.closed.total)


async def _decorate(items: list[Questionnaire], user: User | None) -> None:
    """Each with `areas`, `response_count` and `answered` (by `user`): three queries."""
    ids = [q.id for q in items]
    if not ids:
        return
    areas: dict[int, list[Area]] = {i: [] for i in ids}
    for link in await QuestionnaireArea.filter(questionnaire_id__in=ids).select_related("area"):
        areas[link.questionnaire_id].append(link.area)
    counts = dict(
        await QuestionnaireResponse.filter(questionnaire_id__in=ids)
        .group_by("questionnaire_id")
        .annotate(n=Count("id"))
        .values_list("questionnaire_id", "n")
    )
    answered: set[int] = set()
    if user is not None:
        answered = set(
            await QuestionnaireResponse.filter(
                questionnaire_id__in=ids, respondent_id=user.id
            ).values_list("questionnaire_id", flat=True)
        )
    for q in items:
        q.areas = sorted(areas[q.id], key=lambda a: a.name)
        q.area_ids = [a.id for a in q.areas]
        q.response_count = counts.get(q.id, 0)
        q.answered = q.id in answered


OPEN_LIMIT = 50  # open questionnaires at once: a district runs a handful


async def list_questionnaires(user: User | None, page: int | None) -> Listing:
    """What the list page shows to `user`: open ones (theirs first), coming ones, drafts for
    the council, and closed ones newest first, a page at a time."""
    now = now_utc()
    published = Questionnaire.filter(published_at__isnull=False)
    open_ = list(
        await published.filter(opens_at__lte=now, closes_at__gt=now)
        .order_by("closes_at", "id")
        .limit(OPEN_LIMIT)
    )
    scheduled = list(
        await published.filter(opens_at__gt=now).order_by("opens_at", "id").limit(OPEN_LIMIT)
    )
    drafts: list[Questionnaire] = []
    if can(user, "create_questionnaire"):
        drafts = list(
            await Questionnaire.filter(published_at__isnull=True).order_by("-id").limit(OPEN_LIMIT)
        )
    closed_qs = published.filter(closes_at__lte=now).order_by("-closes_at", "-id")
    total = await closed_qs.count()
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, page or 1), pages)
    closed = list(await closed_qs.offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE))
    await _decorate(open_ + scheduled + drafts + closed, user)
    open_.sort(key=lambda q: not can(user, "answer_questionnaire", q, now))
    return Listing(open_, scheduled, drafts, Page(closed, number, PAGE_SIZE, total))
