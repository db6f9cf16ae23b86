"""Residents rate what was delivered (1–5, once each, changeable for 30 days) and the council
hides a comment with a public reason, the original kept in the audit log only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from budget.models import Rating
from budget.services import ratings
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditEntry, Role
from tests.budget.disclosure_setup import move, stages_round
from tests.budget.money import contract
from tests.helpers import app_client, login, make_user, page_text, post_form


def rate_url(p) -> str:
    return f"/budget/procurements/{p.id}/rating"


def page_url(p) -> str:
    return f"/budget/procurements/{p.id}"


async def test_a_resident_of_the_area_rates_then_changes_within_30_days(client, db):
    st = await stages_round()
    closed = st.closed  # East, closed
    await login(client, "resident")
    page = await client.get(page_url(closed))
    assert "Rate what was delivered" in page_text(page.text)

    response = await post_form(client, rate_url(closed), {"score": "4", "comment": "Sturdy"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"{page_url(closed)}#rate")
    rating = await Rating.get(procurement_id=closed.id, user_id=st.fr.resident.id)
    assert (rating.score, rating.comment) == (4, "Sturdy")

    text = page_text((await client.get(page_url(closed))).text)
    assert "Your rating" in text and "You gave it 4 out of 5" in text
    assert "Sturdy" in text
    assert "Satisfaction: 100.0% of 1 rating is 4 or 5 out of 5." in text

    # changed within 30 days: still one row
    response = await post_form(client, rate_url(closed), {"score": "2", "comment": "Wobbly now"})
    assert response.status_code == 303
    assert await Rating.filter(procurement_id=closed.id).count() == 1
    rating = await Rating.get(id=rating.id)
    assert (rating.score, rating.comment) == (2, "Wobbly now")
    text = page_text((await client.get(page_url(closed))).text)
    assert "Satisfaction: 0.0% of 1 rating is 4 or 5 out of 5." in text
    assert "Sturdy" not in text

    # the audit entries name the resident, so they are not public
    entries = await AuditEntry.filter(action__startswith="rating.").order_by("id")
    assert [e.action for e in entries] == ["rating.given", "rating.changed"]
    assert not any(e.public for e in entries)


async def test_no_change_after_30_days(client, db):
    st = await stages_round()
    await login(client, "resident")
    await post_form(client, rate_url(st.closed), {"score": "5"})
    rating = await Rating.get(procurement_id=st.closed.id)
    await Rating.filter(id=rating.id).update(created_at=rating.created_at - timedelta(days=31))

    page = page_text((await client.get(page_url(st.closed))).text)
    assert "that time is over" in page
    assert "Change my rating" not in page
    response = await post_form(client, rate_url(st.closed), {"score": "1"})
    assert response.status_code == 403
    assert (await Rating.get(id=rating.id)).score == 5


async def test_still_changeable_on_day_30(db):
    st = await stages_round()
    rating = await ratings.rate(st.fr.resident, st.closed.id, {"score": "3"})
    await Rating.filter(id=rating.id).update(
        created_at=rating.created_at - timedelta(days=29, hours=23)
    )
    changed = await ratings.rate(st.fr.resident, st.closed.id, {"score": "4"})
    assert changed.id == rating.id and changed.score == 4


async def test_a_resident_of_another_area_is_refused(client, db):
    st = await stages_round()
    await login(client, "westie")  # West; benches are in East
    response = await post_form(client, rate_url(st.closed), {"score": "5"})
    assert response.status_code == 403
    assert not await Rating.exists()
    text = page_text((await client.get(page_url(st.closed))).text)
    assert "Only residents of the project's area rate it." in text
    assert "Save my rating" not in text


async def test_an_area_procurement_is_rated_by_its_area_only(db):
    st = await stages_round()
    # the district-wide procurements are cancelled or planned: not rateable yet
    with pytest.raises(PermissionDenied):
        await ratings.rate(st.fr.west_resident, st.planned.id, {"score": "5"})
    # the West one is delivered: westie may rate it, the East resident may not
    assert (await ratings.rate(st.fr.west_resident, st.delivered.id, {"score": "5"})).score == 5
    with pytest.raises(PermissionDenied):
        await ratings.rate(st.fr.resident, st.delivered.id, {"score": "5"})


async def test_a_delivered_district_wide_procurement_is_rated_by_every_area(db):
    st = await stages_round()
    fr = st.fr
    racks = st.planned
    await contract(fr, racks, 9_000_00)
    await move(fr, racks, "in_progress")
    await move(fr, racks, "delivered", delivered_on="2026-11-20")
    assert (await ratings.rate(fr.resident, racks.id, {"score": "4"})).score == 4
    assert (await ratings.rate(fr.west_resident, racks.id, {"score": "5"})).score == 5


async def test_before_delivery_is_refused(client, db):
    st = await stages_round()
    await login(client, "resident")
    response = await post_form(client, rate_url(st.running), {"score": "5"})  # in progress
    assert response.status_code == 403
    assert not await Rating.exists()
    text = page_text((await client.get(page_url(st.running))).text)
    assert "Residents rate a project once it is delivered." in text


async def test_staff_and_unverified_cannot_rate(client, db):
    st = await stages_round()
    for user in (st.fr.finance, st.fr.council):
        with pytest.raises(PermissionDenied):
            await ratings.rate(user, st.closed.id, {"score": "5"})
    unverified = await make_user("newbie", Role.RESIDENT, area=st.fr.east, verified=False)
    with pytest.raises(PermissionDenied):
        await ratings.rate(unverified, st.closed.id, {"score": "5"})
    # anonymous: the POST is refused, the page offers to sign in
    response = await post_form(client, rate_url(st.closed), {"score": "5"})
    assert response.status_code == 403
    assert "Sign in to rate it" in page_text((await client.get(page_url(st.closed))).text)
    assert not await Rating.exists()


@pytest.mark.parametrize("score", ["0", "6", "good", "", "4.5"])
async def test_bad_scores_are_refused_with_the_form_kept(client, db, score):
    st = await stages_round()
    await login(client, "resident")
    response = await post_form(
        client, rate_url(st.closed), {"score": score, "comment": "Kept comment"}
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Choose a score from 1 to 5." in text
    assert "Kept comment" in response.text  # what was typed is kept
    assert not await Rating.exists()


async def test_too_long_comment_is_refused(db):
    st = await stages_round()
    with pytest.raises(ValidationError) as exc:
        await ratings.rate(st.fr.resident, st.closed.id, {"score": "5", "comment": "x" * 2001})
    assert "comment" in exc.value.errors
    assert not await Rating.exists()


async def test_one_rating_each_in_the_database(db):
    from tortoise.exceptions import IntegrityError

    st = await stages_round()
    await Rating.create(procurement=st.closed, user=st.fr.resident, score=3)
    with pytest.raises(IntegrityError):
        await Rating.create(procurement=st.closed, user=st.fr.resident, score=4)


async def test_council_hides_a_comment_with_a_public_reason(app, client, db):
    st = await stages_round()
    rating = await ratings.rate(
        st.fr.resident, st.closed.id, {"score": "1", "comment": "The officer Zhang is a thief"}
    )
    await login(client, "council")
    page = await client.get(page_url(st.closed))
    assert "Hide the comment" in page_text(page.text)

    # a reason is required
    response = await post_form(client, f"/budget/ratings/{rating.id}/hide", {"reason": " "})
    assert response.status_code == 422
    assert "This field is required." in page_text(response.text)
    assert (await Rating.get(id=rating.id)).hidden_reason == ""

    response = await post_form(
        client, f"/budget/ratings/{rating.id}/hide", {"reason": "Accuses a person by name"}
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"#rating-{rating.id}")
    stored = await Rating.get(id=rating.id)
    assert stored.comment == "" and stored.hidden_reason == "Accuses a person by name"
    assert stored.score == 1  # the score still counts

    # the public page: the reason, not the text
    async with app_client(app) as anonymous:
        text = page_text((await anonymous.get(page_url(st.closed))).text)
    assert "Comment hidden by the council: Accuses a person by name" in text
    assert "thief" not in text
    assert "Satisfaction: 0.0% of 1 rating is 4 or 5 out of 5." in text

    # the original is in the audit log, not public
    entry = await AuditEntry.get(action="rating.hidden")
    assert entry.detail["original_comment"] == "The officer Zhang is a thief"
    assert entry.detail["reason"] == "Accuses a person by name"
    assert entry.public is False

    # hiding twice is a conflict
    with pytest.raises(Conflict):
        await ratings.hide_comment(st.fr.council, rating.id, {"reason": "again"})


async def test_only_the_council_hides(client, db):
    st = await stages_round()
    rating = await ratings.rate(st.fr.resident, st.closed.id, {"score": "3", "comment": "Fine"})
    for username in ("resident", "finance"):
        await login(client, username)
        assert "Hide the comment" not in page_text((await client.get(page_url(st.closed))).text)
        response = await post_form(client, f"/budget/ratings/{rating.id}/hide", {"reason": "x"})
        assert response.status_code == 403
    assert (await Rating.get(id=rating.id)).comment == "Fine"


async def test_after_hiding_the_resident_may_change_the_score_only(db):
    st = await stages_round()
    rating = await ratings.rate(st.fr.resident, st.closed.id, {"score": "1", "comment": "Rude"})
    await ratings.hide_comment(st.fr.council, rating.id, {"reason": "Rude words"})
    with pytest.raises(ValidationError) as exc:
        await ratings.rate(st.fr.resident, st.closed.id, {"score": "2", "comment": "Rude again"})
    assert "comment" in exc.value.errors
    changed = await ratings.rate(st.fr.resident, st.closed.id, {"score": "2"})
    assert (changed.score, changed.comment, changed.hidden_reason) == (2, "", "Rude words")


async def test_satisfaction_is_the_share_of_fours_and_fives(client, db):
    st = await stages_round()
    east = st.fr.east
    scores = [5, 4, 3, 1, 4]
    for i, score in enumerate(scores):
        user = await make_user(f"east{i}", Role.RESIDENT, area=east, display_name=f"Neighbour {i}")
        await ratings.rate(user, st.closed.id, {"score": str(score), "comment": f"note {i}"})
    text = page_text((await client.get(page_url(st.closed))).text)
    assert "Satisfaction: 60.0% of 5 ratings are 4 or 5 out of 5." in text
    for score in scores:
        assert f"{score} out of 5" in text
    assert not re.search(r"Neighbour \d|east\d", text)
    spending = page_text((await client.get(f"/budget/rounds/{st.fr.round.id}/spending")).text)
    assert "60.0% of 5 ratings are 4 or 5 out of 5" in spending
    assert "60.0% (5)" in spending


async def test_simultaneous_ratings_by_one_resident_make_one_row(db):
    """A double submission (two tabs, a double click): the database keeps one rating and the
    later request changes it."""
    import asyncio

    st = await stages_round()
    results = await asyncio.gather(
        *(ratings.rate(st.fr.resident, st.closed.id, {"score": str(1 + i % 5)}) for i in range(10)),
        return_exceptions=True,
    )
    assert not [r for r in results if isinstance(r, Exception)], results
    assert await Rating.filter(procurement_id=st.closed.id).count() == 1
    assert len({r.id for r in results}) == 1
