"""Residents vote agree / disagree / pass on statements, one at a time in an order of their
own; one vote each, changeable while the round is open; never on their own statement; only
residents of the round's areas. With JavaScript the card changes in place (htmx), without it
each vote is answered 303 to the page with the next statement."""

from __future__ import annotations

import pytest

from consult.models import (
    Choice,
    Deliberation,
    DeliberationPhase,
    StatementStatus,
    StatementVote,
)
from consult.services import votes
from core.errors import NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry
from tests.consult.deliberation_setup import district, make_deliberation, make_statement
from tests.helpers import app_client, login, page_text, post_form

HX = {"HX-Request": "true"}


def vote_url(statement) -> str:
    return f"/consult/statements/{statement.id}/vote"


def next_url(d) -> str:
    return f"/consult/deliberations/{d.id}/vote"


async def _statements(s, n: int = 3):
    return [await make_statement(s.d, s.bob, f"Statement number {i}") for i in range(n)]


async def test_voting_and_changing_keeps_one_row_with_the_voters_area(db):
    s = await district()
    (statement,) = await _statements(s, 1)
    version = (await Deliberation.get(id=s.d.id)).votes_version
    await votes.vote_statement(s.alice, statement.id, "agree")
    await votes.vote_statement(s.alice, statement.id, "pass")
    rows = await StatementVote.filter(statement_id=statement.id)
    assert len(rows) == 1
    assert (rows[0].choice, rows[0].voter_id, rows[0].area_id) == (
        Choice.PASS,
        s.alice.id,
        s.east.id,
    )
    assert (await Deliberation.get(id=s.d.id)).votes_version == version + 2


async def test_statement_votes_stay_out_of_the_public_audit(db):
    s = await district()
    (statement,) = await _statements(s, 1)
    await votes.vote_statement(s.alice, statement.id, "disagree")
    await votes.vote_statement(s.alice, statement.id, "agree")
    entries = await AuditEntry.filter(action__startswith="statement.vote").order_by("id")
    assert [e.action for e in entries] == ["statement.voted", "statement.vote_changed"]
    assert not any(e.public for e in entries)
    assert all("choice" not in e.detail and "agree" not in str(e.detail) for e in entries)


@pytest.mark.parametrize("choice", ["", "maybe", None])
async def test_a_choice_must_be_agree_disagree_or_pass(db, choice):
    s = await district()
    (statement,) = await _statements(s, 1)
    with pytest.raises(ValidationError):
        await votes.vote_statement(s.alice, statement.id, choice)
    assert await StatementVote.all().count() == 0


async def test_refusals(db):
    s = await district()
    (statement,) = await _statements(s, 1)  # by Bob
    pending = await make_statement(s.d, s.bob, "Not yet", StatementStatus.PENDING)
    cases = [
        (s.bob, statement, "your own statement"),
        (s.alice, pending, "approved by the council"),
        (s.carol, statement, "Only residents of the areas"),
        (s.unverified, statement, "Only verified residents"),
        (s.council, statement, "Only verified residents"),
        (None, statement, "Only verified residents"),
    ]
    for user, target, message in cases:
        with pytest.raises(PermissionDenied) as refused:
            await votes.vote_statement(user, target.id, "agree")
        assert message in refused.value.message
    with pytest.raises(NotFound):
        await votes.vote_statement(s.alice, 999999, "agree")
    assert await StatementVote.all().count() == 0


@pytest.mark.parametrize(
    ("phase", "open_"),
    [
        (DeliberationPhase.COLLECTING, True),
        (DeliberationPhase.DISCUSSING, True),
        (DeliberationPhase.DECIDING, False),
        (DeliberationPhase.PUBLISHED, False),
    ],
)
async def test_votes_change_only_while_collecting_or_discussing(db, phase, open_):
    s = await district()
    (statement,) = await _statements(s, 1)
    await votes.vote_statement(s.alice, statement.id, "agree")
    await Deliberation.filter(id=s.d.id).update(phase=phase)
    if open_:
        await votes.vote_statement(s.alice, statement.id, "disagree")
        assert (await StatementVote.get(voter_id=s.alice.id)).choice == Choice.DISAGREE
    else:
        with pytest.raises(PermissionDenied) as refused:
            await votes.vote_statement(s.alice, statement.id, "disagree")
        assert "closed" in refused.value.message
        assert (await StatementVote.get(voter_id=s.alice.id)).choice == Choice.AGREE


