"""Following subjects and notifications (core.services.notifications): written in the
caller's transaction, once per follower, translated when shown."""

from __future__ import annotations

import pytest
from tortoise.transactions import in_transaction

from core.i18n import lazy_gettext as _l
from core.models import Follow, Notification
from core.services import notifications
from tests.helpers import make_area, make_user


async def test_follow_twice_keeps_one_row_and_unfollow_removes_it(db):
    user = await make_user("ana", area=await make_area())
    await notifications.follow(user.id, "proposal", 7)
    await notifications.follow(user.id, "proposal", 7)
    assert await Follow.filter(user_id=user.id).count() == 1
    assert await notifications.is_following(user.id, "proposal", 7)
    await notifications.unfollow(user.id, "proposal", 7)
    assert not await notifications.is_following(user.id, "proposal", 7)


async def test_followers_are_told_except_who_made_the_change(db):
    area = await make_area()
    ana = await make_user("ana", area=area)
    ben = await make_user("ben", area=area)
    council = await make_user("cai", area=area)
    for user in (ana, ben, council):
        await notifications.follow(user.id, "round", 3)
    async with in_transaction() as conn:
        told = await notifications.notify_followers(
            "round",
            3,
            "phase_changed",
            url="/rounds/3",
            params={"title": "Spring", "phase": _l("Voting")},
            skip=[council.id],
            using_db=conn,
        )
    assert told == 2
    rows = await Notification.filter(subject_type="round", subject_id=3).order_by("user_id")
    assert [r.user_id for r in rows] == [ana.id, ben.id]
    assert notifications.message(rows[0]) == "“Spring” moved to a new phase: Voting"
    assert await notifications.unread_count(ana.id) == 1


async def test_a_rolled_back_change_tells_no_one(db):
    ana = await make_user("ana", area=await make_area())
    await notifications.follow(ana.id, "need", 1)
    with pytest.raises(RuntimeError):
        async with in_transaction() as conn:
            await notifications.notify_followers(
                "need", 1, "need_resolved", url="/needs/1", params={"number": "X"}, using_db=conn
            )
            raise RuntimeError("the change failed")
    assert await Notification.all().count() == 0


async def test_mark_read_clears_the_unread_count(db):
    ana = await make_user("ana", area=await make_area())
    async with in_transaction() as conn:
        await notifications.notify_users(
            [ana.id, ana.id],
            "need_resolved",
            subject_type="need",
            subject_id=1,
            url="/needs/1",
            params={"number": "N-1"},
            using_db=conn,
        )
    assert await notifications.unread_count(ana.id) == 1
    assert await notifications.mark_read(ana.id) == 1
    assert await notifications.unread_count(ana.id) == 0
    listed = await notifications.list_notifications(ana.id)
    assert notifications.message(listed[0]) == "Your need N-1 was resolved"
