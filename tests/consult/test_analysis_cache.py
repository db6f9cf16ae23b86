"""The round's page shows common ground, opinion groups and divisive statements, computed by
consult.rules.opinion and kept for one votes version: reused while no vote changes, computed
again as soon as one does (no cron, never a stale page)."""

from __future__ import annotations

from consult.models import Choice, Deliberation, DeliberationAnalysis, StatementStatus
from consult.services import analysis, statements, votes
from tests.consult.deliberation_setup import district, make_statement, make_vote
from tests.helpers import make_user, page_text
from tests.querycount import count_queries


def page_url(d) -> str:
    return f"/consult/deliberations/{d.id}"


async def test_no_votes_yet_is_said_plainly(client, db):
    s = await district()
    await make_statement(s.d, s.bob, "Bins downstairs")
    text = page_text((await client.get(page_url(s.d))).text)
    assert "No votes yet." in text
    assert "Opinion groups" not in text


async def _four_neighbours(s) -> list:
    """Four more residents of East: a statement is listed in common ground from five votes."""
    return [await make_user(f"east{i}", area=s.east) for i in range(4)]


async def test_the_page_follows_votes_that_change_under_its_cache(client, db):
    s = await district()
    lids = await make_statement(s.d, s.bob, "Bins need lids")
    for neighbour in await _four_neighbours(s):
        await votes.vote_statement(neighbour, lids.id, "agree")
    await votes.vote_statement(s.alice, lids.id, "agree")

    text = page_text((await client.get(page_url(s.d))).text)
    assert "5 residents have voted so far." in text
    # one area voted: (5 + 1) / (5 + 2)
    assert "Bins need lids Consensus score: 0.86 East Gate: 5 of 5 agree" in text
    cached = await DeliberationAnalysis.get(deliberation_id=s.d.id)
    version = (await Deliberation.get(id=s.d.id)).votes_version
    assert cached.votes_version == version

    # While no vote changes, the page reads the kept result (marked here to tell them apart).
    marked = dict(cached.result)
    marked["voters"] = 77
    await DeliberationAnalysis.filter(id=cached.id).update(result=marked)
    assert "77 residents have voted so far." in page_text((await client.get(page_url(s.d))).text)

    # A vote changes: the very next page counts it.
    await votes.vote_statement(s.alice, lids.id, "disagree")
    text = page_text((await client.get(page_url(s.d))).text)
    assert "5 residents have voted so far." in text
    assert "East Gate: 4 of 5 agree" in text

    # Another resident votes: six voters, five agree.
    eve = await make_user("eve", area=s.east)
    await votes.vote_statement(eve, lids.id, "agree")
    text = page_text((await client.get(page_url(s.d))).text)
    assert "6 residents have voted so far." in text and "East Gate: 5 of 6 agree" in text
    assert (await DeliberationAnalysis.get(deliberation_id=s.d.id)).votes_version == (
        await Deliberation.get(id=s.d.id)
    ).votes_version


async def test_an_approval_changes_the_analysis_too(client, db):
    s = await district()
    neighbours = await _four_neighbours(s)
    first = await make_statement(s.d, s.bob, "First statement")
    for voter in [s.alice, *neighbours]:
        await votes.vote_statement(voter, first.id, "agree")
    assert "First statement" in page_text((await client.get(page_url(s.d))).text)
    second = await make_statement(s.d, s.bob, "Second statement", StatementStatus.PENDING)
    # votes on a pending statement cannot happen through the pages; they count once approved
    for voter in [s.alice, *neighbours]:
        await make_vote(second, voter, Choice.AGREE)
    assert "Second statement" not in (await client.get(page_url(s.d))).text
    await statements.approve_statement(s.council, second.id)
    assert "Second statement" in page_text((await client.get(page_url(s.d))).text)


async def test_the_kept_result_saves_reading_the_votes(db):
    s = await district()
    lids = await make_statement(s.d, s.bob, "Bins need lids")
    await votes.vote_statement(s.alice, lids.id, "agree")
    d = await Deliberation.get(id=s.d.id)
    await analysis.analysis_of(d)
    with count_queries() as queries:
        await analysis.analysis_of(d)
    assert not any("statement_vote" in q for q in queries), queries
    assert len(queries) <= 3


async def test_a_stale_worker_never_overwrites_a_newer_result(db):
    s = await district()
    lids = await make_statement(s.d, s.bob, "Bins need lids")
    await votes.vote_statement(s.alice, lids.id, "agree")
    old = await Deliberation.get(id=s.d.id)
    await votes.vote_statement(s.alice, lids.id, "disagree")
    new = await Deliberation.get(id=s.d.id)
    await analysis.compute(new)
    await analysis.compute(old)  # a request that read the round before the last vote
    kept = await DeliberationAnalysis.get(deliberation_id=s.d.id)
    assert kept.votes_version == new.votes_version


async def test_groups_and_divisive_statements_are_lettered_never_named(client, db, monkeypatch):
    """Whatever the rules find, the page shows every part of it: here a result with two
    groups and a divisive statement stands in for the clustering."""
    s = await district()
    fixed = await make_statement(s.d, s.bob, "Fixed-time collection points")
    door = await make_statement(s.d, s.carol, "Collection at the door")
    await votes.vote_statement(s.alice, fixed.id, "agree")

    def two_groups(vote_rows, areas, statement_ids):
        assert sorted(statement_ids) == sorted([fixed.id, door.id])
        return {
            "voters": 40,
            "common_ground": [
                {
                    "statement": door.id,
                    "score": 0.5,
                    "areas": [{"area": None, "agree": 3, "votes": 4}],
                }
            ],
            "groups": [
                {
                    "group": 1,  # numbered from 1, the largest first (consult.rules.opinion)
                    "size": 22,
                    "statements": [{"statement": fixed.id, "agree": 0.9, "others_agree": 0.1}],
                },
                {
                    "group": 2,
                    "size": 18,
                    "statements": [{"statement": door.id, "agree": 0.8, "others_agree": 0.2}],
                },
            ],
            "k": 2,
            "silhouette": 0.7,
            "divisive": [
                {
                    "statement": fixed.id,
                    "agree_group": 1,
                    "agree_rate": 0.9,
                    "disagree_group": 2,
                    "disagree_rate": 0.85,
                }
            ],
        }

    monkeypatch.setattr(analysis, "analyse", two_groups)
    text = page_text((await client.get(page_url(s.d))).text)
    assert "40 residents have voted so far." in text
    assert "Collection at the door Consensus score: 0.50 No area: 3 of 4 agree" in text
    assert "Residents' votes form 2 opinion groups." in text
    assert (
        "Group A 22 residents Fixed-time collection points "
        "(90.0% of this group agree, 10.0% of the others)" in text
    )
    assert (
        "Group B 18 residents Collection at the door "
        "(80.0% of this group agree, 20.0% of the others)" in text
    )
    assert "Fixed-time collection points Group A: 90.0% agree · Group B: 85.0% disagree" in text
    for name in ("Alice", "Bob", "Carol"):
        assert name not in text
