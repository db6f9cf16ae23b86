"""Deliberation rounds: the list, a round's page (its statements, analysis and decision),
opening and editing one, moving it to the next phase and publishing its decision; and `panel`,
what the page of a proposal, budgeting round or meeting shows of the decisions about it.

Statements and votes have their own module (consult.routes.statements), mounted with these.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound, Route

from consult.models import DeliberationPhase, SubjectType
from consult.permissions import can, concerns
from consult.routes import statements as statement_routes
from consult.services import decisions
from consult.services import deliberations as service
from consult.services.analysis import analysis_of
from consult.services.statements import own_statements, status_counts
from consult.services.votes import next_statement
from core.errors import ValidationError
from core.i18n import _
from core.models import Area
from core.web import (
    flash,
    follow_state,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    render_fragment,
    require,
    subject_panels,
    with_user,
)
from core.web.limits import LONG_TEXT_LIMIT, body_limit

LINKED_SUBJECTS = (SubjectType.PROPOSAL, SubjectType.ROUND, SubjectType.MEETING)


def detail_url(request: Request, deliberation_id: int) -> str:
    return str(request.url_for("consult:deliberation_detail", deliberation_id=deliberation_id))


def meeting_url(request: Request, meeting_id: int) -> str | None:
    """A meeting's page, once the meetings' routes name it `consult:meeting_detail`."""
    try:
        return str(request.url_for("consult:meeting_detail", meeting_id=meeting_id))
    except NoMatchFound:
        return None


@with_user
async def deliberation_list(request: Request) -> Response:
    """Every deliberation round, newest first: filtered by area, phase and year, searched by
    title, paginated; htmx swaps only the results."""
    filters = service.DeliberationFilters.from_query(request.query_params)
    page = await service.list_page(filters, int_param(request.query_params.get("page"), 1))
    ctx = {
        "page": page,
        "filters": filters,
        "areas": await Area.all(),
        "years": await service.list_years(),
        "phases": list(DeliberationPhase),
        "DISTRICT": service.DISTRICT,
        "can": can,
    }
    return render(request, "consult/deliberation_list.html", ctx, block="results")


async def round_page_context(request: Request, d: Any, **extra: Any) -> dict[str, Any]:
    """What a round's page shows (also for the statement form's refusals and fragments)."""
    user = request.state.user
    voting = can(user, "vote_in_deliberation", d)
    published = d.phase == DeliberationPhase.PUBLISHED
    return {
        "d": d,
        "timetable": service.timetable(d),
        "can": can,
        "concerned": concerns(d, user) if user else False,
        "counts": await status_counts(d),
        "own": await own_statements(user, d),
        "next": await next_statement(user, d) if voting else None,
        "voting": voting,
        "analysis": await analysis_of(d),
        "links": await decisions.decision_links(d) if published else [],
        "meeting_url": lambda meeting_id: meeting_url(request, meeting_id),
        "values": {},
        "errors": {},
        **extra,
    }


@with_user
async def deliberation_detail(request: Request) -> Response:
    """A round: description, areas, dates and phase; a statement to vote on and the form to
    submit one; common ground, opinion groups and divisive statements; the decision and what
    it concerns once published; its discussion and meetings (panels)."""
    d = await service.get_deliberation(request.path_params["deliberation_id"])
    ctx = await round_page_context(request, d)
    ctx["panels"] = await subject_panels(request, "deliberation", d.id)
    ctx["follow"] = await follow_state(request, "deliberation", d.id)
    return render(request, "consult/deliberation_detail.html", ctx)


def _form_page(
    request: Request, d: Any, values: dict, errors: dict, areas: list, status_code: int = 200
) -> Response:
    return render(
        request,
        "consult/deliberation_form.html",
        {"d": d, "values": values, "errors": errors, "areas": areas},
        status_code=status_code,
    )


@body_limit(LONG_TEXT_LIMIT)
@login_required
async def deliberation_new(request: Request) -> Response:
    """Open a deliberation round: title, description, areas concerned, dates."""
    user = request.state.user
    require(can(user, "create_deliberation"), _("Only council members open deliberation rounds."))
    areas = await Area.all()
    if request.method == "POST":
        form = await read_form(request)
        try:
            d = await service.create_deliberation(user, form)
        except ValidationError as exc:
            return _form_page(request, None, service.form_values(form), exc.errors, areas, 422)
        flash(request, _("The deliberation round {title} is open for statements.", title=d.title))
        return redirect(request, detail_url(request, d.id))
    return _form_page(request, None, service.deliberation_form_values(), {}, areas)


@body_limit(LONG_TEXT_LIMIT)
@login_required
async def deliberation_edit(request: Request) -> Response:
    """Change a round's title, description, areas or dates, until its decision is published."""
    user = request.state.user
    d = await service.get_deliberation(request.path_params["deliberation_id"])
    require(can(user, "edit_deliberation", d), _("You may not edit this deliberation round."))
    areas = await Area.all()
    if request.method == "POST":
        form = await read_form(request)
        try:
            d = await service.edit_deliberation(user, d.id, form)
        except ValidationError as exc:
            return _form_page(request, d, service.form_values(form), exc.errors, areas, 422)
        flash(request, _("The deliberation round {title} is saved.", title=d.title))
        return redirect(request, detail_url(request, d.id))
    return _form_page(request, d, service.deliberation_form_values(d), {}, areas)


