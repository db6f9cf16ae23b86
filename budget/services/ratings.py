"""Residents' ratings of what was delivered, and the council's moderation of their comments.

A verified resident of a procurement's area (any verified resident for a district-wide one)
rates it 1–5, with an optional comment, once it is delivered; one rating each (the database
refuses a second), which its author may change for `CHANGE_WINDOW` after first rating, then
not. A council member hides a comment with a public reason: the text leaves the rating (and
every page), and stays only in the audit log, which the public never reads.

Ratings are published without names. Their audit entries name the resident (the council may
need to know who wrote what) and are therefore never public.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from budget.models import Procurement, ProcurementStatus, Rating
from budget.permissions import can, is_voter
from core.audit import record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import parse_int, text
from core.i18n import _
from core.models import User

CHANGE_WINDOW = timedelta(days=30)
MAX_COMMENT = 2000
MAX_REASON = 200  # Rating.hidden_reason


def can_still_change(rating: Rating, now: datetime | None = None) -> bool:
    """Whether the author may still change `rating` (within 30 days of first rating)."""
    now = now or datetime.now(UTC)
    return now - rating.created_at <= CHANGE_WINDOW


def change_deadline(rating: Rating) -> datetime:
    return rating.created_at + CHANGE_WINDOW


def rate_refusal(user: User | None, procurement: Procurement) -> str:
    """Why `user` may not rate `procurement` (for the 403 and the page)."""
    if not is_voter(user):
        return _("Only verified residents rate what was delivered.")
    if procurement.status not in (ProcurementStatus.DELIVERED, ProcurementStatus.CLOSED):
        return _("Residents rate a project once it is delivered.")
    return _("Only residents of the project's area rate it.")


def parse_rating(form: Mapping[str, Any], errors: dict[str, str]) -> tuple[int | None, str]:
    score = parse_int(form.get("score"), "score", errors, minimum=1, maximum=5)
    if "score" in errors:
        errors["score"] = _("Choose a score from 1 to 5.")
    comment = text(form.get("comment"), "comment", errors, required=False, max_length=MAX_COMMENT)
    return score, comment


async def own_rating(user: User | None, procurement_id: int) -> Rating | None:
    if user is None:
        return None
    return await Rating.get_or_none(procurement_id=procurement_id, user_id=user.id)


async def rate(user: User | None, procurement_id: int, form: Mapping[str, Any]) -> Rating:
    """Rate a delivered procurement, or change one's rating within 30 days; one transaction.
    Two submissions at once by the same resident: the database keeps one row, the second
    becomes a change of it."""
    try:
        return await _rate(user, procurement_id, form)
    except IntegrityError:
        # the same resident's other request created the row first: change it instead
        return await _rate(user, procurement_id, form)


async def _rate(user: User | None, procurement_id: int, form: Mapping[str, Any]) -> Rating:
    errors: dict[str, str] = {}
    score, comment = parse_rating(form, errors)
    async with in_transaction() as conn:
        procurement = await Procurement.get_or_none(id=procurement_id).using_db(conn)
        if procurement is None:
            raise NotFound(_("This procurement does not exist."))
        if not can(user, "rate", procurement):
            raise PermissionDenied(rate_refusal(user, procurement))
        rating = (
            await Rating.filter(procurement_id=procurement.id, user_id=user.id)
            .using_db(conn)
            .select_for_update()
            .first()
        )
        if rating is not None and not can_still_change(rating):
            raise PermissionDenied(
                _("A rating can be changed for 30 days after it is first given; that time is over.")
            )
        if rating is not None and rating.hidden_reason and comment:
            errors["comment"] = _(
                "The council hid your comment; you can still change your score, without a comment."
            )
        if errors:
            raise ValidationError(errors=errors)
        if rating is None:
            rating = await Rating.create(
                procurement_id=procurement.id,
                user_id=user.id,
                score=score,
                comment=comment,
                using_db=conn,
            )
            action = "rating.given"
        else:
            old_score = rating.score
            rating.score = score
            if not rating.hidden_reason:
                rating.comment = comment
            await rating.save(using_db=conn)
            action = "rating.changed"
        await record(
            user,
            action,
            procurement,
            using_db=conn,
            public=False,  # it names the resident
            rating=rating.id,
            score=score,
            old_score=old_score if action == "rating.changed" else None,
        )
    return rating


async def hide_comment(user: User | None, rating_id: int, form: Mapping[str, Any]) -> Rating:
    """A council member hides a rating's comment with a reason shown in its place; the
    original text is kept in the (non-public) audit log only. One transaction."""
    errors: dict[str, str] = {}
    reason = text(form.get("reason"), "reason", errors, max_length=MAX_REASON)
    async with in_transaction() as conn:
        rating = await Rating.filter(id=rating_id).using_db(conn).select_for_update().first()
        if rating is None:
            raise NotFound(_("This rating does not exist."))
        if not can(user, "moderate_rating", rating):
            raise PermissionDenied(_("Only council members hide comments."))
        if rating.hidden_reason:
            raise Conflict(_("This comment is already hidden."))
        if not rating.comment:
            raise Conflict(_("This rating has no comment to hide."))
        if errors:
            raise ValidationError(errors=errors)
        original = rating.comment
        rating.comment = ""
        rating.hidden_reason = reason
        await rating.save(using_db=conn)
        procurement = await Procurement.get(id=rating.procurement_id).using_db(conn)
        await record(
            user,
            "rating.hidden",
            procurement,
            using_db=conn,
            public=False,  # the original text stays out of public view
            rating=rating.id,
            reason=reason,
            original_comment=original,
        )
    return rating


async def procurement_of_rating(rating_id: int) -> int:
    ids = await Rating.filter(id=rating_id).values_list("procurement_id", flat=True)
    if not ids:
        raise NotFound(_("This rating does not exist."))
    return ids[0]
