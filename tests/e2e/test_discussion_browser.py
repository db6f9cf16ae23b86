"""In a real browser, with JavaScript on and off: a resident comments on a proposal and replies
to a neighbour (in place with htmx; full pages and 303 without), the thread read on a 360-px
phone without sideways scrolling, and a council member hiding a comment with a reason."""

from __future__ import annotations

from consult.models import Comment
from consult.services import comments as svc
from consult.services import discussion
from tests.consult.discussion_setup import form, many_threads, setup
from tests.helpers import PASSWORD


async def _sign_in(page, username: str) -> None:
    await page.goto("/language?to=en&next=/login")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("form[action$='/login'] button[type=submit]")
    await page.wait_for_selector("button:has-text('Sign out')")


async def test_a_resident_comments_and_replies(page):
    from playwright.async_api import expect

    s = await setup()
    question = await svc.post_comment(
        s.bob, "proposal", s.proposal.id, form("Which side of the canal?", "neutral")
    )
    url = f"/budget/proposals/{s.proposal.id}"
    await _sign_in(page, "alice")
    await page.goto(url)

    # a comment with two lines, a stance and a long unbroken address
    await page.click("label[for=comment-stance-for]")
    await page.fill(
        "#comment-body",
        "Yes please.\nThe old benches are broken: https://example.com/" + "x" * 80,
    )
    await page.click("#comment-form button[type=submit]")
    if page.js_enabled:  # in place: the new thread below the others, a fresh form
        await expect(page.locator("#posted .thread")).to_contain_text("Yes please.")
        assert page.url.endswith(url)
        assert await page.input_value("#comment-body") == ""
        await expect(page.locator("#stance-counts")).to_contain_text("1 In favour")
    else:  # a full page, back at the comment
        await page.wait_for_selector("text=Your comment is posted.")
    mine = await Comment.get(author_id=s.alice.id)
    assert (mine.stance, mine.depth) == ("for", 0)
    assert mine.body.startswith("Yes please.\nThe old benches are broken")
    if not page.js_enabled:
        assert page.url.endswith(f"{url}#comment-{mine.id}")
    body = page.locator(f"#comment-{mine.id} .comment-body")
    assert (await body.inner_text()).startswith("Yes please.\nThe old benches")  # lines kept

    # a reply to Bob's question
    await page.click(f"#comment-{question.id} .comment-actions a:has-text('Reply')")
    await page.fill(f"#reply-{question.id}-body", "The east side, by the bridge.")
    await page.click(f"form[action$='/comments/{question.id}/reply'] button[type=submit]")
    replies = page.locator(f"#replies-{question.id}")
    await expect(replies).to_contain_text("The east side, by the bridge.")
    reply = await Comment.get(author_id=s.alice.id, depth=1)
    assert (reply.parent_id, reply.root_id) == (question.id, question.id)
    if page.js_enabled:
        assert page.url.endswith(url)
        assert await page.locator(f"#reply-slot-{question.id} form").count() == 0
    else:
        assert page.url.endswith(f"{url}#comment-{reply.id}")
        await page.wait_for_selector("text=Your reply is posted.")

    # on a phone: nothing wider than the screen
    await page.set_viewport_size({"width": 360, "height": 740})
    await page.goto(url + "#comments")
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width


async def test_a_council_member_hides_a_comment_with_a_reason(page):
    s = await setup()
    rude = await svc.post_comment(s.alice, "proposal", s.proposal.id, form("You are all idiots."))
    await svc.reply_to_comment(s.bob, rude.id, form("Please stay polite."))
    await _sign_in(page, "council")
    await page.goto(f"/budget/proposals/{s.proposal.id}")
    await page.click(f"#comment-{rude.id} .comment-actions a:has-text('Hide')")
    await page.fill("#reason", "personal attack")
    await page.click("button:has-text('Hide the comment')")
    await page.wait_for_selector("text=Hidden by the council: personal attack")
    text = await page.inner_text("#comments")
    assert "You are all idiots." not in text
    assert "Please stay polite." in text
    hidden = await Comment.get(id=rude.id)
    assert (hidden.body, hidden.hidden_reason) == ("", "personal attack")


async def test_load_more_comments(page):
    """Twenty threads a page: "Load more" appends the next ones in place (htmx) or opens the
    page after them (no JavaScript); a comment just posted is not shown twice."""
    s = await setup()
    size = discussion.PAGE_SIZE
    roots = await many_threads("proposal", s.proposal.id, s.council, size + 5)
    await _sign_in(page, "alice")
    url = f"/budget/proposals/{s.proposal.id}"
    await page.goto(url)
    threads = page.locator("#threads > li.thread")
    assert await threads.count() == size
    if page.js_enabled:  # post first: the new comment shows below the list, once
        await page.fill("#comment-body", "Posted before loading more")
        await page.click("#comment-form button[type=submit]")
        await page.wait_for_selector("#posted .thread")
    await page.click("text=Load more comments")
    if page.js_enabled:
        await page.wait_for_selector(f"#thread-{roots[-1].id}")
        assert await threads.count() == size + 5  # appended to the same list
        assert page.url.endswith(url)
        assert await page.locator(".thread:has-text('Posted before loading more')").count() == 1
        assert await page.locator("text=Load more comments").count() == 0
    else:
        await page.wait_for_selector(f"#thread-{roots[-1].id}")
        assert f"?comments_after={roots[size - 1].id}" in page.url
        assert await threads.count() == 5
        assert await page.locator("text=Load more comments").count() == 0
        await page.click("text=Back to the first comments")
        await page.wait_for_selector(f"#thread-{roots[0].id}")
