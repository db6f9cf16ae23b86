"""Account, area, invitation, registration and audit pages through the app."""

from __future__ import annotations

import re

import pytest

from core.models import Area, AuditEntry, Invitation, Role, User
from tests.helpers import login, make_area, make_user, page_text, post_form

STAFF_PAGES = [
    "/accounts",
    "/accounts/new",
    "/accounts/import",
    "/areas",
    "/areas/new",
    "/invitations",
    "/audit",
]


@pytest.mark.parametrize("path", STAFF_PAGES)
async def test_staff_pages_refuse_residents(client, db, path):
    area = await make_area()
    await make_user("res", area=area)
    await login(client, "res")
    response = await client.get(path)
    assert response.status_code == 403


@pytest.mark.parametrize("path", STAFF_PAGES)
async def test_staff_pages_render_for_council(client, db, path):
    await make_area()
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await client.get(path)
    assert response.status_code == 200, path
    assert "style=" not in response.text and "<script>" not in response.text


async def test_anonymous_is_sent_to_sign_in(client, db):
    response = await client.get("/accounts")
    assert response.status_code == 303 and "/login?next=" in response.headers["location"]


async def test_account_list_search_and_filters(client, db):
    east, west = await make_area("East Gate"), await make_area("West Gate")
    await make_user("chair", role=Role.COUNCIL)
    await make_user("wang", area=east, display_name="Wang Fang")
    await make_user("li", area=west, display_name="Li Wei")
    await make_user("gw", role=Role.GRID_WORKER, area=west, display_name="Grid Zhao")
    await login(client, "chair")
    text = page_text((await client.get("/accounts?q=fang")).text)
    assert "Wang Fang" in text and "Li Wei" not in text
    text = page_text((await client.get(f"/accounts?area={west.id}&role=resident")).text)
    assert "Li Wei" in text and "Grid Zhao" not in text and "Wang Fang" not in text
    fragment = await client.get("/accounts?q=li", headers={"HX-Request": "true"})
    assert "<html" not in fragment.text and "Li Wei" in fragment.text


async def test_create_account_422_keeps_values_then_shows_a_first_sign_in_code(client, db):
    """Staff never choose a password: a new account gets a first sign-in code, shown once,
    with which its owner sets their own password."""
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    form = await client.get("/accounts/new")
    assert 'name="password"' not in form.text
    data = {
        "username": "New.Person",
        "display_name": "New Person",
        "role": "finance",
        "area": "",
        "verified": "on",
        "password": "chosen-by-staff",
    }
    response = await post_form(client, "/accounts/new", data)
    assert response.status_code == 422
    assert 'value="New.Person"' in response.text and 'value="New Person"' in response.text
    assert 'id="role-error"' in response.text
    # a council member is not even offered the finance role
    assert 'value="finance"' not in response.text
    assert not await User.filter(username="new.person").exists()
    data.update(role="resident", area=str(area.id))
    response = await post_form(client, "/accounts/new", data)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "First sign-in code for New Person" in page_text(response.text)
    code = re.search(r'<code class="secret">([^<]+)</code>', response.text).group(1)
    user = await User.get(username="new.person")
    assert user.area_id == area.id and user.verified
    # the password staff typed was not kept: it does not sign in
    client.cookies.clear()
    refused = await post_form(
        client, "/login", {"username": "new.person", "password": "chosen-by-staff"}
    )
    assert refused.status_code == 422
    chosen = await post_form(
        client,
        "/password/reset",
        {
            "username": "new.person",
            "code": code,
            "password": "mine-alone-1",
            "password_confirm": "mine-alone-1",
        },
    )
    assert chosen.status_code == 303
    client.cookies.clear()
    await login(client, "new.person", "mine-alone-1")


async def test_edit_account_deactivates(client, db):
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    res = await make_user("res", area=area, display_name="Resident")
    await login(client, "chair")
    page = await client.get(f"/accounts/{res.id}/edit")
    assert page.status_code == 200 and 'name="is_active"' in page.text
    response = await post_form(
        client,
        f"/accounts/{res.id}/edit",
        {"display_name": "Resident", "role": "resident", "area": str(area.id), "verified": "on"},
    )
    assert response.status_code == 303
    await res.refresh_from_db()
    assert not res.is_active
    admin = await make_user("boss", role=Role.ADMIN)
    assert (await client.get(f"/accounts/{admin.id}/edit")).status_code == 403
    assert (await client.get("/accounts/9999/edit")).status_code == 404


