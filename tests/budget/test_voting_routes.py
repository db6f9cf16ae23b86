"""Voting through the app: the ballot form, the running total, 422 with choices kept,
receipts, paper ballots."""

from __future__ import annotations

import re

import pytest
from tortoise import connections

from budget.models import Ballot, BallotType, Channel, Phase, ProposalStatus
from budget.services import voting
from budget.services.first_ballots import KEPT_ROUNDS
from core.models import AuditEntry, Role
from tests.conftest import ON_POSTGRES
from tests.helpers import (
    csrf_token,
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)
from tests.querycount import count_queries

FEASIBLE = ProposalStatus.FEASIBLE


async def setup(ballot_type=BallotType.BUDGET_APPROVAL, **kwargs):
    east = await make_area("East Gate")
    west = await make_area("West Bank")
    rnd = await make_round(
        phase=Phase.VOTING,
        ballot_type=ballot_type,
        fund_fen=150_000_00,
        envelopes={east: 100_000_00, None: 50_000_00},
        **kwargs,
    )
    alice = await make_user("alice", area=east)
    p = {
        "benches": await make_proposal(rnd, alice, "Benches", 40_000_00, east, FEASIBLE),
        "lights": await make_proposal(rnd, alice, "Lights", 50_000_00, east, FEASIBLE),
        "garden": await make_proposal(rnd, alice, "Garden", 40_000_00, east, FEASIBLE),
        "library": await make_proposal(rnd, alice, "Library", 30_000_00, None, FEASIBLE),
        "pending": await make_proposal(rnd, alice, "Pending idea", 1_000_00, east),
    }
    return rnd, east, west, alice, p


def checked(html: str) -> set[int]:
    return {int(m) for m in re.findall(r'name="project" value="(\d+)" checked', html)}


async def test_ballot_form_renders_feasible_projects_per_envelope(client, db):
    rnd, east, west, alice, p = await setup()
    await login(client, "alice")
    response = await client.get(f"/budget/rounds/{rnd.id}/ballot")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "East Gate — budget ¥100,000" in text and "District-wide — budget ¥50,000" in text
    assert "Benches ¥40,000" in text and "Library ¥30,000" in text
    assert "Pending idea" not in text
    assert re.search(rf'hx-post="[^"]*/budget/rounds/{rnd.id}/ballot/total"', response.text)
    assert 'hx-trigger="change"' in response.text
    assert re.search(rf'href="[^"]*/budget/rounds/{rnd.id}"', response.text)  # the round


async def test_running_total_fragment(client, db):
    rnd, east, west, alice, p = await setup()
    await login(client, "alice")
    data = {"project": [str(p["benches"].id), str(p["lights"].id), str(p["garden"].id)]}
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot/total", data, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "<html" not in response.text and 'id="ballot-summary"' in response.text
    text = page_text(response.text)
    assert "3 chosen, ¥130,000 of ¥100,000" in text
    assert "You chose 3 projects costing ¥130,000; this envelope has ¥100,000." in text
    assert "0 chosen, ¥0 of ¥50,000" in text
    assert await Ballot.all().count() == 0


async def test_over_budget_comes_back_422_with_choices_kept(client, db):
    rnd, east, west, alice, p = await setup()
    await login(client, "alice")
    chosen = {p["benches"].id, p["lights"].id, p["garden"].id, p["library"].id}
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", {"project": [str(i) for i in chosen]}
    )
    assert response.status_code == 422
    assert checked(response.text) == chosen
    text = page_text(response.text)
    assert "You chose 3 projects costing ¥130,000; this envelope has ¥100,000." in text
    assert 'class="error-summary"' in response.text
    assert await Ballot.all().count() == 0


async def test_cast_receipt_change_and_check(client, db):
    rnd, east, west, alice, p = await setup()
    await login(client, "alice")
    response = await post_form(
        client,
        f"/budget/rounds/{rnd.id}/ballot",
        {"project": [str(p["benches"].id), str(p["library"].id)]},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/budget/rounds/{rnd.id}/ballot/receipt")
    receipt_page = await client.get(response.headers["location"])
    ballot = await Ballot.get(voter_id=alice.id)
    code = voting.format_receipt(ballot.receipt)
    assert code in receipt_page.text
    assert "Benches" in page_text(receipt_page.text)
    # the form is pre-filled when they come back
    again = await client.get(f"/budget/rounds/{rnd.id}/ballot")
    assert checked(again.text) == {p["benches"].id, p["library"].id}
    assert "Save my changes" in again.text
    # public receipt check: round and channel, not who or what
    client.cookies.clear()
    check = await post_form(client, "/budget/receipt", {"code": code.lower()})
    assert check.status_code == 200
    text = page_text(check.text)
    assert "This ballot is recorded" in text and rnd.title in text and "Online" in text
    assert "alice" not in text.lower() and "Benches" not in text
    missing = await post_form(client, "/budget/receipt", {"code": "AAAAA-AAAAA"})
    assert missing.status_code == 422
    assert "No ballot has this code" in page_text(missing.text)


async def test_points_ballot_keeps_typed_points(client, db):
    area = await make_area("North")
    rnd = await make_round(
        phase=Phase.VOTING,
        ballot_type=BallotType.POINTS,
        points_total=10,
        envelopes={area: 50_000_00},
    )
    a = await make_proposal(rnd, None, "A", 10_000_00, area, FEASIBLE)
    b = await make_proposal(rnd, None, "B", 10_000_00, area, FEASIBLE)
    await make_user("nora", area=area)
    await login(client, "nora")
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", {f"points-{a.id}": "7", f"points-{b.id}": "5"}
    )
    assert response.status_code == 422
    assert "You gave 12 points of 10" in page_text(response.text)
    assert re.search(rf'name="points-{a.id}"[^>]*value="7"', response.text)
    bad = await post_form(client, f"/budget/rounds/{rnd.id}/ballot", {f"points-{a.id}": "lots"})
    assert bad.status_code == 422
    assert re.search(rf'name="points-{a.id}"[^>]*value="lots"', bad.text)
    ok = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", {f"points-{a.id}": "6", f"points-{b.id}": "4"}
    )
    assert ok.status_code == 303


