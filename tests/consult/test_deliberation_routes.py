"""Deliberation rounds through the pages: the list (filters, search, pages, empty state), a
round's page, opening and editing one, moving it on, publishing the decision, and the link
back on the pages of the proposals, budgeting rounds and meetings it concerns."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from budget.models import Phase, ProposalStatus
from consult.models import Choice, Deliberation, DeliberationLink, DeliberationPhase, Meeting
from consult.routes.deliberations import panel
from consult.services import comments
from tests.consult.deliberation_setup import (
    district,
    make_deliberation,
    make_statement,
    make_vote,
)
from tests.helpers import (
    app_client,
    bare_request,
    login,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)
from tests.querycount import count_queries

LIST = "/consult/deliberations"


def page_url(d) -> str:
    return f"/consult/deliberations/{d.id}"


async def test_the_list_filters_by_area_phase_and_year_and_searches_titles(client, db):
    s = await district()  # "How should we sort our waste?", East, collecting, 2026
    await make_deliberation(
        "Parking in the north",
        DeliberationPhase.PUBLISHED,
        areas=(s.west,),
        starts_on=date(2025, 5, 1),
        ends_on=date(2025, 6, 1),
    )
    await make_deliberation("Square dancing", DeliberationPhase.DISCUSSING)  # whole district

    def titles(response) -> list[str]:
        text = page_text(response.text)
        found = [t for t in ("sort our waste", "Parking", "Square dancing") if t in text]
        return sorted(found, key=text.index)  # in the page's order

    # newest first: both 2026 rounds start on the same day, the later one first
    assert titles(await client.get(LIST)) == ["Square dancing", "sort our waste", "Parking"]
    # an area's rounds include the district-wide ones: they concern it too
    assert titles(await client.get(LIST, params={"area": s.east.id})) == [
        "Square dancing",
        "sort our waste",
    ]
    assert titles(await client.get(LIST, params={"area": "district"})) == ["Square dancing"]
    assert titles(await client.get(LIST, params={"phase": "published"})) == ["Parking"]
    assert titles(await client.get(LIST, params={"year": "2025"})) == ["Parking"]
    assert titles(await client.get(LIST, params={"q": "DANCING"})) == ["Square dancing"]
    text = page_text((await client.get(LIST, params={"q": "nothing like it"})).text)
    assert "No deliberation round matches these filters." in text
    # nonsense in the query is ignored, not an error
    assert len(titles(await client.get(LIST, params={"area": "x", "year": "y", "phase": "z"}))) == 3


async def test_the_list_is_empty_then_paginated(client, db):
    text = page_text((await client.get(LIST)).text)
    assert "No deliberation rounds yet." in text and "0 deliberation rounds found." in text
    for i in range(23):
        await make_deliberation(f"Round {i:02d}", starts_on=date(2026, 1, 1 + i))
    first = page_text((await client.get(LIST)).text)
    assert "23 deliberation rounds found." in first and "Page 1 of 2" in first
    assert "Round 22" in first and "Round 02" not in first
    second = page_text((await client.get(LIST, params={"page": "2"})).text)
    assert "Round 02" in second and "Round 22" not in second


async def test_the_list_swaps_its_results_for_htmx_in_a_constant_number_of_queries(client, db):
    s = await district()
    response = await client.get(
        LIST, params={"phase": "collecting"}, headers={"HX-Request": "true"}
    )
    assert "<html" not in response.text and "1 deliberation round found." in page_text(
        response.text
    )
    with count_queries() as few:
        await client.get(LIST)
    for i in range(12):
        await make_deliberation(f"Round {i}", areas=(s.east, s.west))
    with count_queries() as many:
        await client.get(LIST)
    assert len(many) == len(few), many


async def test_a_rounds_page_tells_what_it_is_about(client, db):
    s = await district()
    await Deliberation.filter(id=s.d.id).update(description="First line.\nSecond <b>line</b>.")
    response = await client.get(page_url(s.d))
    text = page_text(response.text)
    assert "Areas concerned East Gate" in text
    assert "Mar 1, 2026 to Apr 30, 2026" in text
    assert "Collecting statements from Mar 1, 2026 now" in text
    assert "<p>First line.</p><p>Second &lt;b&gt;line&lt;/b&gt;.</p>" in response.text
    assert "Sign in to vote on residents' statements" in text
    assert (await client.get("/consult/deliberations/999999")).status_code == 404


async def test_the_council_opens_a_round_with_the_typed_text_kept_on_errors(client, db):
    s = await district()
    await login(client, "council")
    assert (await client.get("/consult/deliberations/new")).status_code == 200
    form = {
        "title": "Waste sorting: points or bins?",
        "description": "Tell us.",
        "areas": [str(s.west.id)],
        "starts_on": "2026-05-01",
        "ends_on": "2026-04-01",
    }
    response = await post_form(client, "/consult/deliberations/new", form)
    assert response.status_code == 422
    assert "The end date must not come before the start date" in page_text(response.text)
    assert 'value="Waste sorting: points or bins?"' in response.text
    assert f'id="areas-{s.west.id}" name="areas" value="{s.west.id}" checked' in response.text
    form["ends_on"] = "2026-06-01"
    response = await post_form(client, "/consult/deliberations/new", form)
    assert response.status_code == 303
    d = await Deliberation.get(title="Waste sorting: points or bins?")
    assert response.headers["location"].endswith(page_url(d))
    text = page_text((await client.get(page_url(d))).text)
    assert "is open for statements" in text and "Areas concerned West River" in text


async def test_editing_a_round(client, db):
    s = await district()
    await login(client, "council")
    page = await client.get(f"{page_url(s.d)}/edit")
    assert 'value="How should we sort our waste?"' in page.text
    url = f"{page_url(s.d)}/edit"
    form = {"title": "", "starts_on": "2026-03-01", "ends_on": "2026-04-30"}
    response = await post_form(client, url, form)
    assert response.status_code == 422 and "This field is required." in page_text(response.text)
    response = await post_form(client, url, {**form, "title": "Waste, again"})
    assert response.status_code == 303
    text = page_text((await client.get(page_url(s.d))).text)
    assert "Waste, again" in text and "Areas concerned Whole district" in text


@pytest.mark.parametrize(
    "path", ["/consult/deliberations/new", "/edit", "/advance", "/publish", "/moderation"]
)
async def test_residents_are_refused_the_councils_pages(client, db, path):
    s = await district(phase=DeliberationPhase.DECIDING)
    await login(client, "alice")
    url = path if path.startswith("/consult") else page_url(s.d) + path
    assert (await client.get(url)).status_code == 403
    if path != "/moderation":
        assert (await post_form(client, url, {"title": "x"})).status_code == 403
    assert (await Deliberation.get(id=s.d.id)).phase == DeliberationPhase.DECIDING


async def test_moving_on_asks_first_and_a_second_click_is_a_conflict(client, db):
    s = await district()
    await login(client, "council")
    confirm = page_text((await client.get(f"{page_url(s.d)}/advance")).text)
    assert "from Collecting statements to Discussing? This cannot be undone." in confirm
    url = f"{page_url(s.d)}/advance"
    response = await post_form(client, url, {"from_phase": "collecting"})
    assert response.status_code == 303
    assert (await Deliberation.get(id=s.d.id)).phase == DeliberationPhase.DISCUSSING
    assert (await post_form(client, url, {"from_phase": "collecting"})).status_code == 409
    assert (await Deliberation.get(id=s.d.id)).phase == DeliberationPhase.DISCUSSING
    await post_form(client, url, {"from_phase": "discussing"})
    assert (await client.get(url)).status_code == 403  # from deciding: publish the decision
    text = page_text((await client.get(page_url(s.d))).text)
    assert "Publish the decision" in text and "Move to next phase" not in text


async def test_publishing_a_decision_shows_it_with_its_links_and_the_links_back(app, client, db):
    s = await district(phase=DeliberationPhase.DECIDING)
    rnd = await make_round("2026 micro-projects", phase=Phase.VOTING)
    proposal = await make_proposal(rnd, s.alice, "Bins with lids", status=ProposalStatus.FEASIBLE)
    await login(client, "council")
    url = f"{page_url(s.d)}/publish"
    page = await client.get(url)
    assert f'id="rounds-{rnd.id}"' in page.text
    form = {
        "summary": "Residents agree on guidance.",
        "decision": "Volunteers at every bin from June.",
        "proposals": "12345",
        "rounds": [str(rnd.id)],
    }
    response = await post_form(client, url, form)
    assert response.status_code == 422
    assert "There is no proposal numbered 12345." in page_text(response.text)
    assert "Volunteers at every bin from June." in response.text  # kept
    assert f'value="{rnd.id}" checked' in response.text
    form["proposals"] = str(proposal.id)
    response = await post_form(client, url, form)
    assert response.status_code == 303 and response.headers["location"].endswith("#decision")
    text = page_text((await client.get(page_url(s.d))).text)
    assert "The council's decision Summary Residents agree on guidance." in text
    assert "Proposal: Bins with lids" in text and "Budgeting round: 2026 micro-projects" in text
    assert (await post_form(client, url, form)).status_code == 409

    async with app_client(app) as public:
        for page_path in (f"/budget/proposals/{proposal.id}", f"/budget/rounds/{rnd.id}"):
            text = page_text((await public.get(page_path)).text)
            assert (
                "Discussed in the deliberation round How should we sort our waste? — decision: "
                "Volunteers at every bin from June." in text
            ), page_path


async def test_the_panel_is_one_probe_when_nothing_concerns_the_subject(app, db):
    published = await make_deliberation(
        "Parking", DeliberationPhase.PUBLISHED, decision="Paint the lines."
    )
    meeting = await Meeting.create(
        title="Talk", place="Hall", starts_at=datetime(2026, 5, 16, 2, tzinfo=UTC)
    )
    await DeliberationLink.create(
        deliberation=published, subject_type="meeting", subject_id=meeting.id
    )
    request = bare_request(app)
    with count_queries() as queries:
        html = await panel(request, "meeting", meeting.id)
    assert len(queries) == 2  # the probe, then the links with their rounds
    assert "Paint the lines." in page_text(html) and "Parking" in html
    with count_queries() as queries:
        assert await panel(request, "proposal", 424242) == ""
    assert len(queries) == 1  # the probe alone
    with count_queries() as queries:
        assert await panel(request, "deliberation", published.id) == ""
    assert queries == []


async def test_a_rounds_page_costs_the_same_queries_for_many_statements_and_votes(client, db):
    s = await district()
    first = await make_statement(s.d, s.bob, "First")
    await make_vote(first, s.carol, Choice.AGREE)
    await login(client, "alice")
    await client.get(page_url(s.d))  # the analysis computed and kept
    with count_queries() as few:
        await client.get(page_url(s.d))
    for i in range(15):
        statement = await make_statement(s.d, s.bob, f"Statement {i}")
        for j in range(3):
            voter = await make_user(f"v{i}-{j}", area=s.east)
            await make_vote(statement, voter, Choice.DISAGREE)
    await Deliberation.filter(id=s.d.id).update(votes_version=99)
    await client.get(page_url(s.d))
    with count_queries() as many:
        await client.get(page_url(s.d))
    assert len(many) == len(few), many


async def test_list_and_discussion_parameters_that_mean_nothing_are_ignored(client, db):
    """Superscript digits (str.isdigit() says yes, int() says no), numbers past the
    database's integers and year 0: each page answers 200 as if the value were not given."""
    s = await district()
    proposal = await make_proposal(await make_round(), s.alice, "Benches", area=s.east)
    await comments.post_comment(s.alice, "proposal", proposal.id, {"body": "Yes", "stance": "for"})
    huge = "9" * 20
    for path in (
        "/consult/deliberations?area=²",
        f"/consult/deliberations?area={huge}",
        "/consult/deliberations?year=²",
        "/consult/deliberations?year=0000",
        "/consult/meetings?area=²",
        f"/budget/proposals/{proposal.id}?comments_after={huge}",
        f"/budget/proposals/{proposal.id}?comments_after=²",
        f"/consult/discussions/proposal/{proposal.id}/threads?after={huge}",
    ):
        response = await client.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 200, path
    feed = await client.get("/meetings.ics?area=²")
    assert feed.status_code == 400
