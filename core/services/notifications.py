"""Following subjects and being told what changed on them.

A user follows a subject (named as comments name it: a type such as "proposal", "round",
"need", "consultation", and an id); their own proposals, needs and comments' subjects are
followed for them by the service that creates them. A service that changes a subject calls
`notify_followers` (or `notify_users`, for someone who is told whatever they follow, such as
the author of a comment that got a reply) **inside its own transaction** (`using_db`): the
notifications are written with the change or not at all, so none is lost or sent twice.

A notification keeps a `kind` (its message is in `MESSAGES`, translated when shown, so each
reader sees their own language), its parameters and a link. Parameters that are themselves
translatable (a phase's label) are stored as their message id and translated when shown.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise import connections
from tortoise.transactions import in_transaction

from core.audit import record
from core.errors import NotFound
from core.i18n import _
from core.i18n import lazy_gettext as _l
from core.models import Follow, Notification, User

# What each kind of notification says. {title} names the subject; other parameters are
# given by the service that sends it.
MESSAGES: dict[str, Any] = {
    "comment_reply": _l("{name} replied to your comment on “{title}”"),
    "comment_posted": _l("New comment on “{title}”"),
    "phase_changed": _l("“{title}” moved to a new phase: {phase}"),
    "minutes_published": _l("Minutes of “{title}” were published"),
    "procurement_delivered": _l("“{title}” was delivered"),
    "need_answered": _l("Your need {number} was answered: {answer}"),
    "need_resolved": _l("Your need {number} was resolved"),
    "consultation_revised": _l("A revised version of “{title}” was published"),
    "consultation_ratification": _l("“{title}” is open for ratification"),
    "consultation_closed": _l("The ratification of “{title}” closed: {outcome}"),
    "questionnaire_opened": _l("A new questionnaire: “{title}”"),
    "decision_published": _l("The council published its decision on “{title}”"),
    "proposal_reviewed": _l("The council reviewed “{title}”: {verdict}"),
    "proposal_merged": _l("“{title}” was merged into “{into}”"),
}

TITLE_LENGTH = 120  # a subject's title is kept this long in a notification

PAGE_SIZE = 20


def stored_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """Parameters as stored: plain text, or {"msgid": …} for a lazily translated label."""
    stored: dict[str, Any] = {}
    for key, value in (params or {}).items():
        msgid = getattr(value, "msgid", None)
        if msgid is not None:
            stored[key] = {"msgid": msgid}
        elif key == "title":
            stored[key] = str(value)[:TITLE_LENGTH]
        else:
            stored[key] = str(value)
    return stored


def message(notification: Notification) -> str:
    """What the notification says, in the current language."""
    params = {
        key: (_(value["msgid"]) if isinstance(value, dict) else value)
        for key, value in (notification.params or {}).items()
    }
    template = MESSAGES.get(notification.kind)
    if template is None:  # a kind since retired: say something rather than fail
        return params.get("title", "")
    text = str(template)
    try:
        return text.format(**params)
    except (KeyError, IndexError):
        return text


async def follow(user_id: int, subject_type: str, subject_id: int, *, using_db: Any = None) -> None:
    """Follow a subject (nothing happens if already followed; safe under concurrency)."""
    await Follow.bulk_create(
        [Follow(user_id=user_id, subject_type=str(subject_type), subject_id=subject_id)],
        ignore_conflicts=True,
        using_db=using_db,
    )


async def unfollow(
    user_id: int, subject_type: str, subject_id: int, *, using_db: Any = None
) -> None:
    """Stop following a subject (nothing happens if not followed)."""
    await (
        Follow.filter(user_id=user_id, subject_type=str(subject_type), subject_id=subject_id)
        .using_db(using_db or connections.get("default"))
        .delete()
    )


async def is_following(user_id: int | None, subject_type: str, subject_id: int) -> bool:
    if user_id is None:
        return False
    return await Follow.filter(
        user_id=user_id, subject_type=str(subject_type), subject_id=subject_id
    ).exists()


async def followers(subject_type: str, subject_id: int, *, using_db: Any = None) -> list[int]:
    """The ids of the users following a subject."""
    query = Follow.filter(subject_type=str(subject_type), subject_id=subject_id)
    if using_db is not None:
        query = query.using_db(using_db)
    return list(await query.values_list("user_id", flat=True))


async def notify_users(
    user_ids: Iterable[int],
    kind: str,
    *,
    subject_type: str,
    subject_id: int,
    url: str,
    params: Mapping[str, Any] | None = None,
    using_db: Any,
) -> int:
    """Tell each of `user_ids` (once each) that `kind` happened; in the caller's transaction."""
    if kind not in MESSAGES:
        raise ValueError(f"unknown notification kind: {kind}")
    now = datetime.now(UTC)
    stored = stored_params(params)
    rows = [
        Notification(
            user_id=user_id,
            kind=kind,
            subject_type=str(subject_type),
            subject_id=subject_id,
            params=stored,
            url=url[:300],
            created_at=now,
        )
        for user_id in sorted(set(user_ids))
    ]
    if rows:
        await Notification.bulk_create(rows, using_db=using_db)
    return len(rows)


