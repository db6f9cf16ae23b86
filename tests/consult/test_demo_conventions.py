"""The demo conventions load on top of the budgeting demo: one adopted by households after a
revision (its figures add up, its diff shows), one in consultation with comments; residents of
other areas cannot comment on its clauses."""

from __future__ import annotations

from budget.demo import load_demo_data
from consult.demo_conventions import load_conventions_demo
from consult.models import Comment, Convention, ConventionState, RatificationVoter
from core.models import Follow, Notification
from tests.helpers import PASSWORD, app_client, login, page_text


async def test_the_demo_conventions_make_the_pages_live(app, db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_conventions_demo()
    adopted = await Convention.get(title="西河社区居民公约")
    assert adopted.state == ConventionState.ADOPTED and adopted.version == 2
    voters = await RatificationVoter.filter(convention_id=adopted.id).count()
    assert voters == adopted.voted > 0 and adopted.eligible >= voters
    # its followers are told the outcome: who voted, and who commented on a clause
    followers = await Follow.filter(subject_type="consultation", subject_id=adopted.id).count()
    assert followers > voters
    told = await Notification.filter(kind="consultation_closed", subject_id=adopted.id).count()
    assert told == followers
    open_one = await Convention.get(title="东门社区、南湖社区文明养犬公约")
    assert open_one.state == ConventionState.CONSULTING
    assert await Comment.filter(subject_type="clause").count() == 10
    async with app_client(app) as client:
        text = page_text((await client.get(f"/consult/conventions/{adopted.id}")).text)
        assert "Ratified: the convention is adopted." in text
        assert f"Eligible households {adopted.eligible}" in text
        page = await client.get(f"/consult/conventions/{adopted.id}/versions/2")
        assert "<ins>" in page.text and "<del>" in page.text
        await login(client, "voter")  # 南湖社区 takes part in the dog convention
        page = await client.get(f"/consult/conventions/{open_one.id}")
        assert "comment on this clause" in page_text(page.text)
