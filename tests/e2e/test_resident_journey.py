"""The main resident journey in a real browser, with JavaScript on and off: sign in, propose a
micro-project, then in a voting round cast a budget-limited ballot (over budget first, then
within it) and see the receipt, which the public receipt check confirms."""

from __future__ import annotations

import re

from budget.models import Ballot, BallotType, Phase, Proposal, ProposalStatus
from tests.helpers import PASSWORD, make_area, make_proposal, make_round, make_user


async def _seed():
    east = await make_area("东门社区")
    resident = await make_user("wangfang", area=east, display_name="王芳")
    proposing = await make_round(
        "2027 微实事", phase=Phase.PROPOSING, envelopes={east: 60_000_00, None: 40_000_00}
    )
    voting = await make_round(
        "2026 微实事",
        phase=Phase.VOTING,
        ballot_type=BallotType.BUDGET_APPROVAL,
        envelopes={east: 100_000_00, None: 50_000_00},
    )
    lights = await make_proposal(
        voting,
        None,
        title="小区路灯改造",
        cost_fen=60_000_00,
        area=east,
        status=ProposalStatus.FEASIBLE,
    )
    lift = await make_proposal(
        voting,
        None,
        title="加装电梯扶手",
        cost_fen=50_000_00,
        area=east,
        status=ProposalStatus.FEASIBLE,
    )
    canteen = await make_proposal(
        voting,
        None,
        title="老年食堂设备",
        cost_fen=30_000_00,
        area=east,
        status=ProposalStatus.FEASIBLE,
    )
    return resident, proposing, voting, (lights, lift, canteen)


async def test_resident_proposes_votes_and_checks_the_receipt(page, db):
    resident, proposing, voting, (lights, lift, canteen) = await _seed()

    # Sign in (the page is in Chinese: the browser asks for zh-CN).
    await page.goto("/login")
    await page.fill("#username", "wangfang")
    await page.fill("#password", PASSWORD)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    assert "王芳" in await page.inner_text("header")

    # Propose: a bad cost first, which comes back with the typed title kept.
    await page.goto(f"/budget/rounds/{proposing.id}/propose")
    await page.fill("input[name=title]", "垃圾分类亭")
    await page.fill("textarea[name=description]", "在3号楼旁建一个有顶棚的垃圾分类亭。")
    await page.select_option("select[name=category]", "engineering")
    await page.fill("input[name=cost]", "abc")
    await page.fill("input[name=beneficiaries]", "400")
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    assert await page.input_value("input[name=title]") == "垃圾分类亭"
    assert await page.locator(".error").count() >= 1
    await page.fill("input[name=cost]", "35000")
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    proposal = await Proposal.get(title="垃圾分类亭")
    assert proposal.cost_fen == 35_000_00 and proposal.author_id == resident.id
    assert "垃圾分类亭" in await page.inner_text("main")

    # Vote: 60,000 + 50,000 does not fit the area's 100,000 envelope.
    await page.goto(f"/budget/rounds/{voting.id}/ballot")
    await page.check(f"#project-{lights.id}")
    await page.check(f"#project-{lift.id}")
    if page.js_enabled:
        # the running total updates as they choose (htmx), before anything is submitted
        summary = page.locator("#ballot-summary")
        await summary.filter(has_text=re.compile("110,000")).wait_for()
    await page.click("main form button[type=submit]:not([name=preview])")
    await page.wait_for_load_state()
    assert await Ballot.filter(round_id=voting.id).count() == 0
    assert await page.is_checked(f"#project-{lights.id}")  # the choices are kept

    # Within the budget: 60,000 + 30,000.
    await page.uncheck(f"#project-{lift.id}")
    await page.check(f"#project-{canteen.id}")
    await page.click("main form button[type=submit]:not([name=preview])")
    await page.wait_for_url(re.compile(r"/receipt"))
    code = (await page.inner_text("#receipt-code")).strip()
    ballot = await Ballot.get(round_id=voting.id, voter_id=resident.id).prefetch_related("choices")
    assert {c.proposal_id for c in ballot.choices} == {lights.id, canteen.id}
    assert code.replace("-", "").replace(" ", "") == ballot.receipt

    # Anyone can check the receipt.
    await page.goto("/budget/receipt")
    await page.fill("input[name=code]", code)
    await page.click("main form button[type=submit]")
    await page.wait_for_load_state()
    assert "2026 微实事" in await page.inner_text("main")
