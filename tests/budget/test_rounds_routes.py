"""Round pages through the app: list, detail, open/edit forms, moving a phase."""

from __future__ import annotations

import pytest

from budget.models import Phase, ProposalStatus, Round
from core.models import AuditEntry, Role
from tests.helpers import (
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)


def round_form(**changes) -> dict:
    data = {
        "title": "Spring fund",
        "description": "Small works.",
        "fund": "100000",
        "ballot_type": "approval",
        "max_choices": "3",
        "rule": "greedy",
        "proposing_starts": "2026-03-01",
        "reviewing_starts": "2026-04-01",
        "voting_starts": "2026-05-01",
        "results_starts": "",
        "implementing_starts": "",
        "closes": "2026-12-31",
    }
    data.update(changes)
    return data


async def test_round_list_is_the_home_page(client, db):
    await make_round(title="Old round", phase=Phase.CLOSED, fund_fen=50_000_00)
    await make_round(title="New round", phase=Phase.VOTING)
    response = await client.get("/", follow_redirects=True)
    assert response.status_code == 200
    text = page_text(response.text)
    assert text.index("New round") < text.index("Old round")
    assert "New round Voting Fund ¥100,000" in text  # its phase, in English
    assert "Old round Closed Fund ¥50,000" in text
    assert "Open a round" not in text


async def test_round_list_shows_open_button_to_staff(client, db):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await client.get("/budget/", headers={"Accept-Language": "en"})
    assert "Open a round" in page_text(response.text)


