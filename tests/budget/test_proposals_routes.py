"""Proposal pages through the app: list with filters, search, sort and pagination (without N+1
queries), detail with history, the multipart form with photos, support with htmx, review and
merge, roles and phases enforced."""

from __future__ import annotations

import re
from contextlib import contextmanager

from tortoise import connections

from budget.models import Phase, Proposal, ProposalPhoto, ProposalStatus, Support
from budget.services import proposal_changes
from budget.services.photos import thumb_name
from core.models import AuditEntry, Role
from tests.helpers import (
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
    tiny_jpeg,
    tiny_png,
)


def titles(html: str) -> list[str]:
    """The proposal titles listed on a page, in order."""
    return re.findall(r'<h2><a href="[^"]*/budget/proposals/\d+">([^<]+)</a></h2>', html)


FORM = {
    "title": "Benches by the canal",
    "description": "Six benches along the canal path.",
    "category": "engineering",
    "cost": "12000",
    "area": "district",
    "beneficiaries": "300",
    "location": "",
}


async def resident_in_round(client, phase=Phase.PROPOSING):
    area = await make_area("East Gate")
    rnd = await make_round(phase=phase, envelopes={None: 50_000_00, area: 50_000_00})
    user = await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "wang")
    return rnd, area, user


# --- list ----------------------------------------------------------------------------------


async def test_list_filters_search_and_sort(client, db):
    east = await make_area("East Gate")
    rnd = await make_round(title="Spring round")
    old = await make_round(title="Old round", phase=Phase.CLOSED)
    author = await make_user("wang", area=east)
    await make_proposal(
        rnd, author, title="Lamps", cost_fen=300_00, category="equipment", support_count=5
    )
    await make_proposal(rnd, author, title="Bridge", cost_fen=9_000_00, area=east, support_count=1)
    await make_proposal(
        old,
        author,
        title="Choir",
        cost_fen=100_00,
        category="service",
        status=ProposalStatus.FEASIBLE,
        description="Singing LAMPS",
    )

    response = await client.get("/budget/proposals")
    assert response.status_code == 200
    assert set(titles(response.text)) == {"Lamps", "Bridge", "Choir"}
    assert "3 proposals found" in page_text(response.text)

    async def listed(query):
        return titles((await client.get("/budget/proposals" + query)).text)

    assert await listed(f"?round={rnd.id}&sort=title") == ["Bridge", "Lamps"]
    assert await listed("?category=service") == ["Choir"]
    assert await listed("?area=district&sort=title") == ["Choir", "Lamps"]
    assert await listed(f"?area={east.id}") == ["Bridge"]
    assert await listed("?status=feasible") == ["Choir"]
    assert await listed("?q=lamps&sort=title") == ["Choir", "Lamps"]
    assert await listed("?sort=support") == ["Lamps", "Bridge", "Choir"]
    assert await listed("?sort=cost_asc") == ["Choir", "Lamps", "Bridge"]
    assert await listed("?sort=cost_desc") == ["Bridge", "Lamps", "Choir"]
    # nonsense parameters are ignored, not errors
    assert len(await listed("?round=x&area=y&status=z&sort=w&page=-3")) == 3
    empty = await client.get("/budget/proposals?q=nothing-like-this")
    assert "No proposal matches these filters." in page_text(empty.text)
    # support count shown on each card
    assert 'class="support-count">5<' in (await client.get("/budget/proposals?q=Lamps")).text


async def test_list_paginates_and_keeps_filters(client, db):
    rnd = await make_round()
    author = await make_user("wang", area=await make_area())
    for i in range(45):
        await make_proposal(rnd, author, title=f"Project {i:02d}")
    first = await client.get(f"/budget/proposals?round={rnd.id}&sort=title")
    assert titles(first.text)[:2] == ["Project 00", "Project 01"]
    assert len(titles(first.text)) == 20
    assert f"?round={rnd.id}&amp;sort=title&amp;page=2" in first.text
    third = await client.get(f"/budget/proposals?round={rnd.id}&sort=title&page=3")
    assert titles(third.text) == [f"Project {i}" for i in range(40, 45)]
    assert "Page 3 of 3" in page_text(third.text)


