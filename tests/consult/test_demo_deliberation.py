"""The demo deliberation rounds: the promised shape, two real opinion groups in the waste
sorting round with common ground across all four areas, and a published decision linked to
real demo proposals and rounds."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from budget.demo import load_demo_data
from budget.models import Proposal, Round
from consult.demo_deliberation import (
    CONSENSUS,
    DOOR,
    FIXED,
    WASTE_STATEMENTS,
    load_deliberation_demo,
)
from consult.models import (
    MAX_STATEMENT,
    Deliberation,
    DeliberationArea,
    DeliberationLink,
    DeliberationPhase,
    Statement,
    StatementStatus,
    StatementVote,
)
from consult.services import analysis
from consult.services.analysis import compute
from core.models import Area, User
from tests.helpers import PASSWORD, page_text


@pytest.fixture
async def demo(db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_deliberation_demo()


async def _waste() -> Deliberation:
    return await Deliberation.get(title__startswith="生活垃圾分类")


async def test_the_waste_sorting_round_has_the_promised_shape(demo):
    d = await _waste()
    assert d.phase == DeliberationPhase.DISCUSSING
    assert await DeliberationArea.filter(deliberation_id=d.id).count() == 0  # whole district
    statements = await Statement.filter(deliberation_id=d.id)
    status = Counter(s.status for s in statements)
    assert status[StatementStatus.APPROVED] == 60
    assert status[StatementStatus.PENDING] >= 3
    assert all(s.reject_reason for s in statements if s.status == StatementStatus.REJECTED)
    assert all(0 < len(s.body) <= MAX_STATEMENT for s in statements)
    assert len({s.body for s in statements}) == len(statements)

    rows = await StatementVote.filter(deliberation_id=d.id).values_list(
        "voter_id", "statement_id", "area_id"
    )
    voters = {v for v, _s, _a in rows}
    assert len(voters) >= 250
    assert len(set(Counter(a for _v, _s, a in rows))) == 4  # the four areas
    assert len({(v, s) for v, s, _a in rows}) == len(rows)  # one vote each
    author = {s.id: s.author_id for s in statements}
    assert not any(author[s] == v for v, s, _a in rows)  # never on one's own
    assert d.votes_version >= len(rows)
    zhang = await User.get(username="resident")
    assert zhang.id not in voters  # 张伟 can try it himself


async def test_two_opinion_groups_and_common_ground_in_every_area(demo):
    d = await _waste()
    kind = {body: k for k, body in WASTE_STATEMENTS}
    kind_of = {
        s.id: kind[s.body]
        for s in await Statement.filter(deliberation_id=d.id, status=StatementStatus.APPROVED)
    }
    rows = await StatementVote.filter(deliberation_id=d.id).values_list(
        "voter_id", "statement_id", "choice", "area_id"
    )
    agree: dict[int, Counter] = defaultdict(Counter)
    seen: dict[int, Counter] = defaultdict(Counter)
    for voter, statement, choice, _area in rows:
        seen[voter][kind_of[statement]] += 1
        agree[voter][kind_of[statement]] += choice == "agree"

    def rate(voter: int, k: str) -> float:
        return agree[voter][k] / max(1, seen[voter][k])

    lean = {v: rate(v, FIXED) - rate(v, DOOR) for v in seen}
    fixed_side = [v for v, x in lean.items() if x > 0.3]
    door_side = [v for v, x in lean.items() if x < -0.3]
    assert min(len(fixed_side), len(door_side)) >= 0.3 * len(lean)
    assert len(fixed_side) + len(door_side) >= 0.9 * len(lean)  # hardly anyone in between
    # everyone agrees on the consensus statements, in every area
    per_area: dict[int, Counter] = defaultdict(Counter)
    for _voter, statement, choice, area in rows:
        if kind_of[statement] == CONSENSUS:
            per_area[area][choice] += 1
    for counts in per_area.values():
        assert counts["agree"] / sum(counts.values()) >= 0.75

    result = await compute(d)
    best = {s.id: s.body for s in await Statement.filter(deliberation_id=d.id)}
    top = [kind[best[g["statement"]]] for g in result["common_ground"][:10]]
    assert top.count(CONSENSUS) >= 8
    assert result["k"] == 2
    assert min(g["size"] for g in result["groups"]) >= 0.3 * result["voters"]
    # the page names the groups A and B, in its group cards and its divisive statements alike
    view = await analysis.analysis_of(d)
    assert [g.label for g in view.groups] == ["A", "B"]
    assert view.divisive
    assert {(row.agree_group, row.disagree_group) for row in view.divisive} <= {
        ("A", "B"),
        ("B", "A"),
    }


async def test_the_earlier_round_published_its_decision_with_links(demo, client):
    d = await Deliberation.get(title="北山小区地面停车秩序")
    assert d.phase == DeliberationPhase.PUBLISHED and d.published_at is not None
    assert d.summary and d.decision
    north = await Area.get(name="北山社区")
    assert await DeliberationArea.filter(deliberation_id=d.id).values_list(
        "area_id", flat=True
    ) == [north.id]
    proposal = await Proposal.get(title="停车位划线与标识")
    rnd = await Round.get(title="2026年度社区微实事项目")
    links = set(
        await DeliberationLink.filter(deliberation_id=d.id).values_list(
            "subject_type", "subject_id"
        )
    )
    assert links == {("proposal", proposal.id), ("round", rnd.id)}
    text = page_text((await client.get(f"/budget/proposals/{proposal.id}")).text)
    assert "Discussed in the deliberation round 北山小区地面停车秩序" in text


async def test_the_demo_pages_render(demo, client):
    waste = await _waste()
    text = page_text((await client.get(f"/consult/deliberations/{waste.id}")).text)
    assert "What residents think" in text and "Common ground" in text
    text = page_text((await client.get("/consult/deliberations")).text)
    assert "3 deliberation rounds found." in text
