"""In a real browser, with JavaScript on and off: anyone reads the needs dashboard, picks an
area and a channel with the filter form, and downloads the CSV; then the page on a 360-px
phone, its charts scaled to the screen and its tables scrolling inside their boxes."""

from __future__ import annotations

from consult.models import NeedChannel
from tests.consult.need_dashboard_setup import add_need
from tests.helpers import make_area


async def test_anyone_reads_filters_and_downloads_the_figures(page, tmp_path):
    east, west = await make_area("东门社区"), await make_area("西河社区")
    await add_need(east, hours=5, resolved=True, rating=5)
    await add_need(east, NeedChannel.PHONE, hours=30, resolved=True, rating=4)
    await add_need(west, NeedChannel.TALK_BOX, hours=60, rating=2)

    await page.goto("/needs")
    await page.wait_for_selector("text=受理诉求3件")
    assert await page.locator("figure.chart svg[role=img]").count() == 4
    assert await page.locator("#table-months tbody tr").count() == 12

    await page.select_option("#f-area", str(east.id))
    await page.select_option("#f-channel", "phone")
    await page.click("form.filters button[type=submit]")
    await page.wait_for_selector("text=受理诉求1件")
    assert f"area={east.id}" in page.url and "channel=phone" in page.url

    async with page.expect_download() as download:
        await page.click("a[download]")
    path = tmp_path / "needs.csv"
    await (await download.value).save_as(path)
    lines = path.read_bytes().decode("utf-8-sig").splitlines()
    assert lines[0].startswith("month,area,channel,received")
    assert len(lines) == 2 and ",东门社区,phone,1,1,1,1,1,1.3" in lines[1]

    await page.set_viewport_size({"width": 360, "height": 740})
    for url in ("/needs", f"/needs?area={west.id}"):
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (url, width)
        box = await page.locator("figure.chart svg").first.bounding_box()
        assert 250 < box["width"] <= 340
    await page.screenshot(path=str(tmp_path / "needs-360.png"), full_page=True)
