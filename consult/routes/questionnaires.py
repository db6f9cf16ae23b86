"""Questionnaires: the list, a questionnaire's page (its answer form for a resident who may
answer), answering; the council's pages to build a draft (settings, questions, preview),
publish it and close it early. Results, moderation and exports are in
consult.routes.questionnaire_results, mounted with these."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.models import QuestionKind, Questionnaire
from consult.permissions import can
from consult.routes import questionnaire_results as result_routes
from consult.services import questionnaire_answers as answers
from consult.services import questionnaire_publishing as publishing
from consult.services import questionnaire_questions as builder
from consult.services import questionnaires as service
from core.errors import NotFound, ValidationError
from core.i18n import _, format_dt
from core.models import Area
from core.web import (
    flash,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    require,
    with_user,
)
from core.web.limits import MB, body_limit

# Up to MAX_QUESTIONS free-text answers of MAX_TEXT_ANSWER characters, percent-encoded.
ANSWERS_LIMIT = 2 * MB


def detail_url(request: Request, questionnaire_id: int) -> str:
    return str(request.url_for("consult:questionnaire_detail", questionnaire_id=questionnaire_id))


def _qid(request: Request) -> int:
    return request.path_params["questionnaire_id"]


@with_user
async def questionnaire_list(request: Request) -> Response:
    """Open questionnaires (those the visitor may answer first), the coming ones, drafts for
    the council, and closed ones with their results, a page at a time."""
    user = request.state.user
    listing = await service.list_questionnaires(
        user, int_param(request.query_params.get("page"), 1)
    )
    return render(
        request,
        "consult/questionnaire_list.html",
        {"listing": listing, "can": can},
    )


async def _page_context(request: Request, q: Questionnaire, **extra: Any) -> dict[str, Any]:
    user = request.state.user
    questions = await service.load_questions(q.id)
    own = await answers.own_response(user, q.id)
    staff = can(user, "create_questionnaire")
    ctx = {
        "q": q,
        "questions": questions,
        "state": q.state_at(service.now_utc()),
        "own": own,
        "values": own.values if own else {},
        "errors": {},
        "can": can,
        "may_answer": can(user, "answer_questionnaire", q),
        "refusal": None,
        "respondents": None,
        "problems": [],
        "preview": False,
    }
    reason = answers.refusal(user, q, service.now_utc()) if user else None
    if reason and user is not None and user.area_id is not None:
        ctx["refusal"] = reason[1]
    if staff:
        ctx["respondents"] = await service.respondent_count(q.id)
        if q.published_at is None:
            ctx["problems"] = publishing.publish_problems(q, questions, service.now_utc())
    ctx.update(extra)
    return ctx


@with_user
async def questionnaire_detail(request: Request) -> Response:
    """A questionnaire: introduction, areas, dates; the answer form (with the resident's
    previous answers) while it is open; the council's tools while it is a draft."""
    q = await service.get_questionnaire(_qid(request), request.state.user)
    ctx = await _page_context(request, q)
    return render(request, "consult/questionnaire_detail.html", ctx)


