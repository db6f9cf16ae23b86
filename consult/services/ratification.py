"""The ratification vote of a convention, a secret ballot: a resident (or, in household mode,
the first member of their household to vote) says yes, no or abstain, once.

The vote adds one to the convention's count of that choice and writes a `RatificationVoter`
row naming who (or which household) has voted, in one transaction under the convention's row
lock. Nothing records which way anyone voted: not the voter row, not the audit entry, not the
counts. The database keeps one voter row per resident and per household (unique constraints),
so simultaneous votes leave one; a second vote is refused (409) and writes nothing.

Households are those recorded with invitation codes (`core.models.Invitation.household` of the
code the resident used); a resident without one is a household of their own.
"""

from __future__ import annotations

from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from consult.models import (
    Convention,
    ConventionState,
    RatificationChoice,
    RatificationVoter,
    SubjectType,
    VotingUnit,
)
from consult.permissions import can, takes_part
from consult.rules.ratification import Outcome, ratification_outcome
from consult.services.conventions import get_convention
from core.audit import record
from core.errors import Conflict, PermissionDenied, ValidationError
from core.i18n import _, local_today
from core.models import Invitation, Role, User
from core.permissions import is_verified_resident
from core.services.notifications import follow

COUNT_COLUMN = {
    RatificationChoice.YES: "yes_votes",
    RatificationChoice.NO: "no_votes",
    RatificationChoice.ABSTAIN: "abstentions",
}


def _household(area_id: int, household: str) -> str:
    return f"h:{area_id}:{household.strip()}"[:160]


async def ballot_key(user: User, unit: str, conn: Any = None) -> str:
    """Whom the user's vote stands for: themselves, or their household (the first invitation
    with a household that they used)."""
    if unit == VotingUnit.HOUSEHOLD:
        invitation = (
            await Invitation.filter(used_by_id=user.id)
            .exclude(household="")
            .using_db(conn)
            .order_by("id")
            .first()
        )
        if invitation is not None and invitation.household.strip():
            return _household(invitation.area_id, invitation.household)
    return f"u:{user.id}"


def _residents(c: Convention) -> Any:
    qs = User.filter(
        is_active=True,
        verified=True,
        role__in=[Role.RESIDENT, Role.GRID_WORKER],
        area_id__isnull=False,
    )
    if c.area_ids:
        qs = qs.filter(area_id__in=c.area_ids)
    return qs


async def eligible_count(c: Convention, conn: Any = None) -> int:
    """Verified residents of the areas, or their distinct households in household mode.
    `c.area_ids` must be loaded. One count, or two queries in household mode."""
    residents = _residents(c).using_db(conn)
    if c.voting_unit != VotingUnit.HOUSEHOLD:
        return await residents.count()
    ids = set(await residents.values_list("id", flat=True))
    households: dict[int, str] = {}
    invitations = Invitation.filter(used_by_id__isnull=False).exclude(household="")
    if c.area_ids:
        invitations = invitations.filter(used_by__area_id__in=c.area_ids)
    rows = (
        await invitations.using_db(conn)
        .order_by("-id")  # the first one a resident used wins: written last below
        .values_list("used_by_id", "area_id", "household")
    )
    for user_id, area_id, household in rows:
        if user_id in ids and household.strip():
            households[user_id] = _household(area_id, household)
    return len({households.get(i, f"u:{i}") for i in ids})


def outcome_of(c: Convention, eligible: int) -> Outcome:
    return ratification_outcome(
        eligible, c.yes_votes, c.no_votes, c.abstentions, c.turnout_percent, str(c.majority)
    )


async def current_outcome(c: Convention) -> Outcome:
    """The figures: frozen at close, else counted now (the eligible may still change)."""
    eligible = c.eligible if c.eligible is not None else await eligible_count(c)
    return outcome_of(c, eligible)


def vote_refusal(c: Convention, user: User | None) -> str:
    if c.state != ConventionState.RATIFYING:
        return _("This convention is not open for ratification.")
    if user is None:
        return _("Please sign in first.")
    if not is_verified_resident(user):
        return _("Only verified residents vote on a convention.")
    if not takes_part(c, user):
        return _("This convention concerns other areas than yours: its residents vote on it.")
    return _("You cannot vote on this convention.")


def closed_refusal(c: Convention) -> str:
    return _("The vote closed on {day}.", day=c.closes_on.isoformat())


async def cast_vote(user: User | None, convention_id: int, choice: str) -> None:
    """Vote yes, no or abstain on a convention in ratification: 404 if missing, 403 for
    someone who does not take part or after the closing day, 422 for no choice, 409 if the
    resident or their household has already voted (nothing written then)."""
    try:
        picked = RatificationChoice(str(choice or ""))
    except ValueError:
        picked = None
    async with in_transaction() as conn:
        c = await get_convention(convention_id, conn, lock=True)
        if not can(user, "vote_convention", c):
            raise PermissionDenied(vote_refusal(c, user))
        if local_today() > c.closes_on:
            raise PermissionDenied(closed_refusal(c))
        if picked is None:
            raise ValidationError(errors={"choice": _("Choose yes, no or abstain.")})
        key = await ballot_key(user, c.voting_unit, conn)
        already = RatificationVoter.filter(convention_id=c.id).using_db(conn)
        if (
            await already.filter(ballot_key=key).exists()
            or await already.filter(voter_id=user.id).exists()
        ):
            raise Conflict(already_voted(key))
        try:
            await RatificationVoter.create(
                convention_id=c.id, voter_id=user.id, ballot_key=key, using_db=conn
            )
        except IntegrityError:  # the same resident's (or household's) other vote came first
            raise Conflict(already_voted(key)) from None
        column = COUNT_COLUMN[picked]
        await Convention.filter(id=c.id).using_db(conn).update(**{column: F(column) + 1})
        await follow(user.id, SubjectType.CONSULTATION, c.id, using_db=conn)
        # who voted, never how
        await record(user, "convention.voted", c, using_db=conn, household=key.startswith("h:"))


def already_voted(key: str) -> str:
    if key.startswith("h:"):
        return _("Your household has already voted on this convention; nothing was changed.")
    return _("You have already voted on this convention; nothing was changed.")


async def my_vote_status(user: User | None, c: Convention) -> str:
    """ "me" if the user has voted, "household" if someone of their household has, else ""."""
    if user is None or not is_verified_resident(user):
        return ""
    voters = RatificationVoter.filter(convention_id=c.id)
    if await voters.filter(voter_id=user.id).exists():
        return "me"
    if c.voting_unit == VotingUnit.HOUSEHOLD:
        key = await ballot_key(user, c.voting_unit)
        if key.startswith("h:") and await voters.filter(ballot_key=key).exists():
            return "household"
    return ""
