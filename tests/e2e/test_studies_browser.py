"""In a real browser, with JavaScript on and off: a council member imports a .pb file, finds it
under Imported elections (private), publishes it; signed out, it is in the public list and
never on the home page or among the district's proposals."""

from __future__ import annotations

import contextlib

from playwright.async_api import Error as PlaywrightError

from budget.models import Round
from core.models import Role
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.helpers import PASSWORD, make_round, make_user


async def test_import_publish_and_read_an_imported_election(page, tmp_path):
    await make_user("chair", role=Role.COUNCIL)
    await make_round("2026 micro-projects")
    path = tmp_path / "tiny.pb"
    path.write_text(SMALL_FILE, encoding="utf-8")

    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", "chair")
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.click("nav >> text=Imported elections")
    await page.click("text=Import an election (.pb)")
    await page.set_input_files("#file", str(path))
    await page.click("form[action$='/studies/import'] button[type=submit]")
    # the import's page: htmx follows the job to the study; without JavaScript, Refresh does
    for _attempt in range(60):
        if await page.locator("h1", has_text="Tiny test 2025").count():
            break
        await page.wait_for_timeout(500)
        refresh = page.locator("#import-progress a", has_text="Refresh")
        if await refresh.count():
            with contextlib.suppress(PlaywrightError):  # htmx may have moved on meanwhile
                await refresh.first.click(timeout=2000)
    await page.wait_for_selector("h1 >> text=Tiny test 2025")
    body = await page.inner_text("main")
    assert "Private: only council members can see this imported election." in body
    assert "Voters (the file's count)" in body
    await page.screenshot(path=str(tmp_path / "study.png"), full_page=True)

    await page.click("text=Publish this imported election")
    await page.check("#confirm")
    await page.click("form[action$='/visibility'] button[type=submit]")
    await page.wait_for_selector(".flash >> text=is public now")
    study = await Round.get(is_study=True)
    assert study.study_public

    await page.click("button:has-text('Sign out')")
    await page.goto("/budget/")
    home = await page.inner_text("main")
    assert "2026 micro-projects" in home and "Tiny test 2025" not in home
    await page.click("main >> text=Imported elections")
    await page.click("text=Tiny test 2025")
    body = await page.inner_text("main")
    assert "Big park" in body and "Publish this imported election" not in body
    await page.goto("/budget/proposals")
    assert "Big park" not in await page.inner_text("main")