async def test_list_htmx_returns_results_fragment(client, db):
    rnd = await make_round()
    await make_proposal(rnd, None, title="Lamps")
    response = await client.get("/budget/proposals?q=lamp", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "HX-Request" in response.headers["vary"]
    assert "<html" not in response.text and "<form" not in response.text
    assert titles(response.text) == ["Lamps"]
    full = await client.get("/budget/proposals?q=lamp")
    assert "HX-Request" in full.headers["vary"]
    assert 'hx-target="#results"' in full.text and 'hx-push-url="true"' in full.text


async def test_list_shows_propose_link_only_when_allowed(client, db):
    rnd, _, _ = await resident_in_round(client)
    page = await client.get(f"/budget/proposals?round={rnd.id}")
    assert f'/budget/rounds/{rnd.id}/propose"' in page.text
    await post_form(client, "/logout")
    anonymous = await client.get(f"/budget/proposals?round={rnd.id}")
    assert anonymous.status_code == 200
    assert f"/budget/rounds/{rnd.id}/propose" not in anonymous.text


@contextmanager
def count_queries():
    """Counts the SQL statements sent on the default connection."""
    conn = connections.get("default")
    counter = {"n": 0}
    originals = {}
    for name in ("execute_query", "execute_query_dict", "execute_insert", "execute_script"):
        original = getattr(conn, name)
        originals[name] = original

        async def wrapped(*args, _original=original, **kwargs):
            counter["n"] += 1
            return await _original(*args, **kwargs)

        setattr(conn, name, wrapped)
    try:
        yield counter
    finally:
        for name, original in originals.items():
            setattr(conn, name, original)


async def test_list_has_no_n_plus_one(client, db):
    areas = [await make_area(f"Area {i}") for i in range(3)]
    rnd = await make_round()
    author = await make_user("wang", area=areas[0])

    async def queries_for_list() -> int:
        with count_queries() as counter:
            response = await client.get("/budget/proposals?sort=support")
        assert response.status_code == 200
        return counter["n"]

    for i in range(3):
        await make_proposal(rnd, author, title=f"P{i}", area=areas[i % 3])
    few = await queries_for_list()
    for i in range(3, 30):
        await make_proposal(rnd, author, title=f"P{i}", area=areas[i % 3])
    many = await queries_for_list()
    assert few == many
    assert many <= 6


# --- detail --------------------------------------------------------------------------------


async def test_detail_shows_facts_review_and_history(client, db):
    area = await make_area("East Gate")
    rnd = await make_round(title="Spring round")
    author = await make_user("wang", area=area, display_name="Wang Fang")
    council = await make_user("chair", role=Role.COUNCIL)
    p = await make_proposal(
        rnd, author, title="Lamps", cost_fen=10_000_00, area=area, location="North gate"
    )
    await proposal_changes.review_proposal(
        council, p.id, {"verdict": "feasible", "reason": "Good idea.", "revised_cost": "8000"}
    )
    response = await client.get(f"/budget/proposals/{p.id}", headers={"Accept-Language": "en"})
    text = page_text(response.text)
    assert response.status_code == 200
    for expected in (
        "Lamps",
        "East Gate",
        "North gate",
        "Wang Fang",
        "Feasible",
        "Good idea.",
        "¥10,000",
        "¥8,000",
        "revised",
        "Sign in to support it",
    ):
        assert expected in text, expected
    assert "Reviewed by Chair: feasible." in text
    missing = await client.get("/budget/proposals/99999")
    assert missing.status_code == 404


async def test_merged_notice_and_list_on_survivor(client, db):
    rnd = await make_round()
    author = await make_user("wang", area=await make_area())
    council = await make_user("chair", role=Role.COUNCIL)
    dup = await make_proposal(rnd, author, title="Benches")
    survivor = await make_proposal(rnd, author, title="Canal benches")
    await login(client, "chair")
    form = await client.get(f"/budget/proposals/{dup.id}/merge")
    assert "Canal benches" in form.text
    refused = await post_form(
        client, f"/budget/proposals/{dup.id}/merge", {"survivor": str(survivor.id)}
    )
    assert refused.status_code == 422
    assert "Tick the box" in page_text(refused.text)
    assert f'value="{survivor.id}" selected' in refused.text
    done = await post_form(
        client,
        f"/budget/proposals/{dup.id}/merge",
        {"survivor": str(survivor.id), "confirm": "yes"},
    )
    assert done.status_code == 303
    merged = await Proposal.get(id=dup.id)
    assert merged.status == ProposalStatus.MERGED and merged.merged_into_id == survivor.id
    entry = await AuditEntry.get(action="proposal.merged", subject_id=dup.id)
    assert entry.actor_id == council.id
    text = page_text((await client.get(f"/budget/proposals/{dup.id}")).text)
    assert "merged into another one: Canal benches" in text
    text = page_text((await client.get(f"/budget/proposals/{survivor.id}")).text)
    assert "Merged into this proposal Benches" in text


# --- submit, edit, withdraw ----------------------------------------------------------------


async def test_propose_with_photos_then_photo_served(client, db, settings):
    rnd, area, user = await resident_in_round(client)
    page = await client.get(f"/budget/rounds/{rnd.id}/propose")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.text
    assert '<label for="photos">' in page.text
    files = [
        ("photos", ("a.png", tiny_png(), "image/png")),
        ("photos", ("b.jpg", tiny_jpeg(), "image/jpeg")),
    ]
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/propose", {**FORM, "area": str(area.id)}, files=files
    )
    assert response.status_code == 303, page_text(response.text)
    p = await Proposal.get(title="Benches by the canal")
    assert response.headers["location"].endswith(f"/budget/proposals/{p.id}")
    assert p.author_id == user.id and p.area_id == area.id and p.cost_fen == 1_200_000
    photos = await ProposalPhoto.filter(proposal_id=p.id).order_by("id")
    # re-encoded (tests/budget/test_photos.py): opaque images are stored as JPEG
    assert [ph.content_type for ph in photos] == ["image/jpeg", "image/jpeg"]
    assert all(ph.stored_name not in ("a.png", "b.jpg") for ph in photos)
    assert (settings.upload_dir / photos[0].stored_name).is_file()
    served = await client.get(f"/budget/photos/{photos[1].id}")
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/jpeg"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert served.headers["content-disposition"].startswith("inline")
    assert "max-age" in served.headers["cache-control"]
    assert served.content.startswith(b"\xff\xd8\xff") and served.content != tiny_jpeg()
    detail = await client.get(f"/budget/proposals/{p.id}")
    assert f'/budget/photos/{photos[0].id}"' in detail.text  # the link to the photo
    assert f'/budget/photos/{photos[0].id}?size=thumb"' in detail.text  # its thumbnail shown
    assert (await client.get("/budget/photos/9999")).status_code == 404