async def test_round_detail_public_content_and_actions(client, db):
    east = await make_area("East Gate")
    rnd = await make_round(
        title="Canal fund", fund_fen=100_000_00, envelopes={east: 60_000_00, None: 40_000_00}
    )
    author = await make_user("author", area=east)
    await make_proposal(rnd, author, "Benches")
    await make_proposal(rnd, author, "Lights", status=ProposalStatus.FEASIBLE)
    response = await client.get(f"/budget/rounds/{rnd.id}", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    text = page_text(response.text)
    for expected in (
        "Canal fund",
        "East Gate",
        "District-wide",
        "¥60,000",
        "¥40,000",
        "Awaiting review",
        "Feasible",
        "See the proposals",
    ):
        assert expected in text, expected
    assert 'aria-current="step"' in response.text
    assert f"/budget/proposals?round={rnd.id}" in response.text
    assert "Propose a project" not in text and "Move to next phase" not in text
    # a verified resident sees the proposing action
    await login(client, "author")
    text = page_text((await client.get(f"/budget/rounds/{rnd.id}")).text)
    assert "Propose a project" in text and "Edit" not in text
    assert (await client.get("/budget/rounds/999")).status_code == 404


async def test_round_detail_voting_and_results_links(client, db):
    east = await make_area()
    await make_user("voter", area=east)
    voting = await make_round(title="Voting round", phase=Phase.VOTING)
    done = await make_round(title="Done round", phase=Phase.RESULTS)
    await login(client, "voter")
    page = await client.get(f"/budget/rounds/{voting.id}", headers={"Accept-Language": "en"})
    assert f"/budget/rounds/{voting.id}/ballot" in page.text
    page = await client.get(f"/budget/rounds/{done.id}", headers={"Accept-Language": "en"})
    assert f"/budget/rounds/{done.id}/results" in page.text


@pytest.mark.parametrize(
    "path", ["/budget/rounds/new", "/budget/rounds/{id}/edit", "/budget/rounds/{id}/advance"]
)
async def test_residents_get_403(client, db, path):
    area = await make_area()
    await make_user("res", area=area)
    rnd = await make_round()
    await login(client, "res")
    response = await client.get(path.format(id=rnd.id))
    assert response.status_code == 403
    response = await post_form(client, path.format(id=rnd.id), round_form())
    assert response.status_code == 403
    assert await Round.all().count() == 1


async def test_open_round_422_keeps_values_then_creates(client, db):
    east = await make_area("East Gate")
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    form = await client.get("/budget/rounds/new")
    assert form.status_code == 200 and f'name="envelope_{east.id}"' in form.text
    bad = round_form(
        max_choices="", voting_starts="2026-03-15", **{f"envelope_{east.id}": "150000"}
    )
    response = await post_form(client, "/budget/rounds/new", bad)
    assert response.status_code == 422
    for field in ("max_choices", "voting_starts", "envelopes"):
        assert f'id="{field}-error"' in response.text, field
    assert 'value="Spring fund"' in response.text and 'value="150000"' in response.text
    assert 'value="approval" checked' in response.text
    assert await Round.all().count() == 0
    good = round_form(**{f"envelope_{east.id}": "60000"})
    response = await post_form(client, "/budget/rounds/new", good)
    assert response.status_code == 303
    rnd = await Round.get(title="Spring fund")
    assert response.headers["location"].endswith(f"/budget/rounds/{rnd.id}")
    assert rnd.max_choices == 3 and rnd.fund_fen == 100_000_00


async def test_edit_form_read_only_rules_once_voting(client, db):
    east = await make_area("East Gate")
    await make_user("chair", role=Role.COUNCIL)
    rnd = await make_round(phase=Phase.VOTING, envelopes={east: 60_000_00, None: 40_000_00})
    await login(client, "chair")
    page = await client.get(f"/budget/rounds/{rnd.id}/edit")
    assert page.status_code == 200
    assert 'name="fund"' not in page.text and 'name="ballot_type"' not in page.text
    assert f'name="envelope_{east.id}"' not in page.text
    response = await post_form(
        client,
        f"/budget/rounds/{rnd.id}/edit",
        {"title": "Renamed", "proposing_starts": "2026-03-01"},
    )
    assert response.status_code == 303
    response = await post_form(
        client,
        f"/budget/rounds/{rnd.id}/edit",
        {"title": "Renamed", "proposing_starts": "2026-03-01", "fund": "1"},
    )
    assert response.status_code == 403
    rnd = await Round.get(id=rnd.id)
    assert rnd.title == "Renamed" and rnd.fund_fen == 100_000_00


async def test_advance_with_confirmation(client, db):
    area = await make_area()
    author = await make_user("author", area=area)
    await make_user("chair", role=Role.COUNCIL)
    rnd = await make_round(title="Spring fund", phase=Phase.REVIEWING)
    await make_proposal(rnd, author, "Waiting")
    await login(client, "chair")
    page = await client.get(f"/budget/rounds/{rnd.id}/advance", headers={"Accept-Language": "en"})
    text = page_text(page.text)
    assert "Move Spring fund from Reviewing to Voting? This cannot be undone." in text
    assert "1 proposals are still awaiting review" in text
    assert 'data-confirm="Move Spring fund' in page.text
    assert (await Round.get(id=rnd.id)).phase == Phase.REVIEWING  # GET changes nothing
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/advance", {"from_phase": "reviewing"}
    )
    assert response.status_code == 303
    assert (await Round.get(id=rnd.id)).phase == Phase.VOTING
    again = await post_form(client, f"/budget/rounds/{rnd.id}/advance", {"from_phase": "reviewing"})
    assert again.status_code == 409
    assert (await Round.get(id=rnd.id)).phase == Phase.VOTING
    assert await AuditEntry.filter(action="round.advance").count() == 1


async def test_round_pages_run_a_fixed_number_of_queries(client, db):
    from tests.querycount import count_queries

    areas = [await make_area(f"Area {i}") for i in range(4)]
    author = await make_user("author", area=areas[0])
    for i in range(6):
        rnd = await make_round(title=f"Round {i}", envelopes={a: 1_000_00 for a in areas})
    for i in range(10):
        await make_proposal(rnd, author, f"P{i}", area=areas[i % 4])
    # a visitor's first view of a page reads the page stamp too (core.web.page_cache)
    with count_queries() as queries:
        assert (await client.get("/budget/")).status_code == 200
    assert len(queries) <= 1 + 3, queries
    with count_queries() as queries:  # then the kept page: the stamp only
        assert (await client.get("/budget/")).status_code == 200
    assert len(queries) == 1, queries
    with count_queries() as queries:
        assert (await client.get(f"/budget/rounds/{rnd.id}")).status_code == 200
    # its own 4, and consultation's panels (core.web.panels), each one indexed probe when there
    # is nothing to show: decisions about the round, meetings and actions about it, its
    # discussion (no comment yet, so no threads to read); and the page stamp
    assert len(queries) <= 1 + 7, queries
