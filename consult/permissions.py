"""Who may do what in consultation: one function, one table of (action, subject) cases per
concept (discussion, deliberation rounds, meetings).

Pure: it looks only at the user, the subject and what is already loaded on it (a statement's
`deliberation`), never at the database; `now` is passed in where time matters. Services call
it before changing anything; templates call it to show buttons.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from consult.models import (
    MAX_DEPTH,
    Comment,
    Convention,
    ConventionState,
    Deliberation,
    DeliberationPhase,
    Meeting,
    Need,
    NeedState,
    Questionnaire,
    QuestionnaireState,
    Statement,
    StatementStatus,
)
from consult.rules.needs import may_still_rate
from core.models import Role, User
from core.permissions import is_staff, is_verified_resident

EDIT_WINDOW = timedelta(minutes=15)  # an author may edit a comment this long after posting

COMMENT_ACTIONS = frozenset(
    {
        "comment",
        "reply",
        "edit_comment",
        "report_comment",
        "hide_comment",
        "dismiss_reports",
        "see_reports",
    }
)
DELIBERATION_ACTIONS = frozenset(
    {
        "create_deliberation",
        "edit_deliberation",
        "advance_deliberation",
        "publish_decision",
        "submit_statement",
        "moderate_statement",
        "moderate_statements",
        "vote_statement",
        "vote_in_deliberation",
    }
)
MEETING_ACTIONS = frozenset(
    {
        "schedule_meeting",
        "edit_meeting",
        "cancel_meeting",
        "manage_agenda",
        "record_minutes",
        "manage_actions",
    }
)
QUESTIONNAIRE_ACTIONS = frozenset(
    {
        "create_questionnaire",
        "edit_questionnaire",
        "publish_questionnaire",
        "close_questionnaire",
        "view_questionnaire",
        "answer_questionnaire",
        "see_results",
        "moderate_answers",
        "export_questionnaire",
    }
)
NEED_ACTIONS = frozenset(
    {
        "raise_need",
        "enter_need",
        "see_entered_needs",
        "view_need",
        "list_needs",
        "answer_need",
        "resolve_need",
        "rate_need",
    }
)

# An answered need is resolved once what was promised is done; a declined one stays declined.
RESOLVABLE = (NeedState.ACCEPTED, NeedState.PROPOSED, NeedState.REFERRED)
RULE_ACTIONS = frozenset(
    {
        "create_convention",
        "see_convention",
        "edit_convention",
        "edit_text",
        "open_consultation",
        "start_revision",
        "publish_revision",
        "open_ratification",
        "close_ratification",
        "amend_convention",
        "comment_clause",
        "vote_convention",
    }
)


def may_post(user: User | None) -> bool:
    """Verified residents and staff take part in discussions; the public reads."""
    return is_verified_resident(user) or is_staff(user)


def can(user: User | None, action: str, subject: Any = None, now: datetime | None = None) -> bool:
    """May `user` do `action` on `subject` now? Unknown actions are refused."""
    if action in COMMENT_ACTIONS:
        return _can_discuss(user, action, subject, now or datetime.now(UTC))
    if action in DELIBERATION_ACTIONS:
        return _can_deliberate(user, action, subject)
    if action in MEETING_ACTIONS:
        return _can_meet(user, action, subject)
    if action in QUESTIONNAIRE_ACTIONS:
        return _can_question(user, action, subject, now or datetime.now(UTC))
    if action in NEED_ACTIONS:
        return _can_need(user, action, subject, now or datetime.now(UTC))
    if action in RULE_ACTIONS:
        return _can_rule(user, action, subject)
    return False


def _can_discuss(user: User | None, action: str, subject: Any, now: datetime) -> bool:
    """Comments. `subject`: None for a new top-level comment (the subject's own rules, such
    as a deliberation round's phase, are checked by the service), else the Comment."""
    match action, subject:
        case "comment", _:
            return may_post(user)
        case "reply", Comment() as parent:
            return may_post(user) and not parent.hidden and parent.depth < MAX_DEPTH
        case "edit_comment", Comment() as comment:
            return (
                user is not None
                and user.is_active
                and comment.author_id == user.id
                and not comment.hidden
                and now - comment.created_at <= EDIT_WINDOW
            )
        case "report_comment", Comment() as comment:
            return may_post(user) and comment.author_id != user.id and not comment.hidden
        case "hide_comment", Comment() as comment:
            return is_staff(user) and not comment.hidden
        case "dismiss_reports", Comment() as comment:  # keep a reported comment
            return is_staff(user) and not comment.hidden and comment.report_count > 0
        case "see_reports", _:
            return is_staff(user)
    return False


def _can_deliberate(user: User | None, action: str, subject: Any) -> bool:
    """Deliberation rounds and statements. `subject`: a Deliberation, or a Statement with its
    `deliberation` loaded; a round's `area_ids` (the areas it concerns, empty for the whole
    district) are set by the service that loads it (`consult.services.deliberations`).

    A round reaches "published" only by publishing its decision, never by a bare phase move."""
    match action, subject:
        case "create_deliberation", _:
            return is_staff(user)
        case "edit_deliberation", Deliberation() as d:
            return is_staff(user) and d.phase != DeliberationPhase.PUBLISHED
        case "advance_deliberation", Deliberation() as d:
            return is_staff(user) and d.phase_enum.next not in (None, DeliberationPhase.PUBLISHED)
        case "publish_decision", Deliberation() as d:
            return is_staff(user) and d.phase == DeliberationPhase.DECIDING
        case "submit_statement", Deliberation() as d:
            return (
                is_verified_resident(user)
                and d.phase == DeliberationPhase.COLLECTING
                and concerns(d, user)
            )
        case "moderate_statements", Deliberation():  # the round's queue of statements
            return is_staff(user)
        case "moderate_statement", Statement() as s:
            return (
                is_staff(user)
                and s.status == StatementStatus.PENDING
                and s.deliberation.open_for_votes
            )
        case "vote_statement", Statement() as s:
            return (
                is_verified_resident(user)
                and s.status == StatementStatus.APPROVED
                and s.author_id != user.id
                and s.deliberation.open_for_votes
                and concerns(s.deliberation, user)
            )
        case "vote_in_deliberation", Deliberation() as d:  # the round's voting page
            return is_verified_resident(user) and d.open_for_votes and concerns(d, user)
    return False


def concerns(d: Deliberation, user: User | None) -> bool:
    """Whether the round concerns the user's area: one of its areas, or any area when it is
    district-wide. Its `area_ids` must have been loaded (a round without them is a bug)."""
    area_ids = d.area_ids  # type: ignore[attr-defined]
    return user is not None and (not area_ids or user.area_id in area_ids)


def _can_meet(user: User | None, action: str, subject: Any) -> bool:
    """Meetings, their agendas, minutes and follow-up actions: the council's; the public
    reads. `subject`: a Meeting (none for scheduling one). A cancelled meeting is no longer
    changed, but what happened at its meetings before the cancellation is still recorded
    (which occurrences have begun is the service's check: it needs the time)."""
    match action, subject:
        case "schedule_meeting", _:
            return is_staff(user)
        case "edit_meeting" | "cancel_meeting" | "manage_agenda", Meeting() as meeting:
            return is_staff(user) and meeting.cancelled_at is None
        case "record_minutes" | "manage_actions", Meeting():
            return is_staff(user)
    return False


def _can_question(user: User | None, action: str, subject: Any, now: datetime) -> bool:
    """Questionnaires. `subject`: a Questionnaire whose `area_ids` (empty: every area) were
    loaded by consult.services.questionnaires. A draft is the council's alone; its questions
    change only while it is a draft. Results are the council's at once, everyone's once it
    has closed, and residents' while open only when the council said so."""
    match action, subject:
        case "create_questionnaire", _:
            return is_staff(user)
        case "edit_questionnaire" | "publish_questionnaire", Questionnaire() as q:
            return is_staff(user) and q.published_at is None
        case "close_questionnaire", Questionnaire() as q:
            return is_staff(user) and q.state_at(now) == QuestionnaireState.OPEN
        case "view_questionnaire", Questionnaire() as q:
            return q.published_at is not None or is_staff(user)
        case "answer_questionnaire", Questionnaire() as q:
            return (
                is_verified_resident(user)
                and q.state_at(now) == QuestionnaireState.OPEN
                and may_answer(q, user)
            )
        case "see_results", Questionnaire() as q:
            state = q.state_at(now)
            if state == QuestionnaireState.DRAFT:
                return False
            return (
                is_staff(user)
                or state == QuestionnaireState.CLOSED
                or (state == QuestionnaireState.OPEN and q.show_results_live)
            )
        case "moderate_answers" | "export_questionnaire", Questionnaire() as q:
            return is_staff(user) and q.published_at is not None
    return False


def may_answer(q: Questionnaire, user: User | None) -> bool:
    """Whether the user lives in one of the questionnaire's areas (any, when it has none)."""
    area_ids = q.area_ids  # type: ignore[attr-defined]
    return (
        user is not None and user.area_id is not None and (not area_ids or user.area_id in area_ids)
    )


def is_grid_worker(user: User | None) -> bool:
    """An active grid worker with an area (who enters needs for its residents)."""
    return (
        user is not None
        and user.is_active
        and user.role == Role.GRID_WORKER
        and user.area_id is not None
    )


def _can_need(user: User | None, action: str, subject: Any, now: datetime) -> bool:
    """Residents' needs. `subject`: for "enter_need" the resident the need is entered for
    (None: may the user enter needs at all), otherwise a Need.

    A need is private to its resident, the grid worker who entered it and the council: it may
    say where someone lives and what they lack."""
    match action, subject:
        case "raise_need", _:
            return is_verified_resident(user)
        case "enter_need", None:
            return is_grid_worker(user)
        case "enter_need", User() as resident:
            return (
                is_grid_worker(user)
                and resident.id != user.id
                and resident.area_id == user.area_id
                and is_verified_resident(resident)
            )
        case "see_entered_needs", _:
            return is_grid_worker(user)
        case "view_need", Need() as need:
            return (
                user is not None
                and user.is_active
                and (is_staff(user) or user.id in (need.resident_id, need.entered_by_id))
            )
        case "list_needs", _:
            return is_staff(user)
        case "answer_need", Need() as need:
            return is_staff(user) and need.state == NeedState.RECEIVED
        case "resolve_need", Need() as need:
            return is_staff(user) and need.state in RESOLVABLE
        case "rate_need", Need() as need:
            return (
                user is not None
                and user.is_active
                and need.resident_id == user.id
                and need.rating is None
                and may_still_rate(need.answered_at, now)
            )
    return False


def _can_rule(user: User | None, action: str, subject: Any) -> bool:
    """Rule consultations (conventions). `subject`: a Convention whose `area_ids` (empty: the
    whole district) were loaded by consult.services.conventions. The council drafts, opens,
    revises and closes; residents of the areas comment on clauses while it is in consultation
    and vote while it is in ratification (the close date is the service's check: it needs
    the day). A draft is seen by staff only."""
    match action, subject:
        case "create_convention", _:
            return is_staff(user)
        case "see_convention", Convention() as c:
            return c.state != ConventionState.DRAFT or is_staff(user)
        case "edit_convention" | "open_consultation", Convention() as c:
            return is_staff(user) and c.state == ConventionState.DRAFT
        case "edit_text", Convention() as c:  # the draft, or a revision being written
            return is_staff(user) and (
                c.state == ConventionState.DRAFT
                or (c.state == ConventionState.CONSULTING and c.revision > 0)
            )
        case "start_revision" | "open_ratification", Convention() as c:
            return is_staff(user) and c.state == ConventionState.CONSULTING and c.revision == 0
        case "publish_revision", Convention() as c:
            return is_staff(user) and c.state == ConventionState.CONSULTING and c.revision > 0
        case "close_ratification", Convention() as c:
            return is_staff(user) and c.state == ConventionState.RATIFYING
        case "amend_convention", Convention() as c:
            return is_staff(user) and c.state == ConventionState.ADOPTED
        case "comment_clause", Convention() as c:
            return c.state == ConventionState.CONSULTING and (
                is_staff(user) or (is_verified_resident(user) and takes_part(c, user))
            )
        case "vote_convention", Convention() as c:
            return (
                c.state == ConventionState.RATIFYING
                and is_verified_resident(user)
                and takes_part(c, user)
            )
    return False


def takes_part(c: Convention, user: User | None) -> bool:
    """Whether the user lives in one of the convention's areas (any, when district-wide)."""
    area_ids = c.area_ids  # type: ignore[attr-defined]
    return (
        user is not None and user.area_id is not None and (not area_ids or user.area_id in area_ids)
    )