async def test_propose_bad_input_keeps_values(client, db):
    rnd, _, _ = await resident_in_round(client)
    bad = {**FORM, "title": "", "cost": "lots", "description": "Keep <this> text"}
    files = [("photos", ("a.png", tiny_png(), "image/png"))]
    response = await post_form(client, f"/budget/rounds/{rnd.id}/propose", bad, files=files)
    assert response.status_code == 422
    assert 'id="title-error"' in response.text and 'id="cost-error"' in response.text
    assert 'aria-describedby="cost-error"' in response.text
    assert "Keep &lt;this&gt; text" in response.text and 'value="lots"' in response.text
    # the photo is kept for the next try (a pending upload), not to be chosen again
    assert "please choose them again" not in page_text(response.text)
    assert "Photos kept from your last try" in page_text(response.text)
    assert 'alt="a.png"' in response.text
    assert await Proposal.all().count() == 0


async def test_propose_refuses_fake_and_oversized_images(client, db, settings):
    rnd, _, _ = await resident_in_round(client)
    fake = [("photos", ("evil.png", b"<script>alert(1)</script>", "image/png"))]
    response = await post_form(client, f"/budget/rounds/{rnd.id}/propose", FORM, files=fake)
    assert response.status_code == 422
    assert "evil.png is not a JPEG, PNG or WebP image." in page_text(response.text)
    big = tiny_png() + b"\0" * settings.max_photo_bytes
    response = await post_form(
        client,
        f"/budget/rounds/{rnd.id}/propose",
        FORM,
        files=[("photos", ("big.png", big, "image/png"))],
    )
    assert response.status_code == 422
    assert "too large" in page_text(response.text)
    assert await Proposal.all().count() == 0
    assert not any(settings.upload_dir.iterdir())


