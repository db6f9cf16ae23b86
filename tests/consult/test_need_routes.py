"""Needs through the app, for every role: raising (422 with the text kept), entering for a
resident (403 for another area's), the lookup (404 on the page), who sees a need's page, the
council's list (overdue marked, filters, empty state), answering (409 twice), proposing (422
on a bad cost), resolving and rating (422, 409) — each page checked against the house rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from budget.models import Phase, Proposal
from consult.models import Need, NeedState
from tests.consult.needs_setup import NEED, accept_form, answered, raise_one, town
from tests.helpers import app_client, login, make_round, page_text, post_form, tiny_png
from tests.test_pages import audit_html


def _ok(response, status: int = 200) -> str:
    assert response.status_code == status, response.text[:500]
    assert audit_html(response.text) == []
    return page_text(response.text)


async def test_a_resident_raises_a_need_and_finds_it_again(app, client, db):
    t = await town()
    await login(client, "alice")
    text = _ok(await client.get("/consult/needs/new"))
    assert "East Gate" in text
    files = {"photos": ("lamp.png", tiny_png(), "image/png")}
    response = await post_form(
        client, "/consult/needs/new", {**NEED, "place": "Gate 3"}, files=files
    )
    assert response.status_code == 303
    need = await Need.get(resident_id=t.alice.id)
    text = _ok(await client.get(response.headers["location"]))
    assert need.number in text and "Broken lamp" in text and "Gate 3" in text
    assert "Waiting for the council's answer" in text
    page = await client.get(f"/consult/needs/{need.id}")
    photo = re.search(r'src="[^"]*(/consult/needs/photos/\d+)\?size=thumb"', page.text)
    assert (await client.get(photo.group(1))).headers["content-type"] == "image/jpeg"
    mine = _ok(await client.get("/consult/needs/mine"))
    assert need.number in mine
    found = await client.get("/consult/needs/track", params={"number": need.number.lower()})
    assert found.status_code == 303 and found.headers["location"].endswith(f"/needs/{need.id}")


async def test_bad_input_is_422_with_the_text_kept(app, client, db):
    await town()
    await login(client, "alice")
    response = await post_form(
        client, "/consult/needs/new", {"title": "", "body": "Keep me", "category": "roads"}
    )
    text = _ok(response, 422)
    assert "This field is required." in text
    assert "Keep me" in response.text
    response = await post_form(client, "/consult/needs/new", {**NEED, "title": "T" * 200})
    assert response.status_code == 422 and "At most 120 characters." in page_text(response.text)
    assert await Need.all().count() == 0


async def test_unknown_tracking_number_is_404_on_the_lookup_page(app, client, db):
    t = await town()
    need = await raise_one(t.alice, app.state.settings.upload_dir)
    await login(client, "bob")
    _ok(await client.get("/consult/needs/track"))
    response = await client.get("/consult/needs/track", params={"number": "XQ-2222-3333"})
    text = _ok(response, 404)
    assert "No need of yours has the tracking number XQ-2222-3333." in text
    assert 'value="XQ-2222-3333"' in response.text
    # someone else's need is answered as unknown
    response = await client.get("/consult/needs/track", params={"number": need.number})
    assert response.status_code == 404
    response = await client.get("/consult/needs/track", params={"number": "nonsense"})
    assert response.status_code == 422 and "looks like XQ-7K3M-9P2D" in page_text(response.text)


async def test_who_sees_a_need(app, db):
    t = await town()
    need = await raise_one(t.alice, app.state.settings.upload_dir)
    url = f"/consult/needs/{need.id}"
    for username, status in (("alice", 200), ("carol", 200), ("bob", 403), ("walt", 403)):
        async with app_client(app) as client:
            await login(client, username)
            assert (await client.get(url)).status_code == status, username
    async with app_client(app) as client:
        response = await client.get(url)
        assert response.status_code == 303 and "/login" in response.headers["location"]
        await login(client, "carol")
        assert (await client.get("/consult/needs/999999")).status_code == 404


async def test_a_grid_worker_enters_a_need_for_a_resident_of_their_area(app, client, db):
    t = await town()
    await login(client, "wendy")
    text = _ok(await client.get("/consult/needs/enter", params={"q": "alice wang"}))
    assert "Building 3, flat 201" in text and "Building 7, flat 502" in text
    assert "walt" not in text
    _ok(await client.get(f"/consult/needs/enter/{t.alice.id}"))
    response = await post_form(
        client, f"/consult/needs/enter/{t.alice.id}", {**NEED, "channel": "home_visit"}
    )
    assert response.status_code == 303
    need = await Need.get(resident_id=t.alice.id)
    assert (need.entered_by_id, need.channel) == (t.wendy.id, "home_visit")
    text = _ok(await client.get("/consult/needs/entered"))
    assert need.number in text and "Home visit" in text
    _ok(await client.get(f"/consult/needs/{need.id}"))
    # the list sends a grid worker to their entries
    response = await client.get("/consult/needs")
    assert response.headers["location"].endswith("/consult/needs/entered")


async def test_entering_for_another_areas_resident_is_403_and_nothing_written(app, client, db):
    t = await town()
    await login(client, "wendy")
    response = await client.get(f"/consult/needs/enter/{t.walt.id}")
    assert response.status_code == 403
    assert "your own area" in page_text(response.text)
    response = await post_form(
        client, f"/consult/needs/enter/{t.walt.id}", {**NEED, "channel": "phone"}
    )
    assert response.status_code == 403
    response = await post_form(client, f"/consult/needs/enter/{t.alice.id}", {**NEED})
    assert response.status_code == 422 and "Choose how the resident" in page_text(response.text)
    assert "Broken lamp" in response.text
    assert await Need.all().count() == 0
    await login(client, "alice")
    assert (await client.get("/consult/needs/enter")).status_code == 403


async def test_the_councils_list_marks_overdue_needs_and_filters(app, client, db):
    t = await town()
    upload = app.state.settings.upload_dir
    old = await raise_one(t.alice, upload, title="Old lamp")
    await Need.filter(id=old.id).update(created_at=datetime.now(UTC) - timedelta(days=9))
    await raise_one(t.walt, upload, title="New bench", category="elderly")
    done = await answered(t, upload)
    await login(client, "carol")
    text = _ok(await client.get("/consult/needs"))
    assert text.index("Old lamp") < text.index("New bench")
    assert "Overdue: 9 days" in text and "2 needs found." in text
    assert done.title not in text  # answered: no longer waiting
    text = _ok(await client.get("/consult/needs", params={"overdue": "1"}))
    assert "Old lamp" in text and "New bench" not in text
    text = _ok(await client.get("/consult/needs", params={"area": t.west.id}))
    assert "New bench" in text and "Old lamp" not in text
    text = _ok(await client.get("/consult/needs", params={"category": "elderly"}))
    assert "New bench" in text and "Old lamp" not in text
    text = _ok(await client.get("/consult/needs", params={"state": "accepted"}))
    assert "Broken lamp" in text and "Old lamp" not in text
    text = _ok(await client.get("/consult/needs", params={"q": old.number.lower()}))
    assert "Old lamp" in text and "1 need found." in text
    text = _ok(await client.get("/consult/needs", params={"sort": "newest", "state": "all"}))
    assert text.index("Broken lamp") < text.index("Old lamp")
    text = _ok(await client.get("/consult/needs", params={"channel": "phone"}))
    assert "No need matches these filters." in text
    fragment = await client.get(
        "/consult/needs", params={"overdue": "1"}, headers={"HX-Request": "true"}
    )
    assert "<h1" not in fragment.text and "Old lamp" in fragment.text


async def test_the_councils_list_pages_and_stops_counting_at_the_cap(app, client, db, monkeypatch):
    from consult.services import need_list

    monkeypatch.setattr(need_list, "PAGE_SIZE", 2)
    monkeypatch.setattr(need_list, "COUNT_CAP", 3)
    t = await town()
    for i in range(5):
        await raise_one(t.alice, app.state.settings.upload_dir, title=f"Lamp {i}")
    await login(client, "carol")
    text = _ok(await client.get("/consult/needs"))
    assert "More than 3 needs found." in text and "Page 1 of 2" in text
    assert "Lamp 0" in text and "Lamp 1" in text and "Lamp 2" not in text
    text = _ok(await client.get("/consult/needs", params={"page": "9"}))  # past the end
    assert "Page 2 of 2" in text and "Lamp 2" in text and "Lamp 0" not in text
    assert "Only the first pages are listed" in text
    text = _ok(await client.get("/consult/needs", params={"sort": "newest"}))
    assert text.index("Lamp 4") < text.index("Lamp 3") and "Lamp 2" not in text


async def test_the_council_answers_once_and_a_resident_cannot(app, client, db):
    t = await town()
    need = await raise_one(t.alice, app.state.settings.upload_dir)
    url = f"/consult/needs/{need.id}/answer"
    await login(client, "alice")
    assert (await client.get(url)).status_code == 403
    assert (await post_form(client, url, accept_form())).status_code == 403
    await login(client, "carol")
    _ok(await client.get(url))
    response = await post_form(client, url, {"answer": "accepted", "owner": "Office"})
    text = _ok(response, 422)
    assert "This field is required." in text and 'value="Office"' in response.text
    response = await post_form(client, url, accept_form())
    assert response.status_code == 303
    text = _ok(await client.get(f"/consult/needs/{need.id}"))
    assert "Property office" in text and "Answered: Accepted, being handled" in text
    response = await post_form(client, url, {"answer": "declined", "answer_note": "No"})
    assert response.status_code == 409
    assert "already answered" in page_text(response.text)
    assert (await client.get(url)).status_code == 409


async def test_the_council_turns_a_need_into_a_proposal(app, client, db):
    t = await town()
    need = await raise_one(t.alice, app.state.settings.upload_dir)
    url = f"/consult/needs/{need.id}/propose"
    await login(client, "carol")
    text = _ok(await client.get(url))
    assert "No budgeting round is collecting proposals now." in text
    rnd = await make_round("2027 projects", phase=Phase.PROPOSING, envelopes={t.east: 20_000_00})
    response = await client.get(url)
    text = _ok(response)
    assert "Broken lamp" in response.text and "2027 projects" in text
    form = {
        "round": str(rnd.id),
        "title": "Fix the lamp",
        "description": "Gate 3",
        "category": "engineering",
        "area": str(t.east.id),
        "cost": "999999",
        "beneficiaries": "50",
    }
    response = await post_form(client, url, form)
    assert response.status_code == 422 and "Fix the lamp" in response.text
    assert await Proposal.all().count() == 0
    response = await post_form(client, url, {**form, "cost": "3000"})
    assert response.status_code == 303
    proposal = await Proposal.get(title="Fix the lamp")
    assert proposal.author_id == t.alice.id
    text = _ok(await client.get(f"/budget/proposals/{proposal.id}"))
    assert f"From need {need.number}" in text
    text = _ok(await client.get(f"/consult/needs/{need.id}"))
    assert "Fix the lamp" in text and "Turned into a proposal" in text


async def test_resolving_and_rating_through_the_pages(app, client, db):
    t = await town()
    need = await answered(t, app.state.settings.upload_dir)
    resolve = f"/consult/needs/{need.id}/resolve"
    rate = f"/consult/needs/{need.id}/rate"
    await login(client, "alice")
    assert (await client.get(resolve)).status_code == 403
    text = _ok(await client.get(f"/consult/needs/{need.id}"))
    assert "within 30 days" in text and "Send my rating" in text
    response = await post_form(client, rate, {"rating": "9", "rating_comment": "Keep this"})
    text = _ok(response, 422)
    assert "Choose a rating from 1 (poor) to 5" in text and "Keep this" in response.text
    await login(client, "carol")
    text = _ok(await client.get(resolve))
    response = await post_form(client, resolve, {"resolution_note": ""})
    assert response.status_code == 422
    response = await post_form(client, resolve, {"resolution_note": "Lamp replaced."})
    assert response.status_code == 303
    assert (await post_form(client, resolve, {"resolution_note": "x"})).status_code == 409
    await login(client, "alice")
    response = await post_form(client, rate, {"rating": "4", "rating_comment": "Thanks"})
    assert response.status_code == 303
    text = _ok(await client.get(f"/consult/needs/{need.id}"))
    assert "4 out of 5" in text and "Lamp replaced." in text and "Resolved" in text
    response = await post_form(client, rate, {"rating": "5"})
    assert response.status_code == 409 and "already rated" in page_text(response.text)
    await login(client, "carol")
    text = _ok(await client.get(f"/consult/needs/{need.id}"))
    assert "4 out of 5" in text and "Thanks" in text
    assert (await Need.get(id=need.id)).state == NeedState.RESOLVED


async def test_resolving_an_unanswered_need_is_409(app, client, db):
    t = await town()
    need = await raise_one(t.alice, app.state.settings.upload_dir)
    await login(client, "carol")
    response = await client.get(f"/consult/needs/{need.id}/resolve")
    assert response.status_code == 409
    assert "answer it before resolving it" in page_text(response.text)


async def test_the_rating_window_is_said_when_it_has_passed(app, client, db):
    t = await town()
    need = await answered(t, app.state.settings.upload_dir)
    late = datetime.now(UTC) - timedelta(days=40)
    await Need.filter(id=need.id).update(answered_at=late, created_at=late)
    await login(client, "alice")
    text = _ok(await client.get(f"/consult/needs/{need.id}"))
    assert "the time to rate this one ended" in text and "Send my rating" not in text
    response = await post_form(client, f"/consult/needs/{need.id}/rate", {"rating": "3"})
    assert response.status_code == 422
    assert (await Need.get(id=need.id)).rating is None


async def test_my_needs_empty_and_anonymous(app, client, db):
    await town()
    assert (await client.get("/consult/needs/mine")).status_code == 303
    await login(client, "alice")
    text = _ok(await client.get("/consult/needs/mine"))
    assert "You have not raised any need yet." in text
    await login(client, "carol")
    text = _ok(await client.get("/consult/needs"))
    assert "No need is waiting for an answer." in text


async def test_the_lists_run_a_fixed_number_of_queries(app, client, db):
    """No query per need: the council's list, my needs and a grid worker's entries cost the
    same with 3 needs as with 30."""
    from tests.querycount import count_queries

    t = await town()
    counts = []
    for n in (3, 30):
        have = await Need.all().count()
        await Need.bulk_create(
            [
                Need(
                    number=f"N{i}",
                    resident=t.alice,
                    area=t.east,
                    category="roads",
                    title=f"Need {i}",
                    body="b",
                    created_at=datetime.now(UTC),
                )  # fmt: skip
                for i in range(have, n)
            ]
        )
        await login(client, "carol")
        with count_queries() as council:
            await client.get("/consult/needs", params={"state": "all"})
        await login(client, "alice")
        with count_queries() as mine:
            await client.get("/consult/needs/mine")
        counts.append((len(council), len(mine)))
    assert counts[0] == counts[1], counts
