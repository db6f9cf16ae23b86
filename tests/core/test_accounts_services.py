"""Account services against the database: areas, accounts, the CSV roll, invitations."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import PermissionDenied, ValidationError
from core.models import AuditEntry, Invitation, Role, User
from core.services import accounts
from core.services.areas import areas_with_counts, create_area, edit_area
from core.services.auth import check_password
from core.services.invitations import create_invitations, register_with_code
from core.services.roll import RollError, import_roll
from tests.conftest import ON_POSTGRES
from tests.helpers import make_area, make_user


async def staff(role: Role = Role.COUNCIL) -> User:
    return await make_user(f"staff_{role.value}", role=role)


async def test_create_and_edit_area_unique_name(db):
    council = await staff()
    area = await create_area(council, {"name": "East Gate", "description": "Gate"})
    with pytest.raises(ValidationError) as exc:
        await create_area(council, {"name": "East Gate"})
    assert "name" in exc.value.errors
    other = await create_area(council, {"name": "Canal Side"})
    with pytest.raises(ValidationError):
        await edit_area(council, other, {"name": "East Gate"})
    await edit_area(council, area, {"name": "East Gate North", "description": ""})
    assert await AuditEntry.filter(action__startswith="area.").count() == 3


async def test_residents_cannot_manage(db):
    area = await make_area()
    resident = await make_user("res", area=area)
    with pytest.raises(PermissionDenied):
        await create_area(resident, {"name": "X"})
    with pytest.raises(PermissionDenied):
        await accounts.create_account(resident, {"username": "x"})


async def test_area_counts_in_one_grouped_query(db):
    east, west = await make_area("East"), await make_area("West")
    for i in range(3):
        await make_user(f"e{i}", area=east)
    await make_user("w0", area=west)
    await make_user("gw", role=Role.GRID_WORKER, area=west)
    counts = {area.name: n for area, n in await areas_with_counts()}
    assert counts == {"East": 3, "West": 1}


def account_data(**changes):
    data = {
        "username": "Wang.Fang",
        "display_name": "Wang Fang",
        "role": "resident",
        "area": "",
        "verified": "on",
    }
    data.update(changes)
    return data


async def test_create_account_validates_and_lowercases(db):
    council = await staff()
    area = await make_area()
    with pytest.raises(ValidationError) as exc:
        await accounts.create_account(council, account_data(area=""))
    assert set(exc.value.errors) == {"area"}
    user = await accounts.create_account(
        council, account_data(area=str(area.id), password="chosen-by-staff")
    )
    assert user.username == "wang.fang" and user.verified and user.area_id == area.id
    # staff never set a password: the account has none until its owner chooses one
    assert not check_password(user.password_hash, "chosen-by-staff")
    assert not check_password(user.password_hash, "")
    with pytest.raises(ValidationError) as exc:
        await accounts.create_account(council, account_data(area=str(area.id)))
    assert "username" in exc.value.errors
    with pytest.raises(ValidationError) as exc:
        await accounts.create_account(council, account_data(username="bad name!"))
    assert "username" in exc.value.errors
    assert await AuditEntry.filter(action="account.create").count() == 1


async def test_council_grants_only_resident_and_grid_worker(db):
    council = await staff()
    admin = await staff(Role.ADMIN)
    with pytest.raises(ValidationError) as exc:
        await accounts.create_account(council, account_data(role="finance"))
    assert "role" in exc.value.errors
    finance = await accounts.create_account(admin, account_data(username="fin", role="finance"))
    assert finance.role == Role.FINANCE
    # a council member may not edit a finance officer's account at all
    with pytest.raises(PermissionDenied):
        await accounts.edit_account(council, finance, account_data(role="finance"))


async def test_edit_account_deactivates_and_keeps_password(db):
    council = await staff()
    area = await make_area()
    user = await make_user("li", area=area)
    old_hash = user.password_hash
    # a password in the form is ignored: staff never set one (reset codes instead)
    data = account_data(area=str(area.id), password="by-staff-1", verified="", display_name="Li Na")
    await accounts.edit_account(council, user, data)  # is_active absent: deactivated
    await user.refresh_from_db()
    assert not user.is_active and not user.verified and user.display_name == "Li Na"
    assert user.password_hash == old_hash
    admin = await staff(Role.ADMIN)
    with pytest.raises(ValidationError) as exc:
        await accounts.edit_account(admin, admin, account_data(role="council", password=""))
    assert set(exc.value.errors) == {"is_active", "role"}


ROLL = "username,display_name,area\nwang.fang,王芳,East Gate\nli.wei,李伟,Canal Side\n"


async def test_import_roll_creates_verified_residents_with_first_sign_in_codes(db):
    """Each imported resident gets a code (kept only as a hash) with which they choose their
    own password; a roll with passwords in it is refused."""
    from core.models import ResetCode
    from core.services.reset_codes import set_password_with_code

    council = await staff()
    await make_area("East Gate")
    await make_area("Canal Side")
    imported = await import_roll(council, ("\ufeff" + ROLL).encode("utf-8"))
    assert [i.user.username for i in imported] == ["wang.fang", "li.wei"]
    assert len({i.code for i in imported}) == 2
    wang = await User.get(username="wang.fang").select_related("area")
    assert wang.role == Role.RESIDENT and wang.verified and wang.area.name == "East Gate"
    assert wang.display_name == "王芳"
    stored = await ResetCode.get(user_id=wang.id)
    assert imported[0].code not in stored.code_hash
    assert await AuditEntry.filter(action="account.import").count() == 1
    await set_password_with_code(
        {
            "username": "wang.fang",
            "code": imported[0].code,
            "password": "wang-fang-own",
            "password_confirm": "wang-fang-own",
        },
        "127.0.0.1",
    )
    await wang.refresh_from_db()
    assert check_password(wang.password_hash, "wang-fang-own")
    with pytest.raises(RollError) as exc:
        await import_roll(
            council, b"username,display_name,area,password\nx.y,X,East Gate,secret123\n"
        )
    assert exc.value.lines[0][0] == 1 and "password" in exc.value.lines[0][1]


async def test_import_roll_gbk(db):
    council = await staff()
    await make_area("东门")
    raw = "username,display_name,area\nzhang.san,张三,东门\n".encode("gbk")
    imported = await import_roll(council, raw)
    assert imported[0].user.display_name == "张三"


async def test_import_roll_is_all_or_nothing_with_line_numbers(db):
    council = await staff()
    await make_area("East Gate")
    await make_user("taken")
    raw = (
        b"username,display_name,area\n"
        b"good.one,Good,East Gate\n"
        b"taken,Taken,East Gate\n"
        b"\n"
        b"bad name,Bad,East Gate\n"
        b"nowhere,Nowhere,Mars\n"
        b"good.one,Twice,East Gate\n"
        b"toolong,Too Long,East Gate,extra\n"
    )
    with pytest.raises(RollError) as exc:
        await import_roll(council, raw)
    lines = dict(exc.value.lines)
    assert sorted(lines) == [3, 5, 6, 7, 8]
    assert "taken" in lines[3]
    assert "Mars" in lines[6]
    assert "line 2" in lines[7]
    assert await User.filter(username="good.one").count() == 0


async def test_import_roll_needs_header(db):
    council = await staff()
    with pytest.raises(RollError) as exc:
        await import_roll(council, b"name,where\nx,y\n")
    assert exc.value.lines[0][0] == 1


async def test_invitations_and_registration_use_a_code_once(db):
    council = await staff()
    area = await make_area()
    invitations = await create_invitations(
        council, {"area": str(area.id), "households": "Building 3, Room 201\nBuilding 3, Room 202"}
    )
    assert [i.household for i in invitations] == ["Building 3, Room 201", "Building 3, Room 202"]
    code = invitations[0].code
    assert len(code) == 10 and set(code) <= set(accounts.CODE_ALPHABET)
    data = {
        "code": accounts.format_code(code).lower(),
        "username": "resident1",
        "display_name": "Resident One",
        "password": "longenough",
        "password_confirm": "longenough",
    }
    user = await register_with_code(data, "10.0.0.1")
    assert user.verified and user.role == Role.RESIDENT and user.area_id == area.id
    assert (await User.get(id=user.id)).household == "Building 3, Room 201"  # the code's
    inv = await Invitation.get(code=code)
    assert inv.used_by_id == user.id and inv.used_at is not None
    with pytest.raises(ValidationError) as exc:
        await register_with_code({**data, "username": "resident2"}, "10.0.0.1")
    assert "code" in exc.value.errors
    assert await User.filter(role=Role.RESIDENT).count() == 1


async def test_register_validates_every_field(db):
    data = {
        "code": "NOPE",
        "username": "A B",
        "display_name": "",
        "password": "longenough",
        "password_confirm": "different",
    }
    with pytest.raises(ValidationError) as exc:
        await register_with_code(data, "10.0.0.1")
    # without a valid code, only the code is answered
    assert set(exc.value.errors) == {"code"}
    area = await make_area()
    await Invitation.create(code="ABCDEFGH23", area=area)
    with pytest.raises(ValidationError) as exc:
        await register_with_code({**data, "code": "ABCDE-FGH23"}, "10.0.0.1")
    assert set(exc.value.errors) == {"username", "display_name", "password_confirm"}


async def test_create_invitations_validates(db):
    council = await staff()
    with pytest.raises(ValidationError) as exc:
        await create_invitations(council, {"area": "", "count": "0"})
    assert set(exc.value.errors) == {"area", "count"}


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="concurrent transactions need PostgreSQL")
async def test_concurrent_registrations_with_one_code_make_one_account(db):
    council = await staff()
    area = await make_area()
    [invitation] = await create_invitations(council, {"area": str(area.id), "count": "1"})

    async def attempt(i: int):
        return await register_with_code(
            {
                "code": invitation.code,
                "username": f"racer{i}",
                "display_name": f"Racer {i}",
                "password": "longenough",
                "password_confirm": "longenough",
            },
            "10.0.0.1",
        )

    results = await asyncio.gather(*(attempt(i) for i in range(8)), return_exceptions=True)
    winners = [r for r in results if isinstance(r, User)]
    assert len(winners) == 1
    assert all(isinstance(r, ValidationError) for r in results if not isinstance(r, User))
    assert await User.filter(username__startswith="racer").count() == 1
