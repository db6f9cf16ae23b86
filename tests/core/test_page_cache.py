"""Public pages kept for visitors (core.web.page_cache) are never stale: whatever changes in
the database underneath them, through the services or behind their back, the next visitor
sees it; signed-in users always get their own page; each visitor gets their own CSRF token."""

from __future__ import annotations

import re

import pytest
from tortoise import connections

from budget.demo import load_demo_data
from budget.models import Phase, ProposalPhoto, ProposalStatus
from budget.services.voting import cast_ballot
from consult.demo import load_consult_demo
from core.models import AuditEntry, Role
from core.page_stamps import WATCHED_SQL
from core.web import page_cache
from tests.bench.bench_app import capture_queries
from tests.helpers import (
    PASSWORD,
    app_client,
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)

TABLE = re.compile(r'(?:FROM|JOIN)\s+"?([a-z_]+)"?', re.IGNORECASE)
TOKEN_IN_HEADERS = re.compile(r'"X-CSRF-Token": "([^"]+)"')


async def sql(statement: str, values: list | None = None) -> None:
    conn = connections.get("default")
    if conn.capabilities.dialect == "postgres":
        statement = re.sub(r"\?", lambda _m, n=iter(range(1, 99)): f"${next(n)}", statement)
    await conn.execute_query(statement, values or [])


async def stamp() -> int:
    value = await page_cache.page_stamp()
    assert value is not None
    return value


@pytest.fixture
async def district(db):
    area = await make_area("East Gate")
    author = await make_user("wang", area=area, display_name="Wang Fang")
    rnd = await make_round("Spring round", phase=Phase.VOTING, envelopes={area: 500_000_00})
    proposal = await make_proposal(
        rnd, author, "Benches by the canal", area=area, status=ProposalStatus.FEASIBLE
    )
    return area, author, rnd, proposal


async def kept(client, path: str) -> str:
    """The page twice: the second answer comes from the kept copy (asserted: no query but
    the stamp's)."""
    first = await client.get(path)
    assert first.status_code == 200
    with capture_queries() as queries:
        second = await client.get(path)
    assert second.status_code == 200
    assert [q for q, _ in queries if "page_stamp" not in q] == []
    assert page_text(second.text) == page_text(first.text)
    return second.text


# Each change is made behind the services' back (plain SQL, as a hand-typed fix would be):
# the triggers, not the code that usually makes the change, are what keeps pages fresh.
CHANGES = [
    (
        "proposal title",
        "/budget/proposals/{proposal}",
        "UPDATE proposal SET title = 'Shaded benches' WHERE id = ?",
        "proposal",
        "Shaded benches",
    ),
    (
        "proposal status",
        "/budget/proposals?round={round}",
        "UPDATE proposal SET status = 'infeasible' WHERE id = ?",
        "proposal",
        "Benches by the canal Not feasible",
    ),
    (
        "area name",
        "/budget/proposals/{proposal}",
        "UPDATE area SET name = 'West Lake' WHERE id = ?",
        "area",
        "West Lake",
    ),
    (
        "round title",
        "/budget/rounds/{round}",
        "UPDATE round SET title = 'Autumn round' WHERE id = ?",
        "round",
        "Autumn round",
    ),
    (
        "author's name",
        "/budget/proposals/{proposal}",
        "UPDATE account SET display_name = 'Li Na' WHERE id = ?",
        "author",
        "Li Na",
    ),
]


@pytest.mark.parametrize(
    "path, statement, subject, shown", [c[1:] for c in CHANGES], ids=[c[0] for c in CHANGES]
)
async def test_a_change_underneath_shows_at_once(client, district, path, statement, subject, shown):
    area, author, rnd, proposal = district
    path = path.format(proposal=proposal.id, round=rnd.id)
    before = await kept(client, path)
    assert shown not in page_text(before)
    ids = {"proposal": proposal.id, "area": area.id, "round": rnd.id, "author": author.id}
    await sql(statement, [ids[subject]])
    assert shown in page_text((await client.get(path)).text)


async def test_a_new_public_history_entry_and_a_removed_photo_show_at_once(client, district):
    _area, author, _rnd, proposal = district
    photo = await ProposalPhoto.create(
        proposal=proposal, stored_name="x.png", content_type="image/png", size=10
    )
    path = f"/budget/proposals/{proposal.id}"
    page = await kept(client, path)
    assert f"photos/{photo.id}" in page
    assert "No history yet." in page_text(page)
    await AuditEntry.create(
        actor=author,
        action="proposal.edited",
        subject_type="proposal",
        subject_id=proposal.id,
        public=True,
    )
    page = (await client.get(path)).text
    assert "Edited by Wang Fang." in page_text(page)
    await sql("DELETE FROM proposal_photo WHERE id = ?", [photo.id])
    page = (await client.get(path)).text
    assert f"photos/{photo.id}" not in page


async def test_casting_a_ballot_or_a_private_audit_entry_does_not_move_the_stamp(district):
    area, _author, rnd, proposal = district
    voter = await make_user("li", area=area)
    before = await stamp()
    await cast_ballot(voter, rnd, {proposal.id: 1})
    await AuditEntry.create(actor=voter, action="auth.login", subject_type="", public=False)
    await sql("UPDATE account SET last_login_at = CURRENT_TIMESTAMP WHERE id = ?", [voter.id])
    assert await stamp() == before
    await sql("UPDATE account SET display_name = 'Li Lei' WHERE id = ?", [voter.id])
    assert await stamp() > before


