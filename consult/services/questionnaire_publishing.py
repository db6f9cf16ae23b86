"""Publishing a questionnaire (its questions are fixed from then on), announcing it to its
followers when it opens, and closing it early."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from consult.models import Question, Questionnaire, SubjectType
from consult.permissions import can
from consult.services.questionnaires import locked, now_utc
from core.audit import record
from core.errors import Conflict, PermissionDenied
from core.i18n import _
from core.models import User
from core.services.notifications import notify_followers


def publish_problems(q: Questionnaire, questions: list[Question], now: datetime) -> list[str]:
    """Why a draft cannot be published yet (none: it can)."""
    problems = []
    if not questions:
        problems.append(_("Add at least one question."))
    if q.closes_at <= now:
        problems.append(_("Its closing date has passed: change the dates first."))
    return problems


async def publish_questionnaire(actor: User | None, questionnaire_id: int) -> Questionnaire:
    """Publish a draft: its questions are fixed from now on. If it opens now (its opening
    date has come), its followers are told."""
    async with in_transaction() as conn:
        q = await locked(conn, questionnaire_id)
        if q.published_at is not None:
            raise Conflict(_("This questionnaire is already published."))
        if not can(actor, "publish_questionnaire", q):
            raise PermissionDenied(_("Only council members publish questionnaires."))
        now = now_utc()
        questions = list(await Question.filter(questionnaire_id=q.id).using_db(conn))
        problems = publish_problems(q, questions, now)
        if problems:
            raise Conflict(" ".join(problems))
        q.published_at = now
        fields = ["published_at"]
        if q.opens_at <= now:
            q.announced_at = now
            fields.append("announced_at")
        await q.save(using_db=conn, update_fields=fields)
        await record(actor, "questionnaire.publish", q, public=True, using_db=conn, title=q.title)
        if q.announced_at:
            await _announce(q, conn, skip=actor.id if actor else None)
    return q


async def announce_opened_questionnaires(now: datetime | None = None) -> int:
    """Tell the followers of each published questionnaire whose opening time has come since
    it was published (and that has not closed) that it is open; how many were announced.
    Called every minute by each app process (core.ticker): the conditional update makes each
    announcement happen once, whichever process gets there first, in the same transaction as
    its notifications."""
    now = now or now_utc()
    due = await Questionnaire.filter(
        published_at__isnull=False, announced_at__isnull=True, opens_at__lte=now, closes_at__gt=now
    ).values_list("id", flat=True)
    announced = 0
    for questionnaire_id in due:
        async with in_transaction() as conn:
            claimed = (
                await Questionnaire.filter(id=questionnaire_id, announced_at__isnull=True)
                .using_db(conn)
                .update(announced_at=now)
            )
            if claimed:
                q = await Questionnaire.get(id=questionnaire_id).using_db(conn)
                await _announce(q, conn)
                announced += 1
    return announced


async def _announce(q: Questionnaire, conn: Any, skip: int | None = None) -> None:
    await notify_followers(
        SubjectType.QUESTIONNAIRE,
        q.id,
        "questionnaire_opened",
        url=f"/consult/questionnaires/{q.id}",
        params={"title": q.title},
        skip=[skip],
        using_db=conn,
    )


async def close_questionnaire(actor: User | None, questionnaire_id: int) -> Questionnaire:
    """Close an open questionnaire now (it then takes no answers, and its results are public)."""
    async with in_transaction() as conn:
        q = await locked(conn, questionnaire_id)
        now = now_utc()
        if not can(actor, "close_questionnaire", q, now):
            if can(actor, "create_questionnaire"):
                raise Conflict(_("Only an open questionnaire can be closed."))
            raise PermissionDenied(_("Only council members close questionnaires."))
        q.closes_at = max(now, q.opens_at + timedelta(microseconds=1))
        q.closed_early_at = now
        await q.save(using_db=conn, update_fields=["closes_at", "closed_early_at"])
        await record(actor, "questionnaire.close", q, public=True, using_db=conn, title=q.title)
    return q
