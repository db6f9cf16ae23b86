"""Discussion as a browser sees it: the panel on a proposal's and a round's page, posting and
replying with htmx (fragments) and without (303 to the comment), 422 / 429 with the text kept,
403 / 404, editing, reporting, the council's hiding and queue, "load more" both ways, a long
thread's own page, and the house rules on every discussion page."""

from __future__ import annotations

import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest

from consult.models import Comment, CommentReport, DeliberationPhase
from consult.services import comments as svc
from consult.services import discussion
from consult.services.comment_tally import recount_tallies
from core.models import AuditEntry
from tests.consult.discussion_setup import form, make_deliberation, many_threads, setup
from tests.helpers import app_client, login, page_text, post_form
from tests.test_pages import audit_html

HTMX = {"HX-Request": "true"}


def proposal_url(s) -> str:
    return f"/budget/proposals/{s.proposal.id}"


def post_url(kind: str, subject_id: int) -> str:
    return f"/consult/discussions/{kind}/{subject_id}/comments"


def discussion_text(html: str) -> str:
    """The visible text of the discussion section of a page."""
    start = html.index('<section id="comments"')
    return page_text(html[start:])


class _Ids(HTMLParser):
    def __init__(self, tag: str, cls: str) -> None:
        super().__init__()
        self.tag, self.cls, self.ids = tag, cls, []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == self.tag and self.cls in (a.get("class") or "").split():
            self.ids.append(int(a["id"].rsplit("-", 1)[1]))


def thread_ids(html: str) -> list[int]:
    parser = _Ids("li", "thread")
    parser.feed(html)
    return parser.ids


# --- the panel ------------------------------------------------------------------------------


async def test_the_public_reads_and_is_asked_to_sign_in(client, db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("第一行\n第二行", "for"))
    await svc.reply_to_comment(s.bob, top.id, form("I agree", "for"))
    await svc.post_comment(s.bob, "proposal", s.proposal.id, form("Too dear", "against"))
    response = await client.get(proposal_url(s))
    assert response.status_code == 200
    text = discussion_text(response.text)
    assert "3 comments" in text
    assert "2 In favour 1 Against 0 Neutral" in text
    assert "Alice Wu East Gate In favour" in text and "I agree" in text
    assert "Sign in to comment" in text
    assert "Reply" not in text and "Report" not in text and "Post comment" not in text
    # line breaks kept (shown with white-space: pre-line)
    assert '<p class="comment-body">第一行\n第二行</p>' in response.text


async def test_a_round_page_has_its_discussion(client, db):
    s = await setup()
    await svc.post_comment(s.council, "round", s.round.id, form("Voting ends on Friday."))
    text = discussion_text((await client.get(f"/budget/rounds/{s.round.id}")).text)
    assert "Voting ends on Friday." in text and "Chen Hui Council" in text


async def test_users_who_may_not_post_see_why(client, db):
    s = await setup()
    for who in ("dora", "finance"):
        async with app_client(client._transport.app) as browser:
            await login(browser, who)
            text = discussion_text((await browser.get(proposal_url(s))).text)
            assert "Only verified residents and council members take part" in text
            assert "Post comment" not in text


async def test_user_text_is_escaped_and_links_are_text(client, db):
    s = await setup()
    await svc.post_comment(
        s.alice,
        "proposal",
        s.proposal.id,
        form('<script>alert(1)</script> <a href="https://x.example">x</a> https://y.example'),
    )
    html = (await client.get(proposal_url(s))).text
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert 'href="https://x.example"' not in html and 'href="https://y.example"' not in html
    assert "https://y.example" in discussion_text(html)


# --- posting --------------------------------------------------------------------------------


async def test_posting_without_javascript_goes_back_to_the_comment(client, db):
    s = await setup()
    await login(client, "alice")
    response = await post_form(client, post_url("proposal", s.proposal.id), form("好", "for"))
    assert response.status_code == 303
    comment = await Comment.get(body="好")
    assert response.headers["location"].endswith(f"{proposal_url(s)}#comment-{comment.id}")
    page = await client.get(response.headers["location"])
    assert "Your comment is posted." in page_text(page.text)
    assert f'id="comment-{comment.id}"' in page.text


async def test_posting_to_a_late_page_goes_to_that_page(client, db):
    s = await setup()
    roots = await many_threads("proposal", s.proposal.id, s.council, discussion.PAGE_SIZE + 4)
    await login(client, "alice")
    response = await post_form(client, post_url("proposal", s.proposal.id), form("late"))
    comment = await Comment.get(body="late")
    after = roots[-discussion.PAGE_SIZE].id  # the page ends with the new comment
    assert response.headers["location"].endswith(
        f"{proposal_url(s)}?comments_after={after}#comment-{comment.id}"
    )
    page = await client.get(response.headers["location"])
    ids = thread_ids(page.text)
    assert ids[-1] == comment.id and len(ids) == discussion.PAGE_SIZE
    assert "Back to the first comments" in discussion_text(page.text)


