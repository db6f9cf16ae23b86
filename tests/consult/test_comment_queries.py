"""A discussion of 10,000 comments opens like one of 10: the proposal's page and "load more"
run the same fixed few queries whatever the size, none with an OFFSET or a count of the
thread, each on an index (checked on SQLite's query plans; run with -s to see them on either
database)."""

from __future__ import annotations

import logging

import pytest
from tortoise import connections

from consult.models import Comment
from consult.services import discussion
from tests.consult.discussion_setup import big_discussion, form, setup
from tests.helpers import make_proposal, make_user
from tests.querycount import count_queries

HTMX = {"HX-Request": "true"}


class _Statements(logging.Handler):
    """The SQL and values of each query (Tortoise logs both), to ask the database for its
    plan of exactly those."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.statements: list[tuple[str, list]] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(record.args or ()) == 2 and str(record.args[0]).lstrip().startswith("SELECT"):
            self.statements.append((str(record.args[0]), list(record.args[1] or [])))


async def _explain(sql: str, values: list) -> list[str]:
    conn = connections.get("default")
    if conn.capabilities.dialect == "sqlite":
        _n, rows = await conn.execute_query("EXPLAIN QUERY PLAN " + sql, values)
        return [str(dict(row)["detail"]) for row in rows]
    _n, rows = await conn.execute_query("EXPLAIN " + sql, values)
    return [str(list(dict(row).values())[0]) for row in rows]


async def _panel_queries(client, url: str) -> tuple[list[str], str]:
    with count_queries() as queries:
        response = await client.get(url)
    assert response.status_code == 200
    return [q for q in queries if "comment" in q], response.text


async def test_a_page_of_10000_comments_runs_the_queries_of_a_page_of_10(client, db):
    s = await setup()
    authors = [s.alice, s.bob, s.council] + [
        await make_user(f"r{i}", area=s.east) for i in range(20)
    ]
    small = await make_proposal(s.round, s.alice, "Lamps", area=s.east)
    await big_discussion("proposal", small.id, authors, 10)
    await big_discussion("proposal", s.proposal.id, authors, 10_000)
    assert await Comment.filter(subject_id=s.proposal.id).count() == 10_000
    conn = connections.get("default")
    await conn.execute_script("ANALYZE")

    empty = await make_proposal(s.round, s.alice, "Trees", area=s.east)
    none, _html = await _panel_queries(client, f"/budget/proposals/{empty.id}")
    assert len(none) == 1, none  # the counts say there is nothing to read
    few, _html = await _panel_queries(client, f"/budget/proposals/{small.id}")
    many, html = await _panel_queries(client, f"/budget/proposals/{s.proposal.id}")
    # the counts, a page of threads, their replies
    assert len(few) == len(many) == 3, many
    for sql in many:
        assert "OFFSET" not in sql.upper()
        assert "COUNT(" not in sql.upper() or "GROUP BY stance" in sql

    page = await discussion.thread_page("proposal", s.proposal.id)
    after = page.next_after
    with count_queries() as queries:
        response = await client.get(
            f"/consult/discussions/proposal/{s.proposal.id}/threads?after={after}", headers=HTMX
        )
    assert response.status_code == 200
    assert len([q for q in queries if "comment" in q]) == 2, queries  # threads, replies
    # the long thread (a third of all replies) shows its first replies and a link to the rest
    long = page.threads[0]
    assert len(long.replies) == discussion.REPLIES_SHOWN and long.more > 1000
    assert f"Read {long.more:,} more replies" in html


async def test_the_discussion_queries_use_their_indexes(db, capsys):
    s = await setup()
    authors = [s.alice, s.bob, s.council]
    await big_discussion("proposal", s.proposal.id, authors, 10_000)
    other = await make_proposal(s.round, s.alice, "Lamps", area=s.east)
    await big_discussion("proposal", other.id, authors, 2_000)
    conn = connections.get("default")
    await conn.execute_script("ANALYZE")

    handler = _Statements()
    log = logging.getLogger("tortoise.db_client")
    old = log.level
    log.setLevel(logging.DEBUG)
    log.addHandler(handler)
    try:
        await discussion.stance_counts("proposal", s.proposal.id)
        page = await discussion.thread_page("proposal", s.proposal.id)
        await discussion.thread_page("proposal", s.proposal.id, page.next_after)
    finally:
        log.removeHandler(handler)
        log.setLevel(old)
    plans = [(sql, await _explain(sql, values)) for sql, values in handler.statements]
    with capsys.disabled():
        print(f"\n--- query plans on {conn.capabilities.dialect}, 10,000 comments ---")
        for sql, plan in plans:
            print(sql)
            for line in plan:
                print("    " + line)
    assert len(plans) == 5  # counts; threads and replies of two pages
    if conn.capabilities.dialect != "sqlite":
        pytest.skip("PostgreSQL's plans are printed, not checked: they depend on its statistics")
    counts, threads, replies = (p for _sql, p in plans[:3])
    # the stance counts: one row of the tally, by its unique index (no count of the thread)
    assert any("comment_tally USING INDEX" in line for line in counts), counts
    assert any("subject_type=? AND subject_id=? AND depth=? AND id>?" in x for x in threads)
    assert any("INDEX idx_comment_root_id" in line for line in replies), replies
    for _sql, plan in plans:
        assert not any(line.startswith("SCAN c") or line == "SCAN comment" for line in plan), plan


async def test_the_tally_always_equals_a_count_of_the_comments(db):
    """The stance counts a page reads (the tally, kept by the services) against a count of
    the rows, after posts, replies, stance changes and a hidden comment."""
    from consult.services import comments as svc

    s = await setup()
    posted = []
    for i, (author, stance) in enumerate(
        [(s.alice, "for"), (s.bob, "against"), (s.alice, "neutral"), (s.council, "for")]
    ):
        posted.append(
            await svc.post_comment(author, "proposal", s.proposal.id, form(f"c{i}", stance))
        )
    await svc.reply_to_comment(s.bob, posted[0].id, form("reply", "against"))
    await svc.edit_comment(s.alice, posted[0].id, form("changed my mind", "against"))
    await svc.hide_comment(s.council, posted[1].id, {"reason": "personal attack"})

    rows = await Comment.filter(subject_type="proposal", subject_id=s.proposal.id).values_list(
        "stance", flat=True
    )
    counts = await discussion.stance_counts("proposal", s.proposal.id)
    assert (
        (counts.favour, counts.against, counts.neutral)
        == (
            rows.count("for"),
            rows.count("against"),
            rows.count("neutral"),
        )
        == (1, 3, 1)
    )
