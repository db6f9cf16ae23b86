"""Residents submit statements while a round collects; the council approves or rejects each
with a reason; authors see their own statements' fate. Through the pages, with and without
JavaScript (htmx)."""

from __future__ import annotations

import pytest

from consult.models import Deliberation, DeliberationPhase, Statement, StatementStatus
from consult.services import statements as service
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import AuditEntry
from tests.consult.deliberation_setup import district, make_deliberation, make_statement
from tests.helpers import app_client, login, page_text, post_form

HX = {"HX-Request": "true"}


def new_url(d) -> str:
    return f"/consult/deliberations/{d.id}/statements/new"


def page_url(d) -> str:
    return f"/consult/deliberations/{d.id}"


def queue_url(d) -> str:
    return f"/consult/deliberations/{d.id}/moderation"


async def test_a_resident_submits_a_statement_that_waits_for_approval(app, client, db):
    s = await district()
    await login(client, "alice")
    response = await post_form(client, new_url(s.d), {"body": "  Keep the bins downstairs.  "})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"{page_url(s.d)}#own")
    statement = await Statement.get(deliberation_id=s.d.id)
    assert (statement.body, statement.status, statement.author_id) == (
        "Keep the bins downstairs.",
        StatementStatus.PENDING,
        s.alice.id,
    )
    text = page_text((await client.get(page_url(s.d))).text)
    assert "Your statements Waiting for approval Keep the bins downstairs." in text
    assert "shown once a council member approves it" in text  # the flash
    entry = await AuditEntry.get(action="statement.submitted")
    assert not entry.public  # it names the author

    # the public and other residents do not see it before approval
    async with app_client(app) as other:
        assert "Keep the bins downstairs." not in page_text((await other.get(page_url(s.d))).text)
        await login(other, "bob")
        assert "Keep the bins downstairs." not in page_text((await other.get(page_url(s.d))).text)


@pytest.mark.parametrize(
    ("body", "message"),
    [("   ", "This field is required."), ("长" * 141, "At most 140 characters.")],
)
async def test_an_empty_or_long_statement_is_refused_with_the_text_kept(client, db, body, message):
    s = await district()
    await login(client, "alice")
    response = await post_form(client, new_url(s.d), {"body": body})
    assert response.status_code == 422
    assert message in page_text(response.text)
    if body.strip():
        assert body in response.text  # what was typed, shown again
    assert await Statement.all().count() == 0


async def test_140_characters_after_stripping_are_fine(db):
    s = await district()
    statement = await service.submit_statement(s.alice, s.d.id, {"body": " " + "好" * 140 + "\n"})
    assert len(statement.body) == 140


