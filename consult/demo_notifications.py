"""Demo data, following and notifications: what the services would have left behind had the
demo's history happened through them, so the header of `make run` shows a count.

Runs last (after budgeting's and the other consultation demos, which insert rows in bulk and
so neither follow nor notify):

- every proposal's author follows it, and every comment's author follows what they commented
  on (as `submit_proposal` and `post_comment` do);
- the two demo residents, 张伟 (`resident`, East Gate) and 周丽 (`voter`, South Lake), also
  follow both budgeting rounds, their area's public-opinion talk, the waste-sorting
  deliberation round, and their area's funded 2025 projects;
- each of them was told, at the time it happened, of what changed on those: replies to their
  comments, the council's review of their proposal, the 2026 round's phase changes, minutes of
  their area's talks and a delivered project. The newest three are unread, the rest read.

Deterministic: everything follows from the rows already there. Dates are those of the events
(never in the future). Rows go in with bulk inserts in one transaction.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import (
    PHASE_LABELS,
    Phase,
    Procurement,
    ProcurementEvent,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Review,
    Round,
)
from budget.services import notices as budget_notices
from consult.models import Comment, Deliberation, Meeting, MeetingRecord, SubjectType
from consult.rules import recurrence
from consult.services import notices as consult_notices
from core.models import Follow, Notification, User
from core.services.notifications import stored_params

DEMO_RESIDENTS = ("resident", "voter")
UNREAD = 3  # the newest this many of each demo resident's notifications stay unread
MINUTES_TOLD = 2  # the latest minutes of their area's talks each was told of


async def load_notifications_demo() -> None:
    async with in_transaction() as conn:
        await _follows_the_services_would_have_made(conn)
        now = datetime.now(UTC)
        for username in DEMO_RESIDENTS:
            user = await User.get_or_none(username=username).using_db(conn)
            if user is None:
                continue
            told = await _what_they_were_told(conn, user, now)
            await _store(conn, user, told, now)


async def _follows_the_services_would_have_made(conn: Any) -> None:
    pairs = {
        (author_id, str(SubjectType.PROPOSAL), pid)
        for pid, author_id in await Proposal.filter(author_id__isnull=False, round__is_study=False)
        .using_db(conn)
        .values_list("id", "author_id")
    }
    pairs |= {
        (author_id, str(kind), sid)
        for author_id, kind, sid in await Comment.filter(author_id__isnull=False)
        .using_db(conn)
        .values_list("author_id", "subject_type", "subject_id")
    }
    await Follow.bulk_create(
        [Follow(user_id=u, subject_type=t, subject_id=i) for u, t, i in sorted(pairs)],
        ignore_conflicts=True,
        batch_size=1000,
        using_db=conn,
    )


def _at_nine(day: Any) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


async def _what_they_were_told(conn: Any, user: User, now: datetime) -> list[dict]:
    """The user's follows (added here) and their notifications, oldest first."""
    follows: list[tuple[str, int]] = []
    told: list[dict] = []

    def tell(kind: str, subject: tuple[str, int], url: str, when: datetime, **params) -> None:
        if when <= now:
            told.append(
                {"kind": kind, "subject": subject, "url": url, "at": when, "params": params}
            )

    # replies to their comments, by others
    mine = await Comment.filter(author_id=user.id).using_db(conn).values_list("id", flat=True)
    replies = (
        await Comment.filter(parent_id__in=list(mine))
        .exclude(author_id=user.id)
        .select_related("author")
        .using_db(conn)
    )
    subjects = {
        row["id"]: row["title"]
        for row in await Proposal.filter(
            id__in=[r.subject_id for r in replies if r.subject_type == SubjectType.PROPOSAL]
        )
        .using_db(conn)
        .values("id", "title")
    }
    for reply in replies:
        if reply.subject_type == SubjectType.PROPOSAL and reply.author is not None:
            tell(
                "comment_reply",
                (str(reply.subject_type), reply.subject_id),
                consult_notices.comment_path(reply.id),
                reply.created_at,
                name=reply.author.display_name,
                title=subjects.get(reply.subject_id, ""),
            )

    # the council's review of their own proposals
    own = await Proposal.filter(author_id=user.id, round__is_study=False).using_db(conn)
    reviews = {
        r.proposal_id: r
        for r in await Review.filter(proposal_id__in=[p.id for p in own]).using_db(conn)
    }
    for p in own:
        status = ProposalStatus(p.status)
        if p.id in reviews and status in budget_notices.VERDICTS:
            tell(
                "proposal_reviewed",
                ("proposal", p.id),
                budget_notices.proposal_path(p.id),
                reviews[p.id].created_at,
                title=p.title,
                verdict=budget_notices.VERDICTS[status],
            )

    # the rounds: both followed; the current one's phase changes told
    for rnd in await Round.filter(is_study=False).order_by("id").using_db(conn):
        follows.append(("round", rnd.id))
        order = list(Phase)
        for phase in order[1 : order.index(rnd.phase_enum) + 1]:
            day = getattr(rnd, f"{phase.value}_starts", None)
            if day is not None and rnd.phase_enum in (Phase.REVIEWING, Phase.VOTING):
                tell(
                    "phase_changed",
                    ("round", rnd.id),
                    budget_notices.round_path(rnd.id),
                    _at_nine(day),
                    title=rnd.title,
                    phase=PHASE_LABELS[phase],
                )

    # their area's funded 2025 projects, and a delivery among them
    delivered = (
        await Procurement.filter(area_id=user.area_id)
        .filter(status__in=[ProcurementStatus.DELIVERED, ProcurementStatus.CLOSED])
        .order_by("id")
        .using_db(conn)
    )
    for p in await Procurement.filter(area_id=user.area_id).using_db(conn):
        follows.append(("proposal", p.proposal_id))
    for p in delivered[-1:]:
        event = (
            await ProcurementEvent.filter(procurement_id=p.id, to_status="delivered")
            .using_db(conn)
            .first()
        )
        if event is not None:
            tell(
                "procurement_delivered",
                ("proposal", p.proposal_id),
                budget_notices.procurement_path(p.id),
                event.created_at,
                title=p.title,
            )

    # their area's talks and the waste-sorting deliberation round
    for meeting in await Meeting.filter(area_id=user.area_id).order_by("id").using_db(conn):
        follows.append((str(SubjectType.MEETING), meeting.id))
        records = (
            await MeetingRecord.filter(meeting_id=meeting.id)
            .order_by("-occurrence_at")
            .limit(MINUTES_TOLD)
            .using_db(conn)
        )
        for rec in records:
            tell(
                "minutes_published",
                (str(SubjectType.MEETING), meeting.id),
                consult_notices.occurrence_path(
                    meeting.id, recurrence.occurrence_key(rec.occurrence_at)
                ),
                rec.occurrence_at + timedelta(hours=20),
                title=meeting.title,
            )
    first = await Deliberation.all().order_by("id").using_db(conn).first()
    if first is not None:
        follows.append((str(SubjectType.DELIBERATION), first.id))

    await Follow.bulk_create(
        [Follow(user_id=user.id, subject_type=t, subject_id=i) for t, i in follows],
        ignore_conflicts=True,
        using_db=conn,
    )
    return sorted(told, key=lambda n: n["at"])


async def _store(conn: Any, user: User, told: list[dict], now: datetime) -> None:
    """Write what they were told together with what the other demos already told them (their
    needs' answers, a convention's vote), in the order it happened: the newest UNREAD unread."""
    earlier = await Notification.filter(user_id=user.id).using_db(conn)
    rows = [
        Notification(
            user_id=user.id,
            kind=n.kind,
            subject_type=n.subject_type,
            subject_id=n.subject_id,
            params=n.params,
            url=n.url,
            created_at=n.created_at,
        )
        for n in earlier
    ]
    rows += [
        Notification(
            user_id=user.id,
            kind=n["kind"],
            subject_type=n["subject"][0],
            subject_id=n["subject"][1],
            params=stored_params(n["params"]),
            url=n["url"],
            created_at=n["at"],
        )
        for n in told
    ]
    rows.sort(key=lambda n: n.created_at)
    unread_from = len(rows) - UNREAD
    for i, row in enumerate(rows):
        row.read_at = None if i >= unread_from else min(now, row.created_at + timedelta(hours=3))
    await Notification.filter(user_id=user.id).using_db(conn).delete()
    await Notification.bulk_create(rows, using_db=conn)
