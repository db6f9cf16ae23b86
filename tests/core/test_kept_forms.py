"""A form sent after its session expired or its CSRF token aged: what was typed comes back
with a message and a fresh token (signed in), or after signing in (session gone); never a
password; nothing is written meanwhile."""

from __future__ import annotations

import base64
import json
import re

from budget.models import Round
from core.models import Role
from tests.helpers import PASSWORD, csrf_token, login, make_user, page_text

BASE = "http://testserver"
FORM = {
    "title": "Spring of the east gate",
    "description": "Benches, 路灯 and shade",
    "fund": "1000",
}


def field_value(html: str, name: str) -> str | None:
    match = re.search(rf'<input id="{name}" name="{name}"[^>]* value="([^"]*)"', html)
    return match.group(1) if match else None


async def test_an_aged_token_brings_the_form_back_with_the_text(client, db):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    page = f"{BASE}/budget/rounds/new"
    response = await client.post(
        "/budget/rounds/new", data={**FORM, "csrf_token": "aged"}, headers={"Referer": page}
    )
    assert response.status_code == 303 and response.headers["location"] == "/budget/rounds/new"
    assert await Round.all().count() == 0
    again = await client.get("/budget/rounds/new")
    assert again.status_code == 200
    assert "Your session expired before the form was sent" in page_text(again.text)
    assert field_value(again.text, "title") == FORM["title"]
    assert field_value(again.text, "fund") == FORM["fund"]
    assert "Benches, 路灯 and shade</textarea>" in again.text
    # a fresh token that works
    token = re.search(r'name="csrf_token" value="([^"]+)"', again.text).group(1)
    assert token != "aged"
    # shown once: the next visit is an empty form
    assert field_value((await client.get("/budget/rounds/new")).text, "title") == ""


async def test_without_a_referer_or_from_htmx_it_is_still_a_403(client, db):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await client.post("/budget/rounds/new", data={**FORM, "csrf_token": "aged"})
    assert response.status_code == 403
    response = await client.post(
        "/budget/rounds/new",
        data={**FORM, "csrf_token": "aged"},
        headers={"Referer": f"{BASE}/budget/rounds/new", "HX-Request": "true"},
    )
    assert response.status_code == 403
    assert await Round.all().count() == 0


async def test_a_foreign_referer_is_not_followed(client, db):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await client.post(
        "/budget/rounds/new",
        data={**FORM, "csrf_token": "aged"},
        headers={"Referer": "https://evil.example/budget/rounds/new"},
    )
    assert response.status_code == 403
    for referer in (f"{BASE}/\\evil.example/", "http://[::1", f"{BASE}//evil.example/x"):
        response = await client.post(
            "/budget/rounds/new", data={**FORM, "csrf_token": "aged"}, headers={"Referer": referer}
        )
        assert response.status_code == 403, referer


async def test_session_gone_sign_in_then_the_filled_form(client, db):
    await make_user("chair", role=Role.COUNCIL)
    page = f"{BASE}/budget/rounds/new"
    response = await client.post(
        "/budget/rounds/new",
        data={**FORM, "csrf_token": "from-the-old-session"},
        headers={"Referer": page},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/login?next=%2Fbudget%2Frounds%2Fnew")
    assert await Round.all().count() == 0
    sign_in = await client.get(response.headers["location"])
    assert "Sign in, then check what you typed" in page_text(sign_in.text)
    token = await csrf_token(client)
    done = await client.post(
        "/login?next=%2Fbudget%2Frounds%2Fnew",
        data={"username": "chair", "password": PASSWORD, "csrf_token": token},
    )
    assert done.status_code == 303, done.text[:300]
    assert done.headers["location"] == "/budget/rounds/new"
    again = await client.get("/budget/rounds/new")
    assert field_value(again.text, "title") == FORM["title"]


async def test_passwords_and_tokens_are_never_kept(client, db):
    chair = await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    page = f"{BASE}/account/password"
    response = await client.post(
        "/account/password",
        data={"current_password": "hunter2", "password": "s3cret-new", "csrf_token": "aged"},
        headers={"Referer": page},
    )
    assert response.status_code == 303
    session = decoded_session(client)
    assert "_kept" not in session  # nothing but secrets was typed
    assert "s3cret-new" not in json.dumps(session) and "hunter2" not in json.dumps(session)
    assert chair.id


def decoded_session(client) -> dict:
    payload = client.cookies.get("yishi_session").split(".")[0]
    return json.loads(base64.b64decode(payload + "=" * (-len(payload) % 4)))


async def test_a_ballots_choices_are_never_kept(client, db):
    from budget.models import Phase
    from tests.helpers import make_area, make_round

    rnd = await make_round("Ballot", phase=Phase.VOTING)
    await make_user("voter", area=await make_area())
    await login(client, "voter")
    page = f"{BASE}/budget/rounds/{rnd.id}/ballot"
    response = await client.post(
        f"/budget/rounds/{rnd.id}/ballot",
        data={"project": ["7", "9"], "points-7": "3", "csrf_token": "aged"},
        headers={"Referer": page},
    )
    assert response.status_code == 303  # back to the ballot, with the message
    assert "_kept" not in decoded_session(client)  # the secret ballot stays on the server
