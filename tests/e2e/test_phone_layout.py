"""Every page a resident, a voter and a grid worker meet, read on a 360 × 740 phone in Chinese
on the demo district: nothing wider than the screen (`scrollWidth <= innerWidth`), with
JavaScript on and off, and no serious or critical axe-core violation; the home page and the
proposal list also at 200 % zoom, taken as a 180 × 370 CSS-pixel viewport with a device
scale factor of 2 (what a 360-px screen shows at 200 %). Also the spending page, the finance
officer's home and the account import (where a table and an example file scroll in their own
focusable boxes).

axe-core comes from npm (tests/e2e/package.json, installed by `make install-test` with
`npm ci --prefix tests/e2e`); without it the axe checks skip and say so. Its script is
injected by Playwright into a context that bypasses the page's Content-Security-Policy (the
app's strict CSP forbids inline scripts; the layout checks run under it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from budget.demo import load_demo_data
from budget.models import Ballot, Phase, Proposal, ProposalStatus, Round
from core.models import Role, User
from tests.helpers import PASSWORD

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}
ZOOMED = {"width": 180, "height": 370}  # 360 × 740 at 200 %, device_scale_factor=2
LONG_WORD = "https://example.org/" + "很长的链接" * 3 + "averyveryverylongunbrokenword" * 3


@pytest.fixture
async def demo(db, upload_dir):
    """The demo district, with one proposal's title a long unbroken address."""
    await load_demo_data(PASSWORD, upload_dir)
    voting = await Round.get(phase=Phase.VOTING)
    finished = await Round.get(results_published_at__not_isnull=True)
    proposal = await Proposal.filter(round_id=voting.id).order_by("id").first()
    await Proposal.filter(id=proposal.id).update(title=LONG_WORD)
    grid = await User.get(username="grid-east")
    voted = await Ballot.filter(round_id=voting.id).values_list("voter_id", flat=True)
    resident = (
        await User.filter(role=Role.RESIDENT, area_id=grid.area_id, id__not_in=list(voted))
        .order_by("id")
        .first()
    )
    funded = await Proposal.filter(round_id=finished.id, status=ProposalStatus.FUNDED).first()
    v, f = voting.id, finished.id
    return {
        None: [
            "/",
            "/budget/proposals",
            f"/budget/proposals/{proposal.id}",
            f"/budget/proposals/{funded.id}",
            f"/budget/rounds/{v}",
            f"/budget/rounds/{f}/results",
            f"/budget/rounds/{f}/results/compare",
            f"/budget/rounds/{f}/spending",
            "/budget/receipt",
        ],
        "resident": [f"/budget/rounds/{v}/ballot"],
        "voter": [f"/budget/rounds/{v}/ballot/receipt", f"/budget/rounds/{v}/ballot"],
        "grid-east": ["/budget/paper", f"/budget/rounds/{v}/paper/{resident.id}"],
        "finance": ["/"],
        "admin": [
            "/accounts/import",
            "/audit",
            "/invitations",
            "/accounts",
            "/budget/studies/import",
        ],
    }


async def _sign_in(page, username: str | None) -> None:
    await page.context.clear_cookies()
    if username is None:
        return
    await page.goto("/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_url(lambda url: "/login" not in url)


async def _width(page) -> tuple[int, int]:
    return await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


async def _too_wide(page) -> list[str]:
    """The elements sticking out on the right, for the failure message."""
    return await page.evaluate(
        """() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 0.5
                     && !e.closest('.table-wrap, pre[tabindex]'))
        .slice(0, 8)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
             + (e.className && typeof e.className === 'string' ? '.' + e.className : '')
             + ' ' + Math.round(e.getBoundingClientRect().right))"""
    )


async def _walk(page, urls: dict, check) -> list:
    problems = []
    for user, paths in urls.items():
        await _sign_in(page, user)
        for path in paths:
            response = await page.goto(path)
            assert response.status == 200, (user, path, response.status)
            assert await page.evaluate("document.documentElement.lang") == "zh-CN", path
            problems += await check(page, f"{user or 'visitor'} {path}")
    return problems


async def _fits(page, where: str) -> list:
    scroll, inner = await _width(page)
    return [] if scroll <= inner else [(where, scroll, inner, await _too_wide(page))]


async def test_every_page_fits_a_phone(page, demo):
    await page.set_viewport_size(PHONE)
    problems = await _walk(page, demo, _fits)
    assert not problems, problems


async def _axe(page, where: str) -> list:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => [v.id, v.impact, v.nodes.slice(0, 3).map(n => n.target.join(' '))]))"
    )
    return [(where, *v) for v in result]


@pytest.fixture
async def axe_page(browser, server, db):
    if not AXE.exists():
        pytest.skip("axe-core is not installed: npm ci --prefix tests/e2e (make install-test)")
    context = await browser.new_context(base_url=server, locale="zh-CN", bypass_csp=True)
    context.set_default_timeout(20_000)
    page = await context.new_page()
    yield page
    await context.close()


async def test_every_page_passes_axe_on_a_phone(axe_page, demo):
    await axe_page.set_viewport_size(PHONE)
    # the check itself finds what it should: a table scrolling sideways with no keyboard access
    await axe_page.set_content(
        '<html lang="zh-CN"><title>t</title><main><div style="overflow-x:auto;width:100px">'
        '<table><tr><td style="white-space:nowrap">' + "宽" * 80 + "</td></tr></table></div>"
        '<img src="/static/favicon.svg"></main></html>'
    )
    found = {v[1] for v in await _axe(axe_page, "sample")}
    assert {"image-alt", "scrollable-region-focusable"} <= found, found
    problems = await _walk(axe_page, demo, _axe)
    assert not problems, problems


async def test_home_and_proposals_at_200_percent_zoom(browser, server, demo):
    context = await browser.new_context(
        base_url=server,
        locale="zh-CN",
        viewport=ZOOMED,
        device_scale_factor=2,
        bypass_csp=True,
    )
    page = await context.new_page()
    try:
        urls = {None: ["/", "/budget/proposals"], "resident": ["/budget/proposals"]}
        assert not await _walk(page, urls, _fits)
        if AXE.exists():
            assert not await _walk(page, urls, _axe)
    finally:
        await context.close()


async def test_phone_filters_fold_and_share_box(page, demo):
    """On a phone the proposal list opens on proposals, its filters behind one "筛选" control
    (open once a filter is chosen); a proposal's page offers its link and a QR code."""
    await page.set_viewport_size(PHONE)
    await page.goto("/budget/proposals")
    assert not await page.is_visible("#f-category")
    assert await page.is_visible(".proposal-card")
    await page.click("summary:has-text('筛选')")
    assert await page.is_visible("#f-category")
    await page.goto("/budget/proposals?category=equipment")
    assert await page.is_visible("#f-category")

    path = demo[None][2]
    await page.goto(path)
    link = await page.input_value("#share-url")
    assert link.endswith(path)
    await page.click("summary:has-text('二维码')")
    qr = await page.get_attribute("img.qr", "src")
    answer = await page.request.get(qr)
    assert answer.headers["content-type"].startswith("image/svg+xml")
    assert b"<path" in await answer.body()
    assert await page.evaluate("document.querySelector('img.qr').naturalWidth") > 0
    if page.js_enabled:
        assert await page.is_visible("button.copy-link")
    else:
        assert not await page.is_visible("button.copy-link")
