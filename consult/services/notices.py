"""What consultation tells the people who follow its subjects (core.services.notifications),
and which of its subjects may be followed.

Each `tell_*` runs inside the caller's transaction (`conn`), after the change it reports: the
notifications are written with the change or not at all. The one who made the change is not
told. Links are the pages' paths under consultation's mount (/consult), as `url_for` makes them.
"""

from __future__ import annotations

from typing import Any

from consult.models import (
    DELIBERATION_PHASE_LABELS,
    Clause,
    Comment,
    Deliberation,
    Meeting,
    MeetingRecord,
    SubjectType,
)
from consult.rules import recurrence
from consult.services.discussion import load_subject
from core.errors import NotFound
from core.models import User
from core.services.notifications import follow, notify_followers, notify_users


def deliberation_path(deliberation_id: int) -> str:
    return f"/consult/deliberations/{deliberation_id}"


def comment_path(comment_id: int) -> str:
    """A comment's address: its thread's page, at the comment."""
    return f"/consult/comments/{comment_id}"


def occurrence_path(meeting_id: int, occurrence_key: str) -> str:
    return f"/consult/meetings/{meeting_id}/at/{occurrence_key}"


async def commented(conn: Any, comment: Comment, parent: Comment | None = None) -> int:
    """A comment was posted: its author follows its subject from now on (and, on a clause,
    the whole consultation: its revisions and its ratification are told to the consultation's
    followers); on a reply, the author of the comment replied to is told who answered (not
    when answering oneself)."""
    await follow(comment.author_id, str(comment.subject_type), comment.subject_id, using_db=conn)
    if comment.subject_type == SubjectType.CLAUSE:
        convention_ids = (
            await Clause.filter(id=comment.subject_id)
            .using_db(conn)
            .values_list("convention_id", flat=True)
        )
        for convention_id in convention_ids:
            await follow(comment.author_id, SubjectType.CONSULTATION, convention_id, using_db=conn)
    if parent is None or parent.author_id in (None, comment.author_id):
        return 0
    try:
        subject = await load_subject(comment.subject_type, comment.subject_id, using_db=conn)
        title = subject.title
    except NotFound:  # a subject no longer discussed: the reply is still worth telling
        title = ""
    name = (
        await User.filter(id=comment.author_id)
        .using_db(conn)
        .values_list("display_name", flat=True)
    )
    return await notify_users(
        [parent.author_id],
        "comment_reply",
        subject_type=str(comment.subject_type),
        subject_id=comment.subject_id,
        url=comment_path(comment.id),
        params={"name": name[0] if name else "", "title": title},
        using_db=conn,
    )


async def tell_deliberation_phase(conn: Any, d: Deliberation, actor: User | None) -> int:
    """A deliberation round moved to its next phase: its followers are told which."""
    return await notify_followers(
        SubjectType.DELIBERATION,
        d.id,
        "phase_changed",
        url=deliberation_path(d.id),
        params={"title": d.title, "phase": DELIBERATION_PHASE_LABELS[d.phase_enum]},
        skip=[actor.id if actor else None],
        using_db=conn,
    )


async def tell_decision_published(conn: Any, d: Deliberation, actor: User | None) -> int:
    """The council published a round's decision: its followers are told."""
    return await notify_followers(
        SubjectType.DELIBERATION,
        d.id,
        "decision_published",
        url=deliberation_path(d.id),
        params={"title": d.title},
        skip=[actor.id if actor else None],
        using_db=conn,
    )


async def tell_minutes_published(
    conn: Any, meeting: Meeting, rec: MeetingRecord, actor: User | None
) -> int:
    """The minutes of a meeting's occurrence were recorded (the first time, not a
    correction): the meeting's followers are told, with a link to that occurrence."""
    return await notify_followers(
        SubjectType.MEETING,
        meeting.id,
        "minutes_published",
        url=occurrence_path(meeting.id, recurrence.occurrence_key(rec.occurrence_at)),
        params={"title": meeting.title},
        skip=[actor.id if actor else None],
        using_db=conn,
    )


# --- what may be followed (registered in app.py: core.web.follow) ---------------------------


def _title_of(kind: SubjectType):
    async def title(subject_id: int) -> str | None:
        try:
            return (await load_subject(kind, subject_id)).title
        except NotFound:
            return None

    title.__doc__ = f"The title of a {kind.value} that may be followed (None: no such one)."
    return title


# Every kind of subject consultation discusses, but budgeting's own (proposals and rounds,
# registered by budget) and clauses (one follows the consultation they belong to). A kind is
# followable as soon as `discussion.load_subject` knows it, which answers NotFound for a
# subject that is not public.
FOLLOWABLES = {
    str(kind): _title_of(kind)
    for kind in SubjectType
    if kind not in (SubjectType.PROPOSAL, SubjectType.ROUND, SubjectType.CLAUSE)
}