@login_required
async def deliberation_advance(request: Request) -> Response:
    """Move a round to its next phase: a confirmation page, then POST."""
    user = request.state.user
    d = await service.get_deliberation(request.path_params["deliberation_id"])
    require(can(user, "advance_deliberation", d), service.advance_refusal(d))
    if request.method == "POST":
        form = await read_form(request)
        from_phase = str(form.get("from_phase") or "") or None
        d = await service.advance_deliberation(user, d.id, from_phase)
        flash(
            request,
            _(
                "The deliberation round {title} is now in the phase {phase}.",
                title=d.title,
                phase=d.phase_enum.label,
            ),
        )
        return redirect(request, detail_url(request, d.id))
    counts = await status_counts(d)
    return render(
        request,
        "consult/deliberation_advance.html",
        {"d": d, "next_phase": d.phase_enum.next, "pending": counts.get("pending", 0)},
    )


async def _publish_page(
    request: Request, d: Any, values: dict, errors: dict, status_code: int = 200
) -> Response:
    ctx = {"d": d, "values": values, "errors": errors, **await decisions.decision_choices()}
    return render(request, "consult/deliberation_publish.html", ctx, status_code=status_code)


@body_limit(LONG_TEXT_LIMIT)
@login_required
async def deliberation_publish(request: Request) -> Response:
    """The council publishes the summary and the decision, with the proposals, budgeting rounds
    and meetings it concerns; the round becomes published."""
    user = request.state.user
    d = await service.get_deliberation(request.path_params["deliberation_id"])
    if request.method == "POST":
        form = await read_form(request)
        try:
            d = await decisions.publish_decision(user, d.id, form)
        except ValidationError as exc:
            return await _publish_page(
                request, d, decisions.decision_form_values(form), exc.errors, 422
            )
        flash(request, _("The decision on {title} is published.", title=d.title))
        return redirect(request, detail_url(request, d.id) + "#decision")
    require(can(user, "publish_decision", d), decisions.publish_refusal(d))
    return await _publish_page(request, d, decisions.decision_form_values(), {})


async def panel(request: Request, subject_type: str, subject_id: int) -> str:
    """On a proposal, budgeting round or meeting page: the deliberation rounds whose published
    decision concerns it ("" when none; one indexed query)."""
    if subject_type not in LINKED_SUBJECTS:
        return ""
    found = await decisions.decisions_about(subject_type, subject_id)
    if not found:
        return ""
    return render_fragment(request, "consult/_deliberation_panel.html", {"decisions": found})


routes: list[Route] = [
    Route("/deliberations", deliberation_list, name="deliberation_list"),
    Route("/deliberations/new", deliberation_new, methods=["GET", "POST"], name="deliberation_new"),
    Route(
        "/deliberations/{deliberation_id:int}",
        deliberation_detail,
        name="deliberation_detail",
    ),
    Route(
        "/deliberations/{deliberation_id:int}/edit",
        deliberation_edit,
        methods=["GET", "POST"],
        name="deliberation_edit",
    ),
    Route(
        "/deliberations/{deliberation_id:int}/advance",
        deliberation_advance,
        methods=["GET", "POST"],
        name="deliberation_advance",
    ),
    Route(
        "/deliberations/{deliberation_id:int}/publish",
        deliberation_publish,
        methods=["GET", "POST"],
        name="deliberation_publish",
    ),
    *statement_routes.routes,
]
