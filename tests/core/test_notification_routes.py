"""The notifications list (/notifications), opening one, "mark all read", the header's count,
and the Follow / Unfollow button (/follow) — through the app, as a browser uses them."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tortoise.transactions import in_transaction

from budget.models import Phase
from core.models import AuditEntry, Follow, Notification
from core.services import notifications
from tests.helpers import (
    csrf_token,
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)
from tests.querycount import count_queries


async def _notify(user, n: int = 1, *, url: str = "/budget/rounds/1", title: str = "Spring"):
    """`n` notifications for `user`, one transaction each (ids grow with time, as in use)."""
    for i in range(n):
        async with in_transaction() as conn:
            await notifications.notify_users(
                [user.id],
                "minutes_published",
                subject_type="meeting",
                subject_id=1,
                url=url,
                params={"title": f"{title} {i + 1}"},
                using_db=conn,
            )


class _Items(HTMLParser):
    """The list's items: (text, unread) per <li class="notification">."""

    def __init__(self) -> None:
        super().__init__()
        self.items: list[list] = []
        self._in = 0

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "li" and "notification" in classes:
            self.items.append(["", "unread" in classes])
            self._in = 1

    def handle_endtag(self, tag):
        if tag == "li":
            self._in = 0

    def handle_data(self, data):
        if self._in and self.items:
            self.items[-1][0] += data


def _items(html: str) -> list[tuple[str, bool]]:
    parser = _Items()
    parser.feed(html)
    return [(" ".join(text.split()), unread) for text, unread in parser.items]


def _header_count(html: str) -> int | None:
    """The count beside "Notifications" in the header (None: no badge)."""
    match = re.search(r'class="notifications-link">[^<]*<span class="count"[^>]*>(\d+)<', html)
    return int(match.group(1)) if match else None


# --- the list ------------------------------------------------------------------------------


async def test_the_list_shows_the_newest_first_marks_unread_then_marks_them_read(client, db):
    ana = await make_user("ana", area=await make_area())
    await _notify(ana, 3)
    first = (await Notification.filter(user_id=ana.id).order_by("id").first()).id
    await notifications.mark_read(ana.id, [first])
    await login(client, "ana")

    page = await client.get("/notifications")
    assert page.status_code == 200
    assert _items(page.text)[0][0].startswith("New Minutes of “Spring 3” were published")
    assert [unread for _text, unread in _items(page.text)] == [True, True, False]
    # the header already counts what is left once this page is seen
    assert _header_count(page.text) is None
    assert await notifications.unread_count(ana.id) == 0

    again = await client.get("/notifications")
    assert [unread for _text, unread in _items(again.text)] == [False, False, False]


async def test_the_header_shows_the_unread_count_on_any_page_in_one_query(client, db):
    ana = await make_user("ana", area=await make_area())
    await _notify(ana, 3)
    await login(client, "ana")
    with count_queries() as queries:
        page = await client.get("/budget/")
    assert _header_count(page.text) == 3
    assert ": 3 unread" in page_text(page.text)  # what a screen reader says
    counts = [q for q in queries if "notification" in q.lower()]
    assert len(counts) == 1 and '"account"' in counts[0]  # in the user's own query
    await notifications.mark_read(ana.id)
    assert _header_count((await client.get("/budget/")).text) is None


async def test_a_visitor_sees_no_count_and_is_sent_to_sign_in(client, db):
    page = await client.get("/budget/")
    assert "notifications-link" not in page.text
    response = await client.get("/notifications")
    assert response.status_code == 303
    assert response.headers["location"].startswith("http://testserver/login?next=%2Fnotifications")
    assert (await client.get(f"/notifications/{1}")).status_code == 303