async def test_posting_with_htmx_returns_the_new_thread_the_counts_and_a_fresh_form(client, db):
    s = await setup()
    await login(client, "alice")
    response = await post_form(
        client, post_url("proposal", s.proposal.id), form("In place", "against"), headers=HTMX
    )
    assert response.status_code == 200
    comment = await Comment.get(body="In place")
    html = response.text
    assert html.lstrip().startswith(f'<li class="thread" id="thread-{comment.id}">')
    assert f'name="posted" value="{comment.id}"' in html
    assert 'id="stance-counts" class="stance-counts" hx-swap-oob="true"' in html
    assert "0 In favour" in page_text(html) and "1 Against" in page_text(html)
    assert 'id="comment-form" class="comment-form" hx-swap-oob="true"' in html
    assert "<textarea" in html and "In place</textarea>" not in html  # the fresh form is empty


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (form("", "for"), "Write your comment."),
        (form("长" * 2001, "for"), "A comment has at most 2000 characters; this one has 2001."),
        (form("kept text", "perhaps"), "Choose in favour, against or neutral."),
    ],
)
async def test_bad_input_is_refused_with_the_text_kept(client, db, data, message):
    s = await setup()
    await login(client, "alice")
    # htmx: the form block again, put in place of the form
    response = await post_form(client, post_url("proposal", s.proposal.id), data, headers=HTMX)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#comment-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert message in page_text(response.text)
    assert f">{data['body']}</textarea>" in response.text
    assert "<html" not in response.text
    # without JavaScript: a page with the form, the message and the text
    response = await post_form(client, post_url("proposal", s.proposal.id), data)
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Your comment is not posted yet." in text and message in text
    assert f">{data['body']}</textarea>" in response.text
    assert s.proposal.title in text
    assert await Comment.all().count() == 0


async def test_the_eleventh_comment_in_a_minute_is_refused_with_429(client, db):
    s = await setup()
    await login(client, "alice")
    for i in range(svc.RATE_LIMIT):
        response = await post_form(client, post_url("proposal", s.proposal.id), form(f"c{i}"))
        assert response.status_code == 303
    response = await post_form(
        client, post_url("proposal", s.proposal.id), form("eleventh"), headers=HTMX
    )
    assert response.status_code == 429
    assert "10 comments in the last minute" in page_text(response.text)
    assert ">eleventh</textarea>" in response.text
    assert response.headers["HX-Retarget"] == "#comment-form"
    response = await post_form(client, post_url("proposal", s.proposal.id), form("eleventh"))
    assert response.status_code == 429
    assert ">eleventh</textarea>" in response.text
    assert "Please wait a minute" in page_text(response.text)
    assert await Comment.filter(author_id=s.alice.id).count() == 10


async def test_refusals_403_and_404(client, db):
    s = await setup()
    # signed out
    response = await post_form(client, post_url("proposal", s.proposal.id), form())
    assert response.status_code == 403
    await login(client, "alice")
    for url in (
        post_url("proposal", 999),
        post_url("round", s.study.id),
        post_url("proposal", s.study_project.id),
        post_url("need", s.proposal.id),
        "/consult/comments/999/reply",
    ):
        response = await post_form(client, url, form())
        assert response.status_code == 404, url
    closed = await make_deliberation(DeliberationPhase.DECIDING)
    response = await post_form(client, post_url("deliberation", closed.id), form())
    assert response.status_code == 403
    assert "closed" in page_text(response.text)
    assert await Comment.all().count() == 0


async def test_the_comment_form_page(client, db):
    s = await setup()
    response = await client.get(post_url("proposal", s.proposal.id))
    assert response.status_code == 303 and "/login" in response.headers["location"]
    await login(client, "dora")
    assert (await client.get(post_url("proposal", s.proposal.id))).status_code == 403
    await login(client, "alice")
    response = await client.get(post_url("proposal", s.proposal.id))
    assert response.status_code == 200
    assert "Add your comment" in page_text(response.text)
    assert audit_html(response.text) == []


# --- replying -------------------------------------------------------------------------------


