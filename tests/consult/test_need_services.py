"""Needs, service by service: raising and entering (with every refusal), the four answers,
resolving, rating (with every refusal), the notifications and audit entries each step writes,
and the dashboard's counts after each step, equal to a recount."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from budget.models import Phase, Proposal, ProposalStatus
from budget.services.photos import Upload
from consult.models import Need, NeedPhoto, NeedResponseTime, NeedStat, NeedState
from consult.rules import needs as rules
from consult.services import need_answers, need_stats, needs
from core.errors import Conflict, NotFound, PermissionDenied, RateLimited, ValidationError
from core.models import AuditEntry, Follow, Notification
from tests.consult.needs_setup import NEED, accept_form, answered, raise_one, town
from tests.helpers import make_round, tiny_png


async def _stats_match_a_recount() -> list[tuple]:
    """The kept counts equal those recounted from the needs (and are returned)."""
    fields = ("month", "area_id", "channel", "received", "answered", "resolved", "rated")
    kept = sorted(await NeedStat.all().values_list(*fields, "satisfied"))
    times = sorted(await NeedResponseTime.all().values_list("month", "channel", "hours", "count"))
    await need_stats.recount_need_stats()
    assert sorted(await NeedStat.all().values_list(*fields, "satisfied")) == kept
    assert (
        sorted(await NeedResponseTime.all().values_list("month", "channel", "hours", "count"))
        == times
    )
    return kept


# --- raising -------------------------------------------------------------------------------


async def test_a_resident_raises_a_need_followed_counted_and_audited(db, tmp_path):
    t = await town()
    photo = Upload("lamp.png", tiny_png())
    need = await needs.raise_need(
        t.alice, {**NEED, "place": "Gate 3"}, [photo], upload_dir=tmp_path, max_bytes=10**6
    )
    assert rules.normalize_number(need.number) == need.number
    assert (need.resident_id, need.area_id, need.channel, need.state) == (
        t.alice.id,
        t.east.id,
        "online",
        NeedState.RECEIVED,
    )
    assert need.entered_by_id is None and need.place == "Gate 3"
    photos = await NeedPhoto.filter(need_id=need.id)
    assert len(photos) == 1 and (tmp_path / photos[0].stored_name).is_file()
    assert await Follow.filter(user_id=t.alice.id, subject_type="need", subject_id=need.id).exists()
    assert await AuditEntry.filter(action="need.raised", subject_id=need.id).count() == 1
    kept = await _stats_match_a_recount()
    assert [row[3:] for row in kept] == [(1, 0, 0, 0, 0)]


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 121}, "title"),
        ({"body": ""}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"place": "x" * 201}, "place"),
        ({"category": "weather"}, "category"),
    ],
)
async def test_empty_or_oversized_texts_are_refused_and_nothing_written(
    db, tmp_path, changes, field
):
    t = await town()
    with pytest.raises(ValidationError) as exc:
        await raise_one(t.alice, tmp_path, **changes)
    assert field in exc.value.errors
    assert await Need.all().count() == 0 and await NeedStat.all().count() == 0


async def test_more_than_three_photos_or_a_non_image_is_refused(db, tmp_path):
    t = await town()
    four = [Upload(f"{i}.png", tiny_png()) for i in range(4)]
    with pytest.raises(ValidationError) as exc:
        await needs.raise_need(t.alice, NEED, four, upload_dir=tmp_path, max_bytes=10**6)
    assert "photos" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        await needs.raise_need(
            t.alice,
            NEED,
            [Upload("x.png", b"MZ not an image")],
            upload_dir=tmp_path,
            max_bytes=10**6,
        )
    assert "not a JPEG" in exc.value.errors["photos"]
    assert await Need.all().count() == 0 and not list(tmp_path.glob("*"))


async def test_only_verified_residents_raise_needs(db, tmp_path):
    t = await town()
    t.alice.verified = False
    for user in (None, t.alice, t.carol):
        with pytest.raises(PermissionDenied):
            await raise_one(user, tmp_path)
    assert await Need.all().count() == 0


async def test_a_resident_raises_at_most_ten_needs_a_day(db, tmp_path):
    t = await town()
    for _ in range(needs.DAILY_LIMIT):
        await raise_one(t.alice, tmp_path)
    with pytest.raises(RateLimited):
        await raise_one(t.alice, tmp_path)
    assert await Need.all().count() == needs.DAILY_LIMIT


async def test_a_collision_of_tracking_numbers_is_retried(db, tmp_path, monkeypatch):
    t = await town()
    first = await raise_one(t.alice, tmp_path)
    numbers = iter([first.number, first.number, "XQ-2345-6789"])
    monkeypatch.setattr(rules, "new_number", lambda: next(numbers))
    second = await raise_one(t.alice, tmp_path)
    assert second.number == "XQ-2345-6789"
    assert await Need.all().count() == 2
    assert [row[3] for row in await _stats_match_a_recount()] == [2]


async def test_a_grid_worker_enters_a_need_for_a_resident_of_their_area(db, tmp_path):
    t = await town()
    need = await needs.enter_need(
        t.wendy,
        t.alice.id,
        {**NEED, "channel": "talk_box"},
        [],
        upload_dir=tmp_path,
        max_bytes=10**6,
    )
    assert (need.resident_id, need.entered_by_id, need.channel) == (
        t.alice.id,
        t.wendy.id,
        "talk_box",
    )
    assert await Follow.filter(user_id=t.alice.id, subject_id=need.id).exists()
    assert await AuditEntry.filter(action="need.entered", actor_id=t.wendy.id).count() == 1
    page = await needs.entered_needs(t.wendy, 1)
    assert [n.id for n in page.items] == [need.id]


async def test_entering_for_another_area_or_without_a_channel_is_refused(db, tmp_path):
    t = await town()
    form = {**NEED, "channel": "phone"}
    with pytest.raises(PermissionDenied) as exc:
        await needs.enter_need(t.wendy, t.walt.id, form, [], upload_dir=tmp_path, max_bytes=1)
    assert "your own area" in exc.value.message
    with pytest.raises(PermissionDenied):  # a resident is no grid worker
        await needs.enter_need(t.bob, t.alice.id, form, [], upload_dir=tmp_path, max_bytes=1)
    with pytest.raises(NotFound):
        await needs.enter_need(t.wendy, 99999, form, [], upload_dir=tmp_path, max_bytes=1)
    for channel in ("", "online", "pigeon"):
        with pytest.raises(ValidationError) as exc:
            await needs.enter_need(
                t.wendy,
                t.alice.id,
                {**NEED, "channel": channel},
                [],
                upload_dir=tmp_path,
                max_bytes=1,
            )
        assert "channel" in exc.value.errors
    assert await Need.all().count() == 0


async def test_the_resident_picker_shows_households_of_the_area_only(db, tmp_path):
    t = await town()
    found = await needs.resident_candidates(t.wendy, "alice wang")
    assert {u.id for u in found} == {t.alice.id, t.bob.id}
    households = await needs.households_of([u.id for u in found])
    assert households == {t.alice.id: "Building 3, flat 201", t.bob.id: "Building 7, flat 502"}
    assert t.walt.id not in {u.id for u in await needs.resident_candidates(t.wendy)}


async def test_lookup_by_tracking_number(db, tmp_path):
    t = await town()
    need = await raise_one(t.alice, tmp_path)
    typed = need.number.lower().replace("-", " ")
    assert (await needs.find_by_number(t.alice, typed)).id == need.id
    assert (await needs.find_by_number(t.carol, need.number)).id == need.id
    with pytest.raises(NotFound):  # someone else's number is unknown to them
        await needs.find_by_number(t.bob, need.number)
    with pytest.raises(NotFound):
        await needs.find_by_number(t.alice, "XQ-2222-3333")
    with pytest.raises(ValidationError):
        await needs.find_by_number(t.alice, "hello")


# --- answering -----------------------------------------------------------------------------


async def test_accepting_sets_owner_due_date_counts_and_tells_the_resident(db, tmp_path):
    t = await town()
    need = await raise_one(t.alice, tmp_path)
    need = await need_answers.answer_need(t.carol, need.id, accept_form())
    assert (need.state, need.answer, need.owner) == ("accepted", "accepted", "Property office")
    assert need.answered_at is not None and need.answered_by_id == t.carol.id
    [note] = await Notification.filter(user_id=t.alice.id)
    assert note.kind == "need_answered" and note.params["number"] == need.number
    assert note.url == f"/consult/needs/{need.id}"
    assert await AuditEntry.filter(action="need.answered", subject_id=need.id).count() == 1
    assert [row[3:] for row in await _stats_match_a_recount()] == [(1, 1, 0, 0, 0)]


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ({"answer": "accepted", "due_on": "2099-01-01"}, "owner"),
        ({"answer": "accepted", "owner": "Office"}, "due_on"),
        ({"answer": "accepted", "owner": "Office", "due_on": "2001-01-01"}, "due_on"),
        ({"answer": "referred"}, "referred_to"),
        ({"answer": "declined", "answer_note": " "}, "answer_note"),
        ({"answer": "resolved"}, "answer"),
        ({}, "answer"),
    ],
)
async def test_an_answer_missing_what_it_needs_is_refused(db, tmp_path, form, field):
    t = await town()
    need = await raise_one(t.alice, tmp_path)
    with pytest.raises(ValidationError) as exc:
        await need_answers.answer_need(t.carol, need.id, form)
    assert field in exc.value.errors
    assert (await Need.get(id=need.id)).state == NeedState.RECEIVED
    assert await Notification.all().count() == 0


async def test_referring_and_declining(db, tmp_path):
    t = await town()
    one = await raise_one(t.alice, tmp_path)
    two = await raise_one(t.alice, tmp_path)
    one = await need_answers.answer_need(
        t.carol, one.id, {"answer": "referred", "referred_to": "Water company"}
    )
    two = await need_answers.answer_need(
        t.carol, two.id, {"answer": "declined", "answer_note": "Private land."}
    )
    assert (one.state, one.referred_to) == ("referred", "Water company")
    assert (two.state, two.answer_note) == ("declined", "Private land.")
    assert [row[3:5] for row in await _stats_match_a_recount()] == [(2, 2)]


async def test_only_the_council_answers_and_only_once(db, tmp_path):
    t = await town()
    need = await raise_one(t.alice, tmp_path)
    for user in (t.alice, t.wendy, None):
        with pytest.raises(PermissionDenied):
            await need_answers.answer_need(user, need.id, accept_form())
    await need_answers.answer_need(t.carol, need.id, accept_form())
    with pytest.raises(Conflict) as exc:
        await need_answers.answer_need(t.carol, need.id, {"answer": "declined", "answer_note": "x"})
    assert "already answered" in exc.value.message
    with pytest.raises(NotFound):
        await need_answers.answer_need(t.carol, 999999, accept_form())
    assert await Notification.all().count() == 1
    assert [row[4] for row in await _stats_match_a_recount()] == [1]


async def test_turning_a_need_into_a_proposal_links_both_ways(db, tmp_path):
    t = await town()
    rnd = await make_round("Proposing", phase=Phase.PROPOSING, envelopes={t.east: 50_000_00})
    need = await raise_one(t.alice, tmp_path, place="Gate 3")
    rounds = await need_answers.proposing_rounds()
    values = need_answers.proposal_form_values(need, rounds)
    assert values["round"] == str(rnd.id) and values["category"] == "engineering"
    assert values["area"] == str(t.east.id) and "Gate 3" in values["description"]
    need = await need_answers.propose_need(
        t.carol, need.id, {**values, "cost": "12000", "beneficiaries": "300"}
    )
    proposal = await Proposal.get(id=need.proposal_id)
    assert (proposal.author_id, proposal.area_id, proposal.cost_fen) == (
        t.alice.id,
        t.east.id,
        1_200_000,
    )
    assert proposal.status == ProposalStatus.SUBMITTED and proposal.round_id == rnd.id
    assert need.state == NeedState.PROPOSED
    assert await Need.filter(proposal_id=proposal.id).count() == 1
    assert await Follow.filter(user_id=t.alice.id, subject_type="proposal").exists()
    assert await Notification.filter(user_id=t.alice.id, kind="need_answered").count() == 1


async def test_a_bad_cost_or_no_proposing_round_is_refused_and_nothing_written(db, tmp_path):
    t = await town()
    need = await raise_one(t.alice, tmp_path)
    with pytest.raises(ValidationError) as exc:
        await need_answers.propose_need(t.carol, need.id, {"round": "1"})
    assert "round" in exc.value.errors
    rnd = await make_round("Proposing", phase=Phase.PROPOSING, envelopes={t.east: 10_000_00})
    values = need_answers.proposal_form_values(need, [rnd])
    with pytest.raises(ValidationError) as exc:
        await need_answers.propose_need(
            t.carol, need.id, {**values, "cost": "999999", "beneficiaries": "10"}
        )
    assert "cost" in exc.value.errors
    voting = await make_round("Voting", phase=Phase.VOTING)
    with pytest.raises(ValidationError) as exc:
        await need_answers.propose_need(
            t.carol,
            need.id,
            {**values, "round": str(voting.id), "cost": "10", "beneficiaries": "1"},
        )
    assert "round" in exc.value.errors
    assert await Proposal.all().count() == 0
    assert (await Need.get(id=need.id)).state == NeedState.RECEIVED


# --- resolving -----------------------------------------------------------------------------


async def test_resolving_an_answered_need(db, tmp_path):
    t = await town()
    need = await answered(t, tmp_path)
    need = await need_answers.resolve_need(t.carol, need.id, {"resolution_note": "Lamp fixed."})
    assert (need.state, need.answer, need.resolution_note) == (
        "resolved",
        "accepted",
        "Lamp fixed.",
    )
    assert need.resolved_at >= need.answered_at
    kinds = await Notification.filter(user_id=t.alice.id).values_list("kind", flat=True)
    assert sorted(kinds) == ["need_answered", "need_resolved"]
    assert [row[3:6] for row in await _stats_match_a_recount()] == [(1, 1, 1)]
    steps = [s["step"] for s in need_answers.timeline(need)]
    assert steps == ["received", "answered", "resolved"]


async def test_resolving_refusals(db, tmp_path):
    t = await town()
    fresh = await raise_one(t.alice, tmp_path)
    with pytest.raises(Conflict) as exc:
        await need_answers.resolve_need(t.carol, fresh.id, {"resolution_note": "Done"})
    assert "not been answered" in exc.value.message
    declined = await need_answers.answer_need(
        t.carol, fresh.id, {"answer": "declined", "answer_note": "No."}
    )
    with pytest.raises(Conflict):
        await need_answers.resolve_need(t.carol, declined.id, {"resolution_note": "Done"})
    need = await answered(t, tmp_path)
    with pytest.raises(PermissionDenied):
        await need_answers.resolve_need(t.alice, need.id, {"resolution_note": "Done"})
    with pytest.raises(ValidationError):
        await need_answers.resolve_need(t.carol, need.id, {"resolution_note": ""})
    await need_answers.resolve_need(t.carol, need.id, {"resolution_note": "Done"})
    with pytest.raises(Conflict) as exc:
        await need_answers.resolve_need(t.carol, need.id, {"resolution_note": "Again"})
    assert "already resolved" in exc.value.message
    assert [row[5] for row in await _stats_match_a_recount()] == [1]


# --- rating --------------------------------------------------------------------------------


async def test_the_resident_rates_the_answer_once(db, tmp_path):
    t = await town()
    need = await answered(t, tmp_path)
    need = await need_answers.rate_need(
        t.alice, need.id, {"rating": "5", "rating_comment": "Quick!"}
    )
    assert (need.rating, need.rating_comment) == (5, "Quick!") and need.rated_at
    assert [row[6:] for row in await _stats_match_a_recount()] == [(1, 1)]
    with pytest.raises(Conflict) as exc:
        await need_answers.rate_need(t.alice, need.id, {"rating": "1"})
    assert "already rated" in exc.value.message
    assert (await Need.get(id=need.id)).rating == 5


@pytest.mark.parametrize("rating", ["0", "6", "", "five", "3.5"])
async def test_a_rating_outside_one_to_five_is_refused(db, tmp_path, rating):
    t = await town()
    need = await answered(t, tmp_path)
    with pytest.raises(ValidationError) as exc:
        await need_answers.rate_need(t.alice, need.id, {"rating": rating})
    assert "1 (poor) to 5" in exc.value.errors["rating"]
    assert (await Need.get(id=need.id)).rating is None
    assert [row[6] for row in await _stats_match_a_recount()] == [0]


async def test_rating_refusals_who_when_and_unanswered(db, tmp_path):
    t = await town()
    fresh = await raise_one(t.alice, tmp_path)
    with pytest.raises(Conflict):  # not answered yet
        await need_answers.rate_need(t.alice, fresh.id, {"rating": "4"})
    need = await answered(t, tmp_path)
    for user in (t.bob, t.carol, t.wendy, None):
        with pytest.raises(PermissionDenied):
            await need_answers.rate_need(user, need.id, {"rating": "4"})
    with pytest.raises(ValidationError):
        await need_answers.rate_need(
            t.alice, need.id, {"rating": "4", "rating_comment": "x" * 1001}
        )
    late = datetime.now(UTC) - timedelta(days=31)
    await Need.filter(id=need.id).update(answered_at=late, created_at=late - timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        await need_answers.rate_need(t.alice, need.id, {"rating": "4"})
    assert "within 30 days" in exc.value.errors["rating"]
    assert await Need.filter(rating__isnull=False).count() == 0


async def test_every_step_keeps_the_counts_equal_to_a_recount(db, tmp_path):
    t = await town()
    a = await answered(t, tmp_path)
    b = await raise_one(t.bob, tmp_path)
    c = await needs.enter_need(
        t.wendy, t.alice.id, {**NEED, "channel": "phone"}, [], upload_dir=tmp_path, max_bytes=1
    )
    await need_answers.answer_need(t.carol, c.id, {"answer": "referred", "referred_to": "Police"})
    await need_answers.resolve_need(t.carol, a.id, {"resolution_note": "Done"})
    await need_answers.rate_need(t.alice, a.id, {"rating": "2"})
    await need_answers.rate_need(t.alice, c.id, {"rating": "4"})
    kept = await _stats_match_a_recount()
    by_channel = {row[2]: row[3:] for row in kept}
    assert by_channel == {"online": (2, 1, 1, 1, 0), "phone": (1, 1, 0, 1, 1)}
    assert b.id
