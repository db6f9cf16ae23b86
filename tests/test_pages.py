"""House rules checked on every page, for every role: no server error, a strict CSP, no inline
script or style, a label for every input, a CSRF token in every POST form; and every POST
route refuses a request without the token."""

from __future__ import annotations

from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from starlette.routing import Mount, Route

from budget.models import (
    BallotType,
    Envelope,
    Phase,
    Procurement,
    ProcurementKind,
    ProcurementStatus,
    ProposalStatus,
    Rating,
)
from budget.services import ledger, procurement_caps, procurement_files, procurements
from budget.services.pabulib_import import import_pabulib
from budget.services.photos import Upload
from budget.services.studies import set_study_public
from consult.services.comments import post_comment
from core.models import Role
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.consult.meetings_setup import seed_for_pages as seed_meetings
from tests.helpers import (
    bare_request,
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    tiny_png,
)


class _PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []
        self.labels_for: set[str] = set()
        self.inputs: list[tuple[str, dict]] = []
        self.label_depth = 0
        self.form: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "style" in a:
            self.problems.append(f"style attribute on <{tag}>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script" and "src" not in a:
            self.problems.append("inline <script>")
        if any(k.startswith("on") for k in a):
            self.problems.append(f"inline event handler on <{tag}>")
        if tag == "label":
            self.label_depth += 1
            if a.get("for"):
                self.labels_for.add(a["for"])
        if tag == "form":
            self.form = {
                "method": (a.get("method") or "get").lower(),
                "csrf": False,
                "action": a.get("action"),
            }
            if self.form["action"] is None:
                self.problems.append("<form> without action")
        if tag in ("input", "select", "textarea"):
            kind = a.get("type", "text")
            if tag == "input" and a.get("name") == "csrf_token" and self.form is not None:
                self.form["csrf"] = True
            if kind not in ("hidden", "submit", "button", "reset", "image"):
                labelled = self.label_depth > 0 or a.get("aria-label") or a.get("aria-labelledby")
                self.inputs.append(
                    (a.get("id") or "", {"labelled": bool(labelled), "name": a.get("name")})
                )

    def handle_endtag(self, tag):
        if tag == "label" and self.label_depth:
            self.label_depth -= 1
        if tag == "form" and self.form is not None:
            if self.form["method"] == "post" and not self.form["csrf"]:
                self.problems.append(f"POST form to {self.form['action']} without csrf_token")
            self.form = None

    def finish(self) -> list[str]:
        for ident, info in self.inputs:
            if not info["labelled"] and ident not in self.labels_for:
                self.problems.append(f"input {info['name']!r} (id={ident!r}) has no label")
        return self.problems


def audit_html(html: str) -> list[str]:
    parser = _PageAudit()
    parser.feed(html)
    return parser.finish()


def _walk(routes, prefix=""):
    for route in routes:
        if isinstance(route, Mount):
            if route.routes:
                yield from _walk(route.routes, prefix + route.path)
        elif isinstance(route, Route):
            yield prefix + route.path, route.methods or set()


async def _seed(upload_dir):
    east = await make_area("East Gate")
    resident = await make_user("resident", area=east)
    worker = await make_user("worker", role=Role.GRID_WORKER, area=east)
    council = await make_user("council", role=Role.COUNCIL)
    await make_user("admin", role=Role.ADMIN)
    voting = await make_round(
        "Voting round",
        phase=Phase.VOTING,
        ballot_type=BallotType.BUDGET_APPROVAL,
        envelopes={east: 50_000_00, None: 50_000_00},
    )
    proposal = await make_proposal(voting, resident, area=east, status=ProposalStatus.FEASIBLE)
    proposing = await make_round("Proposing round", phase=Phase.PROPOSING)
    await make_proposal(proposing, resident, title="Lights", status=ProposalStatus.SUBMITTED)
    delivered = await _seed_delivered(east, resident)
    study = await import_pabulib(council, "tiny.pb", SMALL_FILE.encode())
    await set_study_public(council, study.id, True, confirmed=True)  # pages for everyone
    money = await _seed_money(east, resident, upload_dir)
    meetings = await seed_meetings(council, proposal)
    deliberation = await _seed_deliberation(east, worker)
    comment = await post_comment(resident, "proposal", proposal.id, {"body": "Hi", "stance": "for"})
    questionnaire = await _seed_questionnaire(east, resident)
    notification = await _seed_notifications(resident, proposal)
    need = await _seed_need(resident, worker, upload_dir)
    await _seed_needs(east, resident)
    convention = await _seed_convention(east, council, resident)
    return {
        **questionnaire,
        "notification_id": notification.id,
        "need_id": need.id,
        **convention,
        **meetings,
        **deliberation,
        "comment_id": comment.id,
        "subject_type": "proposal",
        "subject_id": proposal.id,
        **delivered,
        **money,
        "study_id": study.id,
        "round_id": voting.id,
        "proposal_id": proposal.id,
        "user_id": resident.id,
        "area_id": east.id,
        "photo_id": 999999,
        "worker": worker,
        "council": council,
        **money,
    }


async def _seed_notifications(resident, proposal):
    """The resident's notifications (the list, its "mark all read" form, the header's count)
    and a followed proposal (the Unfollow button)."""
    from tortoise.transactions import in_transaction

    from budget.services.notices import VERDICTS
    from core.models import Notification
    from core.services import notifications

    await notifications.follow(resident.id, "proposal", proposal.id)
    async with in_transaction() as conn:
        await notifications.notify_users(
            [resident.id],
            "proposal_reviewed",
            subject_type="proposal",
            subject_id=proposal.id,
            url=f"/budget/proposals/{proposal.id}",
            params={"title": proposal.title, "verdict": VERDICTS[ProposalStatus.FEASIBLE]},
            using_db=conn,
        )
    return await Notification.get(user_id=resident.id)


async def _seed_delivered(east, resident) -> dict:
    """A round with published results and a delivered procurement of East, rated with a
    comment (the rating form for residents, the hide form for the council)."""
    rnd = await make_round(
        "Implementing round",
        phase=Phase.IMPLEMENTING,
        envelopes={east: 50_000_00},
        results_published_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    envelope = await Envelope.get(round=rnd)
    funded = await make_proposal(rnd, resident, "Benches", area=east, status=ProposalStatus.FUNDED)
    procurement = await Procurement.create(
        round=rnd,
        envelope=envelope,
        proposal=funded,
        area=east,
        kind=ProcurementKind.WORKS,
        title="Benches",
        planned_start=date(2026, 6, 15),
        planned_end=date(2026, 9, 30),
        cap_fen=10_000_00,
        status=ProcurementStatus.DELIVERED,
        delivered_on=date(2026, 9, 1),
    )
    other = await make_user("neighbour", area=east)
    rating = await Rating.create(procurement=procurement, user=other, score=4, comment="Nice")
    return {"money_round_id": rnd.id, "rating_id": rating.id}


async def _seed_money(east, resident, upload_dir) -> dict:
    """A contracted procurement with a payment, a milestone, a document and a cap request, for
    the finance officer's pages."""
    finance = await make_user("finance", role=Role.FINANCE)
    rnd = await make_round(
        "Implementing round",
        phase=Phase.IMPLEMENTING,
        envelopes={east: 80_000_00, None: 20_000_00},
        results_published_at=datetime(2026, 6, 1, tzinfo=UTC),
        implementing_starts=date(2026, 6, 15),
    )
    funded = await make_proposal(rnd, resident, area=east, status=ProposalStatus.FUNDED)
    await funded.fetch_related("round")
    values = procurements.conversion_defaults(funded, finance, rnd)
    p = await procurements.convert_proposal(finance, funded.id, values)
    await procurements.move_procurement(finance, p.id, "tendering", {})
    contract = {"supplier_name": "Works Ltd", "contract_ref": "HT-1"}
    contract |= {"contract_date": "2026-07-01", "contract_amount": "5000"}
    await procurements.move_procurement(finance, p.id, "contracted", contract)
    entry = await ledger.record_entry(
        finance, p.id, {"kind": "pay", "amount": "1000", "entry_date": "2026-08-01"}
    )
    milestone = await procurement_files.add_milestone(
        finance, p.id, {"title": "Start", "planned_date": "2026-08-01"}
    )
    document = await procurement_files.add_document(
        finance,
        p.id,
        {"kind": "contract", "title": "Contract", "public": "on"},
        Upload("c.png", tiny_png()),
        upload_dir,
    )
    change = await procurement_caps.request_cap_raise(
        finance, p.id, {"new_cap": "15000", "reason": "More"}
    )
    return {
        "procurement_id": p.id,
        "entry_id": entry.id,
        "milestone_id": milestone.id,
        "document_id": document.id,
        "change_id": change.id,
        "to_status": "cancelled",
    }


async def _seed_deliberation(east, author) -> dict:
    """A deliberation round of East collecting statements, with an approved statement (the
    vote card for East's resident) and a pending one (the council's queue)."""
    from consult.models import Deliberation, DeliberationArea, Statement, StatementStatus

    d = await Deliberation.create(
        title="Waste sorting", starts_on=date(2026, 3, 1), ends_on=date(2026, 4, 30)
    )
    await DeliberationArea.create(deliberation=d, area=east)
    approved = await Statement.create(
        deliberation=d, author=author, body="Bins", status=StatementStatus.APPROVED
    )
    await Statement.create(deliberation=d, author=author, body="Lids")
    return {"deliberation_id": d.id, "statement_id": approved.id}


async def _seed_questionnaire(east, resident) -> dict:
    """An open questionnaire of East with live results, answered by East's resident (the
    answer form with previous answers, results, a free-text answer to hide)."""
    from consult.models import Answer
    from consult.services.questionnaire_answers import submit_response
    from tests.consult.questionnaire_setup import make_questionnaire

    q, questions, options = await make_questionnaire(areas=(east,), live=True)
    form = {f"q{questions[0].id}": str(options["Yes"]), f"q{questions[2].id}": "3"}
    await submit_response(resident, q.id, {**form, f"q{questions[3].id}": "Brighter lamps"})
    answer = await Answer.get(question_id=questions[3].id)
    return {"questionnaire_id": q.id, "question_id": questions[3].id, "answer_id": answer.id}


async def _seed_need(resident, worker, upload_dir):
    """A need a grid worker entered for the resident, waiting for the council's answer (its
    answer and proposal forms for the council), with a photo."""
    from consult.services.needs import enter_need

    form = {"title": "Lamp", "body": "Out", "category": "roads", "channel": "phone"}
    photo = Upload("lamp.png", tiny_png())
    return await enter_need(
        worker, resident.id, form, [photo], upload_dir=upload_dir, max_bytes=10**6
    )


async def _seed_needs(east, resident) -> None:
    """Needs of East answered, resolved and rated (the dashboard's charts and tables)."""
    from consult.models import NeedChannel
    from tests.consult.need_dashboard_setup import add_need

    await add_need(east, created=None, hours=5, resolved=True, rating=5, resident=resident)
    await add_need(east, NeedChannel.PHONE, hours=30)


_IDS = ("round_id", "proposal_id", "user_id", "area_id", "photo_id", "procurement_id")
_IDS += ("entry_id", "milestone_id", "document_id", "change_id", "rating_id")
_IDS += ("meeting_id", "agenda_id", "action_id", "deliberation_id", "statement_id")
_IDS += ("comment_id", "subject_id", "notification_id", "need_id")
_IDS += ("questionnaire_id", "question_id", "answer_id")
_IDS += ("convention_id", "clause_id", "number")


async def _seed_convention(east, council, resident) -> dict:
    """A convention of East in consultation with a commented clause and a revision being
    written (the council's editor and publish page; the resident's comment form)."""
    from consult.services import convention_phases, conventions
    from tests.consult.convention_setup import CLAUSES

    today = date.today()
    c = await conventions.create_convention(
        council,
        {
            "title": "East Gate convention",
            "opens_on": today.isoformat(),
            "closes_on": date(today.year + 1, 12, 31).isoformat(),
            "areas": [str(east.id)],
            "turnout_percent": "50",
            "majority": "simple",
            "voting_unit": "household",
        },
    )
    for heading, body in CLAUSES:
        clause = await conventions.add_clause(council, c.id, {"heading": heading, "body": body})
    await convention_phases.open_consultation(council, c.id, today=today)
    await post_comment(resident, "clause", clause.id, {"body": "好", "stance": "for"})
    await convention_phases.start_revision(council, c.id)
    return {"convention_id": c.id, "clause_id": clause.id, "number": 1}


def _fill(path: str, ids: dict) -> str:
    if path.startswith("/budget/studies/"):
        path = path.replace("{round_id:int}", str(ids["study_id"]))
    if path.endswith(("/spending", "/ocds.json")):  # only a round with published results
        path = path.replace("{round_id:int}", str(ids["money_round_id"]))
    for key in _IDS:
        path = path.replace("{" + key + ":int}", str(ids[key]))
    path = path.replace("{occurrence}", ids["occurrence"])
    path = path.replace("{subject_type}", ids["subject_type"])
    return path.replace("{to_status}", ids["to_status"])


@pytest.mark.parametrize("username", [None, "resident", "worker", "council", "admin", "finance"])
async def test_every_page_follows_the_house_rules(app, client, db, username):
    ids = await _seed(app.state.settings.upload_dir)
    if username:
        await login(client, username)
    checked = 0
    for path, methods in _walk(app.routes):
        if "GET" not in methods or path.startswith("/static") or path in ("/logout", "/language"):
            continue
        url = _fill(path, ids)
        response = await client.get(url)
        assert response.status_code < 500, (url, response.text[:300])
        if response.status_code == 200 and "text/html" in response.headers["content-type"]:
            assert "script-src 'self'" in response.headers["content-security-policy"]
            problems = audit_html(response.text)
            assert not problems, (url, problems)
            checked += 1
    assert checked >= 8


async def test_every_post_route_requires_the_csrf_token(app, client, db):
    ids = await _seed(app.state.settings.upload_dir)
    await login(client, "council")
    for path, methods in _walk(app.routes):
        if "POST" not in methods:
            continue
        url = _fill(path, ids)
        response = await client.post(url, data={"x": "1"})
        assert response.status_code == 403, (url, response.status_code)


def test_the_page_audit_catches_what_it_should():
    bad = (
        '<form method="post" action="/x"><input name="a" id="a"></form>'
        '<p style="color:red" onclick="x()">x</p><script>alert(1)</script>'
    )
    problems = audit_html(bad)
    assert any("without csrf_token" in p for p in problems)
    assert any("has no label" in p for p in problems)
    assert any("style attribute" in p for p in problems)
    assert any("inline <script>" in p for p in problems)
    good = (
        '<form method="post" action="/x"><input type="hidden" name="csrf_token" value="t">'
        '<label for="a">A</label><input name="a" id="a"></form>'
    )
    assert audit_html(good) == []


def test_cached_url_for_builds_the_same_urls_as_starlette(app):
    from core.web.templates import url_for
    from core.web.urls import _route_index

    request = bare_request(app)
    index = _route_index(app)
    assert "budget:proposal_detail" in index and "core:login" in index
    for name, (_path, convertors) in index.items():
        params = {key: 7 for key in convertors}
        assert str(url_for({"request": request}, name, **params)) == str(
            request.url_for(name, **params)
        )


@pytest.mark.parametrize("query", ["", "?area={area_id}&channel=phone", "?year=2025", "?area=abc"])
async def test_the_needs_dashboard_follows_the_house_rules(app, client, db, query):
    ids = await _seed(app.state.settings.upload_dir)
    response = await client.get("/needs" + query.format(area_id=ids["area_id"]))
    assert response.status_code == (422 if "abc" in query else 200)
    assert audit_html(response.text) == []
    assert "script-src 'self'" in response.headers["content-security-policy"]
    csv_file = await client.get("/needs/stats.csv" + query.format(area_id=ids["area_id"]))
    assert csv_file.status_code == (422 if "abc" in query else 200)
