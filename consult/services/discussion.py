"""Reading a discussion: the subject a comment is about, the stance counts, pages of threads
by cursor, one thread on its own page, and the council's queue of reported comments.

A subject's discussion costs the same few indexed queries whatever its size:

- the counts per stance: one grouped count on the index (subject_type, subject_id, stance),
  which covers it (hidden comments are counted: hiding removes words, not a voice, so the
  council cannot change the tally by moderating);
- a page of `PAGE_SIZE` threads (top-level comments, oldest first) after a cursor (the last
  id shown): a range of the index (subject_type, subject_id, depth, id), never an OFFSET;
- their replies, in one query on the index (root_id, id): at most `REPLIES_SHOWN` of each
  thread (`root_id IN (…)` for the threads that have no more, a LIMITed range each for those
  that have), the rest on the thread's page.

Each comment comes with its author's name, role and area (joined, not fetched one by one).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from budget.models import Proposal, Round
from consult.models import (
    Clause,
    ClauseText,
    Comment,
    CommentReport,
    Convention,
    ConventionArea,
    ConventionState,
    Deliberation,
    DeliberationPhase,
    Meeting,
    Stance,
    SubjectType,
)
from consult.permissions import can
from consult.rules.comments import Thread, assemble_threads
from consult.services.comment_tally import read_tally
from core.errors import NotFound
from core.i18n import _

PAGE_SIZE = 10  # threads per page (what a page costs grows with what it shows, not the thread)
REPLIES_SHOWN = 3  # replies of a thread shown under it on the subject's page (the rest:
# on the thread's own page), so that a page of threads shows at most 10 × 4 comments
THREAD_PAGE_SIZE = 100  # replies per page on a thread's own page
QUEUE_PAGE_SIZE = 30


@dataclass
class Subject:
    """What a discussion is about. `open`: comments may be added (a deliberation round only
    while collecting or discussing)."""

    type: SubjectType
    id: int
    title: str
    open: bool = True
    # who may post, beyond verified residents and staff (None: all of them), such as only the
    # residents of a convention's areas for its clauses
    admits: Callable[[Any], bool] | None = None


# Subjects whose discussion only some residents join (`Subject.admits`).
AREA_SCOPED = frozenset({SubjectType.CLAUSE, SubjectType.CONSULTATION})


def admits(subject: Subject, user: Any) -> bool:
    """Whether `user` may join this subject's discussion, beyond `consult.permissions.may_post`."""
    return subject.admits is None or subject.admits(user)


async def load_subject(subject_type: str, subject_id: int, using_db: Any = None) -> Subject:
    """The subject, or NotFound: an unknown type, a missing row, or a project or round of an
    imported election (those are studied, not discussed)."""
    try:
        kind = SubjectType(subject_type)
    except ValueError:
        raise NotFound(_("There is no such discussion.")) from None
    missing = NotFound(_("There is no such discussion."))
    match kind:
        case SubjectType.PROPOSAL:
            row = (
                await Proposal.filter(id=subject_id)
                .using_db(using_db)
                .values("title", "round__is_study")
            )
            if not row or row[0]["round__is_study"]:
                raise missing
            return Subject(kind, subject_id, row[0]["title"])
        case SubjectType.ROUND:
            row = await Round.filter(id=subject_id).using_db(using_db).values("title", "is_study")
            if not row or row[0]["is_study"]:
                raise missing
            return Subject(kind, subject_id, row[0]["title"])
        case SubjectType.DELIBERATION:
            deliberation = await Deliberation.get_or_none(id=subject_id).using_db(using_db)
            if deliberation is None:
                raise missing
            return Subject(kind, subject_id, deliberation.title, deliberation.open_for_votes)
        case SubjectType.MEETING:
            row = await Meeting.filter(id=subject_id).using_db(using_db).values("title")
            if not row:
                raise missing
            return Subject(kind, subject_id, row[0]["title"])
        case SubjectType.CONSULTATION | SubjectType.CLAUSE:
            return await _convention_subject(kind, subject_id, using_db)
    raise missing