async def test_propose_refused_for_wrong_role_or_phase(client, db):
    rnd = await make_round(phase=Phase.REVIEWING)
    area = await make_area()
    await make_user("wang", area=area)
    await make_user("chair", role=Role.COUNCIL)
    anonymous = await client.get(f"/budget/rounds/{rnd.id}/propose")
    assert anonymous.status_code == 303 and "/login" in anonymous.headers["location"]
    await login(client, "wang")
    assert (await client.get(f"/budget/rounds/{rnd.id}/propose")).status_code == 403
    response = await post_form(client, f"/budget/rounds/{rnd.id}/propose", FORM)
    assert response.status_code == 403
    open_round = await make_round(title="Open")
    await login(client, "chair")
    assert (await client.get(f"/budget/rounds/{open_round.id}/propose")).status_code == 403
    assert await Proposal.all().count() == 0


async def test_post_without_csrf_token_is_refused(client, db):
    rnd, _, _ = await resident_in_round(client)
    response = await client.post(f"/budget/rounds/{rnd.id}/propose", data=FORM)
    assert response.status_code == 403
    assert await Proposal.all().count() == 0


async def test_edit_photos_and_withdraw(client, db, settings):
    rnd, area, user = await resident_in_round(client)
    await post_form(
        client,
        f"/budget/rounds/{rnd.id}/propose",
        FORM,
        files=[("photos", ("a.png", tiny_png(), "image/png"))],
    )
    p = await Proposal.get()
    old = await ProposalPhoto.get(proposal_id=p.id)
    form = await client.get(f"/budget/proposals/{p.id}/edit")
    assert 'value="Benches by the canal"' in form.text and 'value="12000"' in form.text
    response = await post_form(
        client,
        f"/budget/proposals/{p.id}/edit",
        {**FORM, "title": "Twelve benches", "remove_photo": [str(old.id)]},
        files=[("photos", ("b.jpg", tiny_jpeg(), "image/jpeg"))],
    )
    assert response.status_code == 303
    p = await Proposal.get(id=p.id)
    assert p.title == "Twelve benches"
    photos = await ProposalPhoto.filter(proposal_id=p.id)
    assert [ph.content_type for ph in photos] == ["image/jpeg"]
    assert not (settings.upload_dir / old.stored_name).exists()
    assert not (settings.upload_dir / thumb_name(old.stored_name)).exists()
    # withdraw: a confirmation page first, then the POST
    confirm = await client.get(f"/budget/proposals/{p.id}/withdraw")
    assert "Withdraw your proposal?" in page_text(confirm.text)
    assert (
        'method="post"' in confirm.text and "data-confirm" not in confirm.text
    )  # one step: this page
    done = await post_form(client, f"/budget/proposals/{p.id}/withdraw")
    assert done.status_code == 303
    assert (await Proposal.get(id=p.id)).status == ProposalStatus.WITHDRAWN
    text = page_text((await client.get(f"/budget/proposals/{p.id}")).text)
    assert "Withdrawn by Wang Fang." in text and "Edited by Wang Fang." in text
    assert (await client.get(f"/budget/photos/{photos[0].id}")).status_code == 200
    assert (await client.get(f"/budget/proposals/{p.id}/edit")).status_code == 403