async def test_the_list_comes_a_page_at_a_time_by_cursor(client, db):
    ana = await make_user("ana", area=await make_area())
    await _notify(ana, notifications.PAGE_SIZE + 3)
    await login(client, "ana")
    first = await client.get("/notifications")
    items = _items(first.text)
    assert len(items) == notifications.PAGE_SIZE
    assert "“Spring 23”" in items[0][0] and "“Spring 4”" in items[-1][0]
    older = re.search(r'href="([^"]*/notifications\?before=\d+)"', first.text).group(1)
    second = await client.get(older)
    assert [t.split("“")[1].split("”")[0] for t, _u in _items(second.text)] == [
        "Spring 3",
        "Spring 2",
        "Spring 1",
    ]
    assert "Older notifications" not in page_text(second.text)
    assert "Newest notifications" in page_text(second.text)
    assert await notifications.unread_count(ana.id) == 0  # each page seen, each marked
    assert (await client.get("/notifications?before=abc")).status_code == 200


async def test_an_empty_list_says_how_to_get_notifications(client, db):
    await make_user("ana", area=await make_area())
    await login(client, "ana")
    text = page_text((await client.get("/notifications")).text)
    assert "No notifications yet" in text
    assert "Mark all as read" not in text


async def test_mark_all_read_answers_303_and_clears_the_count(client, db):
    ana = await make_user("ana", area=await make_area())
    await _notify(ana, 2)
    await login(client, "ana")
    page = await client.get("/budget/")
    assert _header_count(page.text) == 2
    response = await post_form(client, "/notifications/read")
    assert response.status_code == 303
    assert response.headers["location"].endswith("/notifications")
    assert await notifications.unread_count(ana.id) == 0
    followed = await client.get(response.headers["location"])
    assert "All your notifications are marked as read." in page_text(followed.text)
    # without the CSRF token: refused, nothing changed
    await _notify(ana)
    assert (await client.post("/notifications/read")).status_code == 403
    assert await notifications.unread_count(ana.id) == 1


async def test_opening_a_notification_marks_it_read_and_goes_to_its_page(client, db):
    ana = await make_user("ana", area=await make_area())
    ben = await make_user("ben", area=await make_area("West"))
    await _notify(ana, url="/budget/rounds/7#phase")
    await _notify(ben)
    mine = await Notification.get(user_id=ana.id)
    theirs = await Notification.get(user_id=ben.id)
    await login(client, "ana")
    response = await client.get(f"/notifications/{mine.id}")
    assert response.status_code == 303
    assert response.headers["location"] == "/budget/rounds/7#phase"
    assert (await Notification.get(id=mine.id)).read_at is not None
    # someone else's: 404, and it stays unread
    assert (await client.get(f"/notifications/{theirs.id}")).status_code == 404
    assert (await Notification.get(id=theirs.id)).read_at is None


async def test_opening_never_leaves_the_site(client, db):
    ana = await make_user("ana", area=await make_area())
    for url in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "javascript:x"):
        await _notify(ana, url=url)
    await login(client, "ana")
    for n in await Notification.filter(user_id=ana.id):
        response = await client.get(f"/notifications/{n.id}")
        assert response.status_code == 303
        assert response.headers["location"] == "http://testserver/notifications", n.url


# --- following ------------------------------------------------------------------------------


async def _proposal_page_setup():
    area = await make_area()
    ana = await make_user("ana", area=area)
    author = await make_user("bo", area=area)
    rnd = await make_round(phase=Phase.PROPOSING)
    proposal = await make_proposal(rnd, author, area=area)
    return ana, rnd, proposal


async def test_follow_and_unfollow_a_proposal_from_its_page_without_javascript(client, db):
    ana, _rnd, proposal = await _proposal_page_setup()
    await login(client, "ana")
    page = await client.get(f"/budget/proposals/{proposal.id}")
    assert "Follow" in page_text(page.text) and "Unfollow" not in page_text(page.text)
    form = {
        "subject_type": "proposal",
        "subject_id": str(proposal.id),
        "follow": "1",
        "next": f"/budget/proposals/{proposal.id}",
    }
    response = await post_form(client, "/follow", form)
    assert response.status_code == 303
    assert response.headers["location"] == f"/budget/proposals/{proposal.id}"
    assert await notifications.is_following(ana.id, "proposal", proposal.id)
    page = await client.get(response.headers["location"])
    text = page_text(page.text)
    assert f"You follow “{proposal.title}”" in text and "Unfollow" in text
    assert await AuditEntry.filter(action="follow.started", actor_id=ana.id).count() == 1

    response = await post_form(client, "/follow", {**form, "follow": "0"})
    assert response.status_code == 303
    assert not await notifications.is_following(ana.id, "proposal", proposal.id)
    # twice in a row (a double click) leaves one row, not two
    await post_form(client, "/follow", form)
    await post_form(client, "/follow", form)
    assert await Follow.filter(user_id=ana.id).count() == 1