async def test_replying_without_javascript(client, db):
    s = await setup()
    top = await svc.post_comment(s.bob, "proposal", s.proposal.id, form("Where exactly?"))
    await login(client, "alice")
    page = await client.get(f"/consult/comments/{top.id}/reply")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Reply to Bob Li" in text and "Where exactly?" in text
    assert audit_html(page.text) == []
    response = await post_form(client, f"/consult/comments/{top.id}/reply", form("By the bridge"))
    assert response.status_code == 303
    reply = await Comment.get(body="By the bridge")
    assert response.headers["location"].endswith(f"{proposal_url(s)}#comment-{reply.id}")
    page = await client.get(response.headers["location"])
    assert "Your reply is posted." in page_text(page.text)
    assert re.search(rf'id="replies-{top.id}">\s*<li class="reply">', page.text)


async def test_replying_with_htmx(client, db):
    s = await setup()
    top = await svc.post_comment(s.bob, "proposal", s.proposal.id, form("Where exactly?"))
    await login(client, "alice")
    response = await client.get(f"/consult/comments/{top.id}/reply", headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    assert f'hx-target="#replies-{top.id}"' in response.text
    assert f'hx-target="#reply-slot-{top.id}"' in response.text  # cancel
    cancel = await client.get(f"/consult/comments/{top.id}/reply?cancel=1", headers=HTMX)
    assert cancel.status_code == 200 and cancel.text == ""

    response = await post_form(
        client, f"/consult/comments/{top.id}/reply", form("By the bridge", "for"), headers=HTMX
    )
    assert response.status_code == 200
    reply = await Comment.get(body="By the bridge")
    assert response.text.lstrip().startswith('<li class="reply">')
    assert f'id="comment-{reply.id}"' in response.text
    assert f'<ol class="replies" id="replies-{reply.id}">' in response.text  # for its replies
    assert f'<div id="reply-slot-{top.id}" class="reply-slot" hx-swap-oob="true"></div>' in (
        response.text
    )
    # a reply to the reply: no list of its own (no deeper)
    response = await post_form(
        client, f"/consult/comments/{reply.id}/reply", form("Thanks"), headers=HTMX
    )
    deeper = await Comment.get(body="Thanks")
    assert deeper.depth == 2 and f'id="replies-{deeper.id}"' not in response.text


async def test_replies_to_hidden_or_too_deep_comments_are_refused_with_the_text_kept(client, db):
    s = await setup()
    top = await svc.post_comment(s.bob, "proposal", s.proposal.id, form("top"))
    one = await svc.reply_to_comment(s.bob, top.id, form("one"))
    two = await svc.reply_to_comment(s.bob, one.id, form("two"))
    await svc.hide_comment(s.council, top.id, {"reason": "off topic"})
    await login(client, "alice")
    for target, message in ((top, "hid this comment"), (two, "two levels deep")):
        response = await post_form(
            client, f"/consult/comments/{target.id}/reply", form("my typed text"), headers=HTMX
        )
        assert response.status_code == 422
        assert message in page_text(response.text)
        assert ">my typed text</textarea>" in response.text
        assert response.headers["HX-Retarget"] == f"#reply-slot-{target.id}"
        response = await post_form(
            client, f"/consult/comments/{target.id}/reply", form("my typed text")
        )
        assert response.status_code == 422
        assert "Your reply is not posted yet." in page_text(response.text)
        assert ">my typed text</textarea>" in response.text
        # and there is no form to reach it
        assert (await client.get(f"/consult/comments/{target.id}/reply")).status_code == 403
    assert await Comment.all().count() == 3


# --- controls per permission ----------------------------------------------------------------


async def test_each_user_sees_the_controls_they_may_use(client, db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("mine"))
    controls = re.compile(rf'id="comment-{top.id}".*?</article>', re.S)

    def links(html: str) -> str:
        return page_text(controls.search(html).group(0)).split("mine", 1)[1]

    await login(client, "alice")
    assert links((await client.get(proposal_url(s))).text).split() == ["Reply", "Edit"]
    await login(client, "bob")
    assert links((await client.get(proposal_url(s))).text).split() == ["Reply", "Report"]
    await login(client, "council")
    assert links((await client.get(proposal_url(s))).text).split() == ["Reply", "Report", "Hide"]
    await Comment.filter(id=top.id).update(created_at=top.created_at - timedelta(minutes=16))
    await login(client, "alice")
    assert links((await client.get(proposal_url(s))).text).split() == ["Reply"]


# --- editing --------------------------------------------------------------------------------


async def test_editing_within_15_minutes(client, db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("frist", "for"))
    edit = f"/consult/comments/{top.id}/edit"
    await login(client, "bob")
    assert (await client.get(edit)).status_code == 403
    assert (await post_form(client, edit, form("hacked"))).status_code == 403
    await login(client, "alice")
    page = await client.get(edit)
    assert page.status_code == 200 and ">frist</textarea>" in page.text
    assert audit_html(page.text) == []
    response = await post_form(client, edit, form("", "for"))
    assert response.status_code == 422 and "Write your comment." in page_text(response.text)
    response = await post_form(client, edit, form("first", "for"))
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"#comment-{top.id}")
    text = discussion_text((await client.get(proposal_url(s))).text)
    assert "first (edited)" not in text  # "(edited)" is in the header, before the text
    assert "(edited) first" in text
    await Comment.filter(id=top.id).update(created_at=top.created_at - timedelta(minutes=16))
    response = await client.get(edit)
    assert response.status_code == 403 and "15 minutes" in page_text(response.text)
    assert (await post_form(client, edit, form("late"))).status_code == 403
    assert (await Comment.get(id=top.id)).body == "first"


