"""Sessions can be revoked: signing out ends every session of the account, and so do a new
password, a new role and a deactivation; a session also ends 14 days after sign-in however
often it is used. A signed-in user changes their own password."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from core.models import AuditEntry, Role, User
from core.web import users
from tests.helpers import PASSWORD, app_client, login, make_area, make_user, page_text, post_form


@pytest.fixture
async def second_client(app, db):
    """Another browser (its own cookies)."""
    async with app_client(app) as c:
        yield c


async def signed_in_as(client: httpx.AsyncClient) -> str | None:
    """Whose name the page header shows, or None for a visitor."""
    html = (await client.get("/login")).text
    if '/logout"' not in html:
        return None
    return page_text(html)


async def test_sign_out_ends_a_copied_session_too(client, second_client, db):
    area = await make_area()
    await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "wang")
    # the same cookie, kept elsewhere (a shared computer, a stolen cookie)
    second_client.cookies.set("yishi_session", client.cookies["yishi_session"])
    assert "Wang Fang" in await signed_in_as(second_client)
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    assert await signed_in_as(second_client) is None
    page = await client.get("/login")
    assert "You have signed out, here and on every other device." in page_text(page.text)
    assert await signed_in_as(client) is None
    assert await AuditEntry.filter(action="logout").count() == 1


async def test_a_new_password_signs_out_every_other_device(client, second_client, db):
    area = await make_area()
    await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "wang")
    await login(second_client, "wang")
    page = await client.get("/account/password")
    assert page.status_code == 200
    assert "Change my password" in page_text(page.text)
    response = await post_form(
        client,
        "/account/password",
        {
            "current_password": "not-it-at-all",
            "password": "a-new-secret",
            "password_confirm": "a-new-secret",
        },
    )
    assert response.status_code == 422
    assert "This is not your current password." in page_text(response.text)
    response = await post_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "password": "a-new-secret",
            "password_confirm": "a-new-secret",
        },
    )
    assert response.status_code == 303
    assert "Wang Fang" in await signed_in_as(client)  # this device stays signed in
    assert await signed_in_as(second_client) is None
    assert await AuditEntry.filter(action="account.password_changed").count() == 1
    response = await post_form(second_client, "/login", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 422
    await login(second_client, "wang", "a-new-secret")


async def test_a_new_role_or_a_deactivation_ends_the_sessions(client, second_client, db):
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    wang = await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "chair")
    await login(second_client, "wang")
    form = {"display_name": "Wang Fang", "area": str(area.id), "verified": "on"}
    response = await post_form(
        client,
        f"/accounts/{wang.id}/edit",
        {**form, "role": "grid_worker", "is_active": "on"},
    )
    assert response.status_code == 303
    assert await signed_in_as(second_client) is None
    await login(second_client, "wang")
    # deactivated, then active again: the session from before stays ended
    cookie = second_client.cookies["yishi_session"]
    await post_form(client, f"/accounts/{wang.id}/edit", {**form, "role": "grid_worker"})
    await post_form(
        client, f"/accounts/{wang.id}/edit", {**form, "role": "grid_worker", "is_active": "on"}
    )
    assert (await User.get(id=wang.id)).is_active
    second_client.cookies.clear()
    second_client.cookies.set("yishi_session", cookie)
    assert await signed_in_as(second_client) is None
    # a change of name only leaves the session alone
    second_client.cookies.clear()
    await login(second_client, "wang")
    await post_form(
        client,
        f"/accounts/{wang.id}/edit",
        {**form, "display_name": "Wang F.", "role": "grid_worker", "is_active": "on"},
    )
    assert "Wang F." in await signed_in_as(second_client)


async def test_a_session_ends_fourteen_days_after_sign_in(client, db, monkeypatch):
    area = await make_area()
    await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "wang")
    start = time.time()
    monkeypatch.setattr(users, "_now", lambda: start + 13 * 24 * 3600)
    assert "Wang Fang" in await signed_in_as(client)  # used again: the cookie is renewed
    monkeypatch.setattr(users, "_now", lambda: start + 14 * 24 * 3600 + 60)
    assert await signed_in_as(client) is None


async def test_my_password_is_in_the_account_menu(client, db):
    area = await make_area()
    await make_user("wang", area=area)
    await login(client, "wang")
    page = await client.get("/budget/rounds")
    assert re.search(r'href="[^"]*/account/password"', page.text)
    assert "My password" in page_text(page.text)
