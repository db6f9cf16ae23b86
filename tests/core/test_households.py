"""The household (address) of an account: typed by staff in the account form, read from an
optional column of the CSV roll; it tells apart residents with the same name."""

from __future__ import annotations

import pytest

from core.models import Role, User
from core.services.roll import RollError, import_roll
from tests.helpers import login, make_area, make_user, page_text, post_form


async def test_household_typed_in_the_account_form(client, db):
    area = await make_area()
    await make_user("chair", role=Role.COUNCIL)
    res = await make_user("res", area=area, display_name="Resident")
    await login(client, "chair")
    data = {
        "display_name": "Resident",
        "role": "resident",
        "area": str(area.id),
        "verified": "on",
        "is_active": "on",
        "household": "Building 3, room 201",
    }
    assert (await post_form(client, f"/accounts/{res.id}/edit", data)).status_code == 303
    await res.refresh_from_db()
    assert res.household == "Building 3, room 201"
    page = await client.get(f"/accounts/{res.id}/edit")
    assert 'value="Building 3, room 201"' in page.text
    # too long: 422, the text kept, nothing written
    long = await post_form(client, f"/accounts/{res.id}/edit", {**data, "household": "x" * 101})
    assert long.status_code == 422 and "x" * 101 in long.text
    await res.refresh_from_db()
    assert res.household == "Building 3, room 201"
    new = await post_form(
        client,
        "/accounts/new",
        {**data, "username": "tang", "display_name": "Tang", "household": "7栋502室"},
    )
    assert new.status_code == 200 and "first sign-in code" in page_text(new.text).lower()
    assert (await User.get(username="tang")).household == "7栋502室"


async def test_household_column_of_the_roll(db):
    council = await make_user("chair", role=Role.COUNCIL)
    await make_area("East Gate")
    roll = (
        "username,display_name,area,住址\n"
        "tang1,唐家豪,East Gate,3栋201室\n"
        "tang2,唐家豪,East Gate,\n"
    )
    await import_roll(council, roll.encode("utf-8"))
    households = dict(
        await User.filter(username__in=["tang1", "tang2"]).values_list("username", "household")
    )
    assert households == {"tang1": "3栋201室", "tang2": ""}
    too_long = f"username,display_name,area,household\nli,Li,East Gate,{'x' * 101}\n"
    with pytest.raises(RollError) as exc:
        await import_roll(council, too_long.encode("utf-8"))
    assert "household" in page_text(str(exc.value.lines))
    assert not await User.filter(username="li").exists()
