"""Conventions, service by service: drafting clauses, opening the consultation (the rule
fixed), comments on clauses by residents of the areas only, a revision with its diff, the
ratification vote (secret, one per resident or household) and its close; each refusal writes
nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.models import (
    Clause,
    ClauseText,
    Comment,
    Convention,
    ConventionState,
    RatificationVoter,
    SubjectType,
)
from consult.services import convention_phases as phases
from consult.services import convention_reading, conventions
from consult.services.comments import post_comment, reply_to_comment
from consult.services.ratification import cast_vote, eligible_count, my_vote_status
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.i18n import local_today
from core.models import AuditEntry, Notification
from core.services.notifications import follow
from tests.consult.convention_setup import consulting, district, draft, ratifying, settings
from tests.helpers import make_user


async def _texts(c, number):
    version = await conventions.get_version(await conventions.get_convention(c.id), number)
    return [
        (t.heading, t.body)
        for t in await ClauseText.filter(version_id=version.id).order_by("position")
    ]


async def test_the_council_drafts_clauses_and_moves_and_removes_them(db):
    s = await district()
    c = await draft(s)
    assert [h for h, _b in await _texts(c, 1)] == ["爱护环境", "文明养犬", "停车秩序"]
    clauses = await Clause.filter(convention_id=c.id).order_by("id")
    await conventions.move_clause(s.council, c.id, clauses[2].id, "up")
    assert [h for h, _b in await _texts(c, 1)] == ["爱护环境", "停车秩序", "文明养犬"]
    await conventions.remove_clause(s.council, c.id, clauses[0].id)
    assert [h for h, _b in await _texts(c, 1)] == ["停车秩序", "文明养犬"]
    assert not await Clause.filter(id=clauses[0].id).exists()
    positions = await ClauseText.filter(clause__convention_id=c.id).values_list(
        "position", flat=True
    )
    assert sorted(positions) == [1, 2]
    assert await AuditEntry.filter(action__startswith="convention.clause").count() == 5


async def test_bad_clauses_and_settings_are_refused_and_nothing_is_written(db):
    s = await district()
    c = await draft(s)
    with pytest.raises(ValidationError) as exc:
        await conventions.add_clause(s.council, c.id, {"heading": "", "body": "x" * 2001})
    assert set(exc.value.errors) == {"heading", "body"}
    assert await ClauseText.filter(clause__convention_id=c.id).count() == 3
    for bad in (
        {"turnout_percent": "101"},
        {"turnout_percent": "-1"},
        {"closes_on": "2020-01-01"},
        {"majority": "most"},
        {"opens_on": "soon"},
    ):
        with pytest.raises(ValidationError):
            await conventions.create_convention(s.council, settings(s, **bad))
    assert await Convention.all().count() == 1


async def test_only_the_council_drafts(db):
    s = await district()
    with pytest.raises(PermissionDenied):
        await conventions.create_convention(s.alice, settings(s))
    c = await draft(s)
    with pytest.raises(PermissionDenied):
        await conventions.add_clause(s.alice, c.id, {"heading": "h", "body": "b"})
    with pytest.raises(PermissionDenied):
        await phases.open_consultation(s.alice, c.id)


async def test_opening_fixes_the_rule_and_needs_a_clause(db):
    s = await district()
    empty = await conventions.create_convention(s.council, settings(s))
    with pytest.raises(ValidationError) as exc:
        await phases.open_consultation(s.council, empty.id)
    assert "clauses" in exc.value.errors
    c = await consulting(s)
    assert c.state == ConventionState.CONSULTING
    with pytest.raises(PermissionDenied):
        await conventions.edit_convention(s.council, c.id, settings(s, turnout_percent="10"))
    assert (await Convention.get(id=c.id)).turnout_percent == 50
    with pytest.raises(Conflict):
        await phases.open_consultation(s.council, c.id, "draft")


async def test_only_residents_of_the_areas_and_staff_comment_on_clauses(db):
    s = await district()
    c = await consulting(s)
    clause = await Clause.filter(convention_id=c.id).order_by("id").first()
    form = {"body": "建议增加宠物便袋箱", "stance": "for"}
    comment = await post_comment(s.alice, "clause", clause.id, form)
    await post_comment(s.council, "clause", clause.id, form)
    with pytest.raises(PermissionDenied):
        await post_comment(s.wendy, "clause", clause.id, form)
    with pytest.raises(PermissionDenied):
        await reply_to_comment(s.wendy, comment.id, form)
    assert await Comment.filter(subject_type=SubjectType.CLAUSE).count() == 2
    await phases.open_ratification(s.council, c.id)
    with pytest.raises(PermissionDenied):  # the text is final: comments close
        await post_comment(s.alice, "clause", clause.id, form)


async def test_a_draft_has_no_discussion(db):
    s = await district()
    c = await draft(s)
    clause = await Clause.filter(convention_id=c.id).first()
    with pytest.raises(NotFound):
        await post_comment(s.council, "clause", clause.id, {"body": "x", "stance": "for"})


async def test_a_revision_is_published_as_a_new_version_with_its_diff(db):
    s = await district()
    c = await consulting(s)
    await follow(s.alice.id, "consultation", c.id)
    clauses = await Clause.filter(convention_id=c.id).order_by("id")
    await phases.start_revision(s.council, c.id)
    await conventions.edit_clause(
        s.council,
        c.id,
        clauses[1].id,
        {
            "heading": "文明养犬",
            "body": "出门遛狗须拴牵引绳。",
            "change_note": "居民建议写明牵引绳",
        },
    )
    await conventions.remove_clause(s.council, c.id, clauses[2].id)
    await conventions.add_clause(s.council, c.id, {"heading": "邻里和睦", "body": "邻里互助。"})
    c = await conventions.get_convention(c.id)
    public = await convention_reading.version_view(c, c.version)
    assert c.version == 1 and len(public.clauses) == 3  # residents still see version 1
    c = await phases.publish_revision(s.council, c.id, 2)
    assert c.version == 2 and c.revision == 0
    view = await convention_reading.version_view(await conventions.get_convention(c.id), 2)
    kinds = {v.heading: v.kind for v in view.clauses}
    assert kinds == {
        "爱护环境": "same",
        "文明养犬": "changed",
        "停车秩序": "removed",
        "邻里和睦": "added",
    }
    changed = next(v for v in view.clauses if v.kind == "changed")
    assert [(p.kind, p.text) for p in changed.body_diff if p.kind != "equal"] == [
        ("insert", "牵引")
    ]
    assert changed.change_note == "居民建议写明牵引绳"
    assert await _texts(c, 1) == [
        ("爱护环境", "不乱扔垃圾，垃圾分类投放。"),
        ("文明养犬", "出门遛狗须拴绳。"),
        ("停车秩序", "车辆停放在划线车位内。"),
    ]
    told = await Notification.filter(user_id=s.alice.id, kind="consultation_revised")
    assert len(told) == 1
    with pytest.raises(Conflict):
        await phases.publish_revision(s.council, c.id, 2)


async def test_commenting_on_a_clause_follows_the_whole_consultation(db):
    s = await district()
    c = await consulting(s)
    clause = await Clause.filter(convention_id=c.id).order_by("id").first()
    await post_comment(s.alice, "clause", clause.id, {"body": "写明牵引绳", "stance": "for"})
    await phases.start_revision(s.council, c.id)
    await phases.publish_revision(s.council, c.id, 2)
    told = await Notification.filter(user_id=s.alice.id, kind="consultation_revised")
    assert len(told) == 1 and told[0].url.endswith(f"/consult/conventions/{c.id}")


async def test_one_secret_vote_per_resident(db):
    s = await district()
    c = await ratifying(s)
    await cast_vote(s.alice, c.id, "yes")
    with pytest.raises(Conflict):
        await cast_vote(s.alice, c.id, "no")
    with pytest.raises(PermissionDenied):
        await cast_vote(s.wendy, c.id, "yes")  # West does not take part
    with pytest.raises(PermissionDenied):
        await cast_vote(s.council, c.id, "yes")
    with pytest.raises(ValidationError):
        await cast_vote(s.bob, c.id, "maybe")
    fresh = await Convention.get(id=c.id)
    assert (fresh.yes_votes, fresh.no_votes, fresh.abstentions) == (1, 0, 0)
    assert await RatificationVoter.filter(convention_id=c.id).count() == 1
    entry = await AuditEntry.get(action="convention.voted")
    assert "yes" not in str(entry.detail) and entry.public is False
    assert await my_vote_status(s.alice, fresh) == "me"
    assert await my_vote_status(s.amy, fresh) == ""  # resident mode: amy votes for herself


async def test_one_vote_per_household_in_household_mode(db):
    s = await district()
    c = await ratifying(s, voting_unit="household")
    c = await conventions.get_convention(c.id)
    assert await eligible_count(c) == 2  # alice and amy's household, and bob alone
    await cast_vote(s.amy, c.id, "no")
    with pytest.raises(Conflict) as exc:
        await cast_vote(s.alice, c.id, "yes")
    assert "household" in exc.value.message
    assert await my_vote_status(s.alice, c) == "household"
    await cast_vote(s.bob, c.id, "yes")
    fresh = await Convention.get(id=c.id)
    assert (fresh.yes_votes, fresh.no_votes) == (1, 1)


async def test_closing_decides_by_the_rule_and_tells_followers(db):
    s = await district()
    c = await ratifying(s)
    await make_user("eve", area=s.east)  # 4 eligible in East
    await cast_vote(s.alice, c.id, "yes")
    await cast_vote(s.amy, c.id, "yes")
    await cast_vote(s.bob, c.id, "abstain")
    c = await phases.close_ratification(s.council, c.id, "ratifying")
    assert c.state == ConventionState.ADOPTED and c.eligible == 4
    assert await Notification.filter(kind="consultation_closed").count() == 3  # voters follow
    with pytest.raises(PermissionDenied):
        await cast_vote(s.alice, c.id, "no")


async def test_a_tie_is_rejected(db):
    s = await district()
    c = await ratifying(s, turnout_percent="0")
    await cast_vote(s.alice, c.id, "yes")
    await cast_vote(s.bob, c.id, "no")
    c = await phases.close_ratification(s.council, c.id)
    assert c.state == ConventionState.REJECTED


async def test_a_vote_past_its_closing_day_is_closed_when_seen(db):
    s = await district()
    c = await ratifying(s)
    await cast_vote(s.alice, c.id, "yes")
    assert await phases.settle_due() == 0  # still open today
    later = local_today() + timedelta(days=31)
    assert await phases.settle_due(later) == 1
    fresh = await Convention.get(id=c.id)
    assert fresh.state == ConventionState.REJECTED  # 1 of 3 voted: turnout not met
    assert fresh.eligible == 3
    assert await phases.settle_due(later) == 0


async def test_an_adopted_convention_can_be_amended_from_its_text(db):
    s = await district()
    c = await ratifying(s, turnout_percent="0")
    await cast_vote(s.alice, c.id, "yes")
    c = await phases.close_ratification(s.council, c.id)
    new = await phases.amend_convention(s.council, c.id)
    assert new.state == ConventionState.DRAFT and new.amends_id == c.id
    assert await _texts(new, 1) == await _texts(c, 1)
    assert not set(await Clause.filter(convention_id=new.id).values_list("id", flat=True)) & set(
        await Clause.filter(convention_id=c.id).values_list("id", flat=True)
    )
    with pytest.raises(PermissionDenied):
        await phases.amend_convention(s.alice, c.id)
