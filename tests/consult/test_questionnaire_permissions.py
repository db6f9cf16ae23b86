"""The questionnaire rows of the permission table, without a database: who may build, answer,
see results, moderate and export, in each state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult.models import Questionnaire
from consult.permissions import can
from core.models import Role, User

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)


def _q(state: str, areas=(), live=False) -> Questionnaire:
    opens, closes = {
        "draft": (NOW + DAY, NOW + 8 * DAY),
        "scheduled": (NOW + DAY, NOW + 8 * DAY),
        "open": (NOW - DAY, NOW + DAY),
        "closed": (NOW - 8 * DAY, NOW - DAY),
    }[state]
    q = Questionnaire(
        id=1,
        title="t",
        opens_at=opens,
        closes_at=closes,
        published_at=None if state == "draft" else opens - DAY,
        show_results_live=live,
    )
    q.area_ids = list(areas)
    return q


def _user(role=Role.RESIDENT, area_id=1, verified=True) -> User:
    u = User(id=5, username="u", role=role, verified=verified, is_active=True)
    u.area_id = area_id
    return u


RESIDENT, COUNCIL = _user(), _user(Role.COUNCIL, None)


@pytest.mark.parametrize(
    "state, answer, results_resident, results_council, close",
    [
        ("draft", False, False, False, False),
        ("scheduled", False, False, True, False),
        ("open", True, False, True, True),
        ("closed", False, True, True, False),
    ],
)
def test_each_state(state, answer, results_resident, results_council, close):
    q = _q(state)
    assert can(RESIDENT, "answer_questionnaire", q, NOW) is answer
    assert can(RESIDENT, "see_results", q, NOW) is results_resident
    assert can(None, "see_results", q, NOW) is results_resident
    assert can(COUNCIL, "see_results", q, NOW) is results_council
    assert can(COUNCIL, "close_questionnaire", q, NOW) is close
    assert can(COUNCIL, "edit_questionnaire", q, NOW) is (state == "draft")
    assert can(RESIDENT, "view_questionnaire", q, NOW) is (state != "draft")


def test_areas_verification_and_roles():
    q = _q("open", areas=(2,))
    assert not can(RESIDENT, "answer_questionnaire", q, NOW)  # area 1
    assert can(_user(area_id=2), "answer_questionnaire", q, NOW)
    assert can(_user(Role.GRID_WORKER, 2), "answer_questionnaire", q, NOW)
    assert not can(_user(area_id=2, verified=False), "answer_questionnaire", q, NOW)
    assert not can(COUNCIL, "answer_questionnaire", q, NOW)
    assert not can(None, "answer_questionnaire", q, NOW)
    for action in ("create_questionnaire", "moderate_answers", "export_questionnaire"):
        assert can(COUNCIL, action, q, NOW) and not can(RESIDENT, action, q, NOW)


def test_live_results_only_while_open_and_when_ticked():
    assert can(RESIDENT, "see_results", _q("open", live=True), NOW)
    assert not can(RESIDENT, "see_results", _q("scheduled", live=True), NOW)
