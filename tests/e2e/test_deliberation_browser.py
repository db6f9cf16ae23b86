"""In a real browser, with JavaScript on and off: a resident votes on statements one at a
time and sees common ground; a council member approves a statement and publishes a decision
linked to a proposal, whose page then shows the link back. Then the pages on a 360-px phone."""

from __future__ import annotations

from budget.models import Phase, ProposalStatus
from consult.models import DeliberationPhase, Statement, StatementStatus, StatementVote
from consult.services import votes
from core.models import Role
from tests.consult.deliberation_setup import make_deliberation, make_statement
from tests.helpers import PASSWORD, make_area, make_proposal, make_round, make_user


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def _sign_out(page) -> None:
    await page.click("button:has-text('Sign out')")
    await page.wait_for_selector("text=Sign in")


async def _world():
    east = await make_area("东门社区")
    west = await make_area("西河社区")
    await make_user("council", role=Role.COUNCIL, display_name="陈建国")
    alice = await make_user("alice", area=east, display_name="张伟")
    bob = await make_user("bob", area=west, display_name="周丽")
    waste = await make_deliberation("生活垃圾分类怎么做", DeliberationPhase.DISCUSSING)
    bodies = ["楼下的垃圾桶不能撤", "希望有志愿者在投放点做分类指导", "定时定点投放更干净"]
    made = [await make_statement(waste, bob, body) for body in bodies]
    # four neighbours of the resident have agreed with each statement already: common ground
    # lists a statement from five votes
    for i in range(4):
        neighbour = await make_user(f"east{i}", area=east)
        for statement in made:
            await votes.vote_statement(neighbour, statement.id, "agree")
    pending = await make_statement(waste, bob, "垃圾桶需要加盖", StatementStatus.PENDING)
    rnd = await make_round("2026年度社区微实事项目", phase=Phase.VOTING)
    proposal = await make_proposal(rnd, bob, "停车位划线与标识", status=ProposalStatus.FEASIBLE)
    parking = await make_deliberation(
        "北山小区地面停车秩序", DeliberationPhase.DECIDING, areas=(west,)
    )
    return alice, waste, bodies, pending, proposal, parking


async def test_votes_one_at_a_time_then_a_decision_linked_to_a_proposal(page, tmp_path):
    alice, waste, bodies, pending, proposal, parking = await _world()
    round_url = f"/consult/deliberations/{waste.id}"

    # the resident votes on the three statements, one at a time
    await _sign_in(page, "alice")
    await page.goto(round_url)
    for n, choice in enumerate(["Agree", "Agree", "Disagree"]):
        await page.wait_for_selector(f"text=You have voted on {n} of 3 statements")
        shown = await page.inner_text("#vote-card blockquote")
        assert shown in bodies
        await page.click(f"#vote-card button:has-text('{choice}')")
        await page.wait_for_selector(f"text=Saved: {choice}.")
        # with JavaScript the card changed in place; without, the vote led to the next page
        assert page.url.endswith(round_url if page.js_enabled else f"{round_url}/vote")
    await page.wait_for_selector("text=You have voted on all 3 statements so far.")
    assert await StatementVote.filter(voter_id=alice.id).count() == 3

    # common ground, per area
    await page.goto(round_url)
    analysis = await page.inner_text("#analysis")
    assert "5 residents have voted so far." in analysis
    guidance = await StatementVote.get(voter_id=alice.id, statement__body=bodies[1])
    agreed = 4 + (guidance.choice == "agree")
    assert "希望有志愿者在投放点做分类指导" in analysis
    assert f"东门社区: {agreed} of 5 agree" in analysis

    # and the votes can be changed from the list of one's votes
    await page.click("text=See and change my votes")
    await page.wait_for_selector("h1:has-text('My votes')")
    await _sign_out(page)

    # a council member approves the pending statement
    await _sign_in(page, "council")
    await page.goto(round_url)
    await page.click("text=Statements to approve (1)")
    await page.wait_for_selector("text=垃圾桶需要加盖")
    await page.click(f"#statement-{pending.id} button:has-text('Approve')")
    await page.wait_for_selector(
        "text=Shown to residents for their votes."
        if page.js_enabled
        else "text=The statement is approved and shown to residents."
    )
    assert (await Statement.get(id=pending.id)).status == StatementStatus.APPROVED

    # and publishes the parking round's decision, linked to the proposal by its number
    await page.goto(f"/consult/deliberations/{parking.id}")
    await page.click("text=Publish the decision")
    await page.fill("#summary", "居民普遍赞成重新划线，对外来车辆收费意见不一。")
    await page.fill("#decision", "将停车位划线项目推荐纳入2026年度微实事项目。")
    await page.fill("#proposals", "999999")
    page.on("dialog", lambda dialog: dialog.accept())
    await page.click("form button:has-text('Publish the decision')")
    await page.wait_for_selector("text=There is no proposal numbered 999999.")
    assert await page.input_value("#decision") == "将停车位划线项目推荐纳入2026年度微实事项目。"
    await page.fill("#proposals", str(proposal.id))
    await page.click("form button:has-text('Publish the decision')")
    await page.wait_for_selector("#decision-h")
    assert "Proposal: 停车位划线与标识" in await page.inner_text("#decision")
    await _sign_out(page)

    # the proposal's page shows the link back, to anyone
    await page.goto(f"/budget/proposals/{proposal.id}")
    panel = await page.inner_text(".deliberation-panel")
    assert "北山小区地面停车秩序" in panel and "将停车位划线项目推荐" in panel
    await page.click(".deliberation-panel a")
    await page.wait_for_selector("h1:has-text('北山小区地面停车秩序')")

    # on a phone: nothing wider than the screen
    await page.set_viewport_size({"width": 360, "height": 740})
    await _sign_in(page, "alice")
    for url in ("/consult/deliberations", round_url, f"{round_url}/my-votes", f"{round_url}/vote"):
        await page.goto(url)
        width = await page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, (url, width)
    await page.goto(round_url)
    await page.screenshot(path=str(tmp_path / "deliberation.png"), full_page=True)