# --- reporting, hiding, the queue -----------------------------------------------------------


async def test_report_hide_and_the_queue(client, db):
    s = await setup()
    rude = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("你这个人真蠢"))
    reply = await svc.reply_to_comment(s.council, rude.id, form("请文明发言"))
    await login(client, "bob")
    page = await client.get(f"/consult/comments/{rude.id}/report")
    assert page.status_code == 200 and audit_html(page.text) == []
    response = await post_form(client, f"/consult/comments/{rude.id}/report", {"reason": "insult"})
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"#comment-{rude.id}")
    flash = page_text((await client.get(response.headers["location"])).text)
    assert "Thank you: the council will look at this comment." in flash
    response = await post_form(client, f"/consult/comments/{rude.id}/report", {"reason": "again"})
    assert response.status_code == 303
    flash = page_text((await client.get(response.headers["location"])).text)
    assert "You have already reported this comment" in flash
    assert await CommentReport.filter(comment_id=rude.id).count() == 1
    assert (await client.get("/consult/comments/reported")).status_code == 403
    assert (await client.get(f"/consult/comments/{rude.id}/hide")).status_code == 403

    await login(client, "council")
    queue = await client.get("/consult/comments/reported")
    assert queue.status_code == 200 and audit_html(queue.text) == []
    text = page_text(queue.text)
    assert "你这个人真蠢" in text and "Reported 1 time" in text and "insult — Bob Li" in text
    page = await client.get(f"/consult/comments/{rude.id}/hide?back=reports")
    assert page.status_code == 200 and audit_html(page.text) == []
    response = await post_form(
        client, f"/consult/comments/{rude.id}/hide", {"reason": "", "back": "reports"}
    )
    assert response.status_code == 422
    response = await post_form(
        client,
        f"/consult/comments/{rude.id}/hide",
        {"reason": "personal attack", "back": "reports"},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("/consult/comments/reported")
    assert "No comment is waiting" in page_text(
        (await client.get("/consult/comments/reported")).text
    )
    assert (await client.get(f"/consult/comments/{rude.id}/hide")).status_code == 409

    # everyone reads the reason in place of the text; the reply stays
    async with app_client(client._transport.app) as public:
        text = discussion_text((await public.get(proposal_url(s))).text)
    assert "Hidden by the council: personal attack" in text
    assert "你这个人真蠢" not in text and "请文明发言" in text
    assert (await AuditEntry.get(action="comment.hidden")).detail["original_body"] == "你这个人真蠢"
    assert (await Comment.get(id=reply.id)).body == "请文明发言"


async def test_keeping_a_reported_comment(client, db):
    s = await setup()
    fine = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("fine"))
    await svc.report_comment(s.bob, fine.id, {})
    await login(client, "bob")
    response = await post_form(client, f"/consult/comments/{fine.id}/dismiss")
    assert response.status_code == 403
    await login(client, "council")
    response = await post_form(client, f"/consult/comments/{fine.id}/dismiss")
    assert response.status_code == 303
    assert (await Comment.get(id=fine.id)).report_count == 0
    assert "No comment is waiting" in page_text(
        (await client.get("/consult/comments/reported")).text
    )


async def test_the_queue_asks_anonymous_visitors_to_sign_in(client, db):
    response = await client.get("/consult/comments/reported")
    assert response.status_code == 303 and "/login" in response.headers["location"]


# --- load more, long threads ----------------------------------------------------------------


