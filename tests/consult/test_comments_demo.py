"""The demo's discussions: a few dozen comments in Chinese on proposals of both rounds, by
residents of each proposal's area, with every stance, replies two deep, one comment edited,
one hidden with its reason (the text in the audit log only), one reported and waiting; dated
after the proposal, replies after what they answer, nothing in the future; and the pages show
them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from budget.demo import load_demo_data
from budget.models import Proposal
from consult.demo_comments import load_comments_demo
from consult.models import Comment, CommentReport
from consult.services import discussion
from core.i18n import DISPLAY_TIMEZONE
from core.models import AuditEntry, Role, User
from tests.helpers import PASSWORD, login, page_text


async def test_the_demo_discussions(client, db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_comments_demo()
    comments = await Comment.all().order_by("id")
    assert 40 <= len(comments) <= 80
    assert Counter(c.stance for c in comments).keys() == {"for", "against", "neutral"}
    assert Counter(c.depth for c in comments)[2] >= 3
    by_id = {c.id: c for c in comments}
    proposals = {p.id: p for p in await Proposal.filter(id__in={c.subject_id for c in comments})}
    assert len(proposals) >= 6
    assert len({p.round_id for p in proposals.values()}) == 2
    users = {u.id: u for u in await User.all()}
    now = datetime.now(UTC)
    local = ZoneInfo(DISPLAY_TIMEZONE)
    for c in comments:
        proposal = proposals[c.subject_id]
        assert proposal.created_at < c.created_at < now
        assert 7 <= c.created_at.astimezone(local).hour < 23  # residents post by day
        author = users[c.author_id]
        if author.role == Role.RESIDENT and proposal.area_id:
            assert author.area_id == proposal.area_id, (c.body, proposal.title)
        if c.parent_id:
            parent = by_id[c.parent_id]
            assert parent.created_at < c.created_at and parent.id < c.id
            assert c.depth == parent.depth + 1 and c.root_id == (parent.root_id or parent.id)
        thread = [x for x in comments if x.root_id == c.id] if c.depth == 0 else []
        under = [x for x in comments if x.parent_id == c.id] if c.depth == 1 else []
        assert c.reply_count == len(thread) + len(under)
    assert any("，" in c.body for c in comments)  # Chinese, with Chinese punctuation

    (edited,) = [c for c in comments if c.edited_at]
    entry = await AuditEntry.get(action="comment.edited", subject_id=edited.id)
    assert entry.detail["old_body"] != edited.body and not entry.public
    (hidden,) = [c for c in comments if c.hidden]
    assert hidden.body == "" and hidden.hidden_by_id == (await User.get(username="council")).id
    entry = await AuditEntry.get(action="comment.hidden", subject_id=hidden.id)
    assert entry.detail["original_body"] and not entry.public
    items, _more = await discussion.reported_comments()
    assert [i.comment.report_count for i in items] == [2]
    assert await CommentReport.filter(comment_id=items[0].comment.id).count() == 2
    assert await AuditEntry.filter(action="comment.posted", public=True).count() == len(comments)

    # the pages: the proposal with the hidden comment, and the council's queue
    page = await client.get(
        f"/budget/proposals/{hidden.subject_id}", headers={"Accept-Language": "zh-CN"}
    )
    text = page_text(page.text)
    assert f"已被议事会隐藏：{hidden.hidden_reason}" in text
    assert entry.detail["original_body"] not in text
    await login(client, "council")
    queue = page_text((await client.get("/consult/comments/reported")).text)
    assert "Reported 2 times" in queue
