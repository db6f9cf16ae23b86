"""The demo needs load on top of the budgeting demo in a few seconds and make the needs pages
live: every channel and state, some overdue, the counts equal to a recount, and the demo
residents' own needs (one waiting for a rating) with their notifications."""

from __future__ import annotations

from datetime import UTC, datetime

from budget.demo import load_demo_data
from consult.demo_needs import load_needs_demo
from consult.models import Need, NeedChannel, NeedStat, NeedState
from consult.permissions import can
from consult.rules import needs as rules
from consult.services import need_stats
from core.models import Follow, Notification, User
from tests.helpers import PASSWORD, app_client, login, page_text


async def test_the_demo_needs_make_the_pages_live(app, db, settings):
    await load_demo_data(PASSWORD, settings.upload_dir)
    await load_needs_demo()
    now = datetime.now(UTC)
    assert 3000 <= await Need.all().count() <= 3100
    assert set(
        await Need.all().order_by("channel").distinct().values_list("channel", flat=True)
    ) == set(NeedChannel)
    assert set(
        await Need.all().order_by("state").distinct().values_list("state", flat=True)
    ) == set(NeedState)
    overdue = await Need.filter(
        state=NeedState.RECEIVED, created_at__lt=rules.overdue_before(now)
    ).count()
    assert 10 <= overdue <= 200
    assert all(n.created_at <= now for n in await Need.all().only("id", "created_at"))
    assert await Follow.filter(subject_type="need").count() == await Need.all().count()
    kept = sorted(await NeedStat.all().values_list("month", "area_id", "channel", "received"))
    await need_stats.recount_need_stats()
    assert (
        sorted(await NeedStat.all().values_list("month", "area_id", "channel", "received")) == kept
    )

    resident = await User.get(username="resident")
    mine = await Need.filter(resident_id=resident.id)
    assert len(mine) >= 4
    assert any(can(resident, "rate_need", n) for n in mine)
    assert await Notification.filter(user_id=resident.id, kind="need_answered").count() >= 2
    async with app_client(app) as client:
        await login(client, "resident", PASSWORD)
        text = page_text((await client.get("/consult/needs/mine")).text)
        assert "Waiting for your rating" in text
        await login(client, "chair", PASSWORD)
        response = await client.get("/consult/needs", params={"overdue": "1"})
        assert response.status_code == 200 and "Overdue:" in page_text(response.text)