async def test_load_more_without_and_with_javascript(client, db):
    s = await setup()
    size = discussion.PAGE_SIZE
    roots = await many_threads("proposal", s.proposal.id, s.council, 2 * size + 5)
    ids = [r.id for r in roots]
    page = await client.get(proposal_url(s))
    assert thread_ids(page.text) == ids[:size]
    link = f'href="?comments_after={ids[size - 1]}#comments"'
    assert link in page.text
    htmx_url = f"/consult/discussions/proposal/{s.proposal.id}/threads?after={ids[size - 1]}"
    assert f'hx-get="http://testserver{htmx_url}"' in page.text

    # without JavaScript: the page itself, after the cursor
    second = await client.get(f"{proposal_url(s)}?comments_after={ids[size - 1]}")
    assert thread_ids(second.text) == ids[size : 2 * size]
    assert f'href="?comments_after={ids[2 * size - 1]}#comments"' in second.text

    # htmx: the threads appended out of band, and the next link in place of the old one
    fragment = await client.get(htmx_url, headers=HTMX)
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert fragment.text.lstrip().startswith('<ol hx-swap-oob="beforeend:#threads">')
    assert thread_ids(fragment.text) == ids[size : 2 * size]
    assert '<p id="threads-more" class="load-more">' in fragment.text
    last = await client.get(
        f"/consult/discussions/proposal/{s.proposal.id}/threads?after={ids[2 * size - 1]}",
        headers=HTMX,
    )
    assert thread_ids(last.text) == ids[2 * size :]
    assert "Load more comments" not in last.text

    # comments just posted on the page (shown below the list) are left out
    skip = await client.get(f"{htmx_url}&posted={ids[size]}&posted={ids[size + 1]}", headers=HTMX)
    assert thread_ids(skip.text) == ids[size + 2 : 2 * size]

    # the fragment's address opened in a browser: the page after the cursor
    plain = await client.get(htmx_url)
    assert plain.status_code == 303
    assert plain.headers["location"].endswith(
        f"{proposal_url(s)}?comments_after={ids[size - 1]}#comments"
    )


async def test_a_long_thread_links_to_its_own_page(client, db):
    s = await setup()
    top = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("top"))
    await Comment.bulk_create(
        [
            Comment(
                subject_type="proposal",
                subject_id=s.proposal.id,
                parent_id=top.id,
                root_id=top.id,
                depth=1,
                author=s.bob,
                body=f"reply {i}",
            )
            for i in range(discussion.REPLIES_SHOWN + 4)
        ]
    )
    await recount_tallies()  # written in bulk: count the stances again
    await Comment.filter(id=top.id).update(reply_count=discussion.REPLIES_SHOWN + 4)
    text = discussion_text((await client.get(proposal_url(s))).text)
    assert f"reply {discussion.REPLIES_SHOWN - 1}" in text
    assert f"reply {discussion.REPLIES_SHOWN}" not in text
    assert "Read 4 more replies" in text
    thread = await client.get(f"/consult/comments/{top.id}")
    assert thread.status_code == 200 and audit_html(thread.text) == []
    text = page_text(thread.text)
    assert f"reply {discussion.REPLIES_SHOWN + 3}" in text and s.proposal.title in text
    last = await Comment.filter(root_id=top.id).order_by("-id").first()
    response = await client.get(f"/consult/comments/{last.id}")
    assert response.status_code == 303
    assert response.headers["location"].endswith(f"/consult/comments/{top.id}#comment-{last.id}")
    assert (await client.get("/consult/comments/999999")).status_code == 404

    # a reply posted far down the thread: back to it on the thread's page
    await login(client, "alice")
    response = await post_form(client, f"/consult/comments/{top.id}/reply", form("late reply"))
    late = await Comment.get(body="late reply")
    assert response.headers["location"].endswith(
        f"/consult/comments/{top.id}?after={late.id - 1}#comment-{late.id}"
    )
    page = await client.get(response.headers["location"])
    assert "late reply" in page_text(page.text)


@pytest.mark.parametrize("username", [None, "alice", "dora", "council", "finance"])
async def test_discussion_pages_follow_the_house_rules(client, db, username):
    s = await setup()
    top = await svc.post_comment(s.bob, "proposal", s.proposal.id, form("top"))
    reply = await svc.reply_to_comment(s.alice, top.id, form("reply"))
    await svc.report_comment(s.alice, top.id, {})
    if username:
        await login(client, username)
    for url in (
        proposal_url(s),
        f"/budget/rounds/{s.round.id}",
        f"/consult/comments/{top.id}",
        f"/consult/comments/{reply.id}/edit",
        f"/consult/comments/{top.id}/reply",
        f"/consult/comments/{top.id}/report",
        f"/consult/comments/{top.id}/hide",
        "/consult/comments/reported",
        post_url("proposal", s.proposal.id),
    ):
        response = await client.get(url, follow_redirects=True)
        assert response.status_code in (200, 403, 409), (url, response.status_code)
        assert audit_html(response.text) == [], url