@body_limit(ANSWERS_LIMIT)
@login_required
async def questionnaire_answer(request: Request) -> Response:
    """Store a resident's answers (or replace them); bad answers → 422 with every answer kept
    and a message beside each question concerned."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    form = await read_form(request)
    try:
        response, created = await answers.submit_response(user, q.id, form)
    except ValidationError as exc:
        questions = await service.load_questions(q.id)
        ctx = await _page_context(
            request, q, values=answers.typed_answers(questions, form), errors=exc.errors
        )
        return render(request, "consult/questionnaire_detail.html", ctx, status_code=422)
    until = format_dt(q.closes_at)
    if created:
        flash(
            request,
            _("Thank you: your answers are saved. You can change them until {until}.", until=until),
        )
    else:
        flash(
            request,
            _("Your changed answers are saved. You can change them until {until}.", until=until),
        )
    return redirect(request, detail_url(request, q.id) + "#answers")


@login_required
async def questionnaire_preview(request: Request) -> Response:
    """The council sees the questionnaire as a resident will (the form cannot be sent)."""
    user = request.state.user
    require(can(user, "create_questionnaire"), _("Only council members preview questionnaires."))
    q = await service.get_questionnaire(_qid(request), user)
    ctx = await _page_context(request, q, preview=True, values={}, own=None, may_answer=False)
    return render(request, "consult/questionnaire_detail.html", ctx)


# --- the council builds a draft ---------------------------------------------------------------


def _settings_page(request, q, values, errors, areas, status_code=200) -> Response:
    return render(
        request,
        "consult/questionnaire_form.html",
        {"q": q, "values": values, "errors": errors, "areas": areas},
        status_code=status_code,
    )


@login_required
async def questionnaire_new(request: Request) -> Response:
    """Start a questionnaire: title, introduction, areas, dates (local time)."""
    user = request.state.user
    require(can(user, "create_questionnaire"), _("Only council members make questionnaires."))
    areas = await Area.all()
    if request.method == "POST":
        form = await read_form(request)
        try:
            q = await service.create_questionnaire(user, form)
        except ValidationError as exc:
            return _settings_page(
                request, None, service.typed_settings(form), exc.errors, areas, 422
            )
        flash(request, _("The draft {title} is saved. Now add its questions.", title=q.title))
        return redirect(request, detail_url(request, q.id))
    return _settings_page(request, None, service.settings_values(), {}, areas)


@login_required
async def questionnaire_edit(request: Request) -> Response:
    """Change a draft's settings."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    require(can(user, "edit_questionnaire", q), _("Only a draft questionnaire can be changed."))
    areas = await Area.all()
    if request.method == "POST":
        form = await read_form(request)
        try:
            q = await service.edit_questionnaire(user, q.id, form)
        except ValidationError as exc:
            return _settings_page(request, q, service.typed_settings(form), exc.errors, areas, 422)
        flash(request, _("The questionnaire {title} is saved.", title=q.title))
        return redirect(request, detail_url(request, q.id))
    return _settings_page(request, q, service.settings_values(q), {}, areas)


def _question_page(request, q, question, values, errors, status_code=200) -> Response:
    return render(
        request,
        "consult/questionnaire_question_form.html",
        {
            "q": q,
            "question": question,
            "values": values,
            "errors": errors,
            "kinds": list(QuestionKind),
        },
        status_code=status_code,
    )


@login_required
async def question_new(request: Request) -> Response:
    """Add a question to a draft."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    require(can(user, "edit_questionnaire", q), _("Only a draft questionnaire can be changed."))
    if request.method == "POST":
        form = await read_form(request)
        try:
            await builder.add_question(user, q.id, form)
        except ValidationError as exc:
            return _question_page(request, q, None, builder.typed_question(form), exc.errors, 422)
        flash(request, _("The question is added."))
        return redirect(request, detail_url(request, q.id) + "#questions")
    return _question_page(request, q, None, builder.question_values(), {})


async def _question(q: Questionnaire, question_id: int):
    for question in await service.load_questions(q.id):
        if question.id == question_id:
            return question
    raise NotFound(_("This question does not exist."))


@login_required
async def question_edit(request: Request) -> Response:
    """Change a draft's question and its options."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    require(can(user, "edit_questionnaire", q), _("Only a draft questionnaire can be changed."))
    question = await _question(q, request.path_params["question_id"])
    if request.method == "POST":
        form = await read_form(request)
        try:
            await builder.edit_question(user, q.id, question.id, form)
        except ValidationError as exc:
            return _question_page(
                request, q, question, builder.typed_question(form), exc.errors, 422
            )
        flash(request, _("The question is saved."))
        return redirect(request, detail_url(request, q.id) + "#questions")
    return _question_page(request, q, question, builder.question_values(question), {})


