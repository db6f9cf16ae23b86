"""The demo's notifications: loaded last on top of the whole demo, they give 张伟 (`resident`)
and 周丽 (`voter`) a few read and a few unread notifications, each a link within the site, and
the follows the services would have made (authors follow their proposals and what they
commented on)."""

from __future__ import annotations

import re

from budget.models import Proposal
from consult.demo import load_consult_demo
from consult.demo_notifications import UNREAD
from consult.models import Comment
from core.models import Follow, Notification, User
from core.services import notifications
from tests.helpers import PASSWORD, app_client, login


async def test_the_demo_residents_have_notifications_and_the_header_counts_them(app, db, settings):
    from budget.demo import load_demo_data

    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_consult_demo()
    for username in ("resident", "voter"):
        user = await User.get(username=username)
        rows = await Notification.filter(user_id=user.id).order_by("id")
        assert len(rows) >= UNREAD + 3, username
        assert [n.read_at is None for n in rows][-UNREAD:] == [True] * UNREAD
        assert all(n.read_at is not None for n in rows[:-UNREAD])
        assert [n.created_at for n in rows] == sorted(n.created_at for n in rows)
        assert {n.kind for n in rows} >= {"phase_changed", "comment_reply", "minutes_published"}
        assert all(notifications.is_local_url(n.url) for n in rows)
        assert all(notifications.message(n) for n in rows)
    # what the services would have followed
    proposal = await Proposal.filter(author_id__isnull=False).first()
    assert await notifications.is_following(proposal.author_id, "proposal", proposal.id)
    comment = await Comment.filter(author_id__isnull=False).first()
    assert await Follow.exists(
        user_id=comment.author_id, subject_type=comment.subject_type, subject_id=comment.subject_id
    )

    async with app_client(app) as client:
        await login(client, "resident")
        page = await client.get("/budget/")
        count = re.search(
            r'class="notifications-link">[^<]*<span class="count"[^>]*>(\d+)<', page.text
        )
        assert count and int(count.group(1)) == UNREAD
        listed = await client.get("/notifications")
        assert listed.status_code == 200
        for href in re.findall(r'href="[^"]*/notifications/(\d+)"', listed.text):
            opened = await client.get(f"/notifications/{href}")
            assert opened.status_code == 303
            target = await client.get(opened.headers["location"], follow_redirects=True)
            assert target.status_code == 200, opened.headers["location"]