async def test_area_pages(client, db):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await post_form(client, "/areas/new", {"name": "", "description": "x"})
    assert response.status_code == 422 and 'id="name-error"' in response.text
    response = await post_form(client, "/areas/new", {"name": "East Gate", "description": "x"})
    assert response.status_code == 303
    area = await Area.get(name="East Gate")
    await make_user("r1", area=area)
    text = page_text((await client.get("/areas")).text)
    assert "East Gate" in text and "1" in text
    response = await post_form(client, f"/areas/{area.id}/edit", {"name": "East Gate N"})
    assert response.status_code == 303
    assert await Area.filter(name="East Gate N").exists()


async def test_import_roll_page_lists_bad_lines_then_shows_first_sign_in_codes_once(client, db):
    await make_area("East Gate")
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    bad = b"username,display_name,area\nok.one,OK,East Gate\nx y,Bad,Nowhere\n"
    response = await post_form(
        client, "/accounts/import", files={"file": ("roll.csv", bad, "text/csv")}
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Line 3" in text and "Nowhere" in text
    assert not await User.filter(username="ok.one").exists()
    good = "\ufeffusername,display_name,area\nok.one,OK,East Gate\n".encode()
    response = await post_form(
        client, "/accounts/import", files={"file": ("roll.csv", good, "text/csv")}
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert "First sign-in code" in page_text(response.text)
    code = re.search(r'<code class="secret">([^<]+)</code>', response.text).group(1)
    client.cookies.clear()
    chosen = await post_form(
        client,
        "/password/reset",
        {
            "username": "ok.one",
            "code": code,
            "password": "my-own-pw",
            "password_confirm": "my-own-pw",
        },
    )
    assert chosen.status_code == 303
    client.cookies.clear()
    await login(client, "ok.one", "my-own-pw")


async def test_invitations_then_register_and_sign_in(client, db):
    area = await make_area("East Gate")
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await post_form(client, "/invitations", {"area": "", "count": "2"})
    assert response.status_code == 422 and 'id="area-error"' in response.text
    response = await post_form(
        client,
        "/invitations",
        {
            "area": str(area.id),
            "count": "",
            "households": "Building 3, Room 201\nBuilding 3, Room 202",
        },
    )
    assert response.status_code == 303 and "batch=" in response.headers["location"]
    page = await client.get(response.headers["location"])
    assert "Building 3, Room 201" in page_text(page.text)
    invitation = await Invitation.filter(household="Building 3, Room 201").first()
    client.cookies.clear()

    form = await client.get("/register")
    assert form.status_code == 200 and '<label for="code">' in form.text
    data = {
        "code": invitation.code,
        "username": "newbie",
        "display_name": "Newbie",
        "password": "longenough",
        "password_confirm": "longenough2",
    }
    response = await post_form(client, "/register", data)
    assert response.status_code == 422
    assert 'value="newbie"' in response.text and 'id="password_confirm-error"' in response.text
    assert "longenough" not in response.text
    data["password_confirm"] = "longenough"
    response = await post_form(client, "/register", data)
    assert response.status_code == 303
    user = await User.get(username="newbie")
    assert user.verified and user.area_id == area.id
    # signed in at once
    assert "Newbie" in page_text((await client.get("/register")).text)
    client.cookies.clear()
    response = await post_form(client, "/register", {**data, "username": "second"})
    assert response.status_code == 422 and "used already" in page_text(response.text)


async def test_audit_log_lists_and_filters(client, db):
    await make_user("chair", role=Role.COUNCIL, display_name="Chair Chen")
    await login(client, "chair")
    await post_form(client, "/areas/new", {"name": "East Gate"})
    assert await AuditEntry.filter(action="area.create").exists()
    text = page_text((await client.get("/audit")).text)
    assert "area.create" in text and "Chair Chen" in text and "login" in text
    text = page_text((await client.get("/audit?action=area.create")).text)
    assert "1 entries" in text


async def test_staff_lists_run_a_fixed_number_of_queries(client, db):
    from tests.querycount import count_queries

    areas = [await make_area(f"Area {i}") for i in range(4)]
    for i in range(30):
        await make_user(f"user{i}", area=areas[i % 4])
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    for path, limit in (("/accounts", 5), ("/areas", 4), ("/audit", 5), ("/invitations", 5)):
        with count_queries() as queries:
            assert (await client.get(path)).status_code == 200
        assert len(queries) <= limit, (path, queries)
