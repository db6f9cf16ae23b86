"""Imported elections ("studies"): past elections read from Pabulib files to learn from, kept
apart from the district's rounds. They are not listed with the rounds, their projects are not
in the proposal list, and nothing of the district is counted with them. Staff see them all; the
public sees those the council has published. A study's turnout is the file's own count of
voters: the district's residents never voted in it.

The import itself is `budget.services.pabulib_import.import_pabulib`; how a study is named and kept
unique is here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from budget.models import Ballot, Round
from budget.permissions import can, is_staff
from core.audit import record
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import User


def visible_studies(user: User | None) -> QuerySet[Round]:
    """The studies `user` may see, newest first: all for staff, the published ones for others."""
    qs = Round.filter(is_study=True)
    if not is_staff(user):
        qs = qs.filter(study_public=True)
    return qs.order_by("-created_at", "-id")


async def any_public_study() -> bool:
    return await Round.exists(is_study=True, study_public=True)


def require_visible(user: User | None, rnd: Round) -> None:
    """404 for a study `user` may not see (a private study's existence is not told)."""
    if rnd.is_study and not can(user, "see_study", rnd):
        raise NotFound(_("This imported election does not exist or is not public."))


async def get_study(user: User | None, round_id: int) -> Round:
    """The study `round_id`, if `user` may see it (else 404, as for a district round's id)."""
    rnd = await Round.get_or_none(id=round_id, is_study=True)
    if rnd is None:
        raise NotFound(_("This imported election does not exist or is not public."))
    require_visible(user, rnd)
    return rnd


@dataclass
class StudyTurnout:
    """Who voted in an imported election, as its file says. The file does not say how many
    could have voted, so there is no rate."""

    voters: int  # the file's count (META num_votes, else its votes)
    ballots: int  # ballots imported (and counted)

    @property
    def differs(self) -> bool:
        return self.voters != self.ballots


async def study_turnout(rnd: Round) -> StudyTurnout:
    ballots = await Ballot.filter(round_id=rnd.id).count()
    return StudyTurnout(rnd.study_voters if rnd.study_voters is not None else ballots, ballots)


async def set_study_public(
    actor: User | None, round_id: int, public: bool, confirmed: bool
) -> tuple[Round, bool]:
    """The council publishes a study (everyone sees it and its results) or makes it private
    again. Returns the study and whether it changed (it may already be as asked)."""
    rnd = await Round.get_or_none(id=round_id, is_study=True)
    if rnd is None:
        raise NotFound(_("This imported election does not exist or is not public."))
    if not can(actor, "publish_study", rnd):
        raise PermissionDenied(_("Only council members publish imported elections."))
    if not confirmed:
        raise ValidationError(errors={"confirm": _("Tick the box to confirm.")})
    async with in_transaction() as conn:
        rnd = await Round.select_for_update().using_db(conn).get(id=rnd.id)
        if rnd.study_public == public:
            return rnd, False
        rnd.study_public = public
        await rnd.save(using_db=conn, update_fields=["study_public", "updated_at"])
        await record(
            actor,
            "study.published" if public else "study.unpublished",
            rnd,
            using_db=conn,
            title=rnd.title,
        )
        return rnd, True


# --- importing: one study per file, distinct titles ----------------------------------------


class AlreadyImported(Conflict):
    """The same file was imported before: `study` is what it became."""

    def __init__(self, study: Round) -> None:
        message = _(
            "This file has already been imported: it is the imported election {title} "
            "(imported on {day}).",
            title=study.title,
            day=study.created_at.date().isoformat(),
        )
        super().__init__(message, {"file": message})
        self.study = study


async def refuse_known(digest: str, conn: Any = None) -> None:
    """AlreadyImported if a study came from the file with this digest (`Round.source_digest`,
    unique: of two imports at once, the second fails on it whatever this check saw)."""
    study = await Round.get_or_none(source_digest=digest).using_db(conn)
    if study is not None:
        raise AlreadyImported(study)


# Imports take this lock (PostgreSQL, until their transaction ends) so that a numbered title
# is chosen once: two files with one title imported at the same time become "T" and "T (2)".
# (SQLite runs one write transaction at a time anyway.)
_IMPORT_LOCK = 7_345_120_318


async def lock_imports(conn: Any) -> None:
    if conn.capabilities.dialect == "postgres":
        await conn.execute_query(f"SELECT pg_advisory_xact_lock({_IMPORT_LOCK})")


async def numbered_title(conn: Any, title: str) -> str:
    """`title`, or with the first free number if a study already has it: "Title (2)". (A
    district round of the same name does not count: studies are listed apart.)"""
    taken = set(
        await Round.filter(is_study=True, title__startswith=title[:150])
        .using_db(conn)
        .values_list("title", flat=True)
    )
    number = 1
    candidate = title
    while candidate in taken:
        number += 1
        suffix = f" ({number})"
        candidate = title[: 200 - len(suffix)] + suffix
    return candidate
