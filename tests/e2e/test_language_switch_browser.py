"""Switching the language in the middle of the proposal form (a multipart form, with a photo
chosen) keeps what was typed, with JavaScript on (keep-forms.js, sessionStorage) and off (the
switch is a button that sends the form to POST /language)."""

from __future__ import annotations

from budget.models import Phase
from tests.helpers import PASSWORD, make_area, make_round, make_user, tiny_png

DESCRIPTION = "在3号楼旁建一个有顶棚的垃圾分类亭。"


async def _switch(page, name: str) -> None:
    async with page.expect_navigation():
        await page.click(f"header [data-keep-forms]:text-is('{name}')")
    await page.wait_for_load_state()


async def test_the_language_switch_keeps_the_proposal_being_typed(page, db):
    east = await make_area("东门社区")
    await make_user("wangfang", area=east, display_name="王芳")
    rnd = await make_round("2027 微实事", phase=Phase.PROPOSING, envelopes={east: 60_000_00})
    await page.goto("/login")
    await page.fill("#username", "wangfang")
    await page.fill("#password", PASSWORD)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()

    await page.goto(f"/budget/rounds/{rnd.id}/propose")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await page.fill("input[name=title]", "垃圾分类亭")
    await page.fill("textarea[name=description]", DESCRIPTION)
    await page.fill("input[name=cost]", "35000")
    await page.set_input_files(
        "#photos", files=[{"name": "kiosk.png", "mimeType": "image/png", "buffer": tiny_png()}]
    )

    await _switch(page, "English")
    assert await page.get_attribute("html", "lang") == "en"
    assert "Propose a project" in await page.inner_text("main h1")
    assert await page.input_value("input[name=title]") == "垃圾分类亭"
    assert await page.input_value("textarea[name=description]") == DESCRIPTION
    assert await page.input_value("input[name=cost]") == "35000"

    await page.fill("input[name=title]", "垃圾分类亭（有顶棚）")
    await _switch(page, "中文")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    assert await page.input_value("input[name=title]") == "垃圾分类亭（有顶棚）"
    assert await page.input_value("textarea[name=description]") == DESCRIPTION
