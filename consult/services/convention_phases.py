"""A convention's phases, each a confirmed step of the council, one transaction under the
convention's row lock with its audit entry and the followers' notifications:

- open the consultation (the first version is published; the rule is fixed from now on);
- start a revision (a copy of the latest version to edit) and publish it as version N + 1;
- open the ratification vote (the text is final);
- close it: adopted or not by the rule fixed at opening, with the figures frozen. After the
  closing day a vote still open is closed by `settle_due` when a page shows it, the same way.

A phase the confirmation page showed (`from_state`, `from_revision`) that has moved on since
(a second click, another council member) is refused with 409, nothing changed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from tortoise.transactions import in_transaction

from consult.models import (
    CONVENTION_STATE_LABELS,
    Clause,
    ClauseText,
    Convention,
    ConventionArea,
    ConventionState,
    ConventionVersion,
    SubjectType,
)
from consult.permissions import can
from consult.services.conventions import get_convention, get_version
from consult.services.ratification import eligible_count, outcome_of
from core.audit import record
from core.errors import Conflict, PermissionDenied, ValidationError
from core.i18n import _, local_today
from core.models import User
from core.services.notifications import notify_followers

AMENDMENT_DAYS = 30  # a new draft's consultation, by default


def convention_path(convention_id: int) -> str:
    """Where a notification sends its reader (the mount of consult.routes)."""
    return f"/consult/conventions/{convention_id}"


async def _locked(conn: Any, convention_id: int, from_state: str | None) -> Convention:
    c = await get_convention(convention_id, conn, lock=True)
    if from_state is not None and c.state != from_state:
        raise Conflict(
            _("This convention is already in the state {state}.", state=c.state_enum.label)
        )
    return c


async def _notify(conn: Any, c: Convention, kind: str, actor: User | None, **params: Any) -> None:
    await notify_followers(
        SubjectType.CONSULTATION,
        c.id,
        kind,
        url=convention_path(c.id),
        params={"title": c.title, **params},
        skip=[actor.id if actor else None],
        using_db=conn,
    )


def phase_refusal() -> str:
    return _("Only council members move a convention to its next phase.")


async def open_consultation(
    actor: User | None, convention_id: int, from_state: str | None = None, today: date | None = None
) -> Convention:
    """Publish the first version for comments by the residents of the areas."""
    today = today or local_today()
    async with in_transaction() as conn:
        c = await _locked(conn, convention_id, from_state)
        if not can(actor, "open_consultation", c):
            raise PermissionDenied(phase_refusal())
        version = await get_version(c, 1, conn)
        errors = {}
        if not await ClauseText.filter(version_id=version.id).using_db(conn).exists():
            errors["clauses"] = _("Write at least one clause before opening the consultation.")
        if c.opens_on > today:
            errors["opens_on"] = _(
                "The consultation opens on {day}: open it then, or change the date.",
                day=c.opens_on.isoformat(),
            )
        if c.closes_on < today:
            errors["closes_on"] = _("The closing date has passed: change it first.")
        if errors:
            raise ValidationError(errors=errors)
        now = datetime.now(UTC)
        c.state, c.opened_at, c.version, c.revision = ConventionState.CONSULTING, now, 1, 0
        await c.save(using_db=conn, update_fields=["state", "opened_at", "version", "revision"])
        version.published_at = now
        await version.save(using_db=conn, update_fields=["published_at"])
        await record(
            actor,
            "convention.open",
            c,
            public=True,
            using_db=conn,
            turnout_percent=c.turnout_percent,
            majority=str(c.majority),
            voting_unit=str(c.voting_unit),
            opens_on=c.opens_on.isoformat(),
            closes_on=c.closes_on.isoformat(),
            areas=c.area_ids,
        )
    return c


async def _copy_version(
    conn: Any,
    source: ConventionVersion,
    target: ConventionVersion,
    clauses: dict[int, int] | None = None,
) -> None:
    """Copy the clause texts of `source` into `target` (`clauses`: old clause id → new one,
    for a new convention; none: the same clauses)."""
    rows = await ClauseText.filter(version_id=source.id).using_db(conn).order_by("position")
    await ClauseText.bulk_create(
        [
            ClauseText(
                clause_id=clauses[r.clause_id] if clauses else r.clause_id,
                version_id=target.id,
                position=r.position,
                heading=r.heading,
                body=r.body,
            )
            for r in rows
        ],
        using_db=conn,
    )


async def start_revision(actor: User | None, convention_id: int) -> Convention:
    """Begin version N + 1 as a copy of version N, for the council to edit (unpublished)."""
    async with in_transaction() as conn:
        c = await _locked(conn, convention_id, None)
        if not can(actor, "start_revision", c):
            raise PermissionDenied(
                _("Only council members revise a convention in consultation.")
                if c.state == ConventionState.CONSULTING
                else _("Only a convention in consultation is revised.")
            )
        source = await get_version(c, c.version, conn)
        number = c.version + 1
        target = await ConventionVersion.create(
            convention_id=c.id, number=number, preamble=source.preamble, using_db=conn
        )
        await _copy_version(conn, source, target)
        c.revision = number
        await c.save(using_db=conn, update_fields=["revision"])
        await record(actor, "convention.revision_start", c, using_db=conn, version=number)
    return c


async def publish_revision(
    actor: User | None, convention_id: int, from_revision: int | None = None
) -> Convention:
    """Publish the revision being written as the current version; followers are told."""
    async with in_transaction() as conn:
        c = await _locked(conn, convention_id, None)
        if from_revision is not None and c.revision != from_revision:
            raise Conflict(_("This revision is already published."))
        if not can(actor, "publish_revision", c):
            raise PermissionDenied(phase_refusal())
        version = await get_version(c, c.revision, conn)
        if not await ClauseText.filter(version_id=version.id).using_db(conn).exists():
            raise ValidationError(errors={"clauses": _("A convention needs at least one clause.")})
        version.published_at = datetime.now(UTC)
        await version.save(using_db=conn, update_fields=["published_at"])
        c.version, c.revision = version.number, 0
        await c.save(using_db=conn, update_fields=["version", "revision"])
        await _notify(conn, c, "consultation_revised", actor)
        await record(
            actor, "convention.revision_publish", c, public=True, using_db=conn, version=c.version
        )
    return c


async def open_ratification(
    actor: User | None, convention_id: int, from_state: str | None = None, today: date | None = None
) -> Convention:
    """Fix the text and open the vote, until the closing day; followers are told."""
    today = today or local_today()
    async with in_transaction() as conn:
        c = await _locked(conn, convention_id, from_state)
        if not can(actor, "open_ratification", c):
            if c.state == ConventionState.CONSULTING and c.revision:
                raise Conflict(_("Publish the revision being written first."))
            raise PermissionDenied(phase_refusal())
        if c.closes_on < today:
            raise ValidationError(
                errors={"closes_on": _("The closing date has passed: the vote cannot open.")}
            )
        c.state, c.ratification_opened_at = ConventionState.RATIFYING, datetime.now(UTC)
        await c.save(using_db=conn, update_fields=["state", "ratification_opened_at"])
        await _notify(conn, c, "consultation_ratification", actor)
        await record(
            actor, "convention.ratification_open", c, public=True, using_db=conn, version=c.version
        )
    return c


async def close_ratification(
    actor: User | None,
    convention_id: int,
    from_state: str | None = None,
    *,
    due: bool = False,
    today: date | None = None,
) -> Convention:
    """Close the vote: adopted or not by the rule fixed at opening, the eligible counted now
    and kept with the counts. `due`: closed because its closing day has passed (no actor)."""
    async with in_transaction() as conn:
        c = await _locked(conn, convention_id, from_state)
        if due:
            if c.state != ConventionState.RATIFYING or c.closes_on >= (today or local_today()):
                return c  # closed meanwhile by the council or another page view
        elif not can(actor, "close_ratification", c):
            raise PermissionDenied(phase_refusal())
        c.eligible = await eligible_count(c, conn)
        outcome = outcome_of(c, c.eligible)
        c.state = ConventionState.ADOPTED if outcome.passed else ConventionState.REJECTED
        c.closed_at = datetime.now(UTC)
        await c.save(using_db=conn, update_fields=["eligible", "state", "closed_at"])
        await _notify(
            conn, c, "consultation_closed", actor, outcome=CONVENTION_STATE_LABELS[c.state_enum]
        )
        await record(
            actor,
            "convention.close",
            c,
            public=True,
            using_db=conn,
            outcome=str(c.state),
            due=due or None,
            eligible=c.eligible,
            yes=c.yes_votes,
            no=c.no_votes,
            abstain=c.abstentions,
            version=c.version,
        )
    return c


async def settle_due(today: date | None = None) -> int:
    """Close every vote whose closing day has passed (when a page is shown): one small query
    when there is none. Returns how many were closed."""
    today = today or local_today()
    ids = await Convention.filter(state=ConventionState.RATIFYING, closes_on__lt=today).values_list(
        "id", flat=True
    )
    closed = 0
    for convention_id in ids:
        c = await close_ratification(None, convention_id, None, due=True, today=today)
        closed += c.closed_at is not None
    return closed


async def amend_convention(actor: User | None, convention_id: int) -> Convention:
    """A new draft based on the adopted text (its latest version): same title, preamble,
    clauses, areas and rule, to be changed and consulted on again."""
    today = local_today()
    async with in_transaction() as conn:
        old = await get_convention(convention_id, conn, lock=True)
        if not can(actor, "amend_convention", old):
            raise PermissionDenied(_("Only council members amend an adopted convention."))
        source = await get_version(old, old.version, conn)
        c = await Convention.create(
            title=old.title,
            opens_on=today,
            closes_on=today + timedelta(days=AMENDMENT_DAYS),
            turnout_percent=old.turnout_percent,
            majority=old.majority,
            voting_unit=old.voting_unit,
            amends_id=old.id,
            created_by=actor,
            using_db=conn,
        )
        target = await ConventionVersion.create(
            convention=c, number=1, preamble=source.preamble, using_db=conn
        )
        old_ids = (
            await ClauseText.filter(version_id=source.id)
            .using_db(conn)
            .values_list("clause_id", flat=True)
        )
        clauses = {}
        for clause_id in old_ids:
            clauses[clause_id] = (await Clause.create(convention_id=c.id, using_db=conn)).id
        await _copy_version(conn, source, target, clauses)
        await ConventionArea.bulk_create(
            [ConventionArea(convention_id=c.id, area_id=a) for a in old.area_ids], using_db=conn
        )
        await record(
            actor, "convention.amend", c, using_db=conn, amends=old.id, version=old.version
        )
    c.area_ids = old.area_ids
    return c