async def test_each_visitor_gets_their_own_csrf_token(app, district):
    *_, proposal = district
    path = f"/budget/proposals/{proposal.id}"
    tokens = []
    for _ in range(2):
        async with app_client(app) as visitor:
            page = (await visitor.get(path)).text
            token = TOKEN_IN_HEADERS.search(page).group(1)
            assert page.count(token) >= 1 and "csrf-" not in page
            # the token in the kept page is this visitor's own: signing in with it works
            response = await visitor.post(
                "/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token}
            )
            assert response.status_code == 303
            tokens.append(token)
    assert tokens[0] != tokens[1]


async def test_signed_in_users_get_their_own_page(app, client, district):
    area, _author, rnd, _proposal = district
    path = f"/budget/proposals?round={rnd.id}"
    await kept(client, path)
    await make_user("zhao", area=area, display_name="Zhao Min")
    async with app_client(app) as resident:
        await login(resident, "zhao")
        page = (await resident.get(path)).text
        assert "Zhao Min" in page_text(page)
        assert "Sign in" not in page_text(page)
    # and the visitor still sees a visitor's page
    page = (await client.get(path)).text
    assert "Sign in" in page_text(page)
    assert "Zhao Min" not in page_text(page)


async def test_a_visitor_with_a_message_waiting_gets_it(client, district):
    """A flash (here: "please sign in", left by a page that needs an account) is shown on the
    next page, which is rendered for that visitor rather than taken from the kept copies."""
    _area, _author, rnd, _proposal = district
    path = f"/budget/proposals?round={rnd.id}"
    await kept(client, path)
    response = await client.get("/notifications")
    assert response.status_code == 303
    page = (await client.get(path)).text
    assert "Please sign in first." in page_text(page)


async def test_a_kept_page_lasts_at_most_its_lifetime(client, district, monkeypatch):
    _area, _author, rnd, _proposal = district
    path = f"/budget/rounds/{rnd.id}"
    await kept(client, path)
    clock = page_cache.time.monotonic() + page_cache.LIFETIME + 1
    monkeypatch.setattr(page_cache.time, "monotonic", lambda: clock)
    with capture_queries() as queries:
        assert (await client.get(path)).status_code == 200
    assert any("round" in q and "page_stamp" not in q for q, _ in queries)


async def test_languages_and_htmx_fragments_are_kept_apart(client, district):
    _area, _author, rnd, _proposal = district
    path = f"/budget/proposals?round={rnd.id}"
    english = await kept(client, path)
    chinese = (await client.get(path, headers={"Accept-Language": "zh-CN"})).text
    fragment = (await client.get(path, headers={"HX-Request": "true"})).text
    assert "<html" in english and "Proposals" in page_text(english)
    assert "<html" in chinese and "提案" in page_text(chinese)
    assert "<html" not in fragment and "Benches by the canal" in fragment


async def test_every_table_a_kept_page_reads_is_watched(app, db, tmp_path):
    """Render every kept page of the demo district (every proposal, every round, the lists)
    and compare the tables their queries read with those the triggers watch: a page that
    starts reading a new table fails here until a migration watches it."""
    await load_demo_data(PASSWORD, tmp_path / "uploads")
    await load_consult_demo()
    conn = connections.get("default")
    _n, rows = await conn.execute_query(WATCHED_SQL[conn.capabilities.dialect])
    watched = {row[0] for row in rows} | {"page_stamp"}
    _n, proposals = await conn.execute_query("SELECT id FROM proposal")
    _n, rounds = await conn.execute_query("SELECT id FROM round")
    paths = ["/budget/", "/budget/proposals"]
    paths += [f"/budget/proposals/{row[0]}" for row in proposals]
    paths += [f"/budget/rounds/{row[0]}" for row in rounds]
    paths += [f"/budget/proposals?round={row[0]}" for row in rounds]
    read: dict[str, str] = {}
    async with app_client(app) as visitor:
        for path in paths:
            with capture_queries() as queries:
                response = await visitor.get(path)
            assert response.status_code == 200, path
            for query, _values in queries:
                for table in TABLE.findall(query):
                    read.setdefault(table, path)
    assert len(paths) > 30 and {"proposal", "meeting", "comment"} <= set(read)
    unwatched = {table: path for table, path in read.items() if table not in watched}
    assert unwatched == {}


async def test_the_stamp_moves_on_every_watched_table(db):
    """On both databases each watched table has its three triggers (and TRUNCATE's on
    PostgreSQL), for the tables every package watches."""
    conn = connections.get("default")
    _n, rows = await conn.execute_query(WATCHED_SQL[conn.capabilities.dialect])
    assert {row[0] for row in rows} >= {
        "area",
        "account",
        "audit_entry",
        "round",
        "envelope",
        "proposal",
        "proposal_photo",
        "procurement",
        "comment",
        "meeting",
        "need",
        "questionnaire",
    }
    assert "ballot" not in {row[0] for row in rows}
    assert "ballot_choice" not in {row[0] for row in rows}


async def test_signing_in_does_not_move_the_stamp(app, db):
    await make_user("wang", role=Role.RESIDENT)
    before = await stamp()
    async with app_client(app) as browser:
        response = await post_form(browser, "/login", {"username": "wang", "password": PASSWORD})
        assert response.status_code == 303
    assert await stamp() == before
