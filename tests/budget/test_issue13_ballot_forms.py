"""Issue 13 (ballot and forms): the over-budget bar, the "you have voted" notice with the
resident's own receipt, one confirmation step, error summaries that name their field."""

from __future__ import annotations

import re
from pathlib import Path

from budget.models import Ballot
from budget.services import voting
from core.models import Role
from tests.budget.test_voting_routes import setup
from tests.helpers import (
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)


def attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


async def test_over_budget_bar_is_marked_like_the_text(client, db):
    rnd, east, west, alice, p = await setup()
    await login(client, "alice")
    data = {"project": [str(p["benches"].id), str(p["lights"].id), str(p["garden"].id)]}
    response = await post_form(
        client, f"/budget/rounds/{rnd.id}/ballot/total", data, headers={"HX-Request": "true"}
    )
    over, fine = [attrs(tag) for tag in re.findall(r"<meter[^>]*>", response.text)]
    # over: marked, not clamped at a full green bar, and pointing to the problem written beside it
    assert over["class"] == "over"
    assert int(over["value"]) > int(over["high"]) and int(over["max"]) >= int(over["value"])
    assert int(over["optimum"]) < int(over["low"])  # above high is the "bad" (red) region
    problem = re.search(rf'id="{over["aria-describedby"]}">([^<]*)<', response.text)
    assert "this envelope has ¥100,000" in problem.group(1)
    assert "class" not in fine and "aria-describedby" not in fine
    assert int(fine["value"]) <= int(fine["high"])


async def test_ballot_page_loads_the_total_refresh_script(client, db):
    rnd, *_ = await setup()
    await login(client, "alice")
    response = await client.get(f"/budget/rounds/{rnd.id}/ballot")
    assert re.search(r'<script src="[^"]*/static/js/ballot\.js" defer>', response.text)


async def test_a_resident_who_voted_sees_their_receipt_and_change_not_vote(client, db):
    rnd, east, west, alice, p = await setup()
    bob = await make_user("bob", area=east)
    await login(client, "alice")
    before = await client.get(f"/budget/rounds/{rnd.id}")
    page = page_text(before.text)
    assert "Vote" in page and "You have voted" not in page and "Change my ballot" not in page
    assert before.headers.get("cache-control") != "no-store"

    await post_form(client, f"/budget/rounds/{rnd.id}/ballot", {"project": [str(p["benches"].id)]})
    await voting.cast_ballot(bob, rnd, {p["lights"].id: 1})
    mine = await Ballot.get(round_id=rnd.id, voter_id=alice.id)
    others = [b.receipt for b in await Ballot.filter(round_id=rnd.id).exclude(id=mine.id)]
    response = await client.get(f"/budget/rounds/{rnd.id}")
    text = page_text(response.text)
    assert f"You have voted (receipt {voting.format_receipt(mine.receipt)})" in text
    assert response.headers["cache-control"] == "no-store"  # a receipt is never kept
    assert "You can change your ballot until voting closes" in text
    assert "Change my ballot" in text
    assert not re.search(r"<a [^>]*>Vote</a>", response.text)
    for receipt in others:
        assert voting.format_receipt(receipt) not in response.text
    # the ballot page says it too
    ballot_page = page_text((await client.get(f"/budget/rounds/{rnd.id}/ballot")).text)
    assert f"You have voted (receipt {voting.format_receipt(mine.receipt)})" in ballot_page


async def test_merge_publish_withdraw_ask_once(client, db):
    """The page itself is the confirmation (and, for merge and publish, its box): no browser
    dialog on top of it."""
    area = await make_area("North")
    rnd = await make_round(envelopes={area: 10_000_00})
    alice = await make_user("alice", area=area)
    own = await make_proposal(rnd, alice, "Mine", 1_000_00, area)
    await login(client, "alice")
    response = await client.get(f"/budget/proposals/{own.id}/withdraw")
    assert response.status_code == 200 and "Yes, withdraw it" in response.text
    assert "data-confirm" not in response.text and "hx-confirm" not in response.text
    for source in _confirmation_templates():
        assert "data-confirm" not in source and "hx-confirm" not in source


def _confirmation_templates() -> list[str]:
    names = ("proposal_merge", "results_publish", "proposal_withdraw")
    return [Path(f"templates/budget/{name}.html").read_text() for name in names]


async def test_round_form_error_summary_names_the_field(client, db):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await post_form(client, "/budget/rounds/new", {"title": "Spring", "fund": "1000"})
    assert response.status_code == 422
    box = re.search(r'<div class="error-summary".*?</ul>', response.text, re.S).group(0)
    summary = [page_text(li) for li in re.findall(r"<li>.*?</li>", box, re.S)]
    assert any(line.startswith("Proposing starts:") for line in summary), summary
    assert all(":" in line for line in summary), summary


async def test_proposal_form_error_summary_names_the_field(client, db):
    from tests.budget.test_proposals_routes import FORM, resident_in_round

    rnd, _, _ = await resident_in_round(client)
    bad = {**FORM, "title": "", "cost": "lots"}
    response = await post_form(client, f"/budget/rounds/{rnd.id}/propose", bad)
    assert response.status_code == 422
    box = re.search(r'<div class="error-summary".*?</ul>', response.text, re.S).group(0)
    summary = [page_text(li) for li in re.findall(r"<li>.*?</li>", box, re.S)]
    assert any(line.startswith("Title:") for line in summary), summary
    assert any(line.startswith("Estimated cost in yuan:") for line in summary), summary