async def test_others_cannot_edit_or_withdraw(client, db):
    rnd, area, _ = await resident_in_round(client)
    other = await make_user("li", area=area)
    p = await make_proposal(rnd, other)
    assert (await client.get(f"/budget/proposals/{p.id}/edit")).status_code == 403
    response = await post_form(
        client, f"/budget/proposals/{p.id}/edit", {**FORM, "title": "Hijacked"}
    )
    assert response.status_code == 403
    assert (await post_form(client, f"/budget/proposals/{p.id}/withdraw")).status_code == 403
    assert (await Proposal.get(id=p.id)).title != "Hijacked"


# --- support, review -----------------------------------------------------------------------


async def test_support_toggle_with_and_without_htmx(client, db):
    rnd, area, _ = await resident_in_round(client)
    p = await make_proposal(rnd, await make_user("li", area=area))
    page = await client.get(f"/budget/proposals/{p.id}")
    assert "Support this proposal" in page_text(page.text)
    response = await post_form(client, f"/budget/proposals/{p.id}/support")
    assert response.status_code == 303
    assert (await Proposal.get(id=p.id)).support_count == 1
    fragment = await post_form(
        client, f"/budget/proposals/{p.id}/support", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="support"')
    assert "HX-Request" in fragment.headers["vary"]
    assert 'class="support-count">0<' in fragment.text
    assert await Support.filter(proposal_id=p.id).count() == 0
    again = await post_form(
        client, f"/budget/proposals/{p.id}/support", headers={"HX-Request": "true"}
    )
    assert "Take back my support" in again.text


async def test_support_refused_for_staff_and_anonymous(client, db):
    rnd = await make_round()
    p = await make_proposal(rnd, None)
    await make_user("chair", role=Role.COUNCIL)
    assert (await post_form(client, f"/budget/proposals/{p.id}/support")).status_code == 403
    await login(client, "chair")
    assert (await post_form(client, f"/budget/proposals/{p.id}/support")).status_code == 403
    assert (await Proposal.get(id=p.id)).support_count == 0


async def test_review_by_council_only(client, db):
    rnd, area, author = await resident_in_round(client, phase=Phase.REVIEWING)
    p = await make_proposal(rnd, author, cost_fen=10_000_00)
    assert (await client.get(f"/budget/proposals/{p.id}/review")).status_code == 403
    assert (await client.get(f"/budget/proposals/{p.id}/merge")).status_code == 403
    await make_user("chair", role=Role.COUNCIL, display_name="Chair Li")
    await login(client, "chair")
    form = await client.get(f"/budget/proposals/{p.id}/review")
    assert form.status_code == 200 and '<label for="reason">' in form.text
    bad = await post_form(
        client,
        f"/budget/proposals/{p.id}/review",
        {"verdict": "feasible", "reason": "", "revised_cost": "abc"},
    )
    assert bad.status_code == 422
    assert 'id="reason-error"' in bad.text and 'value="abc"' in bad.text
    assert 'value="feasible" checked' in bad.text
    ok = await post_form(
        client,
        f"/budget/proposals/{p.id}/review",
        {"verdict": "infeasible", "reason": "The land is private."},
    )
    assert ok.status_code == 303
    p = await Proposal.get(id=p.id)
    assert p.status == ProposalStatus.INFEASIBLE and p.review_reason == "The land is private."
    # the author sees the verdict on the page and on their card in the list
    await login(client, "wang")
    text = page_text((await client.get(f"/budget/proposals/{p.id}")).text)
    assert "Not feasible: it will not go on the ballot." in text
    assert "The land is private." in text
    listing = page_text((await client.get("/budget/proposals")).text)
    assert "Your proposal" in listing and "The land is private." in listing
