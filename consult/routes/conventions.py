"""Conventions (rule consultations): the list, a convention's page (its current text, clause
comment counts, the vote, the outcome with its figures), its versions with what changed, a
clause's page with its discussion; the council's settings form and text editor. The phase
steps (open, revise, ratify, close, amend) and the vote are consult.routes.convention_phases.

URLs (mounted at /consult): /conventions, /conventions/new, /conventions/{id},
/conventions/{id}/edit, /conventions/{id}/text, /conventions/{id}/versions/{number},
/conventions/{id}/clauses[/{clause_id}/edit|move|remove], /conventions/clauses/{clause_id}.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.models import (
    Clause,
    ClauseText,
    ConventionState,
    Majority,
    RatificationChoice,
    VotingUnit,
)
from consult.permissions import can, takes_part
from consult.routes import convention_phases
from consult.services import convention_reading as reading
from consult.services import conventions as service
from consult.services.convention_phases import settle_due
from consult.services.ratification import cast_vote, current_outcome, my_vote_status
from core.errors import Conflict, NotFound, ValidationError
from core.i18n import _, local_today
from core.models import Area
from core.web import (
    flash,
    follow_state,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    require,
    subject_panels,
    with_user,
)

DEFAULT_DAYS = 45  # a new draft's consultation and vote, until the council says otherwise


def detail_url(request: Request, convention_id: int) -> str:
    return str(request.url_for("consult:convention_detail", convention_id=convention_id))


def text_url(request: Request, convention_id: int) -> str:
    return str(request.url_for("consult:convention_text", convention_id=convention_id))


@with_user
async def convention_list(request: Request) -> Response:
    """Every convention the user may see, newest first: by state and area, searched by
    title, paginated; htmx swaps only the results."""
    await settle_due()
    user = request.state.user
    filters = reading.ConventionFilters.from_query(request.query_params)
    page = await reading.list_page(user, filters, int_param(request.query_params.get("page"), 1))
    states = [
        s for s in ConventionState if s != ConventionState.DRAFT or can(user, "create_convention")
    ]
    ctx = {
        "page": page,
        "filters": filters,
        "areas": await Area.all(),
        "states": states,
        "can": can,
    }
    return render(request, "consult/convention_list.html", ctx, block="results")


async def page_context(request: Request, c: Any, **extra: Any) -> dict[str, Any]:
    """What a convention's page shows (also re-rendered with a refused vote)."""
    user = request.state.user
    number = c.version
    view = await reading.version_view(c, number)
    showing_outcome = c.state in (
        ConventionState.RATIFYING,
        ConventionState.ADOPTED,
        ConventionState.REJECTED,
    )
    return {
        "c": c,
        "view": view,
        "can": can,
        "takes_part": takes_part(c, user) if user else False,
        "outcome": await current_outcome(c) if showing_outcome else None,
        "vote_status": await my_vote_status(user, c)
        if c.state == ConventionState.RATIFYING
        else "",
        "voting": can(user, "vote_convention", c) and local_today() <= c.closes_on,
        "choices": list(RatificationChoice),
        "versions": await reading.versions_of(c, can(user, "create_convention")),
        "values": {},
        "errors": {},
        **extra,
    }


@with_user
async def convention_detail(request: Request) -> Response:
    """A convention: its state, areas, dates and ratification rule; its current text, each
    clause with its comment count; the vote or the outcome; its versions; a discussion."""
    await settle_due()
    c = await service.visible_convention(request.state.user, request.path_params["convention_id"])
    ctx = await page_context(request, c)
    published = c.state != ConventionState.DRAFT
    ctx["panels"] = await subject_panels(request, "consultation", c.id) if published else []
    ctx["follow"] = await follow_state(request, "consultation", c.id) if published else None
    return render(request, "consult/convention_detail.html", ctx)


