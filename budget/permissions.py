"""Who may do what in budgeting: one function, one table of (action, subject) cases.

Pure: it looks only at the user, the subject and its round's phase (already loaded), never at
the database. Services call it before changing anything; templates call it to show buttons.
"""

from __future__ import annotations

from typing import Any

from budget.models import (
    Ballot,
    Phase,
    Procurement,
    ProcurementDocument,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Rating,
    Round,
)
from core.models import Role, User
from core.permissions import is_verified_resident

STAFF = (Role.COUNCIL, Role.ADMIN)


def is_finance(user: User | None) -> bool:
    return user is not None and user.is_active and user.role == Role.FINANCE


def is_staff(user: User | None) -> bool:
    return user is not None and user.role in STAFF


def is_voter(user: User | None) -> bool:
    """Verified residents with an area vote and propose (grid workers live in the district too)."""
    return is_verified_resident(user)


def _phase(subject: Any) -> Phase | None:
    if isinstance(subject, Round):
        return Phase(subject.phase)
    rnd = getattr(subject, "round", None)
    if isinstance(rnd, Round):
        return Phase(rnd.phase)
    return None


def _study_of(subject: Any) -> Round | None:
    """The imported election (study) `subject` is or belongs to, if any."""
    rnd = subject if isinstance(subject, Round) else getattr(subject, "round", None)
    return rnd if isinstance(rnd, Round) and rnd.is_study else None


def _can_in_study(user: User | None, action: str, study: Round) -> bool:
    """An imported election is only studied: nobody proposes, votes, reviews or counts in it."""
    match action:
        case "see_study" | "see_results" | "export_pabulib":
            return is_staff(user) or study.study_public
        case "publish_study" | "compare_rules":
            return is_staff(user)
    return False


def can(user: User | None, action: str, subject: Any = None) -> bool:
    """May `user` do `action` on `subject` now? Unknown actions are refused."""
    study = _study_of(subject)
    if study is not None:
        return _can_in_study(user, action, study)
    if isinstance(subject, Procurement | ProcurementDocument | Rating) or action in MONEY_ACTIONS:
        return _can_with_money(user, action, subject)
    phase = _phase(subject)
    match action:
        case "create_round" | "import_pabulib":
            return is_staff(user)
        case "edit_round":
            return is_staff(user) and phase not in (Phase.CLOSED,)
        case "edit_round_rules":  # ballot type, rule, fund, envelopes
            return is_staff(user) and isinstance(subject, Round) and not subject.locked
        case "advance_phase":
            return is_staff(user) and phase is not None and phase.next is not None
        case "propose":
            return is_voter(user) and phase == Phase.PROPOSING
        case "edit_proposal" | "withdraw_proposal":
            return (
                isinstance(subject, Proposal)
                and user is not None
                and subject.author_id == user.id
                and phase == Phase.PROPOSING
                and subject.status in (ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE)
            )
        case "support":
            # like the ballot: a proposal of the resident's own area, or a district-wide one
            return (
                is_voter(user)
                and isinstance(subject, Proposal)
                and subject.area_id in (None, user.area_id)
                and phase in (Phase.PROPOSING, Phase.REVIEWING)
                and subject.status in (ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE)
            )
        case "review" | "merge":
            return (
                is_staff(user)
                and phase in (Phase.PROPOSING, Phase.REVIEWING)
                and isinstance(subject, Proposal)
                and subject.status not in (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED)
            )
        case "vote":
            return is_voter(user) and phase == Phase.VOTING
        case "enter_paper_ballot":
            # subject: the round; the resident's area is checked by the service
            return user is not None and user.role == Role.GRID_WORKER and phase == Phase.VOTING
        case "compute_results":
            return (
                is_staff(user)
                and phase == Phase.RESULTS
                and isinstance(subject, Round)
                and subject.results_published_at is None
            )
        case "publish_results":
            return (
                is_staff(user)
                and phase == Phase.RESULTS
                and isinstance(subject, Round)
                and subject.results_published_at is None
            )
        case "see_results":
            # public once published; staff may look at a count before publishing
            return isinstance(subject, Round) and (
                subject.results_published_at is not None or is_staff(user)
            )
        case "see_ballot":
            return (
                isinstance(subject, Ballot) and user is not None and (subject.voter_id == user.id)
            )
        case "view_audit":
            return is_staff(user)
        case "compare_rules":
            # staff study a counted round with both rules (results phase or later)
            return is_staff(user) and phase in (Phase.RESULTS, Phase.IMPLEMENTING, Phase.CLOSED)
        case "export_pabulib":
            # ballots are secret until the count: never during voting; then public once the
            # results are published, staff always (imported elections: `_can_in_study`)
            return (
                isinstance(subject, Round)
                and phase != Phase.VOTING
                and (is_staff(user) or subject.results_published_at is not None)
            )
    return False


MONEY_ACTIONS = frozenset({"convert", "see_finance"})


def _converting(rnd: Round) -> bool:
    """Funded proposals become procurements once the results are published, until it closes."""
    return rnd.results_published_at is not None and Phase(rnd.phase) in (
        Phase.RESULTS,
        Phase.IMPLEMENTING,
    )


def _can_with_money(user: User | None, action: str, subject: Any) -> bool:
    """Procurements, the ledger and ratings: finance officers buy and pay, the council approves
    cap raises and moderates ratings, residents of the area rate what was delivered.
    `subject` is a Round (convert, see_finance), a Proposal (convert), a Procurement (its
    `round` not needed), a ProcurementDocument or a Rating."""
    match action, subject:
        case "convert", Round() as rnd:
            return is_finance(user) and _converting(rnd)
        case "convert", Proposal() as proposal:
            rnd = getattr(proposal, "round", None)
            return (
                is_finance(user)
                and isinstance(rnd, Round)
                and _converting(rnd)
                and proposal.status == ProposalStatus.FUNDED
            )
        case "see_finance", _:  # the finance view, the whole ledger, its exports
            return is_finance(user) or is_staff(user)
        case "manage_procurement" | "move_procurement" | "record_entry", Procurement() as p:
            return is_finance(user) and not p.status_enum.finished
        case "request_cap_change", Procurement() as p:
            return is_finance(user) and not p.status_enum.finished
        case "decide_cap_change", Procurement() as p:
            return is_staff(user) and not p.status_enum.finished
        case "see_procurement_internals", Procurement():  # all documents, the whole history
            return is_finance(user) or is_staff(user)
        case "rate", Procurement() as p:
            return (
                is_voter(user)
                and p.status in (ProcurementStatus.DELIVERED, ProcurementStatus.CLOSED)
                and p.area_id in (None, user.area_id)
            )
        case "moderate_rating", Rating():
            return is_staff(user)
        case "see_document", ProcurementDocument() as doc:
            return doc.public or is_finance(user) or is_staff(user)
    return False
