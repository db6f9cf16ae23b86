"""Needs' pure rules and permissions: tracking numbers, overdue, the rating window, the
category a proposal gets, and who may do what with a need (no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from consult.models import Need, NeedCategory, NeedState
from consult.permissions import can
from consult.rules import needs as rules
from core.models import Role, User

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def _user(uid: int, role: Role = Role.RESIDENT, area: int | None = 1, **kw) -> User:
    u = User(**{"id": uid, "username": f"u{uid}", "role": role, "verified": True, **kw})
    u.area_id = area  # set after: a model built without the ORM started takes no *_id
    return u


def _need(**kw) -> Need:
    need = Need(id=1, state=kw.pop("state", NeedState.RECEIVED), **kw)
    need.resident_id, need.entered_by_id = 1, 3
    return need


def test_tracking_numbers_are_well_formed_and_read_back_however_typed():
    numbers = {rules.new_number() for _ in range(500)}
    assert len(numbers) == 500
    for number in numbers:
        assert len(number) == 12 and number.startswith("XQ-")
        assert rules.normalize_number(number) == number
        assert rules.normalize_number(number.lower().replace("-", " ")) == number
        assert rules.normalize_number(number.replace("-", "")) == number
    for bad in ("", "XQ-1234-5678", "XQ-ABCD-EFG", "AB-2345-6789", "XQ-2345-6789-2", "x" * 100):
        assert rules.normalize_number(bad) is None


def test_overdue_after_seven_days_unanswered():
    assert rules.is_overdue(NOW - timedelta(days=7, seconds=1), None, NOW)
    assert not rules.is_overdue(NOW - timedelta(days=6), None, NOW)
    assert not rules.is_overdue(NOW - timedelta(days=30), NOW - timedelta(days=1), NOW)
    assert rules.age_days(NOW - timedelta(days=9, hours=3), NOW) == 9


def test_the_rating_window_is_thirty_days_from_the_answer():
    assert rules.may_still_rate(NOW - timedelta(days=30), NOW)
    assert not rules.may_still_rate(NOW - timedelta(days=30, seconds=1), NOW)
    assert not rules.may_still_rate(None, NOW)


def test_every_category_maps_to_a_budgeting_category():
    for category in NeedCategory:
        assert rules.proposal_category(category) in ("engineering", "equipment", "service")


resident = _user(1)
neighbour = _user(2)
worker = _user(3, Role.GRID_WORKER)
other_worker = _user(4, Role.GRID_WORKER, area=2)
council = _user(5, Role.COUNCIL, area=None)
unverified = _user(6, verified=False)


@pytest.mark.parametrize(
    ("user", "expected"),
    [(resident, True), (worker, True), (council, False), (unverified, False), (None, False)],
)
def test_who_raises_a_need(user, expected):
    assert can(user, "raise_need") is expected


def test_who_enters_a_need_for_whom():
    assert can(worker, "enter_need") and not can(resident, "enter_need")
    assert can(worker, "enter_need", resident)
    assert not can(other_worker, "enter_need", resident)  # another area's grid worker
    assert not can(worker, "enter_need", worker)  # not for themselves
    assert not can(worker, "enter_need", unverified)
    assert not can(_user(7, Role.GRID_WORKER, area=None), "enter_need")


def test_who_sees_a_need():
    need = _need()
    assert can(resident, "view_need", need) and can(worker, "view_need", need)
    assert can(council, "view_need", need)
    assert not can(neighbour, "view_need", need) and not can(other_worker, "view_need", need)
    assert not can(None, "view_need", need)
    assert not can(_user(1, is_active=False), "view_need", need)


def test_who_answers_resolves_and_rates_and_when():
    received = _need()
    accepted = _need(state=NeedState.ACCEPTED, answered_at=NOW - timedelta(days=2))
    declined = _need(state=NeedState.DECLINED, answered_at=NOW - timedelta(days=2))
    assert can(council, "answer_need", received) and not can(council, "answer_need", accepted)
    assert not can(resident, "answer_need", received)
    assert can(council, "resolve_need", accepted)
    assert not can(council, "resolve_need", received) and not can(council, "resolve_need", declined)
    assert can(council, "list_needs") and not can(worker, "list_needs")
    assert can(resident, "rate_need", accepted, NOW) and can(resident, "rate_need", declined, NOW)
    assert not can(neighbour, "rate_need", accepted, NOW)
    assert not can(resident, "rate_need", received, NOW)
    assert not can(resident, "rate_need", accepted, NOW + timedelta(days=29))
    rated = _need(state=NeedState.ACCEPTED, answered_at=NOW, rating=4)
    assert not can(resident, "rate_need", rated, NOW)
