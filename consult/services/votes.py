"""Residents' votes on statements: agree, disagree or pass; one per resident and statement
(the database's unique constraint), changeable while the round collects or discusses, never on
one's own statement, only on approved ones and only by residents of the round's areas. The
vote keeps the voter's area (common ground is counted per area).

Each resident meets the statements one at a time in an order of their own: ranked by a hash
of (voter, statement), so the order needs no stored state, differs from one resident to the
next (no statement is always first, nor always last) and stays put between requests; the
statements already voted on are skipped.

Every vote raises the round's `votes_version` in its own transaction, last, with one UPDATE
guarded by the phase: the analysis (consult.services.analysis) is computed for one version and
recomputed when it moves, and a vote that arrives after the round closed changes nothing. The
vote row is locked before the round's row, by every vote alike, so two votes never wait on
each other in a circle; the round's row is held only from that UPDATE to the commit.

Statement votes are not secret ballots, but the public never learns who voted how: pages
show counts only, and each vote's audit entry (who, which statement, when) is non-public and
leaves the choice out.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from consult.models import (
    Choice,
    Deliberation,
    DeliberationArea,
    DeliberationPhase,
    Statement,
    StatementStatus,
    StatementVote,
)
from consult.permissions import can, concerns
from core.audit import record
from core.errors import NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import User
from core.permissions import is_verified_resident

OPEN_PHASES = (DeliberationPhase.COLLECTING, DeliberationPhase.DISCUSSING)


def parse_choice(value: object) -> Choice:
    try:
        return Choice(str(value or ""))
    except ValueError:
        raise ValidationError(errors={"choice": _("Choose agree, disagree or pass.")}) from None


async def bump_votes_version(conn: Any, deliberation_id: int, *, open_only: bool = False) -> None:
    """Raise the round's votes version (its row stays locked until the commit). With
    `open_only`, only while the round takes votes: else PermissionDenied, and the caller's
    transaction is rolled back."""
    qs = Deliberation.filter(id=deliberation_id)
    if open_only:
        qs = qs.filter(phase__in=OPEN_PHASES)
    changed = await qs.using_db(conn).update(votes_version=F("votes_version") + 1)
    if not changed:
        raise PermissionDenied(_("Voting on statements is closed in this round."))


def vote_refusal(user: User | None, statement: Statement) -> str:
    """Why `user` may not vote on `statement` (for the 403 and the page)."""
    if not is_verified_resident(user):
        return _("Only verified residents vote on statements.")
    if statement.author_id == user.id:
        return _("You cannot vote on your own statement.")
    if statement.status != StatementStatus.APPROVED:
        return _("Only statements approved by the council are voted on.")
    if not statement.deliberation.open_for_votes:
        return _("Voting on statements is closed in this round.")
    if not concerns(statement.deliberation, user):
        return _("Only residents of the areas this round concerns vote on its statements.")
    return _("You may not vote on this statement.")


async def with_area_ids(d: Deliberation, conn: Any = None) -> Deliberation:
    """Set the round's `area_ids` (what `can` reads for residents' rights)."""
    d.area_ids = sorted(
        await DeliberationArea.filter(deliberation_id=d.id)
        .using_db(conn)
        .values_list("area_id", flat=True)
    )
    return d


async def vote_statement(actor: User | None, statement_id: int, choice: object) -> StatementVote:
    """Vote on a statement, or change one's vote on it; one transaction. Simultaneous votes of
    one resident on one statement leave one row: the database refuses a second insert, which
    is then retried as a change of the row that won."""
    value = parse_choice(choice)
    statement = await Statement.get_or_none(id=statement_id).select_related("deliberation")
    if statement is None:
        raise NotFound(_("This statement does not exist."))
    await with_area_ids(statement.deliberation)
    if not can(actor, "vote_statement", statement):
        raise PermissionDenied(vote_refusal(actor, statement))
    try:
        return await _save_vote(actor, statement, value)
    except IntegrityError:
        # The same resident's simultaneous vote inserted the row first (PostgreSQL reports the
        # clash once that vote has committed): this one becomes a change of that row.
        return await _save_vote(actor, statement, value)


async def _save_vote(actor: User, statement: Statement, choice: Choice) -> StatementVote:
    async with in_transaction() as conn:
        vote = (
            await StatementVote.filter(statement_id=statement.id, voter_id=actor.id)
            .select_for_update()
            .using_db(conn)
            .first()
        )
        if vote is None:
            vote = await StatementVote.create(
                statement_id=statement.id,
                deliberation_id=statement.deliberation_id,
                voter_id=actor.id,
                area_id=actor.area_id,
                choice=choice,
                using_db=conn,
            )
            action = "statement.voted"
        else:
            vote.choice = choice
            vote.area_id = actor.area_id
            await vote.save(using_db=conn, update_fields=["choice", "area_id", "updated_at"])
            action = "statement.vote_changed"
        await record(
            actor,
            action,
            statement,
            using_db=conn,
            public=False,  # who took part; never public, and without the choice
            deliberation=statement.deliberation_id,
        )
        await bump_votes_version(conn, statement.deliberation_id, open_only=True)
    return vote


# --- one statement at a time ----------------------------------------------------------------


def order_key(voter_id: int, statement_id: int) -> int:
    """A resident's own order of a round's statements: a hash, stable across processes."""
    digest = hashlib.blake2b(f"{voter_id}:{statement_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


@dataclass
class NextStatement:
    """The statement a resident votes on next (None when none is left), and how far they are."""

    statement_id: int | None
    body: str
    voted: int
    total: int  # the approved statements of others


async def next_statement(user: User, d: Deliberation) -> NextStatement:
    """The next statement for `user` in their own order, skipping their own statements and
    those they voted on (two queries, whatever the number of statements)."""
    rows = await Statement.filter(
        deliberation_id=d.id, status=StatementStatus.APPROVED
    ).values_list("id", "author_id", "body")
    votable = {sid: body for sid, author, body in rows if author != user.id}
    voted = set(
        await StatementVote.filter(deliberation_id=d.id, voter_id=user.id).values_list(
            "statement_id", flat=True
        )
    ) & set(votable)
    left = [sid for sid in votable if sid not in voted]
    if not left:
        return NextStatement(None, "", len(voted), len(votable))
    chosen = min(left, key=lambda sid: order_key(user.id, sid))
    return NextStatement(chosen, votable[chosen], len(voted), len(votable))


@dataclass
class OwnVote:
    statement_id: int
    body: str
    choice: Choice
    updated_at: datetime


async def own_votes(user: User, d: Deliberation, statement_id: int | None = None) -> list[OwnVote]:
    """A resident's votes in a round, the latest first (one query); or the one on
    `statement_id`."""
    qs = StatementVote.filter(deliberation_id=d.id, voter_id=user.id)
    if statement_id is not None:
        qs = qs.filter(statement_id=statement_id)
    rows = await qs.order_by("-updated_at", "-id").values_list(
        "statement_id", "statement__body", "choice", "updated_at"
    )
    return [OwnVote(sid, body, Choice(choice), at) for sid, body, choice, at in rows]
