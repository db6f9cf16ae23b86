"""The deliberation rows of the permissions table, without a database: who may do what to a
round and its statements, in which phase, from which area."""

from __future__ import annotations

from datetime import date

import pytest

from consult.models import Deliberation, DeliberationPhase, Statement, StatementStatus
from consult.permissions import can
from core.models import Role, User

EAST, WEST = 1, 2
P = DeliberationPhase


def user(uid: int, role: Role = Role.RESIDENT, area: int | None = EAST, verified=True) -> User:
    u = User(id=uid, username=f"u{uid}", role=role, verified=verified, is_active=True)
    u.area_id = area
    return u


def round_(phase: P, areas: list[int]) -> Deliberation:
    d = Deliberation(
        id=1, title="t", phase=phase, starts_on=date(2026, 1, 1), ends_on=date(2026, 2, 1)
    )
    d.area_ids = areas
    return d


def statement(d: Deliberation, author: int = 9, status=StatementStatus.APPROVED) -> Statement:
    s = Statement(id=5, body="b", status=status)
    s.author_id = author
    s.deliberation = d
    return s


COUNCIL = user(100, Role.COUNCIL, area=None)
ALICE = user(1)
CAROL = user(2, area=WEST)
UNVERIFIED = user(3, verified=False)
FINANCE = user(4, Role.FINANCE, area=EAST)


@pytest.mark.parametrize(
    ("phase", "advance", "publish", "edit"),
    [
        (P.COLLECTING, True, False, True),
        (P.DISCUSSING, True, False, True),
        (P.DECIDING, False, True, True),
        (P.PUBLISHED, False, False, False),
    ],
)
def test_the_council_runs_rounds(phase, advance, publish, edit):
    d = round_(phase, [EAST])
    assert can(COUNCIL, "create_deliberation")
    assert can(COUNCIL, "advance_deliberation", d) is advance
    assert can(COUNCIL, "publish_decision", d) is publish
    assert can(COUNCIL, "edit_deliberation", d) is edit
    for other in (None, ALICE, FINANCE):
        assert not can(other, "create_deliberation")
        assert not can(other, "advance_deliberation", d)
        assert not can(other, "publish_decision", d)
        assert not can(other, "moderate_statements", d)


@pytest.mark.parametrize("phase", list(P))
def test_statements_are_submitted_while_collecting_by_residents_of_the_areas(phase):
    d = round_(phase, [EAST])
    assert can(ALICE, "submit_statement", d) is (phase == P.COLLECTING)
    assert not can(CAROL, "submit_statement", d)  # another area
    assert not can(UNVERIFIED, "submit_statement", d)
    assert not can(COUNCIL, "submit_statement", d)
    district_wide = round_(phase, [])
    assert can(CAROL, "submit_statement", district_wide) is (phase == P.COLLECTING)


@pytest.mark.parametrize("phase", list(P))
def test_votes_while_collecting_or_discussing_never_on_ones_own(phase):
    d = round_(phase, [EAST])
    open_ = phase in (P.COLLECTING, P.DISCUSSING)
    assert can(ALICE, "vote_statement", statement(d)) is open_
    assert can(ALICE, "vote_in_deliberation", d) is open_
    assert not can(ALICE, "vote_statement", statement(d, author=ALICE.id))
    assert not can(ALICE, "vote_statement", statement(d, status=StatementStatus.PENDING))
    assert not can(CAROL, "vote_statement", statement(d))
    assert not can(UNVERIFIED, "vote_statement", statement(d))
    assert not can(None, "vote_statement", statement(d))
    assert can(CAROL, "vote_statement", statement(round_(phase, [EAST, WEST]))) is open_


def test_moderation_is_the_councils_while_the_round_is_open():
    for phase in P:
        d = round_(phase, [EAST])
        pending = statement(d, status=StatementStatus.PENDING)
        assert can(COUNCIL, "moderate_statement", pending) is d.open_for_votes
        assert not can(COUNCIL, "moderate_statement", statement(d))  # already approved
        assert not can(ALICE, "moderate_statement", pending)
        assert can(COUNCIL, "moderate_statements", d)


def test_a_round_without_its_areas_loaded_is_a_bug_not_a_refusal():
    d = Deliberation(
        id=1, title="t", phase=P.COLLECTING, starts_on=date(2026, 1, 1), ends_on=date(2026, 2, 1)
    )
    with pytest.raises(AttributeError):
        can(ALICE, "submit_statement", d)
