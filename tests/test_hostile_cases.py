"""Hostile input never gives a 5xx: ids beyond the integer columns, money in odd notations,
control characters (NUL) in text and query parameters, over-long CSV rolls."""

from __future__ import annotations

import pytest

from budget.models import Round
from core.forms import int_param, parse_int, parse_yuan
from core.models import Area, Role, User
from core.web.security import clean_query_string
from tests.budget.test_rounds_routes import round_form
from tests.helpers import login, make_area, make_round, make_user, page_text, post_form

HUGE = "99999999999999999999"


@pytest.mark.parametrize(
    "path",
    [
        f"/budget/rounds/{HUGE}",
        "/budget/rounds/2147483648",
        "/budget/proposals/9223372036854775808",
        f"/areas/{HUGE}/edit",
        f"/consult/deliberations/{HUGE}",
    ],
)
async def test_ids_beyond_the_integer_columns_are_not_found(client, db, path):
    await make_user("admin", role=Role.ADMIN)
    await login(client, "admin")
    response = await client.get(path)
    assert response.status_code == 404, response.text[:300]


@pytest.mark.parametrize(
    "query", [f"?round={HUGE}", f"?page={HUGE}", f"?page=-{HUGE}", "?page=1e9", "?area=" + HUGE]
)
async def test_int_query_parameters_beyond_range_are_ignored(client, db, query):
    await make_round()
    for path in ("/budget/rounds", "/budget/proposals", "/consult/meetings", "/needs/answers"):
        response = await client.get(path + query)
        assert response.status_code < 500, (path, response.text[:300])


@pytest.mark.parametrize("fund", ["1e30", "1E+50", "1e999999", "NaN", "Infinity", "-Infinity"])
async def test_money_in_exponent_or_nan_is_refused_with_the_value_kept(client, db, fund):
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    response = await post_form(client, "/budget/rounds/new", round_form(fund=fund))
    assert response.status_code == 422, response.text[:300]
    assert 'id="fund-error"' in response.text
    assert f'value="{fund}"' in response.text
    assert await Round.all().count() == 0


@pytest.mark.parametrize("value", ["a\x00b", "\x00", "x\x01\x1f\x7fy"])
async def test_nul_and_control_characters_in_forms_never_reach_the_database(client, db, value):
    await make_user("admin", role=Role.ADMIN)
    await login(client, "admin")
    response = await post_form(client, "/areas/new", {"name": "East" + value})
    assert response.status_code in (303, 422), response.text[:300]
    names = await Area.all().values_list("name", flat=True)
    assert all("\x00" not in n and "\x01" not in n for n in names)
    client.cookies.clear()
    response = await post_form(client, "/login", {"username": "ad" + value, "password": "x"})
    assert response.status_code < 500, response.text[:300]


@pytest.mark.parametrize(
    "path",
    [
        "/budget/proposals?q=a%00b",
        "/needs/answers?q=%00",
        "/accounts?q=a%00",
        "/budget/rounds?page=%00",
        "/login?next=%00",
    ],
)
async def test_nul_in_query_parameters_is_not_a_server_error(client, db, path):
    await make_user("admin", role=Role.ADMIN)
    await login(client, "admin")
    response = await client.get(path)
    assert response.status_code < 500, response.text[:300]


async def test_a_roll_with_an_over_long_username_is_refused_per_row(client, db):
    await make_area("East Gate")
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    roll = (
        "username,display_name,area\nok.one,OK,East Gate\n"
        + "x" * 65
        + ",Long,East Gate\nok.two,"
        + "n" * 101
        + ",East Gate\n"
        + "ok.three,Three,"
        + "A" * 200
        + "\n"
    ).encode()
    response = await post_form(
        client, "/accounts/import", files={"file": ("roll.csv", roll, "text/csv")}
    )
    assert response.status_code == 422, response.text[:300]
    text = page_text(response.text)
    assert "Line 3" in text and "Line 4" in text and "Line 5" in text
    assert await User.all().count() == 1