async def _convention_subject(kind: SubjectType, subject_id: int, using_db: Any) -> Subject:
    """A convention, or one of its clauses (titled by its latest published heading): open
    while in consultation, to the residents of its areas and staff; a draft has none."""
    missing = NotFound(_("There is no such discussion."))
    heading = ""
    convention_id = subject_id
    if kind == SubjectType.CLAUSE:
        clause = await Clause.get_or_none(id=subject_id).using_db(using_db)
        if clause is None:
            raise missing
        convention_id = clause.convention_id
    c = await Convention.get_or_none(id=convention_id).using_db(using_db)
    if c is None or c.state == ConventionState.DRAFT:
        raise missing
    if kind == SubjectType.CLAUSE:
        row = (
            await ClauseText.filter(clause_id=subject_id, version__number__lte=c.version)
            .using_db(using_db)
            .order_by("-version__number")
            .first()
        )
        if row is None:
            raise missing
        heading = row.heading
    c.area_ids = list(
        await ConventionArea.filter(convention_id=c.id)
        .using_db(using_db)
        .values_list("area_id", flat=True)
    )
    title = f"{c.title} · {heading}" if heading else c.title
    return Subject(
        kind,
        subject_id,
        title,
        c.state == ConventionState.CONSULTING,
        admits=lambda user: can(user, "comment_clause", c),
    )


async def subject_is_open(subject_type: str, subject_id: int) -> bool:
    """Whether comments may be added (for the panel, which does not load the subject: the
    page around it did). One small query for a deliberation round, none otherwise."""
    if subject_type in AREA_SCOPED:
        return (await load_subject(subject_type, subject_id)).open
    if subject_type != SubjectType.DELIBERATION:
        return True
    phase = await Deliberation.filter(id=subject_id).values_list("phase", flat=True)
    return bool(phase) and phase[0] in (DeliberationPhase.COLLECTING, DeliberationPhase.DISCUSSING)


