"""Statements of a deliberation round: residents of its areas submit short ones while it
collects; a council member approves each (then it is shown and voted on) or rejects it with a
reason that its author sees.

Statements are shown without their authors' names. The audit entries of submissions and
moderation name the author (the council may need to know who wrote what) and are therefore
never public.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tortoise.functions import Count
from tortoise.transactions import in_transaction

from consult.models import (
    MAX_STATEMENT,
    Deliberation,
    Statement,
    StatementStatus,
)
from consult.permissions import can
from consult.services.votes import bump_votes_version, with_area_ids
from core.audit import record
from core.db import lock_rows
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.forms import text
from core.i18n import _
from core.models import User
from core.permissions import is_staff, is_verified_resident

MAX_REASON = 200  # Statement.reject_reason
MAX_WAITING = 10  # statements of one resident waiting for approval in one round


def parse_statement(data: Mapping[str, Any]) -> str:
    """The statement's text, stripped: required, at most 140 characters."""
    errors: dict[str, str] = {}
    body = text(data.get("body"), "body", errors, max_length=MAX_STATEMENT)
    if errors:
        raise ValidationError(errors=errors)
    return body


def submit_refusal(user: User | None, d: Deliberation) -> str:
    """Why `user` may not submit a statement to `d` (for the 403 and the page)."""
    if not is_verified_resident(user):
        return _("Only verified residents submit statements.")
    if d.phase != "collecting":
        return _("This deliberation round is no longer collecting statements.")
    return _("Only residents of the areas this round concerns submit statements.")


async def submit_statement(
    actor: User | None, deliberation_id: int, data: Mapping[str, Any]
) -> Statement:
    """A resident's statement, waiting for a council member's approval; one transaction."""
    d = await Deliberation.get_or_none(id=deliberation_id)
    if d is None:
        raise NotFound(_("This deliberation round does not exist."))
    if not can(actor, "submit_statement", await with_area_ids(d)):
        raise PermissionDenied(submit_refusal(actor, d))
    body = parse_statement(data)
    async with in_transaction() as conn:
        # the round's row lock: the phase cannot move on before this commits
        d = await with_area_ids((await lock_rows(conn, Deliberation, [deliberation_id]))[0], conn)
        if not can(actor, "submit_statement", d):
            raise PermissionDenied(submit_refusal(actor, d))
        waiting = (
            await Statement.filter(
                deliberation_id=d.id, author_id=actor.id, status=StatementStatus.PENDING
            )
            .using_db(conn)
            .count()
        )
        if waiting >= MAX_WAITING:
            raise ValidationError(
                errors={
                    "body": _(
                        "You have {n} statements waiting for the council's approval; please "
                        "wait until it has read them.",
                        n=waiting,
                    )
                }
            )
        statement = await Statement.create(
            deliberation_id=d.id, author_id=actor.id, body=body, using_db=conn
        )
        await record(
            actor,
            "statement.submitted",
            statement,
            using_db=conn,
            public=False,  # it names the author
            deliberation=d.id,
            body=body,
        )
    return statement


async def _locked_pending(conn: Any, statement_id: int) -> Statement:
    """The statement and its round, the round's row locked first (like votes and phase moves:
    one lock order, no deadlock)."""
    ids = (
        await Statement.filter(id=statement_id)
        .using_db(conn)
        .values_list("deliberation_id", flat=True)
    )
    if not ids:
        raise NotFound(_("This statement does not exist."))
    d = (await lock_rows(conn, Deliberation, ids))[0]
    statement = await Statement.get(id=statement_id).using_db(conn)
    statement.deliberation = d
    return statement


def moderate_refusal(statement: Statement) -> str:
    if not statement.deliberation.open_for_votes:
        return _("This deliberation round is closed to statements.")
    return _("Only council members approve or reject statements.")


async def approve_statement(actor: User | None, statement_id: int) -> Statement:
    """A council member approves a statement: it is shown and voted on from now on. The
    round's votes version goes up (the analysis counts approved statements)."""
    async with in_transaction() as conn:
        statement = await _locked_pending(conn, statement_id)
        if not is_staff(actor):  # the role first: a resident learns nothing of the statement
            raise PermissionDenied(_("Only council members approve or reject statements."))
        if statement.status != StatementStatus.PENDING:  # a second click, another member
            raise Conflict(_("This statement has already been moderated."))
        if not can(actor, "moderate_statement", statement):
            raise PermissionDenied(moderate_refusal(statement))
        statement.status = StatementStatus.APPROVED
        statement.decided_at = datetime.now(UTC)
        statement.decided_by = actor
        await statement.save(using_db=conn, update_fields=["status", "decided_at", "decided_by_id"])
        await bump_votes_version(conn, statement.deliberation_id)
        await record(
            actor,
            "statement.approved",
            statement,
            using_db=conn,
            public=False,
            deliberation=statement.deliberation_id,
        )
    return statement


async def reject_statement(
    actor: User | None, statement_id: int, data: Mapping[str, Any]
) -> Statement:
    """A council member rejects a statement with a reason its author sees."""
    errors: dict[str, str] = {}
    reason = text(data.get("reason"), "reason", errors, max_length=MAX_REASON)
    async with in_transaction() as conn:
        statement = await _locked_pending(conn, statement_id)
        if not is_staff(actor):  # the role first: a resident learns nothing of the statement
            raise PermissionDenied(_("Only council members approve or reject statements."))
        if statement.status != StatementStatus.PENDING:  # a second click, another member
            raise Conflict(_("This statement has already been moderated."))
        if not can(actor, "moderate_statement", statement):
            raise PermissionDenied(moderate_refusal(statement))
        if errors:
            raise ValidationError(errors=errors)
        statement.status = StatementStatus.REJECTED
        statement.reject_reason = reason
        statement.decided_at = datetime.now(UTC)
        statement.decided_by = actor
        await statement.save(
            using_db=conn,
            update_fields=["status", "reject_reason", "decided_at", "decided_by_id"],
        )
        await record(
            actor,
            "statement.rejected",
            statement,
            using_db=conn,
            public=False,
            deliberation=statement.deliberation_id,
            reason=reason,
        )
    return statement


# --- reading --------------------------------------------------------------------------------


async def pending_statements(d: Deliberation) -> list[Statement]:
    """The council's queue for a round, oldest first, with each author's area."""
    return list(
        await Statement.filter(deliberation_id=d.id, status=StatementStatus.PENDING)
        .select_related("author__area")
        .order_by("id")
    )


async def get_statement(statement_id: int) -> Statement:
    statement = await Statement.get_or_none(id=statement_id).select_related(
        "deliberation", "author__area"
    )
    if statement is None:
        raise NotFound(_("This statement does not exist."))
    return statement


async def own_statements(user: User | None, d: Deliberation) -> list[Statement]:
    """What a resident submitted to a round, newest first (waiting, approved or not)."""
    if user is None:
        return []
    return list(
        await Statement.filter(deliberation_id=d.id, author_id=user.id).order_by("-id").limit(50)
    )


async def status_counts(d: Deliberation) -> dict[str, int]:
    """A round's statements per status (one grouped query)."""
    rows = (
        await Statement.filter(deliberation_id=d.id)
        .group_by("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return {str(status): n for status, n in rows}
