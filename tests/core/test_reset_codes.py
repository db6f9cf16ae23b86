"""Staff never set a resident's password: they make a one-time reset code (shown once, valid
24 hours, stored hashed, used once, audited) with which the resident sets their own; this is
also the "forgot my password" path named on the sign-in page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.models import AuditEntry, ResetCode, Role, User
from core.services.auth import check_password
from tests.helpers import PASSWORD, login, make_area, make_user, page_text, post_form

CODE = re.compile(r'<code class="secret">([A-Z0-9-]+)</code>')


@pytest.fixture
async def resident_browser(app, db):
    transport = httpx.ASGITransport(app=app, client=("10.1.1.1", 5000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
    ) as c:
        yield c


async def make_code(client: httpx.AsyncClient, user_id: int) -> str:
    response = await post_form(client, f"/accounts/{user_id}/reset-code")
    assert response.status_code == 200, response.text[:300]
    assert response.headers["cache-control"] == "no-store"
    return CODE.search(response.text).group(1)


async def reset(client: httpx.AsyncClient, username: str, code: str, password: str):
    return await post_form(
        client,
        "/password/reset",
        {"username": username, "code": code, "password": password, "password_confirm": password},
    )


async def test_staff_can_no_longer_set_a_residents_password(client, db):
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    wang = await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "chair")
    page = await client.get(f"/accounts/{wang.id}/edit")
    assert 'name="password"' not in page.text
    assert "Make a reset code" in page_text(page.text)
    response = await post_form(
        client,
        f"/accounts/{wang.id}/edit",
        {
            "display_name": "Wang Fang",
            "role": "resident",
            "area": str(area.id),
            "verified": "on",
            "is_active": "on",
            "password": "chosen-by-staff",
        },
    )
    assert response.status_code == 303
    wang = await User.get(id=wang.id)
    assert check_password(wang.password_hash, PASSWORD)
    assert not check_password(wang.password_hash, "chosen-by-staff")


async def test_a_reset_code_lets_the_resident_choose_a_password(client, resident_browser, db):
    area = await make_area()
    chair = await make_user("chair", role=Role.COUNCIL)
    wang = await make_user("wang", area=area, display_name="Wang Fang")
    await login(resident_browser, "wang")
    old_cookie = resident_browser.cookies["yishi_session"]
    await login(client, "chair")
    page = await client.get(f"/accounts/{wang.id}/reset-code")
    assert page.status_code == 200 and not CODE.search(page.text)
    code = await make_code(client, wang.id)
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
    # kept hashed only, and never in the audit log
    stored = await ResetCode.get(user_id=wang.id)
    assert code.replace("-", "") not in stored.code_hash
    assert stored.expires_at - datetime.now(UTC) > timedelta(hours=23, minutes=59)
    entry = await AuditEntry.get(action="account.reset_code")
    assert entry.actor_id == chair.id and entry.subject_id == wang.id
    assert code.replace("-", "") not in str(entry.detail) and code not in str(entry.detail)
    # the resident, on the public page (any browser)
    resident_browser.cookies.clear()
    page = await resident_browser.get("/password/reset")
    assert "Set your password with a reset code" in page_text(page.text)
    response = await reset(resident_browser, "wang", code.lower(), "mine-only-123")
    assert response.status_code == 303
    home = page_text((await resident_browser.get("/login")).text)
    assert "Wang Fang" in home
    assert await AuditEntry.filter(action="account.password_reset", actor_id=wang.id).count() == 1
    wang = await User.get(id=wang.id)
    assert check_password(wang.password_hash, "mine-only-123")
    # used once; the sessions from before have ended
    response = await reset(resident_browser, "wang", code, "another-one-9")
    assert response.status_code == 422
    assert "do not match, or the code has expired or been used" in page_text(response.text)
    resident_browser.cookies.clear()
    resident_browser.cookies.set("yishi_session", old_cookie)
    assert '/logout"' not in (await resident_browser.get("/login")).text
    response = await post_form(client, "/logout")  # the chair signs out
    response = await post_form(client, "/login", {"username": "wang", "password": PASSWORD})
    assert response.status_code == 422


async def test_a_new_code_replaces_the_old_and_codes_expire(client, resident_browser, db):
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    wang = await make_user("wang", area=area)
    await login(client, "chair")
    first = await make_code(client, wang.id)
    second = await make_code(client, wang.id)
    assert first != second
    assert await ResetCode.filter(user_id=wang.id).count() == 1
    response = await reset(resident_browser, "wang", first, "mine-only-123")
    assert response.status_code == 422
    await ResetCode.filter(user_id=wang.id).update(
        expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    response = await reset(resident_browser, "wang", second, "mine-only-123")
    assert response.status_code == 422
    third = await make_code(client, wang.id)
    response = await reset(resident_browser, "wang", third, "mine-only-123")
    assert response.status_code == 303


async def test_who_may_make_a_reset_code(client, db):
    east, west = await make_area("East Gate"), await make_area("West Bank")
    await make_user("worker", role=Role.GRID_WORKER, area=east)
    near = await make_user("near", area=east, display_name="Near Neighbour")
    far = await make_user("far", area=west, display_name="Far Neighbour")
    admin = await make_user("admin", role=Role.ADMIN)
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "worker")
    listing = page_text((await client.get("/reset-codes")).text)
    assert "Near Neighbour" in listing and "Far Neighbour" not in listing
    assert (await client.get(f"/accounts/{far.id}/reset-code")).status_code == 403
    assert (await post_form(client, f"/accounts/{far.id}/reset-code")).status_code == 403
    assert await make_code(client, near.id)
    await post_form(client, "/logout")
    await login(client, "chair")
    assert (await post_form(client, f"/accounts/{admin.id}/reset-code")).status_code == 403
    assert await make_code(client, far.id)
    await post_form(client, "/logout")
    await login(client, "near")
    assert (await client.get("/reset-codes")).status_code == 403
    assert (await post_form(client, f"/accounts/{far.id}/reset-code")).status_code == 403


async def test_the_sign_in_page_says_whom_to_ask(client, db):
    page = await client.get("/login")
    text = page_text(page.text)
    assert (
        "Forgot your password? Ask your grid worker or the community council for a reset code."
        in text
    )
    assert re.search(r'href="[^"]*/password/reset"', page.text)


async def test_reset_code_guesses_are_throttled_per_address(client, resident_browser, db):
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    wang = await make_user("wang", area=area)
    await login(client, "chair")
    code = await make_code(client, wang.id)
    for i in range(20):
        response = await reset(resident_browser, "wang", f"WRONG{i:05d}", "mine-only-123")
        assert response.status_code == 422
    response = await reset(resident_browser, "wang", code, "mine-only-123")
    assert response.status_code == 429
    assert "Please wait 5 seconds" in page_text(response.text)
