"""Convention pages and forms through the app, for each role: what the public, residents of
the areas, residents of other areas and the council see and may do (403 / 404 / 409 / 422),
the diff of a revision, the vote and the outcome with its figures."""

from __future__ import annotations

import re

from consult.models import (
    Clause,
    ClauseText,
    Comment,
    Convention,
    ConventionState,
    RatificationVoter,
)
from consult.services import convention_phases as phases
from consult.services import conventions
from consult.services.ratification import cast_vote
from tests.consult.convention_setup import consulting, district, draft, ratifying, settings
from tests.helpers import app_client, login, page_text, post_form

BASE = "/consult/conventions"


async def test_the_list_shows_drafts_to_the_council_only(app, client, db):
    s = await district()
    await draft(s, title="Draft convention")
    await consulting(s, title="Open convention")
    text = page_text((await client.get(BASE)).text)
    assert "Open convention" in text and "Draft convention" not in text
    await login(client, "council")
    text = page_text((await client.get(BASE)).text)
    assert "Open convention" in text and "Draft convention" in text
    text = page_text((await client.get(BASE + "?state=consulting")).text)
    assert "Open convention" in text and "Draft convention" not in text
    text = page_text((await client.get(BASE + "?q=nothing-like-this")).text)
    assert "No convention matches these filters." in text


async def test_an_empty_list_says_so(client, db):
    assert "No conventions yet." in page_text((await client.get(BASE)).text)


async def test_a_draft_is_not_found_by_residents(app, client, db):
    s = await district()
    c = await draft(s)
    assert (await client.get(f"{BASE}/{c.id}")).status_code == 404
    await login(client, "alice")
    assert (await client.get(f"{BASE}/{c.id}")).status_code == 404
    assert (await client.get(f"{BASE}/{c.id}/text")).status_code == 404


async def test_the_council_drafts_through_the_forms(app, client, db):
    s = await district()
    await login(client, "council")
    r = await post_form(client, BASE + "/new", settings(s, turnout_percent="120", title=""))
    assert r.status_code == 422
    text = page_text(r.text)
    assert "Enter a number of at most 100." in text and "This field is required." in text
    assert "为建设文明和谐社区" in r.text  # the input is kept
    r = await post_form(client, BASE + "/new", settings(s))
    assert r.status_code == 303
    c = await Convention.get()
    r = await post_form(client, f"{BASE}/{c.id}/clauses", {"heading": "", "body": "x" * 2001})
    assert r.status_code == 422 and "At most 2000 characters." in page_text(r.text)
    r = await post_form(
        client, f"{BASE}/{c.id}/clauses", {"heading": "文明养犬", "body": "出门遛狗须拴绳。"}
    )
    assert r.status_code == 303
    clause = await Clause.get(convention_id=c.id)
    r = await post_form(
        client, f"{BASE}/{c.id}/clauses/{clause.id}/edit", {"heading": "文明养犬", "body": ""}
    )
    assert r.status_code == 422
    r = await client.get(f"{BASE}/{c.id}/open")
    assert r.status_code == 200 and "can never be changed" in page_text(r.text)
    r = await post_form(client, f"{BASE}/{c.id}/open", {"from_state": "draft"})
    assert r.status_code == 303
    assert (await Convention.get(id=c.id)).state == ConventionState.CONSULTING
    r = await post_form(client, f"{BASE}/{c.id}/open", {"from_state": "draft"})
    assert r.status_code == 409  # already open
    r = await post_form(client, f"{BASE}/{c.id}/edit", settings(s))
    assert r.status_code == 403


async def test_residents_may_not_run_the_council_steps(app, client, db):
    s = await district()
    c = await consulting(s)
    await login(client, "alice")
    for step in ("open", "publish", "ratify", "close", "amend"):
        assert (await client.get(f"{BASE}/{c.id}/{step}")).status_code == 403, step
    assert (await post_form(client, f"{BASE}/{c.id}/revise")).status_code == 403
    assert (await post_form(client, f"{BASE}/{c.id}/ratify", {})).status_code == 403
    assert (
        await post_form(client, f"{BASE}/{c.id}/clauses", {"heading": "h", "body": "b"})
    ).status_code == 403


async def test_clause_comments_are_for_the_areas_residents(app, client, db):
    s = await district()
    c = await consulting(s)
    clause = await Clause.filter(convention_id=c.id).order_by("id").first()
    page = f"{BASE}/clauses/{clause.id}"
    await login(client, "wendy")  # West Lake: not taking part
    r = await client.get(page)
    assert r.status_code == 200
    assert "Only residents of the areas this convention concerns" in page_text(r.text)
    assert 'name="body"' not in r.text
    r = await post_form(
        client, f"/consult/discussions/clause/{clause.id}/comments", {"body": "Hi", "stance": "for"}
    )
    assert r.status_code == 403
    assert (
        await client.get(f"/consult/discussions/clause/{clause.id}/comments")
    ).status_code == 403
    async with app_client(app) as alice:
        await login(alice, "alice")
        r = await post_form(
            alice,
            f"/consult/discussions/clause/{clause.id}/comments",
            {"body": "建议增加拾便袋", "stance": "for"},
        )
        assert r.status_code == 303 and f"/conventions/clauses/{clause.id}" in r.headers["location"]
        text = page_text((await alice.get(f"{BASE}/{c.id}")).text)
        assert "1 comment" in text
    assert await Comment.filter(subject_type="clause").count() == 1