@login_required
async def question_delete(request: Request) -> Response:
    """Remove a question from a draft: a confirmation page, then POST."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    require(can(user, "edit_questionnaire", q), _("Only a draft questionnaire can be changed."))
    question = await _question(q, request.path_params["question_id"])
    if request.method == "POST":
        await read_form(request)  # checks the CSRF token
        await builder.delete_question(user, q.id, question.id)
        flash(request, _("The question is removed."))
        return redirect(request, detail_url(request, q.id) + "#questions")
    return render(
        request, "consult/questionnaire_question_delete.html", {"q": q, "question": question}
    )


@login_required
async def question_move(request: Request) -> Response:
    """Move a draft's question up or down."""
    user = request.state.user
    form = await read_form(request)
    direction = "up" if form.get("direction") == "up" else "down"
    await builder.move_question(user, _qid(request), request.path_params["question_id"], direction)
    flash(request, _("The order of the questions is changed."))
    return redirect(request, detail_url(request, _qid(request)) + "#questions")


# --- publishing and closing -------------------------------------------------------------------


@login_required
async def questionnaire_publish(request: Request) -> Response:
    """Publish a draft (confirmation page): its questions can no longer change afterwards."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    if request.method == "POST":
        await read_form(request)  # checks the CSRF token
        q = await publishing.publish_questionnaire(user, q.id)
        now = service.now_utc()
        if q.opens_at <= now:
            flash(request, _("The questionnaire {title} is published and open.", title=q.title))
        else:
            flash(
                request,
                _(
                    "The questionnaire {title} is published; it opens on {day}.",
                    title=q.title,
                    day=format_dt(q.opens_at),
                ),
            )
        return redirect(request, detail_url(request, q.id))
    require(
        can(user, "publish_questionnaire", q), _("Only a draft questionnaire can be published.")
    )
    questions = await service.load_questions(q.id)
    problems = publishing.publish_problems(q, questions, service.now_utc())
    return render(
        request,
        "consult/questionnaire_publish.html",
        {"q": q, "questions": questions, "problems": problems},
    )


@login_required
async def questionnaire_close(request: Request) -> Response:
    """Close an open questionnaire now (confirmation page)."""
    user = request.state.user
    q = await service.get_questionnaire(_qid(request), user)
    if request.method == "POST":
        await read_form(request)  # checks the CSRF token
        q = await publishing.close_questionnaire(user, q.id)
        flash(
            request,
            _("The questionnaire {title} is closed; its results are public.", title=q.title),
        )
        return redirect(request, detail_url(request, q.id))
    require(can(user, "close_questionnaire", q), _("Only an open questionnaire can be closed."))
    respondents = await service.respondent_count(q.id)
    return render(request, "consult/questionnaire_close.html", {"q": q, "respondents": respondents})


ID = "/questionnaires/{questionnaire_id:int}"
QUESTION = ID + "/questions/{question_id:int}"

routes: list[Route] = [
    Route("/questionnaires", questionnaire_list, name="questionnaire_list"),
    Route(
        "/questionnaires/new", questionnaire_new, methods=["GET", "POST"], name="questionnaire_new"
    ),
    Route(ID, questionnaire_detail, name="questionnaire_detail"),
    Route(ID + "/answer", questionnaire_answer, methods=["POST"], name="questionnaire_answer"),
    Route(ID + "/preview", questionnaire_preview, name="questionnaire_preview"),
    Route(ID + "/edit", questionnaire_edit, methods=["GET", "POST"], name="questionnaire_edit"),
    Route(
        ID + "/questions/new",
        question_new,
        methods=["GET", "POST"],
        name="questionnaire_question_new",
    ),
    Route(
        QUESTION + "/edit",
        question_edit,
        methods=["GET", "POST"],
        name="questionnaire_question_edit",
    ),
    Route(
        QUESTION + "/delete",
        question_delete,
        methods=["GET", "POST"],
        name="questionnaire_question_delete",
    ),
    Route(QUESTION + "/move", question_move, methods=["POST"], name="questionnaire_question_move"),
    Route(
        ID + "/publish",
        questionnaire_publish,
        methods=["GET", "POST"],
        name="questionnaire_publish",
    ),
    Route(ID + "/close", questionnaire_close, methods=["GET", "POST"], name="questionnaire_close"),
    *result_routes.routes,
]