async def test_a_vote_racing_the_phase_change_is_refused_by_the_guarded_version_bump(db):
    """The permission is read before the transaction; the UPDATE that raises the version is
    guarded by the phase, so a round closed in between takes no vote."""
    s = await district()
    (statement,) = await _statements(s, 1)
    loaded = await votes.Statement.get(id=statement.id).select_related("deliberation")
    await votes.with_area_ids(loaded.deliberation)
    await Deliberation.filter(id=s.d.id).update(phase=DeliberationPhase.DECIDING)
    with pytest.raises(PermissionDenied):
        await votes._save_vote(s.alice, loaded, Choice.AGREE)
    assert await StatementVote.all().count() == 0


async def test_each_resident_has_an_own_stable_order_skipping_votes_and_own_statements(db):
    s = await district()
    mine = await make_statement(s.d, s.alice, "Alice's own")
    statements = [await make_statement(s.d, s.carol, f"S{i}") for i in range(12)]
    ids = {st.id for st in statements}
    seen = []
    for _ in range(12):
        nxt = await votes.next_statement(s.alice, s.d)
        assert nxt == await votes.next_statement(s.alice, s.d)  # stable between requests
        assert nxt.statement_id in ids and nxt.statement_id != mine.id
        assert nxt.voted == len(seen) and nxt.total == 12
        seen.append(nxt.statement_id)
        await votes.vote_statement(s.alice, nxt.statement_id, "pass")
    assert sorted(seen) == sorted(ids)
    done = await votes.next_statement(s.alice, s.d)
    assert (done.statement_id, done.voted, done.total) == (None, 12, 12)

    bob_order = sorted(ids, key=lambda sid: votes.order_key(s.bob.id, sid))
    assert seen == sorted(ids, key=lambda sid: votes.order_key(s.alice.id, sid))
    assert bob_order != seen  # another resident, another order


async def test_without_javascript_a_vote_leads_to_the_next_statement(client, db):
    s = await district()
    body = {st.id: st.body for st in await _statements(s, 3)}
    await login(client, "alice")
    shown = []
    for choice in ("agree", "disagree", "pass"):
        nxt = await votes.next_statement(s.alice, s.d)
        page = page_text((await client.get(next_url(s.d))).text)
        assert f"You have voted on {len(shown)} of 3 statements" in page
        assert body[nxt.statement_id] in page
        response = await post_form(
            client, f"/consult/statements/{nxt.statement_id}/vote", {"choice": choice}
        )
        assert response.status_code == 303
        assert response.headers["location"].endswith(next_url(s.d))
        shown.append(nxt.statement_id)
    page = page_text((await client.get(next_url(s.d))).text)
    assert "Saved: Pass / unsure." in page
    assert "You have voted on all 3 statements so far." in page
    rows = dict(
        await StatementVote.filter(voter_id=s.alice.id).values_list("statement_id", "choice")
    )
    assert [rows[i] for i in shown] == ["agree", "disagree", "pass"]


