"""Issue 13, defect 6: switching the language in the middle of a form keeps what was typed,
also without JavaScript. On a page with a form the header's switch is a button that sends
that form to POST /language, which keeps its text for the page (core.web.kept_forms) and
303s back to it, now in the other language; a plain link (GET) still works everywhere else."""

from __future__ import annotations

import html
import re

from tests.budget.test_proposals_routes import FORM, resident_in_round
from tests.core.test_kept_forms import decoded_session, field_value
from tests.helpers import csrf_token, login, make_area, make_round, make_user, page_text

TEXT = {**FORM, "title": "Shade sails over the sandpit", "description": "长椅 & <shade>"}


def switch(html: str) -> str:
    """The header's language switch (the element)."""
    return re.search(r"<(?:a|button)[^>]*data-keep-forms[^>]*>[^<]*</(?:a|button)>", html).group(0)


async def test_the_switch_on_a_form_page_sends_that_form(client, db):
    rnd, _, _ = await resident_in_round(client)
    page = await client.get(f"/budget/rounds/{rnd.id}/propose")
    button = switch(page.text)
    assert button.startswith("<button") and 'type="submit"' in button
    assert 'form="proposal-form"' in button and '<form id="proposal-form"' in page.text
    assert 'formmethod="post"' in button and "formnovalidate" in button
    assert 'formenctype="application/x-www-form-urlencoded"' in button  # photos are not sent
    assert f'next=/budget/rounds/{rnd.id}/propose"' in button
    # a page without a form worth keeping keeps the plain link
    assert switch((await client.get("/budget/proposals")).text).startswith("<a ")


async def test_what_was_typed_comes_back_in_the_other_language(client, db):
    rnd, _, _ = await resident_in_round(client)
    path = f"/budget/rounds/{rnd.id}/propose"
    token = await csrf_token(client, path)
    response = await client.post(
        f"/language?to=zh_CN&next={path}", data={**TEXT, "csrf_token": token}
    )
    assert response.status_code == 303 and response.headers["location"] == path
    again = await client.get(path)
    assert again.status_code == 200
    assert '<html lang="zh-CN">' in again.text and "提出项目" in page_text(again.text)
    assert field_value(again.text, "title") == TEXT["title"]
    assert "长椅 &amp; &lt;shade&gt;</textarea>" in again.text
    assert field_value(again.text, "cost") == TEXT["cost"]
    # once: the next visit is an empty form, and back in English by the plain link
    assert field_value((await client.get(path)).text, "title") == ""
    assert (await client.get(f"/language?to=en&next={path}")).status_code == 303
    assert '<html lang="en">' in (await client.get(path)).text


async def test_a_multipart_form_works_too_and_its_files_are_not_kept(client, db):
    rnd, _, _ = await resident_in_round(client)
    path = f"/budget/rounds/{rnd.id}/propose"
    token = await csrf_token(client, path)
    response = await client.post(
        f"/language?to=zh_CN&next={path}",
        data={**TEXT, "csrf_token": token},
        files={"photos": ("sandpit.png", b"\x89PNG not really", "image/png")},
    )
    assert response.status_code == 303 and response.headers["location"] == path
    kept = dict(decoded_session(client)["_kept"]["fields"])
    assert kept["title"] == TEXT["title"] and "photos" not in kept
    assert "csrf_token" not in kept
    assert field_value((await client.get(path)).text, "title") == TEXT["title"]


async def test_next_on_another_site_is_not_followed_nor_kept_for(client, db):
    rnd, _, _ = await resident_in_round(client)
    token = await csrf_token(client, f"/budget/rounds/{rnd.id}/propose")
    for target in ("https://evil.example/x", "//evil.example/x", "/\\evil.example"):
        response = await client.post(
            "/language", params={"to": "zh_CN", "next": target}, data={**TEXT, "csrf_token": token}
        )
        assert response.status_code == 303
        assert response.headers["location"] == "http://testserver/", target
        assert "_kept" not in decoded_session(client)


async def test_without_the_token_nothing_is_switched_and_the_text_stays(client, db):
    rnd, _, _ = await resident_in_round(client)
    path = f"/budget/rounds/{rnd.id}/propose"
    await client.get(path)
    response = await client.post(f"/language?to=zh_CN&next={path}", data=TEXT)
    assert response.status_code == 403  # no Referer: the plain refusal, nothing kept
    assert "_kept" not in decoded_session(client)
    response = await client.post(
        f"/language?to=zh_CN&next={path}",
        data={**TEXT, "csrf_token": "aged"},
        headers={"Referer": f"http://testserver{path}"},
    )
    # an aged token: back to the form with its text, as for any form (core.web.errors)
    assert response.status_code == 303 and response.headers["location"] == path
    again = await client.get(path)
    assert field_value(again.text, "title") == TEXT["title"]
    assert '<html lang="en">' in again.text


async def test_a_ballot_and_passwords_never_get_the_button(client, db):
    from budget.models import Phase

    rnd = await make_round("Ballot", phase=Phase.VOTING)
    await make_user("voter", area=await make_area())
    await login(client, "voter")
    for path in (f"/budget/rounds/{rnd.id}/ballot", "/account/password"):
        assert switch((await client.get(path)).text).startswith("<a "), path
    await client.post("/logout", data={"csrf_token": await csrf_token(client, "/login")})
    assert switch((await client.get("/login")).text).startswith("<a ")
    # and a ballot sent to the switch anyway keeps none of its choices
    token = await csrf_token(client, "/login")
    await client.post(
        f"/language?to=zh_CN&next=/budget/rounds/{rnd.id}/ballot",
        data={"project": ["7", "9"], "points-7": "3", "csrf_token": token},
    )
    assert "_kept" not in decoded_session(client)