@with_user
async def convention_version(request: Request) -> Response:
    """One version of the text; from version 2 on, per clause what changed (word by word)
    and why, added and removed clauses marked."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    number = request.path_params["number"]
    if number > c.version and not can(user, "create_convention"):
        raise NotFound(_("This version of the convention does not exist."))
    view = await reading.version_view(c, number)
    return render(request, "consult/convention_version.html", {"c": c, "view": view, "can": can})


@with_user
async def convention_clause(request: Request) -> Response:
    """A clause: its latest published words, how they read in each version, its discussion
    (residents of the convention's areas comment while it is in consultation)."""
    user = request.state.user
    clause = await Clause.get_or_none(id=request.path_params["clause_id"])
    if clause is None:
        raise NotFound(_("This clause does not exist."))
    c = await service.visible_convention(user, clause.convention_id)
    if c.state == ConventionState.DRAFT:
        raise NotFound(_("This clause does not exist."))
    _clause, latest = await reading.clause_of(c, clause.id)
    if latest is None:
        raise NotFound(_("This clause does not exist."))
    history = (
        await ClauseText.filter(clause_id=clause.id, version__number__lte=c.version)
        .select_related("version")
        .order_by("version__number")
    )
    ctx = {
        "c": c,
        "clause": clause,
        "latest": latest,
        "history": history,
        "panels": await subject_panels(request, "clause", clause.id),
    }
    return render(request, "consult/convention_clause.html", ctx)


def _form_page(
    request: Request, c: Any, values: dict, errors: dict, areas: list, status_code: int = 200
) -> Response:
    ctx = {
        "c": c,
        "values": values,
        "errors": errors,
        "areas": areas,
        "majorities": list(Majority),
        "units": list(VotingUnit),
    }
    return render(request, "consult/convention_form.html", ctx, status_code=status_code)


@login_required
async def convention_new(request: Request) -> Response:
    """Draft a convention: title, preamble, dates, areas and the ratification rule."""
    user = request.state.user
    require(can(user, "create_convention"), _("Only council members draft conventions."))
    areas = await Area.all()
    if request.method == "POST":
        form = await read_form(request)
        try:
            c = await service.create_convention(user, form)
        except ValidationError as exc:
            return _form_page(request, None, service.form_values(form), exc.errors, areas, 422)
        flash(request, _("The draft {title} is saved: now write its clauses.", title=c.title))
        return redirect(request, text_url(request, c.id))
    today = local_today()
    values = service.convention_form_values()
    values["opens_on"] = today.isoformat()
    values["closes_on"] = (today + timedelta(days=DEFAULT_DAYS)).isoformat()
    return _form_page(request, None, values, {}, areas)


@login_required
async def convention_edit(request: Request) -> Response:
    """Change a draft's settings (fixed once its consultation opens)."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    require(can(user, "edit_convention", c), service.edit_refusal(c))
    areas = await Area.all()
    if request.method == "POST":
        form = await read_form(request)
        try:
            c = await service.edit_convention(user, c.id, form)
        except ValidationError as exc:
            return _form_page(request, c, service.form_values(form), exc.errors, areas, 422)
        flash(request, _("The draft {title} is saved.", title=c.title))
        return redirect(request, detail_url(request, c.id))
    version = await service.get_version(c, 1)
    return _form_page(request, c, service.convention_form_values(c, version.preamble), {}, areas)


async def _text_page(
    request: Request,
    c: Any,
    values: dict | None = None,
    errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    number = service.working_number(c)
    view = await reading.version_view(c, number, with_counts=False)
    ctx = {
        "c": c,
        "view": view,
        "revising": c.revision > 0,
        "values": {
            "preamble": view.version.preamble,
            "summary": view.version.summary,
            **(values or {}),
        },
        "errors": errors or {},
        "can": can,
    }
    return render(request, "consult/convention_text.html", ctx, status_code=status_code)


@login_required
async def convention_text(request: Request) -> Response:
    """The council's editor of the version being written (the draft or a revision): its
    clauses to edit, move or remove, a form to add one; in a revision, the preamble and the
    summary of changes."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    require(can(user, "edit_text", c), service.text_refusal(c))
    return await _text_page(request, c)


@login_required
async def clause_add(request: Request) -> Response:
    """POST a new clause at the end (422: the editor again with the input kept)."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    form = await read_form(request)
    try:
        await service.add_clause(user, c.id, form)
    except ValidationError as exc:
        values = {k: str(form.get(k) or "") for k in ("heading", "body", "change_note")}
        return await _text_page(request, c, values, exc.errors, 422)
    flash(request, _("The clause is added."))
    return redirect(request, text_url(request, c.id) + "#clauses")


@login_required
async def clause_edit(request: Request) -> Response:
    """Edit a clause of the version being written (in a revision: with why it changed)."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    require(can(user, "edit_text", c), service.text_refusal(c))
    row = await service.working_text(c, request.path_params["clause_id"])
    ctx = {"c": c, "row": row, "revising": c.revision > 0, "errors": {}}
    if request.method == "POST":
        form = await read_form(request)
        try:
            await service.edit_clause(user, c.id, row.clause_id, form)
        except ValidationError as exc:
            ctx["values"] = {k: str(form.get(k) or "") for k in ("heading", "body", "change_note")}
            ctx["errors"] = exc.errors
            return render(request, "consult/convention_clause_form.html", ctx, status_code=422)
        flash(request, _("The clause is saved."))
        return redirect(request, text_url(request, c.id) + f"#clause-{row.clause_id}")
    ctx["values"] = {"heading": row.heading, "body": row.body, "change_note": row.change_note}
    return render(request, "consult/convention_clause_form.html", ctx)


@login_required
async def clause_move(request: Request) -> Response:
    """POST: move a clause up or down."""
    user = request.state.user
    convention_id = request.path_params["convention_id"]
    form = await read_form(request)
    await service.move_clause(
        user, convention_id, request.path_params["clause_id"], str(form.get("direction") or "")
    )
    flash(request, _("The clauses are in their new order."))
    return redirect(
        request, text_url(request, convention_id) + f"#clause-{request.path_params['clause_id']}"
    )


@login_required
async def clause_remove(request: Request) -> Response:
    """POST: take a clause out of the version being written."""
    user = request.state.user
    convention_id = request.path_params["convention_id"]
    await read_form(request)  # checks the CSRF token
    await service.remove_clause(user, convention_id, request.path_params["clause_id"])
    flash(request, _("The clause is removed; the others are numbered again."))
    return redirect(request, text_url(request, convention_id) + "#clauses")


@login_required
async def revision_edit(request: Request) -> Response:
    """POST: the preamble and summary of changes of the revision being written."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    form = await read_form(request)
    try:
        await service.edit_revision(user, c.id, form)
    except ValidationError as exc:
        values = {k: str(form.get(k) or "") for k in ("preamble", "summary")}
        return await _text_page(request, c, values, exc.errors, 422)
    flash(request, _("The preamble and summary of this revision are saved."))
    return redirect(request, text_url(request, c.id))


@login_required
async def convention_vote(request: Request) -> Response:
    """POST a vote: yes, no or abstain (the page again with 422 when none is chosen; 409 for
    a second vote, with a message, nothing written)."""
    user = request.state.user
    c = await service.visible_convention(user, request.path_params["convention_id"])
    form = await read_form(request)
    try:
        await cast_vote(user, c.id, str(form.get("choice") or ""))
    except ValidationError as exc:
        ctx = await page_context(request, c, errors=exc.errors)
        ctx["panels"] = []
        return render(request, "consult/convention_detail.html", ctx, status_code=422)
    except Conflict as exc:
        ctx = await page_context(request, c, errors={"choice": exc.message})
        ctx["panels"] = []
        return render(request, "consult/convention_detail.html", ctx, status_code=409)
    flash(request, _("Your vote is recorded. It is secret: nobody can see how you voted."))
    return redirect(request, detail_url(request, c.id) + "#vote")


routes: list[Route] = [
    Route("/conventions", convention_list, name="convention_list"),
    Route("/conventions/new", convention_new, methods=["GET", "POST"], name="convention_new"),
    Route("/conventions/clauses/{clause_id:int}", convention_clause, name="convention_clause"),
    Route("/conventions/{convention_id:int}", convention_detail, name="convention_detail"),
    Route(
        "/conventions/{convention_id:int}/edit",
        convention_edit,
        methods=["GET", "POST"],
        name="convention_edit",
    ),
    Route("/conventions/{convention_id:int}/text", convention_text, name="convention_text"),
    Route(
        "/conventions/{convention_id:int}/versions/{number:int}",
        convention_version,
        name="convention_version",
    ),
    Route(
        "/conventions/{convention_id:int}/clauses",
        clause_add,
        methods=["POST"],
        name="convention_clause_add",
    ),
    Route(
        "/conventions/{convention_id:int}/clauses/{clause_id:int}/edit",
        clause_edit,
        methods=["GET", "POST"],
        name="convention_clause_edit",
    ),
    Route(
        "/conventions/{convention_id:int}/clauses/{clause_id:int}/move",
        clause_move,
        methods=["POST"],
        name="convention_clause_move",
    ),
    Route(
        "/conventions/{convention_id:int}/clauses/{clause_id:int}/remove",
        clause_remove,
        methods=["POST"],
        name="convention_clause_remove",
    ),
    Route(
        "/conventions/{convention_id:int}/revision",
        revision_edit,
        methods=["POST"],
        name="convention_revision_edit",
    ),
    Route(
        "/conventions/{convention_id:int}/vote",
        convention_vote,
        methods=["POST"],
        name="convention_vote",
    ),
    *convention_phases.routes,
]
