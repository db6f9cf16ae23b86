"""Consultation tells people what changed (in the same transaction as the change): a reply
reaches the author of the comment replied to, posting follows the subject, a deliberation
round's phase change and published decision and a meeting's minutes reach their followers —
never the one who made the change, and nobody when the change is refused."""

from __future__ import annotations

import pytest

from consult.models import DeliberationPhase, MeetingRecord
from consult.services import comments, decisions, deliberations, meeting_records
from core.errors import Conflict, PermissionDenied, ValidationError
from core.models import Notification
from core.services import notifications
from tests.consult.deliberation_setup import district
from tests.consult.discussion_setup import form, setup
from tests.consult.meetings_setup import at, key, schedule, sixteenth, town


async def _told(user) -> list[str]:
    rows = await Notification.filter(user_id=user.id).order_by("id")
    return [notifications.message(n) for n in rows]


async def test_posting_a_comment_follows_its_subject(db):
    s = await setup()
    await comments.post_comment(s.bob, "proposal", s.proposal.id, form())
    assert await notifications.is_following(s.bob.id, "proposal", s.proposal.id)
    with pytest.raises(ValidationError):  # an empty comment: nothing posted, nothing followed
        await comments.post_comment(s.council, "proposal", s.proposal.id, form(body=" "))
    with pytest.raises(PermissionDenied):
        await comments.post_comment(s.dora, "proposal", s.proposal.id, form())
    assert not await notifications.is_following(s.council.id, "proposal", s.proposal.id)
    assert not await notifications.is_following(s.dora.id, "proposal", s.proposal.id)


async def test_a_reply_tells_the_author_of_the_comment_replied_to_with_the_replier_name(db):
    s = await setup()
    first = await comments.post_comment(s.alice, "proposal", s.proposal.id, form("Benches!"))
    reply = await comments.reply_to_comment(s.bob, first.id, form("Where exactly?"))
    assert await _told(s.alice) == ["Bob Li replied to your comment on “Benches by the canal”"]
    assert await _told(s.bob) == []  # the replier is not told of their own reply
    n = await Notification.get(user_id=s.alice.id)
    assert n.url == f"/consult/comments/{reply.id}"
    assert await notifications.is_following(s.bob.id, "proposal", s.proposal.id)

    # answering oneself tells nobody
    await comments.reply_to_comment(s.alice, reply.id, form("By the bridge."))
    assert len(await _told(s.alice)) == 1
    assert await _told(s.bob) == ["Alice Wu replied to your comment on “Benches by the canal”"]


async def test_a_refused_reply_tells_nobody(db):
    s = await setup()
    first = await comments.post_comment(s.alice, "proposal", s.proposal.id, form("Benches!"))
    with pytest.raises(ValidationError):
        await comments.reply_to_comment(s.bob, first.id, form(body=""))
    with pytest.raises(PermissionDenied):
        await comments.reply_to_comment(s.dora, first.id, form())
    await comments.hide_comment(s.council, first.id, {"reason": "Off topic"})
    with pytest.raises(ValidationError):  # a hidden comment cannot be replied to
        await comments.reply_to_comment(s.bob, first.id, form())
    assert await Notification.all().count() == 0


async def test_a_deliberation_phase_change_tells_its_followers(db):
    s = await district()
    await notifications.follow(s.alice.id, "deliberation", s.d.id)
    await notifications.follow(s.council.id, "deliberation", s.d.id)
    await deliberations.advance_deliberation(s.council, s.d.id)
    assert await _told(s.alice) == [
        "“How should we sort our waste?” moved to a new phase: Discussing"
    ]
    assert await _told(s.council) == []
    n = await Notification.get(user_id=s.alice.id)
    assert n.url == f"/consult/deliberations/{s.d.id}"
    with pytest.raises(Conflict):  # a second click: nothing moves, nobody is told again
        await deliberations.advance_deliberation(s.council, s.d.id, from_phase="collecting")
    with pytest.raises(PermissionDenied):
        await deliberations.advance_deliberation(s.alice, s.d.id)
    assert len(await _told(s.alice)) == 1


async def test_a_published_decision_tells_the_rounds_followers(db):
    s = await district(phase=DeliberationPhase.DECIDING)
    await notifications.follow(s.bob.id, "deliberation", s.d.id)
    with pytest.raises(ValidationError):  # no summary: refused, nobody told
        await decisions.publish_decision(s.council, s.d.id, {"summary": "", "decision": "D"})
    assert await Notification.all().count() == 0
    await decisions.publish_decision(s.council, s.d.id, {"summary": "S", "decision": "D"})
    assert await _told(s.bob) == [
        "The council published its decision on “How should we sort our waste?”"
    ]
    with pytest.raises(Conflict):  # published twice: told once
        await decisions.publish_decision(s.council, s.d.id, {"summary": "S", "decision": "D"})
    assert len(await _told(s.bob)) == 1


async def test_minutes_tell_the_meetings_followers_once_not_on_corrections(db):
    t = await town()
    meeting = await schedule(t.council)
    await notifications.follow(t.resident.id, "meeting", meeting.id)
    await notifications.follow(t.council.id, "meeting", meeting.id)
    held = at(sixteenth(1))
    with pytest.raises(PermissionDenied):  # a resident records nothing
        await meeting_records.record_minutes(
            t.resident, meeting.id, held, {"attendance": "1", "minutes": "x"}
        )
    with pytest.raises(ValidationError):
        await meeting_records.record_minutes(
            t.council, meeting.id, held, {"attendance": "", "minutes": "x"}
        )
    assert await Notification.all().count() == 0

    await meeting_records.record_minutes(
        t.council, meeting.id, held, {"attendance": "12", "minutes": "Held."}
    )
    assert await _told(t.resident) == ["Minutes of “Public-opinion talk” were published"]
    assert await _told(t.council) == []
    n = await Notification.get(user_id=t.resident.id)
    assert n.url == f"/consult/meetings/{meeting.id}/at/{key(sixteenth(1))}"
    # a correction of the same minutes is not news
    await meeting_records.record_minutes(
        t.council, meeting.id, held, {"attendance": "13", "minutes": "Held, corrected."}
    )
    assert len(await _told(t.resident)) == 1
    assert await MeetingRecord.all().count() == 1