async def test_with_htmx_the_card_changes_in_place(client, db):
    s = await district()
    statements = await _statements(s, 2)
    await login(client, "alice")
    first = await votes.next_statement(s.alice, s.d)
    page = await client.get(f"/consult/deliberations/{s.d.id}")
    assert f'hx-post="http://testserver/consult/statements/{first.statement_id}/vote"' in page.text
    response = await post_form(
        client, f"/consult/statements/{first.statement_id}/vote", {"choice": "agree"}, headers=HX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="vote-card"')
    assert "<html" not in response.text
    second = next(st for st in statements if st.id != first.statement_id)
    text = page_text(response.text)
    assert "Saved: Agree." in text and second.body in text
    assert "You have voted on 1 of 2 statements" in text


async def test_a_refused_htmx_vote_is_shown_on_the_rounds_page(client, db):
    s = await district()
    (statement,) = await _statements(s, 1)
    await login(client, "alice")
    await Deliberation.filter(id=s.d.id).update(phase=DeliberationPhase.DECIDING)
    response = await post_form(client, vote_url(statement), {"choice": "agree"}, headers=HX)
    assert response.headers["HX-Redirect"].endswith(f"/consult/deliberations/{s.d.id}")
    page = page_text((await client.get(f"/consult/deliberations/{s.d.id}")).text)
    assert "Voting on statements is closed in this round." in page
    response = await post_form(client, vote_url(statement), {"choice": "agree"})
    assert response.status_code == 403


async def test_http_refusals(app, client, db):
    s = await district()
    (statement,) = await _statements(s, 1)
    pending = await make_statement(s.d, s.carol, "Pending", StatementStatus.PENDING)
    await login(client, "bob")  # the author
    response = await post_form(client, vote_url(statement), {"choice": "agree"})
    assert response.status_code == 403
    assert "your own statement" in page_text(response.text)
    async with app_client(app) as alice:
        await login(alice, "alice")
        assert (await post_form(alice, vote_url(pending), {"choice": "agree"})).status_code == 403
        assert (await post_form(alice, vote_url(statement), {"choice": "x"})).status_code == 422
        response = await post_form(alice, "/consult/statements/999999/vote", {"choice": "agree"})
        assert response.status_code == 404
    async with app_client(app) as carol:
        await login(carol, "carol")
        assert (await carol.get(next_url(s.d))).status_code == 403
        assert (await post_form(carol, vote_url(statement), {"choice": "agree"})).status_code == 403
    async with app_client(app) as public:
        assert (await public.get(next_url(s.d))).status_code == 303  # to sign in
        assert (await public.post(vote_url(statement), data={"choice": "agree"})).status_code == 403
    assert await StatementVote.all().count() == 0


async def test_my_votes_are_listed_and_changed_in_place(client, db):
    s = await district()
    one, two = await _statements(s, 2)
    await votes.vote_statement(s.alice, one.id, "agree")
    await votes.vote_statement(s.alice, two.id, "disagree")
    await login(client, "alice")
    url = f"/consult/deliberations/{s.d.id}/my-votes"
    text = page_text((await client.get(url)).text)
    assert "Statement number 1 Your vote: Disagree" in text  # the latest first
    assert "Statement number 0 Your vote: Agree" in text
    response = await post_form(
        client, vote_url(one), {"choice": "pass", "from": "mine"}, headers=HX
    )
    assert response.text.lstrip().startswith(f'<li id="vote-{one.id}"')
    assert "Your vote: Pass / unsure (saved)" in page_text(response.text)
    assert (await StatementVote.get(voter_id=s.alice.id, statement_id=one.id)).choice == "pass"
    response = await post_form(client, vote_url(two), {"choice": "agree", "from": "mine"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"{url}#vote-{two.id}")
    await Deliberation.filter(id=s.d.id).update(phase=DeliberationPhase.DECIDING)
    text = page_text((await client.get(url)).text)
    assert "Voting is closed in this round." in text and "Your vote: Agree" in text
    assert "Disagree" not in text  # no buttons to change it any more


async def test_a_district_wide_round_takes_votes_from_every_area(db):
    s = await district()
    d = await make_deliberation("Whole district", phase=DeliberationPhase.DISCUSSING)
    statement = await make_statement(d, s.alice, "For all")
    await votes.vote_statement(s.carol, statement.id, "agree")
    vote = await StatementVote.get(statement_id=statement.id)
    assert vote.area_id == s.west.id
