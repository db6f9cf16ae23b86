"""Issue 13, defect 9: on a refused form (422) the summary at the top names the field of each
message ("Title: This field is required."), on every kind of form, in both languages."""

from __future__ import annotations

import re

from core.models import Role
from tests.helpers import login, make_area, make_user, page_text, post_form


def summary(html: str) -> list[str]:
    """The lines of the page's error summary (a list, or the one-line summary of a comment)."""
    box = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert box, "no error summary"
    lines = re.findall(r"<li>.*?</li>", box.group(0), re.S)
    return [page_text(line) for line in lines] or [page_text(box.group(0))]


def names(html: str, *expected: str) -> None:
    lines = summary(html)
    for line in expected:
        assert any(line in got for got in lines), (line, lines)


async def test_comment_and_reply(client, db):
    from tests.consult.discussion_setup import form, setup

    s = await setup()
    await login(client, "alice")
    url = f"/consult/discussions/proposal/{s.proposal.id}/comments"
    response = await post_form(client, url, form(""))
    assert response.status_code == 422
    names(response.text, "Your comment: Write your comment.")
    response = await post_form(client, url, form("kept text", "perhaps"))
    assert response.status_code == 422
    names(response.text, "Your stance: Choose in favour, against or neutral.")


async def test_statement(client, db):
    from tests.consult.deliberation_setup import district

    s = await district()
    await login(client, "alice")
    response = await post_form(
        client, f"/consult/deliberations/{s.d.id}/statements/new", {"body": ""}
    )
    assert response.status_code == 422
    names(response.text, "Write a statement: This field is required.")


async def test_convention_and_clause(client, db):
    from consult.models import Convention
    from tests.consult.convention_setup import district, settings

    s = await district()
    await login(client, "council")
    base = "/consult/conventions"
    response = await post_form(client, base + "/new", settings(s, turnout_percent="120", title=""))
    assert response.status_code == 422
    names(response.text, "Title: This field is required.", "Minimum turnout (%): ")
    assert (await post_form(client, base + "/new", settings(s))).status_code == 303
    c = await Convention.get()
    response = await post_form(client, f"{base}/{c.id}/clauses", {"heading": "", "body": "x"})
    assert response.status_code == 422
    names(response.text, "Heading: This field is required.")


async def test_questionnaire_answers_name_their_question(client, db):
    from tests.consult.questionnaire_setup import answers, world

    w = await world()
    await login(client, "alice")
    bad = answers(w, scale="7")
    response = await post_form(client, f"/consult/questionnaires/{w.q.id}/answer", bad)
    assert response.status_code == 422
    names(response.text, f". {w.scale.prompt}: Choose a number from 1 to 5.")


async def test_password_change_and_reset(client, db):
    await make_user("li")
    await login(client, "li")
    response = await post_form(
        client,
        "/account/password",
        {"current_password": "", "password": "x", "password_confirm": "y"},
    )
    assert response.status_code == 422
    names(response.text, "Current password: ")
    await post_form(client, "/logout")
    response = await post_form(
        client,
        "/password/reset",
        {"username": "", "code": "", "password": "", "password_confirm": ""},
    )
    assert response.status_code == 422
    names(response.text, "Username: ")


async def test_procurement_conversion(client, db):
    from tests.budget.test_procurement_routes import finance_in

    fr = await finance_in(client)
    response = await post_form(
        client,
        f"/budget/proposals/{fr.benches.id}/convert",
        {"title": "", "kind": "works", "planned_start": "2026-07-01", "planned_end": "2026-08-01"},
    )
    assert response.status_code == 422
    names(response.text, "Title: This field is required.", "Budget cap in yuan: ")


async def test_area_form_in_chinese(client, db):
    await make_area("East Gate")
    await make_user("admin", role=Role.ADMIN)
    await login(client, "admin")
    client.cookies.set("lang", "zh_CN")
    response = await post_form(client, "/areas/new", {"name": "", "description": ""})
    assert response.status_code == 422
    lines = summary(response.text)
    assert any(line.startswith("名称：") for line in lines), lines
