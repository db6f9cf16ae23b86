"""A questionnaire's results (charts and tables), the pages of its free-text answers, hiding
one (council), and the CSV exports (council). Results are the council's at once, public once
the questionnaire has closed, and residents' while open when the council chose so."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.models import Questionnaire
from consult.permissions import can
from consult.services import questionnaire_results as service
from consult.services.questionnaires import get_questionnaire
from core.errors import PermissionDenied, ValidationError
from core.i18n import _, format_dt
from core.services.audit_log import record_export
from core.web import (
    client_address,
    flash,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    require,
    with_user,
)


def _results_refusal(q: Questionnaire) -> str:
    if q.state_at(datetime.now(UTC)).value == "scheduled":
        return _("This questionnaire is not open yet; its results are shown once it has closed.")
    return _(
        "The results are shown once the questionnaire has closed, on {day}.",
        day=format_dt(q.closes_at),
    )


async def _visible(request: Request) -> Questionnaire:
    user = request.state.user
    q = await get_questionnaire(request.path_params["questionnaire_id"], user)
    if not can(user, "see_results", q):
        raise PermissionDenied(_results_refusal(q))
    return q


@with_user
async def questionnaire_results(request: Request) -> Response:
    """Per question: counts and percentages with a bar chart and the same figures in a
    table, the mean of a scale, the first free-text answers; respondents and turnout."""
    q = await _visible(request)
    found = await service.results(q)
    return render(
        request,
        "consult/questionnaire_results.html",
        {"q": q, "results": found, "state": q.state_at(datetime.now(UTC)), "can": can},
    )


@with_user
async def text_answers(request: Request) -> Response:
    """A free-text question's answers, a page at a time (hidden ones are not listed)."""
    q = await _visible(request)
    question = await service.text_question(q, request.path_params["question_id"])
    page = await service.text_answers_page(question, int_param(request.query_params.get("page"), 1))
    return render(
        request,
        "consult/questionnaire_text_answers.html",
        {"q": q, "question": question, "page": page, "can": can},
    )


@login_required
async def hide_answer(request: Request) -> Response:
    """A council member hides a free-text answer, with a reason (a form, then POST)."""
    user = request.state.user
    q = await get_questionnaire(request.path_params["questionnaire_id"], user)
    require(can(user, "moderate_answers", q), _("Only council members hide answers."))
    answer = await service.get_text_answer(q, request.path_params["answer_id"])
    back = str(
        request.url_for(
            "consult:questionnaire_text_answers",
            questionnaire_id=q.id,
            question_id=answer.question_id,
        )
    )
    values, errors, status = {}, {}, 200
    if request.method == "POST":
        form = await read_form(request)
        try:
            await service.hide_answer(user, q, answer.id, form.get("reason"))
        except ValidationError as exc:
            values, errors, status = {"reason": str(form.get("reason") or "")}, exc.errors, 422
        else:
            flash(request, _("The answer is hidden; it is no longer listed or exported."))
            return redirect(request, back)
    return render(
        request,
        "consult/questionnaire_hide_answer.html",
        {"q": q, "answer": answer, "back": back, "values": values, "errors": errors},
        status_code=status,
    )


def _csv_response(body: str, name: str) -> Response:
    return Response(
        body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@login_required
async def responses_csv(request: Request) -> Response:
    """Every response, a row each, in a random order and without names (council)."""
    user = request.state.user
    q = await get_questionnaire(request.path_params["questionnaire_id"], user)
    require(can(user, "export_questionnaire", q), _("Only council members export the answers."))
    await record_export(user, "questionnaire", q, client_address(request), table="responses")
    return _csv_response(await service.responses_csv(q), f"questionnaire-{q.id}-responses.csv")


@login_required
async def summary_csv(request: Request) -> Response:
    """The figures per option (council)."""
    user = request.state.user
    q = await get_questionnaire(request.path_params["questionnaire_id"], user)
    require(can(user, "export_questionnaire", q), _("Only council members export the answers."))
    await record_export(user, "questionnaire", q, client_address(request), table="summary")
    return _csv_response(await service.summary_csv(q), f"questionnaire-{q.id}-summary.csv")


ID = "/questionnaires/{questionnaire_id:int}"

routes: list[Route] = [
    Route(ID + "/results", questionnaire_results, name="questionnaire_results"),
    Route(
        ID + "/questions/{question_id:int}/answers",
        text_answers,
        name="questionnaire_text_answers",
    ),
    Route(
        ID + "/answers/{answer_id:int}/hide",
        hide_answer,
        methods=["GET", "POST"],
        name="questionnaire_hide_answer",
    ),
    Route(ID + "/responses.csv", responses_csv, name="questionnaire_responses_csv"),
    Route(ID + "/summary.csv", summary_csv, name="questionnaire_summary_csv"),
]
