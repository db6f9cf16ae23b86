"""Results a resident can read: the round in brief at the top, how the rule decides in one
sentence wherever results are shown, one card per project on a phone (the table's cells carry
their labels), and a proposal's page after the count keeps the council's review and says its
votes, whether it was funded and where the explanation is."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser

from budget.models import BallotType, Phase, Proposal, ProposalStatus
from budget.services import results as svc
from tests.budget.test_results_services import counted_round
from tests.helpers import login, make_proposal, make_round, page_text, post_form
from tests.querycount import count_queries

GREEDY_SENTENCE = "The projects with the most votes are funded first, one after another"
POINTS_SENTENCE = "The projects with the most points are funded first, one after another"
SHARES_SENTENCE = "Each voter gets an equal share of the budget, and a project is funded when"


class _Elements(HTMLParser):
    """Every start tag with its attributes, and the text inside each element with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, {k: v or "" for k, v in attrs}))


def _tags(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Elements()
    parser.feed(html)
    return parser.tags


async def _published(rule="greedy"):
    rnd, council, p, areas = await counted_round(rule=rule)
    await svc.compute_results(council, rnd.id)
    await svc.publish_results(council, rnd.id)
    return rnd, council, p, areas


async def test_results_open_with_the_round_in_brief_and_its_rule_in_one_sentence(client, db):
    rnd, _council, _p, _areas = await _published()
    text = page_text((await client.get(f"/budget/rounds/{rnd.id}/results")).text)
    # East A + C, West W, district D funded; B did not fit. Five residents voted.
    assert (
        "The round in brief Budget ¥200,000: 4 of the 5 projects on the ballot are funded, "
        "for ¥150,000 in all. 5 ballots were counted." in text
    )
    assert f"How the projects were chosen: {GREEDY_SENTENCE}" in text
    assert SHARES_SENTENCE not in text


async def test_an_equal_shares_round_says_so_everywhere_its_results_are(client, db):
    rnd, council, _p, _areas = await _published(rule="equal-shares")
    results = page_text((await client.get(f"/budget/rounds/{rnd.id}/results")).text)
    assert f"How the projects were chosen: {SHARES_SENTENCE}" in results
    assert GREEDY_SENTENCE not in results
    round_page = page_text((await client.get(f"/budget/rounds/{rnd.id}")).text)
    assert f"Outcome rule Method of Equal Shares{SHARES_SENTENCE}" in round_page.replace(
        "Shares ", "Shares"
    )
    home = page_text((await client.get("/budget/")).text)
    assert SHARES_SENTENCE in home
    assert "the projects with most support that fit the budget are funded" not in home
    await login(client, "council")
    compare = page_text((await client.get(f"/budget/rounds/{rnd.id}/results/compare")).text)
    assert f"Greedy by votes {GREEDY_SENTENCE}" in compare
    assert f"Method of Equal Shares {SHARES_SENTENCE}" in compare


async def test_the_home_page_says_each_rounds_rule(client, db):
    rounds = {
        "Greedy round": GREEDY_SENTENCE,
        "Points round": POINTS_SENTENCE,
        "Shares round": SHARES_SENTENCE,
    }
    await make_round(title="Greedy round", rule="greedy")
    await make_round(title="Points round", rule="greedy", ballot_type=BallotType.POINTS)
    await make_round(title="Shares round", rule="equal-shares")
    text = page_text((await client.get("/budget/")).text)
    assert "each round's rule, said with the round, decides which projects" in text
    assert "the projects with most support that fit the budget are funded" not in text
    cards = re.split("(Greedy round|Points round|Shares round)", text)[1:]
    said = {cards[i]: cards[i + 1] for i in range(0, len(cards), 2)}
    for title, sentence in rounds.items():
        assert sentence in said[title], title
        assert all(other not in said[title] for other in rounds.values() if other != sentence)


async def test_each_project_is_a_card_on_a_phone_with_its_labels(client, db):
    """The results table's rows become cards under a narrow-screen media query: every cell
    that needs it says what it is, the title and the why are marked, each row has an anchor,
    and a table that may scroll sideways is a focusable, named region."""
    rnd, _council, p, _areas = await _published()
    html = (await client.get(f"/budget/rounds/{rnd.id}/results")).text
    tags = _tags(html)
    tables = [a for t, a in tags if t == "table" and "project-cards" in a.get("class", "")]
    assert len(tables) == 3  # one per envelope
    rows = {a["id"] for t, a in tags if t == "tr" and a.get("id", "").startswith("project-")}
    assert rows == {f"project-{p[name].id}" for name in "ABCWD"}
    labels = [a["data-label"] for t, a in tags if t == "td" and "data-label" in a]
    assert labels.count("Votes") == 5 and labels.count("Cost") == 5 and labels.count("No.") == 5
    cells = [a.get("class", "") for t, a in tags if t == "td"]
    assert cells.count("title") == 5 and cells.count("why") == 5
    regions = [a for t, a in tags if t == "div" and "table-wrap" in a.get("class", "")]
    assert regions and all(
        r.get("tabindex") == "0" and r.get("role") == "region" and r.get("aria-label")
        for r in regions
    )
    css = (await client.get("/static/css/yishi.css")).text
    narrow = css[css.index("@media (max-width: 48rem) {\n  table.project-cards") :]
    assert "display: block" in narrow and "attr(data-label)" in narrow


async def test_the_comparison_is_cards_too(client, db):
    rnd, council, p, _areas = await _published()
    await login(client, "council")
    html = (await client.get(f"/budget/rounds/{rnd.id}/results/compare")).text
    tags = _tags(html)
    assert any(t == "table" and "project-cards" in a.get("class", "") for t, a in tags)
    labels = [a["data-label"] for t, a in tags if t == "td" and "data-label" in a]
    assert labels.count("Greedy by votes") >= 5 and labels.count("Method of Equal Shares") >= 5
    regions = [a for t, a in tags if t == "div" and "table-wrap" in a.get("class", "")]
    assert regions and all(r.get("tabindex") == "0" and r.get("aria-label") for r in regions)


async def test_the_number_column_reads_as_a_number_in_chinese(client, db):
    rnd, _council, _p, _areas = await _published()
    html = (
        await client.get(f"/budget/rounds/{rnd.id}/results", headers={"Accept-Language": "zh-CN"})
    ).text
    headers = [a for t, a in _tags(html) if t == "td" and "number" in a.get("class", "")]
    assert headers and {a["data-label"] for a in headers} == {"编号"}
    text = page_text(html)
    assert "编号" in text and "否" not in text


async def test_a_proposal_after_the_count_keeps_its_review_and_says_its_result(client, db):
    rnd, council, p, _areas = await counted_round()
    await Proposal.filter(id__in=[p["A"].id, p["B"].id]).update(
        review_reason="The council checked the site."
    )
    before = page_text((await client.get(f"/budget/proposals/{p['B'].id}")).text)
    assert "The council's review" in before and "Feasible: it goes on the ballot." in before
    assert "The result of the vote" not in before

    await svc.compute_results(council, rnd.id)  # a preview: still nothing public
    preview = await client.get(f"/budget/proposals/{p['B'].id}")
    assert "The result of the vote" not in page_text(preview.text)
    assert "#project-" not in preview.text

    await svc.publish_results(council, rnd.id)
    for name, votes, result, why in (
        ("A", 3, "Funded", "Why it was funded"),
        ("B", 1, "Not funded", "Why it was not funded"),
    ):
        response = await client.get(f"/budget/proposals/{p[name].id}")
        text = page_text(response.text)
        assert (
            "The council's review Feasible: it went on the ballot. The council checked the site."
            in text
        ), name
        assert f"The result of the vote Votes {votes} Result {result}" in text, name
        link = f'/budget/rounds/{rnd.id}/results#project-{p[name].id}"'
        assert link in response.text, name
        assert f"{why}: the explanation in the results" in text, name
        # the anchor leads to the project's row on the results page
        results = await client.get(f"/budget/rounds/{rnd.id}/results")
        assert f'id="project-{p[name].id}"' in results.text


async def test_a_points_round_counts_points_on_the_proposal_page(client, db):
    rnd = await make_round(phase=Phase.RESULTS, ballot_type=BallotType.POINTS, points_total=10)
    proposal = await make_proposal(
        rnd, None, "Lights", status=ProposalStatus.FUNDED, vote_count=17, review_reason="Fine."
    )
    rnd.results_published_at = datetime.now(UTC)
    await rnd.save()
    text = page_text((await client.get(f"/budget/proposals/{proposal.id}")).text)
    assert "The result of the vote Points 17 Result Funded" in text


async def test_the_proposal_page_after_the_count_costs_no_more_queries(client, db):
    """(B is not funded: a funded one also looks up its procurement, as before.)"""
    rnd, council, p, _areas = await counted_round()
    with count_queries() as before:
        await client.get(f"/budget/proposals/{p['B'].id}")
    await svc.compute_results(council, rnd.id)
    await svc.publish_results(council, rnd.id)
    with count_queries() as after:
        response = await client.get(f"/budget/proposals/{p['B'].id}")
    assert "The result of the vote" in page_text(response.text)
    assert len(after) <= len(before), after


async def test_staff_preview_has_the_summary_too(client, db):
    rnd, _council, _p, _areas = await counted_round()
    await login(client, "council")
    await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")
    text = page_text((await client.get(f"/budget/rounds/{rnd.id}/results")).text)
    assert "Preview — not published." in text
    assert "4 of the 5 projects on the ballot are funded" in text