def test_every_int_path_parameter_is_bounded(app):
    """Every `{x:int}` of every package uses the bounded convertor (registered by core.web
    before the packages build their routes)."""
    from starlette.convertors import IntegerConvertor
    from starlette.routing import Mount, Route

    from core.web.urls import BoundedIntegerConvertor

    def walk(routes):
        for route in routes:
            if isinstance(route, Mount) and route.routes:
                yield from walk(route.routes)
            elif isinstance(route, Route):
                yield route

    ints = [
        (route.path, c)
        for route in walk(app.routes)
        for c in route.param_convertors.values()
        if isinstance(c, IntegerConvertor)
    ]
    assert len(ints) > 50
    assert all(isinstance(c, BoundedIntegerConvertor) for _path, c in ints)


@pytest.mark.parametrize(
    ("typed", "fen"),
    [
        ("12000", 1_200_000),
        ("12,000.50", 1_200_050),
        ("1,234,567", 123_456_700),
        ("12，000", 1_200_000),
        ("¥12000", 1_200_000),
        ("￥ 12000.5", 1_200_050),
        ("12000元", 1_200_000),
        (" 0.01 ", 1),
    ],
)
def test_a_money_field_accepts_yuan_in_the_documented_forms(typed, fen):
    errors: dict[str, str] = {}
    assert parse_yuan(typed, "cost", errors) == fen and not errors


@pytest.mark.parametrize(
    "typed",
    ["1e30", "1E+50", "1e999999", "NaN", "Infinity", "１２", "1_000", "100,00", "1,0000",
     "1 000", "12.", ".5", "0x10", "12.345", "-5", "1" * 5000],
)  # fmt: skip
def test_a_money_field_refuses_everything_else_with_a_message(typed):
    errors: dict[str, str] = {}
    assert parse_yuan(typed, "cost", errors) is None
    assert errors["cost"]


def test_whole_numbers_stay_within_an_integer_column():
    errors: dict[str, str] = {}
    assert parse_int("99999999999999999999", "n", errors) is None and "n" in errors
    assert parse_int("１２", "n", {}) is None
    assert parse_int("2147483647", "n", {}) == 2**31 - 1
    assert int_param("2147483648") is None and int_param("-12") == -12


def test_control_characters_leave_the_query_string_and_nothing_else_changes():
    assert clean_query_string(b"q=abc&page=2") == b"q=abc&page=2"
    assert clean_query_string(b"q=a%00b&page=2") == b"q=ab&page=2"
    assert clean_query_string(b"q=%e4%b8%ad%0a%C2%85&%01k=v") == b"q=%E4%B8%AD&k=v"


async def test_a_roll_with_control_characters_is_not_a_server_error(client, db):
    await make_area("East Gate")
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    roll = b"username,display_name,area\nok.one,O\x00K\x01,East Gate\nok\x00two,Two,East Gate\x00\n"
    response = await post_form(
        client, "/accounts/import", files={"file": ("roll.csv", roll, "text/csv")}
    )
    assert response.status_code == 200, page_text(response.text)[-600:]
    assert await User.filter(display_name="OK").exists()
    assert await User.filter(username="oktwo").exists()
    roll = b"username,display_name,area\nok.three,\x00,East Gate\n"
    response = await post_form(
        client, "/accounts/import", files={"file": ("roll.csv", roll, "text/csv")}
    )
    assert response.status_code in (200, 422), response.text[:300]
    names = await User.all().values_list("display_name", flat=True)
    assert all("\x00" not in n and "\x01" not in n for n in names)


@pytest.mark.parametrize(
    "field, header", [("中文令牌", None), (None, "\u00e9t\u00e9".encode("utf-8"))]
)
async def test_a_csrf_token_with_non_ascii_characters_is_refused_not_a_500(
    client, db, field, header
):
    """hmac.compare_digest raises on str with non-ASCII characters: a token typed into the
    form or sent in the htmx header that is not ASCII is a 403 like any wrong token."""
    await make_user("wang", area=await make_area())
    await login(client, "wang")
    headers = {"X-CSRF-Token": header} if header else {}
    data = {"csrf_token": field} if field else {}
    response = await client.post("/account/password", data=data, headers=headers)
    assert response.status_code == 403
    assert "Your form has expired" in page_text(response.text)