async def notify_followers(
    subject_type: str,
    subject_id: int,
    kind: str,
    *,
    url: str,
    params: Mapping[str, Any] | None = None,
    skip: Iterable[int | None] = (),
    using_db: Any,
) -> int:
    """Tell everyone following the subject, except `skip` (who made the change), that `kind`
    happened; in the caller's transaction. Returns how many were told."""
    skipped = {user_id for user_id in skip if user_id is not None}
    ids = [
        user_id
        for user_id in await followers(subject_type, subject_id, using_db=using_db)
        if user_id not in skipped
    ]
    return await notify_users(
        ids,
        kind,
        subject_type=subject_type,
        subject_id=subject_id,
        url=url,
        params=params,
        using_db=using_db,
    )


async def unread_count(user_id: int) -> int:
    """How many notifications the user has not seen (the header's badge): one indexed count."""
    return await Notification.filter(user_id=user_id, read_at__isnull=True).count()


async def list_notifications(
    user_id: int, *, before: int | None = None, limit: int = PAGE_SIZE
) -> list[Notification]:
    """The user's notifications, newest first, a page at a time (`before`: an id cursor)."""
    query = Notification.filter(user_id=user_id)
    if before is not None:
        query = query.filter(id__lt=before)
    return list(await query.order_by("-id").limit(limit))


async def mark_read(user_id: int, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read: those of `ids`, or all. Returns how many changed."""
    query = Notification.filter(user_id=user_id, read_at__isnull=True)
    if ids is not None:
        query = query.filter(id__in=list(ids))
    return await query.update(read_at=datetime.now(UTC))


# --- what a user does on their own list ----------------------------------------------------


async def set_following(user: User, subject_type: str, subject_id: int, following: bool) -> None:
    """A user follows a subject or stops (the route checked the subject exists and may be
    followed). Idempotent: a double click leaves one row or none. Audited, not public."""
    async with in_transaction() as conn:
        if following:
            await follow(user.id, subject_type, subject_id, using_db=conn)
        else:
            await unfollow(user.id, subject_type, subject_id, using_db=conn)
        await record(
            user,
            "follow.started" if following else "follow.stopped",
            using_db=conn,
            on=str(subject_type),
            on_id=subject_id,
        )


def is_local_url(url: str) -> bool:
    """Whether a stored link is a path of this site (never another site's, even written as
    "//host", "/\\host" or with control characters that browsers drop)."""
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and url.isprintable()
        and " " not in url
    )


async def open_notification(user_id: int, notification_id: int) -> str:
    """Mark one of the user's notifications read and give the (local) address it links to;
    NotFound for anyone else's. A stored link that is not a path of this site leads to the
    list instead (the caller's default, answered as "")."""
    found = await Notification.filter(id=notification_id, user_id=user_id).values_list(
        "url", flat=True
    )
    if not found:
        raise NotFound(_("This notification does not exist."))
    await mark_read(user_id, [notification_id])
    return found[0] if is_local_url(found[0]) else ""