async def test_with_htmx_the_button_is_swapped_in_place(client, db):
    ana, rnd, _proposal = await _proposal_page_setup()
    await login(client, "ana")
    token = await csrf_token(client, f"/budget/rounds/{rnd.id}")
    response = await client.post(
        "/follow",
        data={"subject_type": "round", "subject_id": str(rnd.id), "follow": "1", "next": "/x"},
        headers={"HX-Request": "true", "X-CSRF-Token": token},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith(f'<div class="follow" id="follow-round-{rnd.id}">')
    assert "<html" not in response.text
    assert "Unfollow" in page_text(response.text) and "You now follow this." in response.text
    assert await notifications.is_following(ana.id, "round", rnd.id)


async def test_only_known_and_existing_subjects_can_be_followed(client, db):
    ana, rnd, proposal = await _proposal_page_setup()
    study = await make_round("Imported", is_study=True)
    await login(client, "ana")
    for subject_type, subject_id in (
        ("banana", str(proposal.id)),  # not a kind any app registered
        ("proposal", "999999"),  # no such proposal
        ("proposal", "abc"),
        ("round", str(study.id)),  # an imported election is studied, not followed
        ("clause", "1"),  # a clause: one follows its consultation
    ):
        response = await post_form(
            client,
            "/follow",
            {"subject_type": subject_type, "subject_id": subject_id, "follow": "1", "next": "/"},
        )
        assert response.status_code == 404, (subject_type, subject_id)
    assert await Follow.filter(user_id=ana.id).count() == 0


async def test_a_visitor_is_sent_to_sign_in_and_a_missing_token_is_refused(client, db):
    _ana, _rnd, proposal = await _proposal_page_setup()
    page = await client.get(f"/budget/proposals/{proposal.id}")
    assert "Sign in to follow this" in page_text(page.text)
    form = {"subject_type": "proposal", "subject_id": str(proposal.id), "follow": "1"}
    response = await post_form(client, "/follow", {**form, "next": "/budget/"})
    assert response.status_code == 303
    assert "/login?next=%2Fbudget%2F" in response.headers["location"]
    await login(client, "ana")
    assert (await client.post("/follow", data=form)).status_code == 403
    assert await Follow.all().count() == 0


async def test_the_way_back_is_only_ever_a_page_of_this_site(client, db):
    _ana, _rnd, proposal = await _proposal_page_setup()
    await login(client, "ana")
    form = {"subject_type": "proposal", "subject_id": str(proposal.id), "follow": "1"}
    response = await post_form(client, "/follow", {**form, "next": "//evil.example/"})
    assert response.status_code == 303
    assert response.headers["location"] == "http://testserver/"


async def test_the_button_is_on_the_round_deliberation_and_meeting_pages(client, db):
    from tests.consult.deliberation_setup import make_deliberation
    from tests.consult.discussion_setup import make_meeting

    _ana, rnd, _proposal = await _proposal_page_setup()
    d = await make_deliberation()
    meeting = await make_meeting()
    await login(client, "ana")
    for path, element in (
        (f"/budget/rounds/{rnd.id}", f"follow-round-{rnd.id}"),
        (f"/consult/deliberations/{d.id}", f"follow-deliberation-{d.id}"),
        (f"/consult/meetings/{meeting.id}", f"follow-meeting-{meeting.id}"),
    ):
        page = await client.get(path)
        assert page.status_code == 200
        assert f'id="{element}"' in page.text, path
        subject_type, subject_id = element.split("-")[1:]
        response = await post_form(
            client,
            "/follow",
            {"subject_type": subject_type, "subject_id": subject_id, "follow": "1", "next": path},
        )
        assert response.status_code == 303, path
    assert await Follow.all().count() == 3
