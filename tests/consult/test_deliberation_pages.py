"""The house rules (tests/test_pages.py) on every deliberation page for every role: no server
error, a strict CSP, no inline script or style, a label for every input, a CSRF token in every
POST form; and the pages each role should reach answer 200."""

from __future__ import annotations

import pytest

from consult.models import Choice, DeliberationPhase, StatementStatus
from core.models import Role
from tests.consult.deliberation_setup import district, make_deliberation, make_statement, make_vote
from tests.helpers import login, make_user
from tests.test_pages import audit_html


async def _seed():
    s = await district()
    await make_user("admin", role=Role.ADMIN)
    approved = await make_statement(s.d, s.bob, "Bins downstairs")
    await make_statement(s.d, s.alice, "Waiting", StatementStatus.PENDING)
    await make_statement(
        s.d, s.alice, "Rejected", StatementStatus.REJECTED, reject_reason="Off topic"
    )
    await make_vote(approved, s.alice, Choice.AGREE)
    deciding = await make_deliberation("Deciding", DeliberationPhase.DECIDING)
    published = await make_deliberation(
        "Published", DeliberationPhase.PUBLISHED, summary="S", decision="D"
    )
    return s, deciding, published


OPEN_TO_ALL = ["/consult/deliberations", "{d}", "{deciding}", "{published}"]
SIGNED_IN = ["{d}/my-votes"]  # one's own votes: an empty list for most
RESIDENT = ["{d}/vote", "{d}/statements/new"]
COUNCIL = ["/consult/deliberations/new", "{d}/edit", "{d}/advance", "{d}/moderation"]
COUNCIL += ["{deciding}/publish"]


@pytest.mark.parametrize("username", [None, "alice", "bob", "carol", "dave", "council", "admin"])
async def test_every_deliberation_page_follows_the_house_rules(client, db, username):
    s, deciding, published = await _seed()
    if username:
        await login(client, username)
    ids = {
        "{d}": f"/consult/deliberations/{s.d.id}",
        "{deciding}": f"/consult/deliberations/{deciding.id}",
        "{published}": f"/consult/deliberations/{published.id}",
    }
    reached = []
    for template in OPEN_TO_ALL + SIGNED_IN + RESIDENT + COUNCIL:
        url = template
        for key, value in ids.items():
            url = url.replace(key, value)
        response = await client.get(url)
        assert response.status_code < 500, (url, response.text[:300])
        if response.status_code == 200:
            assert "script-src 'self'" in response.headers["content-security-policy"]
            assert audit_html(response.text) == [], url
            reached.append(template)
    expected = list(OPEN_TO_ALL) + (SIGNED_IN if username else [])
    if username in ("alice", "bob"):  # verified residents of East, the round's area
        expected += RESIDENT
    if username in ("council", "admin"):
        expected += COUNCIL
    assert reached == expected