async def test_wrong_phase_and_roles_get_403(client, db):
    rnd, east, west, alice, p = await setup()
    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    assert (await client.get(f"/budget/rounds/{rnd.id}/ballot")).status_code == 403
    client.cookies.clear()
    await login(client, "alice")
    rnd.phase = Phase.RESULTS
    await rnd.save()
    response = await client.get(f"/budget/rounds/{rnd.id}/ballot")
    assert response.status_code == 403
    assert "Voting is not open" in page_text(response.text)
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", {"project": str(p["benches"].id)}
    )
    assert response.status_code == 403
    assert await Ballot.all().count() == 0


async def test_anonymous_is_sent_to_login(client, db):
    rnd, *_ = await setup()
    response = await client.get(f"/budget/rounds/{rnd.id}/ballot")
    assert response.status_code == 303 and "/login" in response.headers["location"]


async def test_paper_ballot_journey(client, db):
    rnd, east, west, alice, p = await setup()
    await make_user("grid", role=Role.GRID_WORKER, area=east)
    bob = await make_user("bob", area=east, display_name="Bob Li")
    wes = await make_user("wes", area=west)
    await voting.cast_ballot(alice, rnd.id, {p["benches"].id: 1})
    await login(client, "grid")
    start = await client.get("/budget/paper", params={"round": rnd.id})
    assert start.status_code == 200
    text = page_text(start.text)
    assert "Bob Li" in text and "Has voted (online)" in text and "wes" not in text
    found = await client.get(
        "/budget/paper", params={"round": rnd.id, "q": "bob"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in found.text and "Bob Li" in found.text and "Alice" not in found.text

    # alice voted online: refused, clearly
    refused = await client.get(f"/budget/rounds/{rnd.id}/paper/{alice.id}")
    assert "already voted online" in page_text(refused.text)
    assert 'name="project"' not in refused.text
    post = await post_form(
        client, f"/budget/rounds/{rnd.id}/paper/{alice.id}", {"project": str(p["lights"].id)}
    )
    assert post.status_code == 409
    # another area's resident: 403
    assert (await client.get(f"/budget/rounds/{rnd.id}/paper/{wes.id}")).status_code == 403

    form = await client.get(f"/budget/rounds/{rnd.id}/paper/{bob.id}")
    assert form.status_code == 200 and "Paper ballot of Bob Li" in page_text(form.text)
    saved = await post_form(
        client, f"/budget/rounds/{rnd.id}/paper/{bob.id}", {"project": [str(p["garden"].id)]}
    )
    assert saved.status_code == 303
    receipt = await client.get(saved.headers["location"])
    ballot = await Ballot.get(voter_id=bob.id)
    assert ballot.channel == Channel.PAPER
    assert voting.format_receipt(ballot.receipt) in receipt.text

    # bob signs in: he sees his paper ballot and cannot vote online
    client.cookies.clear()
    await login(client, "bob")
    page = await client.get(f"/budget/rounds/{rnd.id}/ballot")
    assert "Your paper ballot is recorded" in page_text(page.text)
    again = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", {"project": str(p["lights"].id)}
    )
    assert again.status_code == 409


async def test_paper_pages_refuse_residents(client, db):
    rnd, east, west, alice, p = await setup()
    bob = await make_user("bob", area=east)
    await login(client, "alice")
    assert (await client.get("/budget/paper")).status_code == 403
    assert (await client.get(f"/budget/rounds/{rnd.id}/paper/{bob.id}")).status_code == 403


async def test_ballot_page_query_count_does_not_grow(client, db):
    rnd, east, west, alice, p = await setup()
    await login(client, "alice")
    url = f"/budget/rounds/{rnd.id}/ballot"
    await client.get(url)
    with count_queries() as few:
        await client.get(url)
    for i in range(30):
        await make_proposal(rnd, alice, f"More {i}", 1_000_00, east, FEASIBLE)
    with count_queries() as many:
        await client.get(url)
    assert len(many) == len(few) <= 8, many


# --- PostgreSQL: first ballots checked against the round a process keeps -------------------


def _ballot_form(*proposals) -> dict:
    return {"project": [str(p.id) for p in proposals]}


async def _kept_setup(client):
    """A round in voting with two first ballots cast, so that this process keeps the round
    (the first may only have read it again: an earlier test's round had the same ids)."""
    rnd, east, west, alice, p = await setup()
    bob = await make_user("bob", area=east)
    carol = await make_user("carol", area=east)
    await make_user("dora", area=east)
    for name, proposal in (("alice", p["benches"]), ("dora", p["garden"])):
        await login(client, name)
        response = await post_form(
            client, f"/budget/rounds/{rnd.id}/ballot", _ballot_form(proposal)
        )
        assert response.status_code == 303
    if ON_POSTGRES:
        kept = await KEPT_ROUNDS.get(rnd.id, east.id, Ballot._meta.db)
        assert {pid for spec in kept.specs for pid in spec.costs} >= {p["lights"].id}
    return rnd, p, bob, carol


@pytest.mark.skipif(not ON_POSTGRES, reason="kept rounds are PostgreSQL's")
async def test_a_first_ballot_on_a_kept_round_is_two_queries(client, db):
    rnd, p, bob, carol = await _kept_setup(client)
    await login(client, "bob")
    token = await csrf_token(client)
    with count_queries() as queries:
        response = await client.post(
            f"/budget/rounds/{rnd.id}/ballot",
            data={**_ballot_form(p["lights"], p["library"]), "csrf_token": token},
        )
    assert response.status_code == 303
    assert len(queries) == 2, queries  # who is signed in; the ballot
    saved = await voting.ballot_of(rnd.id, bob.id)
    assert saved.choice_map == {p["lights"].id: 1, p["library"].id: 1}


@pytest.mark.skipif(not ON_POSTGRES, reason="kept rounds are PostgreSQL's")
async def test_a_kept_round_changed_underneath_is_never_used(client, db):
    """Another process (plain SQL here, so nothing in this one hears of it) raises a cost and
    withdraws a project after this process kept the round: ballots valid only under the old
    figures are refused (422, nothing written), and a ballot valid under the new ones goes in."""
    rnd, p, bob, carol = await _kept_setup(client)
    conn = connections.get("default")
    await conn.execute_query(
        'UPDATE "proposal" SET "revised_cost_fen" = $1 WHERE "id" = $2', [90_000_00, p["lights"].id]
    )
    await conn.execute_query(
        'UPDATE "proposal" SET "status" = $1 WHERE "id" = $2', ["withdrawn", p["garden"].id]
    )
    await login(client, "bob")
    over = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", _ballot_form(p["lights"], p["benches"])
    )
    assert over.status_code == 422 and "costing" in page_text(over.text)
    gone = await post_form(client, f"/budget/rounds/{rnd.id}/ballot", _ballot_form(p["garden"]))
    assert gone.status_code == 422 and "not on this ballot any more" in page_text(gone.text)
    assert await Ballot.filter(voter_id=bob.id).count() == 0
    fine = await post_form(client, f"/budget/rounds/{rnd.id}/ballot", _ballot_form(p["lights"]))
    assert fine.status_code == 303
    assert (await voting.ballot_of(rnd.id, bob.id)).choice_map == {p["lights"].id: 1}


