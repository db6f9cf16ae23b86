"""What budgeting tells the residents who follow its proposals and rounds
(core.services.notifications), and which of its subjects may be followed.

Each `tell_*` runs inside the caller's transaction (`conn`), after the change it reports: the
notifications are written with the change or not at all. The one who made the change is not
told. Links are the pages' paths under budgeting's mount (/budget), as `url_for` makes them.
"""

from __future__ import annotations

from typing import Any

from tortoise.expressions import Q, Subquery

from budget.models import PHASE_LABELS, Procurement, Proposal, ProposalStatus, Round
from core.i18n import lazy_gettext as _l
from core.models import Follow, User
from core.services.notifications import notify_followers, notify_users

PROPOSAL, ROUND = "proposal", "round"

VERDICTS = {
    ProposalStatus.FEASIBLE: _l("feasible, it goes on the ballot"),
    ProposalStatus.INFEASIBLE: _l("not feasible"),
}


def proposal_path(proposal_id: int) -> str:
    return f"/budget/proposals/{proposal_id}"


def round_path(round_id: int) -> str:
    return f"/budget/rounds/{round_id}"


def procurement_path(procurement_id: int) -> str:
    return f"/budget/procurements/{procurement_id}"


async def tell_phase_changed(conn: Any, rnd: Round, actor: User | None) -> int:
    """A round moved to its next phase: its followers, and the followers of its proposals
    (what happens to a proposal next depends on it: its review, the ballot), are told which,
    once each, in one query whatever the number of proposals."""
    of_round = Q(subject_type=ROUND, subject_id=rnd.id)
    of_proposals = Q(
        subject_type=PROPOSAL,
        subject_id__in=Subquery(Proposal.filter(round_id=rnd.id).values("id")),
    )
    ids = await (
        Follow.filter(of_round | of_proposals)
        .using_db(conn)
        .distinct()
        .values_list("user_id", flat=True)
    )
    return await notify_users(
        [i for i in ids if actor is None or i != actor.id],
        "phase_changed",
        subject_type=ROUND,
        subject_id=rnd.id,
        url=round_path(rnd.id),
        params={"title": rnd.title, "phase": PHASE_LABELS[rnd.phase_enum]},
        using_db=conn,
    )


async def tell_proposal_reviewed(conn: Any, proposal: Proposal, actor: User | None) -> int:
    """The council's verdict on a proposal, to its followers (its author among them)."""
    return await notify_followers(
        PROPOSAL,
        proposal.id,
        "proposal_reviewed",
        url=proposal_path(proposal.id),
        params={"title": proposal.title, "verdict": VERDICTS[ProposalStatus(proposal.status)]},
        skip=[actor.id if actor else None],
        using_db=conn,
    )


async def tell_proposal_merged(
    conn: Any, proposal: Proposal, survivor: Proposal, actor: User | None
) -> int:
    """A proposal merged into another: its followers are told where it went, and follow the
    survivor from now on (that is where its supports and its future are)."""
    ids = (
        await Follow.filter(subject_type=PROPOSAL, subject_id=proposal.id)
        .using_db(conn)
        .values_list("user_id", flat=True)
    )
    await Follow.bulk_create(
        [Follow(user_id=i, subject_type=PROPOSAL, subject_id=survivor.id) for i in ids],
        ignore_conflicts=True,
        using_db=conn,
    )
    return await notify_users(
        [i for i in ids if actor is None or i != actor.id],
        "proposal_merged",
        subject_type=PROPOSAL,
        subject_id=survivor.id,
        url=proposal_path(survivor.id),
        params={"title": proposal.title, "into": survivor.title},
        using_db=conn,
    )


async def tell_procurement_delivered(
    conn: Any, procurement: Procurement, actor: User | None
) -> int:
    """A procurement was delivered: the followers of the proposal it came from (and of the
    proposals merged into that one) are told, once each."""
    proposal_ids = [procurement.proposal_id] + list(
        await Proposal.filter(merged_into_id=procurement.proposal_id)
        .using_db(conn)
        .values_list("id", flat=True)
    )
    ids = (
        await Follow.filter(subject_type=PROPOSAL, subject_id__in=proposal_ids)
        .using_db(conn)
        .values_list("user_id", flat=True)
    )
    return await notify_users(
        [i for i in ids if actor is None or i != actor.id],
        "procurement_delivered",
        subject_type=PROPOSAL,
        subject_id=procurement.proposal_id,
        url=procurement_path(procurement.id),
        params={"title": procurement.title},
        using_db=conn,
    )


# --- what may be followed (registered in app.py: core.web.follow) ---------------------------


async def proposal_title(proposal_id: int) -> str | None:
    """A proposal of a district round (not a project of an imported election)."""
    row = await Proposal.filter(id=proposal_id, round__is_study=False).values_list(
        "title", flat=True
    )
    return row[0] if row else None


async def round_title(round_id: int) -> str | None:
    """A district round (not an imported election)."""
    row = await Round.filter(id=round_id, is_study=False).values_list("title", flat=True)
    return row[0] if row else None


FOLLOWABLES = {PROPOSAL: proposal_title, ROUND: round_title}
