"""The "forgot my password" path in a real browser (Chinese, JavaScript on and off): the grid
worker makes a one-time reset code for a resident of their area; the resident follows the link
on the sign-in page, sets a new password with it and is signed in; then signs out everywhere."""

from __future__ import annotations

import re

from core.models import Role
from tests.helpers import PASSWORD, make_area, make_user


async def _sign_in(page, username: str, password: str = PASSWORD) -> None:
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()


async def _sign_out(page) -> None:
    await page.click("header form button[type=submit]")
    await page.wait_for_load_state()


async def test_a_resident_sets_a_new_password_with_a_code_from_the_grid_worker(page, db):
    east = await make_area("东门社区")
    await make_user("zhaogrid", role=Role.GRID_WORKER, area=east, display_name="赵网格")
    await make_user("wangfang", area=east, display_name="王芳")

    await _sign_in(page, "zhaogrid")
    await page.click("header >> text=密码重置码")
    await page.wait_for_load_state()
    await page.click("main >> text=生成重置码")
    await page.wait_for_load_state()
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    code = (await page.inner_text("code.secret")).strip()
    assert re.fullmatch(r"[A-Z0-9]{5}-[A-Z0-9]{5}", code)
    await _sign_out(page)

    # The resident forgot the password: the sign-in page says whom to ask and where to go.
    await page.goto("/login")
    assert "请向您的网格员或社区议事会索取重置码" in await page.inner_text("main")
    await page.click("main >> text=用重置码设置新密码")
    await page.wait_for_load_state()
    await page.fill("#username", "wangfang")
    await page.fill("#code", code.lower())
    await page.fill("#password", "wo-de-xin-mima")
    await page.fill("#password_confirm", "wo-de-xin-mima")
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    assert "王芳" in await page.inner_text("header")

    await _sign_out(page)
    assert "您已退出登录，本设备和其他所有设备都已退出。" in await page.inner_text("main")
    await _sign_in(page, "wangfang", PASSWORD)
    assert "王芳" not in await page.inner_text("header")
    await _sign_in(page, "wangfang", "wo-de-xin-mima")
    assert "王芳" in await page.inner_text("header")
