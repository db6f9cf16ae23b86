"""Questionnaire pages through the app, for each role: the list, answering (422 with every
answer kept and a message beside each question; 403 for other areas; 409 outside the dates),
the council's draft pages, publishing and closing, results, moderation and the CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from consult.models import Answer, Questionnaire, QuestionnaireResponse
from consult.services import questionnaire_answers as answering
from core.models import Role
from tests.consult.questionnaire_setup import answers, make_questionnaire, world
from tests.helpers import login, make_user, page_text, post_form
from tests.test_pages import audit_html


def _url(w, tail: str = "") -> str:
    return f"/consult/questionnaires/{w.q.id}{tail}"


async def test_a_resident_answers_and_sees_the_answers_again(client, db):
    w = await world()
    await login(client, "alice")
    page = await client.get(_url(w))
    assert page.status_code == 200 and audit_html(page.text) == []
    assert "Send my answers" in page.text
    response = await post_form(
        client, _url(w, "/answer"), answers(w, multiple=["Lighting", "Fraud"])
    )
    assert response.status_code == 303
    page = await client.get(_url(w))
    text = page_text(page.text)
    assert "You answered on" in text and "you can change your answers until" in text
    assert f'value="{w.options["Fraud"]}" checked' in page.text
    assert "More patrols" in page.text
    assert "Save my changed answers" in text


async def test_bad_answers_are_422_with_every_answer_kept(client, db):
    w = await world()
    await login(client, "alice")
    bad = answers(w, single="", multiple=["Lighting", "Fraud", "E-bikes"], scale="7", text="x" * 60)
    response = await post_form(client, _url(w, "/answer"), bad)
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Please answer this question." in text
    assert "Choose at most 2 options." in text
    assert "Choose a number from 1 to 5." in text
    assert "At most 50 characters (you wrote 60)." in text
    assert "x" * 60 in response.text  # what was typed is kept
    assert f'value="{w.options["E-bikes"]}" checked' in response.text
    assert audit_html(response.text) == []
    assert await QuestionnaireResponse.all().count() == 0


async def test_an_option_of_another_question_is_422(client, db):
    w = await world()
    await login(client, "alice")
    form = answers(w)
    form[f"q{w.single.id}"] = str(w.options["Fraud"])
    response = await post_form(client, _url(w, "/answer"), form)
    assert response.status_code == 422
    assert "Choose from the options given." in page_text(response.text)


async def test_other_areas_are_403_and_dates_409(client, db):
    w = await world()
    await login(client, "bob")
    page = await client.get(_url(w))
    assert "This questionnaire is for residents of other areas." in page_text(page.text)
    assert "Send my answers" not in page.text
    response = await post_form(client, _url(w, "/answer"), answers(w))
    assert response.status_code == 403
    closed, questions, options = await make_questionnaire(title="Old", state="closed")
    await login(client, "alice")
    response = await post_form(
        client,
        f"/consult/questionnaires/{closed.id}/answer",
        {f"q{questions[0].id}": str(options["Yes"])},
    )
    assert response.status_code == 409
    assert "has closed" in page_text(response.text)
    soon, questions, options = await make_questionnaire(title="Soon", state="scheduled")
    response = await post_form(
        client,
        f"/consult/questionnaires/{soon.id}/answer",
        {f"q{questions[0].id}": str(options["Yes"])},
    )
    assert response.status_code == 409
    assert "not open yet" in page_text(response.text)
    assert await QuestionnaireResponse.all().count() == 0


async def test_the_public_reads_but_does_not_answer(client, db):
    w = await world()
    page = await client.get(_url(w))
    assert page.status_code == 200 and "Sign in" in page_text(page.text)
    response = await client.post(_url(w, "/answer"), data={})
    assert response.status_code == 403  # no CSRF token, no session
    assert (await client.get(_url(w, "/results"))).status_code == 403
    assert (await client.get(_url(w, "/responses.csv"))).status_code == 303  # to sign in


async def test_drafts_are_hidden_from_everyone_but_the_council(client, db):
    w = await world(state="draft")
    assert (await client.get(_url(w))).status_code == 404
    await login(client, "alice")
    assert (await client.get(_url(w))).status_code == 404
    listing = await client.get("/consult/questionnaires")
    assert "Community safety" not in listing.text
    await login(client, "council")
    listing = await client.get("/consult/questionnaires")
    assert "Drafts (only the council sees them)" in page_text(listing.text)
    for tail in (
        "",
        "/edit",
        "/questions/new",
        f"/questions/{w.single.id}/edit",
        f"/questions/{w.single.id}/delete",
        "/preview",
        "/publish",
    ):
        page = await client.get(_url(w, tail))
        assert page.status_code == 200, tail
        assert audit_html(page.text) == [], tail


async def test_the_council_builds_previews_and_publishes(client, db):
    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    today = datetime.now(UTC).date()
    response = await post_form(
        client,
        "/consult/questionnaires/new",
        {
            "title": "",
            "opens_on": today.isoformat(),
            "opens_time": "00:00",
            "closes_on": (today + timedelta(days=9)).isoformat(),
            "closes_time": "20:00",
        },
    )
    assert response.status_code == 422 and "This field is required." in page_text(response.text)
    assert f'value="{(today + timedelta(days=9)).isoformat()}"' in response.text
    response = await post_form(
        client,
        "/consult/questionnaires/new",
        {
            "title": "社区食堂",
            "opens_on": today.isoformat(),
            "opens_time": "00:00",
            "closes_on": (today + timedelta(days=9)).isoformat(),
            "closes_time": "20:00",
        },
    )
    assert response.status_code == 303
    q = await Questionnaire.get(title="社区食堂")
    base = f"/consult/questionnaires/{q.id}"
    response = await post_form(
        client, base + "/questions/new", {"kind": "multiple", "prompt": "", "options": "a"}
    )
    assert response.status_code == 422
    text = page_text(response.text)
    assert "This field is required." in text and "Write at least two options" in text
    response = await post_form(
        client,
        base + "/questions/new",
        {"kind": "single", "prompt": "午餐价格", "options": "8元\n10元\n12元", "required": "on"},
    )
    assert response.status_code == 303
    preview = await client.get(base + "/preview")
    assert (
        "午餐价格" in preview.text
        and "10元" in preview.text
        and "Send my answers" not in preview.text
    )
    confirm = await client.get(base + "/publish")
    assert "its questions can no longer be changed" in page_text(confirm.text)
    response = await post_form(client, base + "/publish")
    assert response.status_code == 303
    assert (await Questionnaire.get(id=q.id)).published_at is not None
    assert (await client.get(base + "/edit")).status_code == 403
    response = await post_form(client, base + "/questions/new", {"kind": "text", "prompt": "x"})
    assert response.status_code == 403
    # close early (confirm page first)
    assert "This cannot be undone." in page_text((await client.get(base + "/close")).text)
    assert (await post_form(client, base + "/close")).status_code == 303
    assert (await Questionnaire.get(id=q.id)).closed_early_at is not None
    assert (await post_form(client, base + "/close")).status_code == 409


async def test_results_for_each_role(client, db):
    w = await world()
    await answering.submit_response(w.alice, w.q.id, answers(w))
    await login(client, "alice")
    response = await client.get(_url(w, "/results"))
    assert response.status_code == 403
    assert "once the questionnaire has closed" in page_text(response.text)
    await login(client, "council")
    page = await client.get(_url(w, "/results"))
    assert page.status_code == 200 and audit_html(page.text) == []
    assert "<svg" in page.text and "these are the answers so far" in page_text(page.text)
    await Questionnaire.filter(id=w.q.id).update(closes_at=datetime.now(UTC) - timedelta(seconds=1))
    client.cookies.clear()
    page = await client.get(_url(w, "/results"))
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Yes 1 100.0%" in text  # the table: option, count, percent
    assert "Mean: 4.00 out of 5" in text
    assert "More patrols" in text
    assert "percentages add up to more than 100 %" in text


async def test_live_results_when_the_council_ticked_it(client, db):
    w = await world(live=True)
    await login(client, "alice")
    assert (await client.get(_url(w, "/results"))).status_code == 200


async def test_the_council_hides_a_free_text_answer(client, db):
    w = await world()
    await answering.submit_response(w.alice, w.q.id, answers(w, text="Call 13800000000"))
    answer = await Answer.get(question_id=w.text.id)
    await login(client, "alice")
    assert (await client.get(_url(w, f"/answers/{answer.id}/hide"))).status_code == 403
    await login(client, "council")
    listing = await client.get(_url(w, f"/questions/{w.text.id}/answers"))
    assert "Call 13800000000" in listing.text
    response = await post_form(client, _url(w, f"/answers/{answer.id}/hide"), {"reason": ""})
    assert response.status_code == 422 and "Say why the answer is hidden." in response.text
    response = await post_form(
        client, _url(w, f"/answers/{answer.id}/hide"), {"reason": "A phone number"}
    )
    assert response.status_code == 303
    listing = await client.get(_url(w, f"/questions/{w.text.id}/answers"))
    assert "Call 13800000000" not in listing.text
    assert "No answers to show." in page_text(listing.text)


async def test_the_csv_names_nobody_and_blanks_hidden_answers(client, db):
    w = await world()
    carol = await make_user("carol", area=w.east, display_name="Carol Li")
    await answering.submit_response(w.alice, w.q.id, answers(w, multiple=["E-bikes", "Lighting"]))
    await answering.submit_response(
        carol, w.q.id, answers(w, single="No", multiple=[], text="Hide me")
    )
    hidden = await Answer.get(text="Hide me")
    await Answer.filter(id=hidden.id).update(hidden_at=datetime.now(UTC), hide_reason="x")
    await login(client, "alice")
    assert (await client.get(_url(w, "/responses.csv"))).status_code == 403
    await login(client, "council")
    response = await client.get(_url(w, "/responses.csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == [
        "Response",
        "1. Do you feel safe at night?",
        "2. What worries you?",
        "3. How good is the street lighting?",
        "4. Anything else?",
    ]
    assert sorted(r[0] for r in rows[1:]) == ["1", "2"]
    by_answer = {r[1]: r for r in rows[1:]}
    assert by_answer["Yes"][2] == "Lighting; E-bikes"  # in the options' order
    assert by_answer["No"][2] == "" and by_answer["No"][4] == ""  # hidden: blank
    body = response.content.decode("utf-8-sig")
    for personal in ("alice", "Alice", "carol", "Carol", "Hide me"):
        assert personal not in body
    summary = await client.get(_url(w, "/summary.csv"))
    rows = list(csv.reader(io.StringIO(summary.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["Question", "Answer", "Count", "Percent of those who answered"]
    assert ["1. Do you feel safe at night?", "Yes", "1", "50.0", "2"] in rows


async def test_the_list_puts_the_residents_open_questionnaires_first(client, db):
    w = await world()  # East only
    other, *_rest = await make_questionnaire(title="West canteen", areas=(w.west,))
    await make_questionnaire(title="Closed survey", state="closed")
    await login(client, "alice")
    page = await client.get("/consult/questionnaires")
    assert page.status_code == 200 and audit_html(page.text) == []
    text = page_text(page.text)
    assert text.index("Community safety") < text.index("West canteen") < text.index("Closed survey")
    await login(client, "bob")
    text = page_text((await client.get("/consult/questionnaires")).text)
    assert text.index("West canteen") < text.index("Community safety")


async def test_the_empty_list_says_so(client, db):
    page = await client.get("/consult/questionnaires")
    assert "No questionnaires yet." in page_text(page.text)
