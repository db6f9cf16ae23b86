"""Sign-in, sign-out, CSRF, security headers and the language switch, through the app."""

from __future__ import annotations

import re

from core.models import AuditEntry, Role
from tests.helpers import csrf_token, login, make_area, make_user, page_text, post_form


async def test_login_page_has_strict_csp_and_label(client):
    response = await client.get("/login")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<label for="username">' in response.text
    assert "<script>" not in response.text and "style=" not in response.text


async def test_login_logout(client, db):
    area = await make_area()
    await make_user("wang", area=area, display_name="Wang Fang")
    await login(client, "wang")
    page = await client.get("/login")
    assert "Wang Fang" in page_text(page.text)
    assert await AuditEntry.filter(action="login").count() == 1
    response = await post_form(client, "/logout")
    assert response.status_code == 303
    page = await client.get("/login")
    assert "Wang Fang" not in page_text(page.text)


async def test_wrong_password_keeps_username_and_is_rate_limited(client, db):
    await make_user("li", role=Role.COUNCIL)
    for _ in range(5):
        response = await post_form(client, "/login", {"username": "li", "password": "nope"})
        assert response.status_code == 422
        assert 'value="li"' in response.text
    # even the right password waits, from this address
    response = await post_form(client, "/login", {"username": "li", "password": "password123"})
    assert response.status_code == 429
    assert 'value="li"' in response.text
    text = page_text(response.text)
    # 30 seconds from the fifth failure: a second or two less if the machine is slow
    wait = re.search(r"Too many failed attempts\. Please wait (\d+) seconds and try again\.", text)
    assert wait is not None, text
    assert 25 <= int(wait.group(1)) <= 30


async def test_post_without_csrf_token_is_refused(client, db):
    await client.get("/login")
    response = await client.post("/login", data={"username": "x", "password": "y"})
    assert response.status_code == 403


async def test_cross_site_post_is_refused(client, db):
    token = await csrf_token(client)
    response = await client.post(
        "/login",
        data={"username": "x", "password": "y", "csrf_token": token},
        headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403


async def test_language_follows_accept_language_then_switch_is_remembered(client, db):
    zh = await client.get("/login", headers={"Accept-Language": "fr"})
    assert 'lang="zh-CN"' in zh.text  # fallback: Simplified Chinese
    assert "用户名" in page_text(zh.text) and "Username" not in page_text(zh.text)
    en = await client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert 'lang="en"' in en.text and "Username" in page_text(en.text)
    switched = await client.get("/language?to=zh_CN&next=/login")
    assert switched.status_code == 303
    again = await client.get("/login", headers={"Accept-Language": "en"})
    assert 'lang="zh-CN"' in again.text


async def test_language_from_query_then_cookie_then_header(client, db):
    """The selectors in order, with the query string and the Cookie header parsed only when
    they may hold the language (and still when it is percent-encoded)."""
    client.cookies.set("lang", "zh_CN")
    by_query = await client.get("/login?lang=en", headers={"Accept-Language": "zh-CN"})
    assert 'lang="en"' in by_query.text and by_query.headers["content-language"] == "en"
    encoded = await client.get("/login?%6Cang=en")
    assert 'lang="en"' in encoded.text
    by_cookie = await client.get("/login?page=2", headers={"Accept-Language": "en"})
    assert 'lang="zh-CN"' in by_cookie.text and by_cookie.headers["content-language"] == "zh"
    client.cookies.clear()
    by_header = await client.get("/login", headers={"Accept-Language": "en"})
    assert 'lang="en"' in by_header.text and by_header.headers["content-language"] == "en"


async def test_open_redirect_refused(client, db):
    response = await client.get("/language?to=en&next=https://evil.example/")
    assert response.headers["location"] == "http://testserver/"


def test_money_is_yuan_in_the_locale_format():
    from core.i18n import format_money

    assert format_money(1_200_000_00, "zh_CN") == "¥1,200,000"
    assert format_money(1_200_050, "en") == "¥12,000.50"
    assert format_money(-5, "en") == "-¥0.05"