async def test_ticked_boxes_of_one_group_come_back_ticked(client, db):
    from tests.consult.convention_setup import district, settings

    s = await district()
    others = [await make_area(f"Area {n}") for n in range(12)]  # ids past 10: "1" is not "11"
    await login(client, "council")
    path = "/consult/conventions/new"
    page = await client.get(path)
    assert 'form="convention-form"' in switch(page.text)
    token = await csrf_token(client, path)
    ticked = [str(s.west.id), str(others[-1].id)]
    form = {**settings(s, areas=ticked), "csrf_token": token}
    response = await client.post(f"/language?to=zh_CN&next={path}", data=form)
    assert response.status_code == 303
    again = (await client.get(path)).text
    checked = set(re.findall(r'id="areas-(\d+)"[^>]* checked', again))
    assert checked == set(ticked)
    assert "为建设文明和谐社区，制定本公约。</textarea>" in again
    # one box alone, kept as text, is one box too
    await client.post(
        f"/language?to=en&next={path}",
        data={**settings(s, areas=[str(others[-1].id)]), "csrf_token": token},
    )
    again = (await client.get(path)).text
    assert set(re.findall(r'id="areas-(\d+)"[^>]* checked', again)) == {str(others[-1].id)}


async def test_the_discussion_box_under_a_proposal_keeps_its_text_too(client, db):
    """A page whose form is a panel's (the new comment under a proposal): the switch sends it
    when the box is there, and the text and stance come back in the box after the switch;
    a visitor, who has no box, gets the plain link."""
    from tests.consult.discussion_setup import setup

    s = await setup()
    path = f"/budget/proposals/{s.proposal.id}"
    assert switch((await client.get(path)).text).startswith("<a ")
    await login(client, "bob")
    page = await client.get(path)
    button = switch(page.text)
    assert 'form="comment-fields"' in button and '<form id="comment-fields"' in page.text
    token = await csrf_token(client, path)
    typed = {"body": "长椅旁边要有树荫 <b>please</b>", "stance": "for"}
    # where the button sends the form, as a browser reads it
    action = html.unescape(re.search(r'formaction="([^"]+)"', button).group(1))
    assert action.endswith(f"/language?to=zh_CN&next={path}&form=comment-fields")
    response = await client.post(action, data={**typed, "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == path
    again = await client.get(path)
    assert '<html lang="zh-CN">' in again.text
    assert "长椅旁边要有树荫 &lt;b&gt;please&lt;/b&gt;</textarea>" in again.text
    assert re.search(r'<input type="radio" id="comment-stance-for"[^>]* checked', again.text)
    # once only
    assert "长椅旁边要有树荫" not in (await client.get(path)).text


async def test_on_a_deliberation_page_the_statement_box_is_sent_not_the_discussion_box(client, db):
    """A page with its own box and a discussion box: the switch sends the page's (the new
    statement), and its text comes back in that box only, never in the discussion's."""
    from consult.models import DeliberationPhase
    from tests.consult.discussion_setup import make_deliberation, setup

    await setup()
    d = await make_deliberation(DeliberationPhase.COLLECTING)
    path = f"/consult/deliberations/{d.id}"
    await login(client, "bob")
    page = await client.get(path)
    assert page.status_code == 200
    button = switch(page.text)
    assert 'form="statement-new-form"' in button and "form=statement-new-form" in button
    assert '<form id="statement-new-form"' in page.text and 'id="comment-fields"' in page.text
    token = await csrf_token(client, path)
    response = await client.post(
        f"/language?to=zh_CN&next={path}&form=statement-new-form",
        data={"body": "分类垃圾桶放在楼下", "csrf_token": token},
    )
    assert response.status_code == 303
    again = (await client.get(path)).text
    statement_box = again[again.index('<form id="statement-new-form"') :]
    statement_box = statement_box[: statement_box.index("</form>")]
    assert "分类垃圾桶放在楼下</textarea>" in statement_box
    assert again.count("分类垃圾桶放在楼下") == 1  # not in the discussion box


async def test_a_form_shown_only_sometimes_declares_itself_only_then(client, db):
    """Reporting a comment: the switch sends the report form (its reason comes back after
    the switch); once reported, the page has no form and the switch is a plain link."""
    from consult.services import comments as comment_svc
    from tests.consult.discussion_setup import form, setup

    s = await setup()
    rude = await comment_svc.post_comment(s.alice, "proposal", s.proposal.id, form("你真蠢"))
    path = f"/consult/comments/{rude.id}/report"
    await login(client, "bob")
    page = await client.get(path)
    button = switch(page.text)
    assert 'form="report-form"' in button and '<form id="report-form"' in page.text
    action = html.unescape(re.search(r'formaction="([^"]+)"', button).group(1))
    token = await csrf_token(client, path)
    response = await client.post(action, data={"reason": "人身攻击", "csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == path
    kept = (await client.get(path)).text
    assert 'name="reason" type="text" maxlength="200" value="人身攻击"' in kept
    await comment_svc.report_comment(s.bob, rude.id, {"reason": "人身攻击"})
    assert switch((await client.get(path)).text).startswith("<a ")