async def test_htmx_submission_changes_the_form_in_place(client, db):
    s = await district()
    await login(client, "alice")
    response = await post_form(client, new_url(s.d), {"body": ""}, headers=HX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<div id="contribute">')
    assert "This field is required." in response.text and "<html" not in response.text
    response = await post_form(
        client, new_url(s.d), {"body": "Door-to-door for the elderly"}, headers=HX
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="contribute">')
    text = page_text(response.text)
    assert "Thank you." in text and "Waiting for approval Door-to-door for the elderly" in text


async def test_who_may_not_submit_gets_403_and_nothing_is_written(app, client, db):
    s = await district()
    cases = [
        ("carol", s.d, "Only residents of the areas"),  # West, the round is East's
        ("dave", s.d, "Only verified residents"),
        ("council", s.d, "Only verified residents"),
    ]
    discussing = await make_deliberation("Later", phase=DeliberationPhase.DISCUSSING)
    cases.append(("alice", discussing, "no longer collecting"))
    for username, d, message in cases:
        async with app_client(app) as c:
            await login(c, username)
            response = await post_form(c, new_url(d), {"body": "Hello"})
            assert response.status_code == 403, username
            assert message in page_text(response.text)
            assert (await c.get(new_url(d))).status_code == 403
    assert await Statement.all().count() == 0
    assert (await client.post(new_url(s.d), data={"body": "x"})).status_code == 403  # signed out


async def test_a_resident_may_have_at_most_ten_statements_waiting(db):
    s = await district()
    for i in range(service.MAX_WAITING):
        await service.submit_statement(s.alice, s.d.id, {"body": f"Idea {i}"})
    with pytest.raises(ValidationError) as refused:
        await service.submit_statement(s.alice, s.d.id, {"body": "One more"})
    assert "10 statements waiting" in refused.value.errors["body"]
    await service.submit_statement(s.bob, s.d.id, {"body": "Bob's idea"})  # per resident


async def test_the_council_approves_a_statement_and_residents_vote_on_it(app, client, db):
    s = await district()
    pending = await make_statement(
        s.d, s.bob, "Collection points with a roof", StatementStatus.PENDING
    )
    await login(client, "council")
    queue = page_text((await client.get(queue_url(s.d))).text)
    assert "Collection points with a roof" in queue and "by a resident of East Gate" in queue
    assert "Bob" not in queue  # the author's area, not their name
    version = (await Deliberation.get(id=s.d.id)).votes_version
    response = await post_form(client, f"/consult/statements/{pending.id}/approve")
    assert response.status_code == 303 and response.headers["location"].endswith(queue_url(s.d))
    statement = await Statement.get(id=pending.id)
    assert statement.status == StatementStatus.APPROVED and statement.decided_by_id == s.council.id
    assert (await Deliberation.get(id=s.d.id)).votes_version == version + 1
    assert "No statement waits for approval." in page_text((await client.get(queue_url(s.d))).text)
    entry = await AuditEntry.get(action="statement.approved")
    assert not entry.public

    async with app_client(app) as alice:
        await login(alice, "alice")
        text = page_text((await alice.get(page_url(s.d))).text)
        assert "Collection points with a roof" in text and "Agree" in text


async def test_approving_twice_is_a_conflict(db):
    s = await district()
    pending = await make_statement(s.d, s.bob, "Lids on bins", StatementStatus.PENDING)
    await service.approve_statement(s.council, pending.id)
    with pytest.raises(Conflict):
        await service.approve_statement(s.council, pending.id)
    with pytest.raises(Conflict):
        await service.reject_statement(s.council, pending.id, {"reason": "Late"})


async def test_a_rejection_needs_a_reason_and_the_author_sees_it(app, client, db):
    s = await district()
    pending = await make_statement(s.d, s.alice, "The manager must go!", StatementStatus.PENDING)
    await login(client, "council")
    url = f"/consult/statements/{pending.id}/reject"
    response = await post_form(client, url, {"reason": "  "})
    assert response.status_code == 422
    assert "This field is required." in page_text(response.text)
    assert (await Statement.get(id=pending.id)).status == StatementStatus.PENDING
    response = await post_form(client, url, {"reason": "Not about waste sorting."})
    assert response.status_code == 303
    statement = await Statement.get(id=pending.id)
    assert (statement.status, statement.reject_reason) == (
        StatementStatus.REJECTED,
        "Not about waste sorting.",
    )
    async with app_client(app) as alice:
        await login(alice, "alice")
        text = page_text((await alice.get(page_url(s.d))).text)
        assert "Not approved The manager must go!" in text
        assert "The council's reason: Not about waste sorting." in text
    async with app_client(app) as public:
        assert "The manager must go!" not in (await public.get(page_url(s.d))).text


async def test_htmx_moderation_changes_the_item_in_place(client, db):
    s = await district()
    one = await make_statement(s.d, s.bob, "Statement one", StatementStatus.PENDING)
    two = await make_statement(s.d, s.bob, "Statement two", StatementStatus.PENDING)
    await login(client, "council")
    response = await post_form(client, f"/consult/statements/{one.id}/approve", headers=HX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<li id="statement-{one.id}"')
    assert "Shown to residents for their votes." in page_text(response.text)
    url = f"/consult/statements/{two.id}/reject"
    response = await post_form(client, url, {"reason": ""}, headers=HX)
    assert response.status_code == 422
    assert response.text.lstrip().startswith(f'<li id="statement-{two.id}"')
    assert "This field is required." in response.text
    response = await post_form(client, url, {"reason": "A repeat"}, headers=HX)
    assert "Reason: A repeat" in page_text(response.text)


async def test_residents_do_not_moderate(client, db):
    s = await district()
    pending = await make_statement(s.d, s.bob, "Hmm", StatementStatus.PENDING)
    await login(client, "alice")
    assert (await client.get(queue_url(s.d))).status_code == 403
    assert (await post_form(client, f"/consult/statements/{pending.id}/approve")).status_code == 403
    response = await post_form(client, f"/consult/statements/{pending.id}/reject", {"reason": "x"})
    assert response.status_code == 403
    assert (await Statement.get(id=pending.id)).status == StatementStatus.PENDING
    with pytest.raises(PermissionDenied):
        await service.approve_statement(s.alice, pending.id)


async def test_no_moderation_once_the_round_is_deciding(db):
    s = await district(phase=DeliberationPhase.DECIDING)
    pending = await make_statement(s.d, s.bob, "Late idea", StatementStatus.PENDING)
    with pytest.raises(PermissionDenied) as refused:
        await service.approve_statement(s.council, pending.id)
    assert "closed to statements" in refused.value.message


async def test_missing_statements_and_rounds_are_404(client, db):
    await district()
    await login(client, "council")
    assert (await post_form(client, "/consult/statements/999999/approve")).status_code == 404
    assert (await client.get("/consult/deliberations/999999/moderation")).status_code == 404
    assert (await client.get("/consult/deliberations/999999/statements/new")).status_code == 404