async def test_a_revision_shows_its_diff_and_every_version_stays(app, client, db):
    s = await district()
    c = await consulting(s)
    clauses = await Clause.filter(convention_id=c.id).order_by("id")
    await login(client, "council")
    r = await post_form(client, f"{BASE}/{c.id}/revise")
    assert r.status_code == 303
    r = await post_form(
        client,
        f"{BASE}/{c.id}/clauses/{clauses[1].id}/edit",
        {"heading": "文明养犬", "body": "出门遛狗须拴牵引绳。", "change_note": "写明牵引绳"},
    )
    assert r.status_code == 303
    await post_form(client, f"{BASE}/{c.id}/clauses/{clauses[2].id}/remove")
    r = await client.get(f"{BASE}/{c.id}/publish")
    assert r.status_code == 200 and "<ins>牵引</ins>" in r.text
    r = await post_form(client, f"{BASE}/{c.id}/publish", {"from_revision": "2"})
    assert r.status_code == 303
    async with app_client(app) as public:
        r = await public.get(f"{BASE}/{c.id}/versions/2")
        assert r.status_code == 200
        assert "<ins>牵引</ins>" in r.text and "写明牵引绳" in r.text
        assert "<del>车辆停放在划线车位内。</del>" in r.text
        r = await public.get(f"{BASE}/{c.id}/versions/1")
        assert "车辆停放在划线车位内。" in r.text and "<del>" not in r.text
        assert (await public.get(f"{BASE}/{c.id}/versions/3")).status_code == 404
    r = await post_form(client, f"{BASE}/{c.id}/publish", {"from_revision": "2"})
    assert r.status_code == 409  # published already


async def test_a_resident_votes_once_and_the_outcome_shows_its_figures(app, client, db):
    s = await district()
    c = await ratifying(s, turnout_percent="60")
    await login(client, "alice")
    page = await client.get(f"{BASE}/{c.id}")
    assert "Cast my vote" in page_text(page.text)
    r = await post_form(client, f"{BASE}/{c.id}/vote", {})
    assert r.status_code == 422 and "Choose yes, no or abstain." in page_text(r.text)
    r = await post_form(client, f"{BASE}/{c.id}/vote", {"choice": "yes"})
    assert r.status_code == 303
    r = await post_form(client, f"{BASE}/{c.id}/vote", {"choice": "no"})
    assert r.status_code == 409
    assert "You have already voted" in page_text(r.text)
    text = page_text((await client.get(f"{BASE}/{c.id}")).text)
    assert "You have voted." in text and "Cast my vote" not in text
    fresh = await Convention.get(id=c.id)
    assert (fresh.yes_votes, fresh.no_votes) == (1, 0)
    assert await RatificationVoter.filter(convention_id=c.id).count() == 1
    async with app_client(app) as wendy:
        await login(wendy, "wendy")
        r = await post_form(wendy, f"{BASE}/{c.id}/vote", {"choice": "no"})
        assert r.status_code == 403
    await cast_vote(s.bob, c.id, "no")
    await cast_vote(s.amy, c.id, "abstain")
    async with app_client(app) as council:
        await login(council, "council")
        r = await council.get(f"{BASE}/{c.id}/close")
        assert r.status_code == 200
        r = await post_form(council, f"{BASE}/{c.id}/close", {"from_state": "ratifying"})
        assert r.status_code == 303
        r = await post_form(council, f"{BASE}/{c.id}/close", {"from_state": "ratifying"})
        assert r.status_code in (403, 409)
    text = page_text((await client.get(f"{BASE}/{c.id}")).text)
    # 3 of 3 voted (100 %), 1 yes of 2 (50 %): a tie is not more than half
    assert "Not ratified" in text
    assert re.search(r"Eligible residents 3 Voted 3 Turnout 100(\.0)?%", text), text
    assert "Yes 1 No 1 Abstained 1" in text


async def test_an_adopted_convention_is_shown_as_adopted(app, client, db):
    s = await district()
    c = await ratifying(s, turnout_percent="0")
    await cast_vote(s.alice, c.id, "yes")
    await phases.close_ratification(s.council, c.id)
    text = page_text((await client.get(f"{BASE}/{c.id}")).text)
    assert "adopted on" in text and "version 1" in text and "Ratified" in text
    await login(client, "council")
    r = await post_form(client, f"{BASE}/{c.id}/amend", {"from_state": "adopted"})
    assert r.status_code == 303
    new = await Convention.filter(amends_id=c.id).get()
    assert await ClauseText.filter(clause__convention_id=new.id).count() == 3
    await conventions.get_convention(new.id)


async def test_missing_things_are_404(app, client, db):
    s = await district()
    c = await draft(s)
    clause = await Clause.filter(convention_id=c.id).first()
    assert (await client.get(f"{BASE}/999999")).status_code == 404
    assert (await client.get(f"{BASE}/clauses/999999")).status_code == 404
    assert (await client.get(f"{BASE}/clauses/{clause.id}")).status_code == 404  # a draft's
    await login(client, "council")
    assert (await client.get(f"{BASE}/{c.id}/versions/0")).status_code == 404
    assert (await client.get(f"{BASE}/{c.id}/clauses/999999/edit")).status_code == 404
    r = await post_form(
        client, f"{BASE}/{c.id}/clauses/{clause.id}/move", {"direction": "sideways"}
    )
    assert r.status_code == 422
