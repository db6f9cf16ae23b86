"""Discussion's services: who posts where, replies two levels deep and never to a hidden
comment, edits within 15 minutes, one report per resident, the council hiding with a public
reason (the text kept in the non-public audit log), the rate limit, and what each refusal
leaves in the database (nothing)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.models import Comment, CommentReport, DeliberationPhase
from consult.services import comments as svc
from consult.services import discussion
from core.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    RateLimited,
    ValidationError,
)
from core.models import AuditEntry
from tests.consult.discussion_setup import (
    form,
    make_deliberation,
    make_meeting,
    many_threads,
    setup,
)
from tests.helpers import make_user


async def _age(comment: Comment, **delta) -> None:
    """Make a comment look older than it is."""
    await Comment.filter(id=comment.id).update(created_at=comment.created_at - timedelta(**delta))


# --- posting --------------------------------------------------------------------------------


async def test_a_verified_resident_comments_on_a_proposal(db):
    s = await setup()
    comment = await svc.post_comment(
        s.alice, "proposal", s.proposal.id, form("好主意。\r\n\r\n\r\n河边需要长椅", "for")
    )
    row = await Comment.get(id=comment.id)
    assert (row.subject_type, row.subject_id, row.depth) == ("proposal", s.proposal.id, 0)
    assert (row.author_id, row.stance, row.parent_id, row.root_id) == (
        s.alice.id,
        "for",
        None,
        None,
    )
    assert row.body == "好主意。\n\n河边需要长椅"  # Windows line ends, one blank line kept
    assert row.edited_at is None and not row.hidden
    entry = await AuditEntry.get(action="comment.posted")
    assert (entry.subject_type, entry.subject_id, entry.actor_id) == ("comment", row.id, s.alice.id)
    assert entry.public and entry.detail["on"] == "proposal"
    assert "body" not in entry.detail


async def test_staff_comment_on_a_round_and_a_meeting(db):
    s = await setup()
    meeting = await make_meeting()
    await svc.post_comment(s.council, "round", s.round.id, form("Voting is open until Friday."))
    await svc.post_comment(s.bob, "meeting", meeting.id, form("I will come.", "for"))
    assert await Comment.filter(subject_type="round", subject_id=s.round.id).count() == 1
    assert await Comment.filter(subject_type="meeting", subject_id=meeting.id).count() == 1


@pytest.mark.parametrize(
    ("kind", "subject_id"),
    [("proposal", 999), ("round", 999), ("meeting", 999), ("deliberation", 999), ("need", 1)],
)
async def test_the_subject_must_exist(db, kind, subject_id):
    s = await setup()
    with pytest.raises(NotFound):
        await svc.post_comment(s.alice, kind, subject_id, form())
    assert await Comment.all().count() == 0


async def test_no_discussion_of_an_imported_election(db):
    s = await setup()
    with pytest.raises(NotFound):
        await svc.post_comment(s.alice, "round", s.study.id, form())
    with pytest.raises(NotFound):
        await svc.post_comment(s.alice, "proposal", s.study_project.id, form())
    assert await Comment.all().count() == 0


@pytest.mark.parametrize("who", [None, "dora", "finance"])
async def test_only_verified_residents_and_staff_post(db, who):
    s = await setup()
    user = getattr(s, who) if who else None
    with pytest.raises(PermissionDenied) as refused:
        await svc.post_comment(user, "proposal", s.proposal.id, form())
    assert refused.value.status_code == 403
    assert await Comment.all().count() == 0


@pytest.mark.parametrize("phase", [DeliberationPhase.COLLECTING, DeliberationPhase.DISCUSSING])
async def test_a_deliberation_round_is_discussed_while_open(db, phase):
    s = await setup()
    d = await make_deliberation(phase)
    await svc.post_comment(s.alice, "deliberation", d.id, form("分类垃圾桶放在哪里？"))
    assert await Comment.filter(subject_type="deliberation", subject_id=d.id).count() == 1


@pytest.mark.parametrize("phase", [DeliberationPhase.DECIDING, DeliberationPhase.PUBLISHED])
async def test_a_closed_deliberation_round_refuses_comments_and_replies(db, phase):
    s = await setup()
    d = await make_deliberation(DeliberationPhase.DISCUSSING)
    earlier = await svc.post_comment(s.alice, "deliberation", d.id, form())
    d.phase = phase
    await d.save()
    with pytest.raises(PermissionDenied, match="closed"):
        await svc.post_comment(s.bob, "deliberation", d.id, form())
    with pytest.raises(PermissionDenied, match="closed"):
        await svc.reply_to_comment(s.bob, earlier.id, form())
    # nor may its author edit it, within the 15 minutes though they are
    with pytest.raises(PermissionDenied, match="closed"):
        await svc.edit_comment(s.alice, earlier.id, form("changed after the round closed"))
    assert await Comment.all().count() == 1
    assert (await Comment.get(id=earlier.id)).edited_at is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write your comment."),
        ("   \n\t  ", "Write your comment."),
        ("\x00\x07\x1b", "Write your comment."),
        ("长" * 2001, "at most 2000 characters; this one has 2001"),
    ],
)
async def test_a_comment_needs_a_text_of_at_most_2000_characters(db, body, message):
    s = await setup()
    with pytest.raises(ValidationError) as refused:
        await svc.post_comment(s.alice, "proposal", s.proposal.id, form(body))
    assert message in refused.value.errors["body"]
    assert refused.value.status_code == 422
    assert await Comment.all().count() == 0
    assert await AuditEntry.all().count() == 0


async def test_2000_characters_are_enough_and_controls_are_removed(db):
    s = await setup()
    long = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("长" * 2000))
    assert len((await Comment.get(id=long.id)).body) == 2000
    dirty = "a\x00b\tc\u202ed\x1b[31m\nsecond line  \n"
    clean = await svc.post_comment(s.bob, "proposal", s.proposal.id, form(dirty))
    assert (await Comment.get(id=clean.id)).body == "ab cd[31m\nsecond line"


async def test_a_stance_is_one_of_three(db):
    s = await setup()
    with pytest.raises(ValidationError) as refused:
        await svc.post_comment(s.alice, "proposal", s.proposal.id, form("x", "maybe"))
    assert refused.value.errors == {"stance": "Choose in favour, against or neutral."}
    assert await Comment.all().count() == 0


# --- replies --------------------------------------------------------------------------------


async def test_replies_go_two_levels_deep_and_count_in_their_thread(db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("top"))
    first = await svc.reply_to_comment(s.bob, top.id, form("first", "against"))
    second = await svc.reply_to_comment(s.alice, first.id, form("second", "for"))
    other = await svc.reply_to_comment(s.council, top.id, form("other"))
    rows = {c.id: c for c in await Comment.all()}
    assert (rows[first.id].depth, rows[first.id].parent_id, rows[first.id].root_id) == (
        1,
        top.id,
        top.id,
    )
    assert (rows[second.id].depth, rows[second.id].parent_id, rows[second.id].root_id) == (
        2,
        first.id,
        top.id,
    )
    assert rows[second.id].subject_type == "proposal"
    assert rows[second.id].subject_id == s.proposal.id
    # the top-level comment counts its whole thread, a reply its own replies
    assert [rows[i].reply_count for i in (top.id, first.id, second.id, other.id)] == [3, 1, 0, 0]

    with pytest.raises(ValidationError) as refused:
        await svc.reply_to_comment(s.bob, second.id, form("third level", "for"))
    assert "two levels deep" in refused.value.errors["body"]
    assert await Comment.all().count() == 4
    assert (await Comment.get(id=top.id)).reply_count == 3


async def test_no_reply_to_a_hidden_or_missing_comment(db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("rude"))
    await svc.hide_comment(s.council, top.id, {"reason": "personal attack"})
    with pytest.raises(ValidationError) as refused:
        await svc.reply_to_comment(s.bob, top.id, form("answer"))
    assert refused.value.errors["body"] == "The council hid this comment: it cannot be replied to."
    with pytest.raises(NotFound):
        await svc.reply_to_comment(s.bob, 999_999, form("answer"))
    assert await Comment.all().count() == 1
    assert (await Comment.get(id=top.id)).reply_count == 0


async def test_a_reply_is_refused_for_whoever_may_not_post(db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form())
    for user in (None, s.dora, s.finance):
        with pytest.raises(PermissionDenied):
            await svc.reply_to_comment(user, top.id, form())
    assert await Comment.all().count() == 1


# --- editing --------------------------------------------------------------------------------


async def test_the_author_edits_within_15_minutes_and_it_shows_as_edited(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("frist", "for"))
    await _age(comment, minutes=14)
    await svc.edit_comment(s.alice, comment.id, form("first", "against"))
    row = await Comment.get(id=comment.id)
    assert (row.body, row.stance) == ("first", "against")
    assert row.edited_at is not None
    entry = await AuditEntry.get(action="comment.edited")
    assert not entry.public
    assert entry.detail["old_body"] == "frist" and entry.detail["old_stance"] == "for"


async def test_an_unchanged_edit_is_not_marked(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("same", "for"))
    await svc.edit_comment(s.alice, comment.id, form("same  ", "for"))
    assert (await Comment.get(id=comment.id)).edited_at is None
    assert not await AuditEntry.exists(action="comment.edited")


async def test_edits_are_refused_to_others_after_15_minutes_and_once_hidden(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("mine"))
    with pytest.raises(PermissionDenied, match="Only its author"):
        await svc.edit_comment(s.bob, comment.id, form("theirs"))
    with pytest.raises(PermissionDenied, match="Only its author"):
        await svc.edit_comment(s.council, comment.id, form("theirs"))
    await _age(comment, minutes=15, seconds=1)
    with pytest.raises(PermissionDenied, match="15 minutes"):
        await svc.edit_comment(s.alice, comment.id, form("late"))
    fresh = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("fresh"))
    await svc.hide_comment(s.council, fresh.id, {"reason": "off topic"})
    with pytest.raises(PermissionDenied, match="hid"):
        await svc.edit_comment(s.alice, fresh.id, form("back again"))
    bodies = set(await Comment.all().values_list("body", flat=True))
    assert bodies == {"mine", ""}
    with pytest.raises(NotFound):
        await svc.edit_comment(s.alice, 999_999, form())


async def test_a_bad_edit_changes_nothing(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("kept"))
    with pytest.raises(ValidationError):
        await svc.edit_comment(s.alice, comment.id, form(""))
    row = await Comment.get(id=comment.id)
    assert (row.body, row.edited_at) == ("kept", None)


# --- reports, hiding, the queue -------------------------------------------------------------


async def test_one_report_per_resident_and_comment(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("spam"))
    await svc.report_comment(s.bob, comment.id, {"reason": "advertising\n"})
    with pytest.raises(Conflict, match="already reported"):
        await svc.report_comment(s.bob, comment.id, {"reason": "again"})
    await svc.report_comment(s.council, comment.id, {})
    reports = await CommentReport.filter(comment_id=comment.id).order_by("id")
    assert [(r.reporter_id, r.reason) for r in reports] == [
        (s.bob.id, "advertising"),
        (s.council.id, ""),
    ]
    assert (await Comment.get(id=comment.id)).report_count == 2
    entries = await AuditEntry.filter(action="comment.reported")
    assert len(entries) == 2 and not any(e.public for e in entries)


async def test_reports_refused(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("mine"))
    with pytest.raises(PermissionDenied, match="your own comment"):
        await svc.report_comment(s.alice, comment.id, {})
    for user in (None, s.dora, s.finance):
        with pytest.raises(PermissionDenied):
            await svc.report_comment(user, comment.id, {})
    with pytest.raises(ValidationError):
        await svc.report_comment(s.bob, comment.id, {"reason": "x" * 201})
    with pytest.raises(NotFound):
        await svc.report_comment(s.bob, 999_999, {})
    await svc.hide_comment(s.council, comment.id, {"reason": "off topic"})
    with pytest.raises(PermissionDenied, match="already hidden"):
        await svc.report_comment(s.bob, comment.id, {})
    assert await CommentReport.all().count() == 0
    assert (await Comment.get(id=comment.id)).report_count == 0


async def test_the_council_hides_with_a_public_reason_and_replies_stay(db):
    s = await setup()
    rude = await svc.post_comment(
        s.alice, "proposal", s.proposal.id, form("你这个人真蠢", "against")
    )
    reply = await svc.reply_to_comment(s.bob, rude.id, form("请文明发言"))
    await svc.report_comment(s.bob, rude.id, {})
    await svc.hide_comment(s.council, rude.id, {"reason": " personal\nattack "})
    row = await Comment.get(id=rude.id)
    assert (row.body, row.hidden_reason, row.hidden_by_id) == ("", "personal attack", s.council.id)
    assert row.hidden_at is not None and row.hidden
    assert (await Comment.get(id=reply.id)).body == "请文明发言"
    entry = await AuditEntry.get(action="comment.hidden")
    assert not entry.public
    assert entry.detail["original_body"] == "你这个人真蠢"
    assert entry.detail["reason"] == "personal attack"
    # the public audit entries never hold the text
    for public in await AuditEntry.filter(public=True):
        assert "你这个人真蠢" not in str(public.detail)
    # no longer in the queue
    items, _more = await discussion.reported_comments()
    assert items == []


async def test_hiding_refused(db):
    s = await setup()
    comment = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("text"))
    for user in (None, s.bob, s.finance):
        with pytest.raises(PermissionDenied):
            await svc.hide_comment(user, comment.id, {"reason": "x"})
    with pytest.raises(ValidationError) as refused:
        await svc.hide_comment(s.council, comment.id, {"reason": "  "})
    assert "reason" in refused.value.errors
    with pytest.raises(ValidationError):
        await svc.hide_comment(s.council, comment.id, {"reason": "x" * 201})
    assert (await Comment.get(id=comment.id)).body == "text"
    await svc.hide_comment(s.council, comment.id, {"reason": "off topic"})
    with pytest.raises(Conflict):
        await svc.hide_comment(s.council, comment.id, {"reason": "again"})
    assert (await Comment.get(id=comment.id)).hidden_reason == "off topic"
    with pytest.raises(NotFound):
        await svc.hide_comment(s.council, 999_999, {"reason": "x"})


async def test_the_queue_and_keeping_a_reported_comment(db):
    s = await setup()
    once = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("once"))
    twice = await svc.post_comment(s.alice, "round", s.round.id, form("twice"))
    await svc.report_comment(s.bob, once.id, {})
    await svc.report_comment(s.bob, twice.id, {"reason": "rude"})
    await svc.report_comment(s.council, twice.id, {})
    items, more = await discussion.reported_comments()
    assert [(i.comment.id, i.subject_title) for i in items] == [
        (twice.id, s.round.title),
        (once.id, s.proposal.title),
    ]
    assert [r.reason for r in items[0].reports] == ["rude", ""]
    assert not more

    with pytest.raises(PermissionDenied):
        await svc.dismiss_reports(s.bob, twice.id)
    await svc.dismiss_reports(s.council, twice.id)
    assert (await Comment.get(id=twice.id)).report_count == 0
    with pytest.raises(Conflict):
        await svc.dismiss_reports(s.council, twice.id)
    items, _more = await discussion.reported_comments()
    assert [i.comment.id for i in items] == [once.id]
    # someone else's report brings it back; the earlier reports stay
    carol = await make_user("carol", area=s.east)
    await svc.report_comment(carol, twice.id, {})
    items, _more = await discussion.reported_comments()
    assert {i.comment.id for i in items} == {once.id, twice.id}
    assert await CommentReport.filter(comment_id=twice.id).count() == 3


# --- counts and pages -----------------------------------------------------------------------


async def test_stance_counts_count_replies_and_hidden_comments(db):
    s = await setup()
    a = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("a", "for"))
    await svc.reply_to_comment(s.bob, a.id, form("b", "against"))
    c = await svc.post_comment(s.bob, "proposal", s.proposal.id, form("c", "against"))
    await svc.post_comment(s.council, "proposal", s.proposal.id, form("d", "neutral"))
    await svc.post_comment(s.alice, "round", s.round.id, form("elsewhere", "for"))
    await svc.hide_comment(s.council, c.id, {"reason": "off topic"})
    counts = await discussion.stance_counts("proposal", s.proposal.id)
    assert (counts.favour, counts.against, counts.neutral, counts.total) == (1, 2, 1, 4)


async def test_pages_of_threads_by_cursor_with_their_replies(db):
    s = await setup()
    roots = await many_threads("proposal", s.proposal.id, s.council, discussion.PAGE_SIZE + 5)
    r1 = await svc.reply_to_comment(s.bob, roots[1].id, form("r1"))
    r2 = await svc.reply_to_comment(s.alice, r1.id, form("r2"))
    r3 = await svc.reply_to_comment(s.alice, roots[1].id, form("r3"))

    first = await discussion.thread_page("proposal", s.proposal.id)
    assert [t.root.id for t in first.threads] == [r.id for r in roots[: discussion.PAGE_SIZE]]
    assert first.after is None and first.next_after == roots[discussion.PAGE_SIZE - 1].id
    thread = first.threads[1]
    assert [r.comment.id for r in thread.replies] == [r1.id, r3.id]
    assert [c.id for c in thread.replies[0].replies] == [r2.id]
    assert thread.root.author_name == "Chen Hui" and thread.root.author_role == "council"
    assert thread.replies[0].comment.author_area == "East Gate"

    second = await discussion.thread_page("proposal", s.proposal.id, first.next_after)
    assert [t.root.id for t in second.threads] == [r.id for r in roots[discussion.PAGE_SIZE :]]
    assert second.next_after is None


async def test_a_long_thread_shows_its_first_replies_and_the_rest_on_its_page(db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("top"))
    replies = []
    for i in range(discussion.REPLIES_SHOWN + 3):
        author = s.bob if i % 2 else s.council
        replies.append(await svc.reply_to_comment(author, top.id, form(f"reply {i}")))
        await Comment.filter(author_id=author.id).update(
            created_at=top.created_at - timedelta(hours=1)
        )
    page = await discussion.thread_page("proposal", s.proposal.id)
    (thread,) = page.threads
    shown = [r.comment.id for r in thread.replies]
    assert shown == [r.id for r in replies[: discussion.REPLIES_SHOWN]]
    assert thread.more == 3

    view = await discussion.thread_view(top.id)
    assert [r.comment.id for r in view.thread.replies] == [r.id for r in replies]
    assert view.next_after is None and view.subject.title == s.proposal.title


async def test_where_a_new_comment_is_shown(db):
    s = await setup()
    roots = await many_threads("proposal", s.proposal.id, s.council, discussion.PAGE_SIZE + 3)
    early = await discussion.place_of(roots[5])
    assert (early.on_subject_page, early.after) == (True, None)
    last = await discussion.place_of(roots[-1])
    # a page ending with it: the PAGE_SIZE - 1 threads before it, then it
    assert last.on_subject_page and last.after == roots[-1 - discussion.PAGE_SIZE].id
    page = await discussion.thread_page("proposal", s.proposal.id, last.after)
    assert page.threads[-1].root.id == roots[-1].id
    assert len(page.threads) == discussion.PAGE_SIZE


# --- the rate limit -------------------------------------------------------------------------


async def test_at_most_10_comments_a_minute_replies_included(db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("0"))
    for i in range(1, svc.RATE_LIMIT):
        if i % 2:
            await svc.reply_to_comment(s.alice, top.id, form(str(i)))
        else:
            await svc.post_comment(s.alice, "round", s.round.id, form(str(i)))
    with pytest.raises(RateLimited) as refused:
        await svc.post_comment(s.alice, "proposal", s.proposal.id, form("one too many"))
    assert refused.value.status_code == 429
    assert "10 comments in the last minute" in refused.value.message
    with pytest.raises(RateLimited):
        await svc.reply_to_comment(s.alice, top.id, form("one too many"))
    assert await Comment.filter(author_id=s.alice.id).count() == 10
    assert (await Comment.get(id=top.id)).reply_count == 5
    # someone else is not held back
    await svc.post_comment(s.bob, "proposal", s.proposal.id, form("mine"))
    # a minute later, Alice posts again
    for comment in await Comment.filter(author_id=s.alice.id):
        await _age(comment, seconds=61)
    await svc.post_comment(s.alice, "proposal", s.proposal.id, form("later"))
    assert await Comment.filter(author_id=s.alice.id).count() == 11