@pytest.mark.skipif(not ON_POSTGRES, reason="kept rounds are PostgreSQL's")
async def test_voting_closed_underneath_a_kept_round_refuses(client, db):
    rnd, p, bob, carol = await _kept_setup(client)
    conn = connections.get("default")
    await conn.execute_query('UPDATE "round" SET "phase" = $1 WHERE "id" = $2', ["results", rnd.id])
    await login(client, "carol")
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot", _ballot_form(p["benches"])
    )
    assert response.status_code == 403
    assert await Ballot.filter(voter_id=carol.id).count() == 0


async def test_changing_a_ballot_after_a_first_one_on_a_kept_round(client, db):
    """The kept way writes first ballots only: a change goes the ordinary way."""
    rnd, p, bob, carol = await _kept_setup(client)
    response = await post_form(client, f"/budget/rounds/{rnd.id}/ballot", _ballot_form(p["lights"]))
    assert response.status_code == 303  # dora, signed in last, changes her ballot
    assert await Ballot.filter(round_id=rnd.id).count() == 2
    dora = await Ballot.filter(round_id=rnd.id).order_by("-id").first()
    assert (await voting.ballot_of(rnd.id, dora.voter_id)).choice_map == {p["lights"].id: 1}
    entries = await AuditEntry.filter(action__startswith="ballot.").order_by("id")
    assert [e.action for e in entries] == ["ballot.cast", "ballot.cast", "ballot.changed"]