async def subject_titles(pairs: set[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """The titles of several subjects, one query per kind of subject."""
    models = {
        SubjectType.PROPOSAL: Proposal,
        SubjectType.ROUND: Round,
        SubjectType.DELIBERATION: Deliberation,
        SubjectType.MEETING: Meeting,
        SubjectType.CONSULTATION: Convention,
    }
    titles = {}
    for kind, model in models.items():
        ids = [i for t, i in pairs if t == kind]
        if ids:
            for row in await model.filter(id__in=ids).values("id", "title"):
                titles[(str(kind), row["id"])] = row["title"]
    clause_ids = [i for t, i in pairs if t == SubjectType.CLAUSE]
    if clause_ids:  # a clause is named by its convention
        for row in await Clause.filter(id__in=clause_ids).values("id", "convention__title"):
            titles[(str(SubjectType.CLAUSE), row["id"])] = row["convention__title"]
    return titles


# --- counts -------------------------------------------------------------------------------


@dataclass
class StanceCounts:
    favour: int = 0
    against: int = 0
    neutral: int = 0

    @property
    def total(self) -> int:
        return self.favour + self.against + self.neutral


async def stance_counts(subject_type: str, subject_id: int) -> StanceCounts:
    """Comments (replies included, hidden ones too) per stance: the subject's tally, one row
    (consult.services.comment_tally keeps it with every comment)."""
    by = await read_tally(subject_type, subject_id)
    return StanceCounts(
        favour=by[Stance.FOR],
        against=by[Stance.AGAINST],
        neutral=by[Stance.NEUTRAL],
    )


# --- pages of threads -----------------------------------------------------------------------

# A comment with its author's name, role and area, joined.
_COMMENT = (
    "SELECT c.*, u.display_name AS author_name, u.role AS author_role,"
    " a.name AS author_area FROM comment c"
    " LEFT JOIN account u ON u.id = c.author_id LEFT JOIN area a ON a.id = u.area_id"
)


@dataclass
class ThreadPage:
    threads: list[Thread]
    after: int | None  # the cursor this page started after (None: the first page)
    next_after: int | None  # the cursor of the next page (None: this is the last)


async def thread_page(
    subject_type: str, subject_id: int, after: int | None = None, size: int = PAGE_SIZE
) -> ThreadPage:
    """The threads after the cursor `after` (a top-level comment's id), oldest first, each
    with its first replies: two queries (one when no thread has a reply)."""
    roots = await _comments(
        _COMMENT + " WHERE c.subject_type = {} AND c.subject_id = {} AND c.depth = 0"
        " AND c.id > {} ORDER BY c.id LIMIT {}",
        [str(subject_type), subject_id, after or 0, size + 1],
    )
    more = len(roots) > size
    roots = roots[:size]
    replies = await first_replies(roots)
    return ThreadPage(
        threads=assemble_threads(roots, replies),
        after=after,
        next_after=roots[-1].id if more else None,
    )


async def first_replies(roots: Sequence[Comment], limit: int = REPLIES_SHOWN) -> list[Comment]:
    """The first `limit` replies (in id order) of each thread, in one query: `root_id IN
    (…)` for threads with no more than that (their `reply_count` says), and a LIMITed range
    of the index (root_id, id) for each longer one, so a thread of 10,000 replies costs what
    one of 10 does."""
    short = [r.id for r in roots if 0 < r.reply_count <= limit]
    long = [r.id for r in roots if r.reply_count > limit]
    if not short and not long:
        return []
    parts, values = [], []
    if short:
        marks = ", ".join(["{}"] * len(short))
        parts.append(f"SELECT id FROM comment WHERE root_id IN ({marks})")
        values += short
    for n, root_id in enumerate(long):
        parts.append(
            f"SELECT id FROM (SELECT id FROM comment WHERE root_id = {{}}"
            f" ORDER BY id LIMIT {{}}) t{n}"
        )
        values += [root_id, limit]
    ids = " UNION ALL ".join(parts)
    return await _comments(_COMMENT + f" WHERE c.id IN ({ids}) ORDER BY c.id", values)


async def cursor_showing(subject_type: str, subject_id: int, root_id: int) -> int | None:
    """A cursor whose page ends with the thread `root_id` (None: the first page shows it),
    for sending someone back to the comment they just posted: at most `PAGE_SIZE` entries
    of the index read backwards from it."""
    rows = await _select(
        "SELECT id FROM comment WHERE subject_type = {} AND subject_id = {} AND depth = 0"
        " AND id < {} ORDER BY id DESC LIMIT 1 OFFSET {}",
        [str(subject_type), subject_id, root_id, PAGE_SIZE - 1],
    )
    return rows[0]["id"] if rows else None


@dataclass
class Place:
    """Where a comment is shown: on its subject's page after the cursor `after` (None: the
    first page), or, a reply too far down a long thread, on the thread's page after the
    cursor `after`."""

    on_subject_page: bool
    root_id: int
    after: int | None


async def place_of(comment: Comment) -> Place:
    """Where to send someone to see `comment` (after posting it, say): two small queries,
    each bounded by a page's size, whatever the size of the discussion."""
    root_id = comment.root_id or comment.id
    if comment.depth > 0:
        earlier = await _select(
            "SELECT COUNT(*) AS n FROM (SELECT id FROM comment WHERE root_id = {}"
            " AND id < {} ORDER BY id LIMIT {}) t",
            [root_id, comment.id, REPLIES_SHOWN],
        )
        if earlier[0]["n"] >= REPLIES_SHOWN:
            return Place(False, root_id, comment.id - 1)
    after = await cursor_showing(comment.subject_type, comment.subject_id, root_id)
    return Place(True, root_id, after)


@dataclass
class ThreadView:
    """One thread on its own page: the top-level comment and a page of its replies."""

    subject: Subject
    thread: Thread
    after: int | None
    next_after: int | None


async def thread_view(root_id: int, after: int | None = None) -> ThreadView:
    """A thread with its replies after the cursor `after` (a reply's id), `THREAD_PAGE_SIZE`
    at a time: a range of the index (root_id, id)."""
    found = await _comments(_COMMENT + " WHERE c.id = {} AND c.depth = 0", [root_id])
    if not found:
        raise NotFound(_("This comment does not exist."))
    root = found[0]
    subject = await load_subject(root.subject_type, root.subject_id)
    replies = await _comments(
        _COMMENT + " WHERE c.root_id = {} AND c.id > {} ORDER BY c.id LIMIT {}",
        [root.id, after or 0, THREAD_PAGE_SIZE + 1],
    )
    more = len(replies) > THREAD_PAGE_SIZE
    replies = replies[:THREAD_PAGE_SIZE]
    (thread,) = assemble_threads([root], replies)
    thread.more = 0
    return ThreadView(
        subject=subject,
        thread=thread,
        after=after,
        next_after=replies[-1].id if more else None,
    )


async def comment_with_author(comment_id: int) -> Comment:
    """One comment with its author's name, role and area (NotFound if missing)."""
    found = await _comments(_COMMENT + " WHERE c.id = {}", [comment_id])
    if not found:
        raise NotFound(_("This comment does not exist."))
    return found[0]


# --- the council's queue --------------------------------------------------------------------


@dataclass
class ReportedComment:
    comment: Comment
    subject_title: str
    reports: list[CommentReport]


async def reported_comments(page: int = 1) -> tuple[list[ReportedComment], bool]:
    """Comments reported and not yet hidden or kept, most reported first (then oldest), a
    page at a time; and whether there are more. The queue is short (the council empties
    it): numbered pages."""
    offset = (max(1, page) - 1) * QUEUE_PAGE_SIZE
    comments = await _comments(
        _COMMENT + " WHERE c.report_count > 0 AND c.hidden_reason = ''"
        " ORDER BY c.report_count DESC, c.id LIMIT {} OFFSET {}",
        [QUEUE_PAGE_SIZE + 1, offset],
    )
    more = len(comments) > QUEUE_PAGE_SIZE
    comments = comments[:QUEUE_PAGE_SIZE]
    ids = [c.id for c in comments]
    reports: dict[int, list[CommentReport]] = {i: [] for i in ids}
    if ids:
        for report in await CommentReport.filter(comment_id__in=ids).select_related("reporter"):
            reports[report.comment_id].append(report)
    titles = await subject_titles({(str(c.subject_type), c.subject_id) for c in comments})
    return [
        ReportedComment(c, titles.get((str(c.subject_type), c.subject_id), ""), reports[c.id])
        for c in comments
    ], more


# --- plain SQL --------------------------------------------------------------------------------


async def _select(sql: str, values: list[Any]) -> list[Any]:
    """Run `sql` whose `{}` marks are the values' places, on the default connection."""
    conn = connections.get("default")
    _n, rows = await conn.execute_query(_placeholders(conn, sql), values)
    return rows


_TIMES = ("created_at", "edited_at", "hidden_at")


async def _comments(sql: str, values: list[Any]) -> list[Comment]:
    """Comments from a SELECT of `_COMMENT`, with `author_name`, `author_role` and
    `author_area` set on each."""
    comments = []
    for row in await _select(sql, values):
        row = dict(row)
        for key in _TIMES:
            if isinstance(row[key], str):  # SQLite: parsed here, 10 times faster than Tortoise
                row[key] = datetime.fromisoformat(row[key])
        comment = Comment._init_from_db(**row)
        comment.author_name = row["author_name"]
        comment.author_role = row["author_role"]
        comment.author_area = row["author_area"]
        comments.append(comment)
    return comments


def _placeholders(conn: Any, sql: str) -> str:
    if conn.capabilities.dialect == "sqlite":
        return sql.replace("{}", "?")
    parts = sql.split("{}")
    return "".join(part + (f"${i}" if i < len(parts) else "") for i, part in enumerate(parts, 1))
