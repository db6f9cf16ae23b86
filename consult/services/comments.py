"""Discussion: post a comment on a subject, reply, edit within 15 minutes, report, and the
council's hiding (with a public reason) and dismissal of reports. Each one transaction with
its audit entry.

Verified residents and staff post (`consult.permissions`); the public reads. A comment is a
stance (in favour, against, neutral) and a text of at most 2,000 characters, cleaned of
control characters (`consult.rules.comments`). Replies go two levels deep, never to a hidden
comment. Each user posts at most `RATE_LIMIT` comments (replies included) a minute: the count
is made in the posting transaction under a lock on the author's account row, so it holds
across worker processes and between simultaneous posts.

A comment's `reply_count` counts the replies below it in its thread: on a top-level comment
every reply of the thread, on a reply its own replies. `report_count` counts its reports
since the council last looked (dismissing reports sets it back to 0; the reports stay).

Audit: posting is public (the comment is, with its author's name); an edit, a hiding and the
dismissal of reports keep the resident's former text or name the reporters, so they are not;
a report names its reporter and is not public either.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from consult.models import MAX_DEPTH, Comment, CommentReport, Deliberation, Stance, SubjectType
from consult.permissions import EDIT_WINDOW, can, may_post
from consult.rules.comments import MAX_BODY, MAX_REASON, clean_body, clean_line
from consult.services.comment_tally import count_stance
from consult.services.discussion import AREA_SCOPED, admits, load_subject
from consult.services.notices import commented
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationError
from core.i18n import _
from core.models import User
from core.permissions import is_staff

RATE_LIMIT = 10  # comments (replies included) per user …
RATE_WINDOW = timedelta(seconds=60)  # … in this long


def parse_comment(form: Mapping[str, Any], errors: dict[str, str]) -> tuple[str, Stance | None]:
    """The cleaned text and the stance of a comment form; messages for bad fields in `errors`."""
    body = clean_body(form.get("body"))
    if not body:
        errors["body"] = _("Write your comment.")
    elif len(body) > MAX_BODY:
        errors["body"] = _(
            "A comment has at most {n} characters; this one has {count}.",
            n=MAX_BODY,
            count=len(body),
        )
    try:
        stance = Stance(str(form.get("stance") or ""))
    except ValueError:
        errors["stance"] = _("Choose in favour, against or neutral.")
        stance = None
    return body, stance


def posting_refusal(user: User | None) -> str:
    if user is None:
        return _("Please sign in first.")
    return _("Only verified residents and council members take part in discussions.")


def closed_refusal(subject_type: str | None = None) -> str:
    if subject_type in AREA_SCOPED:
        return _(
            "This convention is no longer in consultation: its discussion can be read but "
            "not added to."
        )
    return _("This deliberation round is closed: its discussion can be read but not added to.")


def outside_refusal() -> str:
    return _(
        "Only residents of the areas this convention concerns, and council members, comment on it."
    )


async def _check_scoped(conn: Any, user: User | None, subject_type: str, subject_id: int) -> None:
    """A reply or an edit on a subject only some residents discuss (a convention's clause):
    403 when it is closed or the user is not one of them."""
    if subject_type in AREA_SCOPED:
        subject = await load_subject(subject_type, subject_id, using_db=conn)
        if not subject.open:
            raise PermissionDenied(closed_refusal(subject_type))
        if not admits(subject, user):
            raise PermissionDenied(outside_refusal())


async def post_comment(
    user: User | None, subject_type: str, subject_id: int, form: Mapping[str, Any]
) -> Comment:
    """A top-level comment on a subject (404 if it does not exist, 403 on a deliberation
    round no longer open, 429 past the rate limit); one transaction."""
    errors: dict[str, str] = {}
    body, stance = parse_comment(form, errors)
    async with in_transaction() as conn:
        subject = await load_subject(subject_type, subject_id, using_db=conn)
        if not can(user, "comment"):
            raise PermissionDenied(posting_refusal(user))
        if not subject.open:
            raise PermissionDenied(closed_refusal(subject.type))
        if not admits(subject, user):
            raise PermissionDenied(outside_refusal())
        if errors:
            raise ValidationError(errors=errors)
        await _within_rate_limit(conn, user)
        comment = await Comment.create(
            subject_type=subject.type,
            subject_id=subject.id,
            depth=0,
            author_id=user.id,
            stance=stance,
            body=body,
            using_db=conn,
        )
        await count_stance(conn, subject.type, subject.id, stance)
        await commented(conn, comment)  # its author follows the subject from now on
        await record(
            user,
            "comment.posted",
            comment,
            using_db=conn,
            public=True,
            on=str(subject.type),
            on_id=subject.id,
            stance=str(stance),
        )
    return comment


async def reply_to_comment(user: User | None, parent_id: int, form: Mapping[str, Any]) -> Comment:
    """A reply to a comment, at most two levels deep and never to a hidden comment (422 with
    the text kept); one transaction. The parent's row is locked, so a council member hiding
    it at the same moment either comes first (the reply is refused) or after."""
    errors: dict[str, str] = {}
    body, stance = parse_comment(form, errors)
    async with in_transaction() as conn:
        found = await lock_rows(conn, Comment, [parent_id])
        if not found:
            raise NotFound(_("This comment does not exist."))
        parent = found[0]
        if not may_post(user):
            raise PermissionDenied(posting_refusal(user))
        if parent.subject_type == SubjectType.DELIBERATION:
            deliberation = await Deliberation.get_or_none(id=parent.subject_id).using_db(conn)
            if deliberation is None or not deliberation.open_for_votes:
                raise PermissionDenied(closed_refusal())
        await _check_scoped(conn, user, parent.subject_type, parent.subject_id)
        if not can(user, "reply", parent):
            errors["body"] = reply_refusal(parent)
        if errors:
            raise ValidationError(errors=errors)
        await _within_rate_limit(conn, user)
        root_id = parent.root_id or parent.id
        comment = await Comment.create(
            subject_type=parent.subject_type,
            subject_id=parent.subject_id,
            parent_id=parent.id,
            root_id=root_id,
            depth=parent.depth + 1,
            author_id=user.id,
            stance=stance,
            body=body,
            using_db=conn,
        )
        await (
            Comment.filter(id__in={parent.id, root_id})
            .using_db(conn)
            .update(reply_count=F("reply_count") + 1)
        )
        await count_stance(conn, parent.subject_type, parent.subject_id, stance)
        await commented(conn, comment, parent)  # and the parent's author is told
        await record(
            user,
            "comment.posted",
            comment,
            using_db=conn,
            public=True,
            on=str(parent.subject_type),
            on_id=parent.subject_id,
            parent=parent.id,
            stance=str(stance),
        )
    return comment


def reply_refusal(parent: Comment) -> str:
    """Why nobody may reply to `parent` (a refusal of the input: 422, the text kept)."""
    if parent.hidden:
        return _("The council hid this comment: it cannot be replied to.")
    if parent.depth >= MAX_DEPTH:
        return _("Replies go two levels deep: reply to the comment this one answers instead.")
    return _("You cannot reply to this comment.")


async def _within_rate_limit(conn: Any, user: User) -> None:
    """Refuse a comment past `RATE_LIMIT` in `RATE_WINDOW`. The author's account row is locked
    for the rest of the transaction, so two simultaneous posts count one after the other
    (each worker process sees the same rows: the limit lives in the database)."""
    await lock_rows(conn, User, [user.id])
    since = datetime.now(UTC) - RATE_WINDOW
    recent = await Comment.filter(author_id=user.id, created_at__gte=since).using_db(conn).count()
    if recent >= RATE_LIMIT:
        raise RateLimited(
            _(
                "You have posted {n} comments in the last minute, the most there can be. "
                "Please wait a minute, then post again: your text is kept below.",
                n=recent,
            )
        )


def edit_refusal(user: User | None, comment: Comment) -> str:
    if user is None or comment.author_id != user.id:
        return _("Only its author can edit a comment.")
    if comment.hidden:
        return _("The council hid this comment: it can no longer be edited.")
    return _(
        "A comment can be edited for {minutes} minutes after it is posted; that time is over.",
        minutes=int(EDIT_WINDOW.total_seconds() // 60),
    )


async def edit_comment(user: User | None, comment_id: int, form: Mapping[str, Any]) -> Comment:
    """Its author changes a comment's text or stance within 15 minutes of posting it (shown
    as edited); the former text stays in the audit log. One transaction."""
    errors: dict[str, str] = {}
    body, stance = parse_comment(form, errors)
    async with in_transaction() as conn:
        comment = await _locked(conn, comment_id)
        now = datetime.now(UTC)
        if not can(user, "edit_comment", comment, now):
            raise PermissionDenied(edit_refusal(user, comment))
        if comment.subject_type == SubjectType.DELIBERATION:  # as posting and replying
            deliberation = await Deliberation.get_or_none(id=comment.subject_id).using_db(conn)
            if deliberation is None or not deliberation.open_for_votes:
                raise PermissionDenied(closed_refusal())
        await _check_scoped(conn, user, comment.subject_type, comment.subject_id)
        if errors:
            raise ValidationError(errors=errors)
        if (body, stance) == (comment.body, comment.stance):
            return comment  # nothing changed: not marked as edited
        old_body, old_stance = comment.body, comment.stance
        comment.body, comment.stance, comment.edited_at = body, stance, now
        await comment.save(using_db=conn, update_fields=["body", "stance", "edited_at"])
        if stance != old_stance:
            await count_stance(conn, comment.subject_type, comment.subject_id, old_stance, -1)
            await count_stance(conn, comment.subject_type, comment.subject_id, stance)
        await record(
            user,
            "comment.edited",
            comment,
            using_db=conn,
            public=False,  # it keeps the former text
            old_body=old_body,
            old_stance=str(old_stance),
            stance=str(stance),
        )
    return comment


def report_refusal(user: User | None, comment: Comment) -> str:
    if not may_post(user):
        return _("Only verified residents and council members report comments.")
    if comment.author_id == user.id:
        return _("This is your own comment: you can edit it, not report it.")
    return _("The council has already hidden this comment.")


async def report_comment(
    user: User | None, comment_id: int, form: Mapping[str, Any]
) -> CommentReport:
    """A resident reports a comment to the council, once (409 the second time: the database
    keeps one report per resident and comment, however many arrive at once)."""
    errors: dict[str, str] = {}
    reason = clean_line(form.get("reason"))
    if len(reason) > MAX_REASON:
        errors["reason"] = _("At most {n} characters.", n=MAX_REASON)
    async with in_transaction() as conn:
        comment = await Comment.get_or_none(id=comment_id).using_db(conn)
        if comment is None:
            raise NotFound(_("This comment does not exist."))
        if not can(user, "report_comment", comment):
            raise PermissionDenied(report_refusal(user, comment))
        if errors:
            raise ValidationError(errors=errors)
        already = _("You have already reported this comment; the council will look at it.")
        mine = CommentReport.filter(comment_id=comment.id, reporter_id=user.id)
        if await mine.using_db(conn).exists():
            raise Conflict(already)
        try:
            report = await CommentReport.create(
                comment_id=comment.id, reporter_id=user.id, reason=reason, using_db=conn
            )
        except IntegrityError:  # the same resident's other request came first
            raise Conflict(already) from None
        await (
            Comment.filter(id=comment.id).using_db(conn).update(report_count=F("report_count") + 1)
        )
        await record(
            user,
            "comment.reported",
            comment,
            using_db=conn,
            public=False,  # it names the reporter
            reason=reason or None,
        )
    return report


async def hide_comment(user: User | None, comment_id: int, form: Mapping[str, Any]) -> Comment:
    """A council member hides a comment with a reason shown in its place ("Hidden by the
    council: …"); its text is emptied and kept only in the (non-public) audit log. Its
    replies stay. One transaction."""
    errors: dict[str, str] = {}
    reason = clean_line(form.get("reason"))
    if not reason:
        errors["reason"] = _("Give the reason residents will read in place of the comment.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("At most {n} characters.", n=MAX_REASON)
    async with in_transaction() as conn:
        comment = await _locked(conn, comment_id)
        if not can(user, "hide_comment", comment):
            if is_staff(user) and comment.hidden:
                raise Conflict(_("This comment is already hidden."))
            raise PermissionDenied(_("Only council members hide comments."))
        if errors:
            raise ValidationError(errors=errors)
        original = comment.body
        comment.body = ""
        comment.hidden_reason = reason
        comment.hidden_at = datetime.now(UTC)
        comment.hidden_by_id = user.id
        await comment.save(
            using_db=conn, update_fields=["body", "hidden_reason", "hidden_at", "hidden_by_id"]
        )
        await record(
            user,
            "comment.hidden",
            comment,
            using_db=conn,
            public=False,  # the original text stays out of public view
            reason=reason,
            author=comment.author_id,
            original_body=original,
            reports=comment.report_count,
        )
    return comment


async def dismiss_reports(user: User | None, comment_id: int) -> Comment:
    """A council member keeps a reported comment: it leaves the queue (its reports stay, and
    a report from someone else brings it back)."""
    async with in_transaction() as conn:
        comment = await _locked(conn, comment_id)
        if not can(user, "dismiss_reports", comment):
            if is_staff(user):
                raise Conflict(_("This comment is no longer waiting for the council."))
            raise PermissionDenied(_("Only council members look at reported comments."))
        dismissed = comment.report_count
        comment.report_count = 0
        await comment.save(using_db=conn, update_fields=["report_count"])
        await record(user, "comment.reports_dismissed", comment, using_db=conn, reports=dismissed)
    return comment


async def _locked(conn: Any, comment_id: int) -> Comment:
    found = await lock_rows(conn, Comment, [comment_id])
    if not found:
        raise NotFound(_("This comment does not exist."))
    return found[0]
