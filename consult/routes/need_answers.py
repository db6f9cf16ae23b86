"""The council's side of needs: the list (oldest waiting first, overdue marked, filters,
search, pages), answering a need (accept, refer, decline — or turn it into a proposal on a
pre-filled proposal form), resolving it; and `panel`, which names the need on the page of the
proposal it became.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import Category
from consult.models import Need, NeedCategory, NeedChannel, NeedState
from consult.permissions import RESOLVABLE, can
from consult.routes.needs import detail_url
from consult.services import need_answers, need_list, needs
from core.errors import Conflict, ValidationError
from core.i18n import _, _display_tz, format_day, ngettext
from core.models import Area
from core.permissions import is_staff
from core.web import (
    flash,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    render_fragment,
    require,
)


@login_required
async def need_list_page(request: Request) -> Response:
    """The council's list of needs. Residents and grid workers are sent to their own lists."""
    user = request.state.user
    if not can(user, "list_needs"):
        target = "consult:need_entered" if can(user, "see_entered_needs") else "consult:need_mine"
        return redirect(request, str(request.url_for(target)))
    filters = need_list.NeedFilters.from_query(request.query_params)
    now = datetime.now(UTC)
    page = await need_list.list_page(filters, int_param(request.query_params.get("page"), 1), now)
    areas = await Area.all()
    ctx = {
        "page": page,
        "rows": need_rows(page.items, {a.id: a.name for a in areas}),
        "filters": filters,
        "areas": areas,
        "states": list(NeedState),
        "categories": list(NeedCategory),
        "channels": list(NeedChannel),
        "ANY_STATE": need_list.ANY_STATE,
        "can": can,
    }
    return render(request, "consult/need_list.html", ctx, block="results")


@dataclass(frozen=True)
class NeedRow:
    """One line of the council's list, its words already in the reader's language."""

    id: int
    title: str
    number: str
    category: str
    area: str
    channel: str
    received: str
    age: str
    state: str
    state_value: str
    overdue: str  # "Overdue: 9 days", or "" when not overdue


def need_rows(items: list[Need], area_names: dict[int, str]) -> list[NeedRow]:
    """The page's needs as rows: each label and date translated once per page, not per row
    (the list is the council's busiest page; 200,000 needs are benchmarked)."""
    labels = {m: m.label for enum in (NeedState, NeedCategory, NeedChannel) for m in enum}
    days: dict = {}
    ages: dict[int, tuple[str, str]] = {}
    rows = []
    for need in items:
        day = need.created_at.astimezone(_display_tz()).date()
        if day not in days:
            days[day] = format_day(day)
        if need.age_days not in ages:
            n = need.age_days
            ages[n] = (
                ngettext("%(count)s day ago", "%(count)s days ago", n) % {"count": n},
                _("Overdue: %(n)s days") % {"n": n},
            )
        age, overdue = ages[need.age_days]
        rows.append(
            NeedRow(
                id=need.id,
                title=need.title,
                number=need.number,
                category=labels[need.category],
                area=area_names.get(need.area_id, "–"),
                channel=labels[need.channel],
                received=days[day],
                age=age,
                state=labels[need.state],
                state_value=need.state.value,
                overdue=overdue if need.overdue else "",
            )
        )
    return rows


async def _staff_need(request: Request) -> Need:
    """The need of the path, for a council member (403 for anyone else, 404 if none)."""
    user = request.state.user
    require(is_staff(user), _("Only council members answer needs."))
    return await needs.get_need_for(user, request.path_params["need_id"])


def _answer_page(
    request: Request, need: Need, values: dict, errors: dict, status_code: int = 200
) -> Response:
    ctx = {"need": need, "values": values, "errors": errors}
    return render(request, "consult/need_answer.html", ctx, status_code=status_code)


@login_required
async def need_answer(request: Request) -> Response:
    """Answer a need: accepted (owner, due date), referred (to whom) or declined (why). An
    answer is given once: a need already answered is 409 with the answer it has."""
    user = request.state.user
    need = await _staff_need(request)
    form = await read_form(request) if request.method == "POST" else None
    if need.state != NeedState.RECEIVED:
        raise Conflict(need_answers.answered_refusal(need))
    if form is not None:
        try:
            await need_answers.answer_need(user, need.id, form)
        except ValidationError as exc:
            values = need_answers.answer_form_values(form)
            return _answer_page(request, need, values, exc.errors, 422)
        flash(
            request, _("The need {number} is answered; its resident is told.", number=need.number)
        )
        return redirect(request, detail_url(request, need.id))
    return _answer_page(request, need, need_answers.answer_form_values(), {})


async def _propose_page(
    request: Request, need: Need, values: dict, errors: dict, status_code: int = 200
) -> Response:
    ctx = {
        "need": need,
        "values": values,
        "errors": errors,
        "rounds": await need_answers.proposing_rounds(),
        "categories": list(Category),
    }
    return render(request, "consult/need_propose.html", ctx, status_code=status_code)


@login_required
async def need_propose(request: Request) -> Response:
    """Turn a need into a proposal: the proposal form pre-filled from the need (title,
    description, area, category), the council picks the round and enters the cost."""
    user = request.state.user
    need = await _staff_need(request)
    form = await read_form(request) if request.method == "POST" else None
    if need.state != NeedState.RECEIVED:
        raise Conflict(need_answers.answered_refusal(need))
    if form is not None:
        try:
            need = await need_answers.propose_need(user, need.id, form)
        except ValidationError as exc:
            values = need_answers.proposal_values_from(form)
            return await _propose_page(request, need, values, exc.errors, 422)
        flash(
            request,
            _("The need {number} is now a proposal; its resident is told.", number=need.number),
        )
        return redirect(request, detail_url(request, need.id))
    rounds = await need_answers.proposing_rounds()
    return await _propose_page(request, need, need_answers.proposal_form_values(need, rounds), {})


@login_required
async def need_resolve(request: Request) -> Response:
    """Resolve an answered need with a note on what was done (a confirmation page, then
    POST); resolving one not yet answered, declined or already resolved is 409."""
    user = request.state.user
    need = await _staff_need(request)
    form = await read_form(request) if request.method == "POST" else None
    if need.state not in RESOLVABLE:
        raise Conflict(need_answers.resolve_refusal(need))
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    status = 200
    if form is not None:
        try:
            await need_answers.resolve_need(user, need.id, form)
        except ValidationError as exc:
            values = {"resolution_note": str(form.get("resolution_note") or "")}
            errors, status = exc.errors, 422
        else:
            flash(
                request,
                _("The need {number} is resolved; its resident is told.", number=need.number),
            )
            return redirect(request, detail_url(request, need.id))
    ctx = {"need": need, "values": values, "errors": errors}
    return render(request, "consult/need_resolve.html", ctx, status_code=status)


async def panel(request: Request, subject_type: str, subject_id: int) -> str:
    """On a proposal's page: "From need XQ-…" when a need became this proposal (one indexed
    query; the link only for those who may see the need)."""
    if subject_type != "proposal":
        return ""
    found = await need_answers.needs_of_proposal(subject_id)
    if not found:
        return ""
    return render_fragment(request, "consult/_need_panel.html", {"found": found, "can": can})


routes: list[Route] = [
    Route("/needs", need_list_page, name="need_list"),
    Route("/needs/{need_id:int}/answer", need_answer, methods=["GET", "POST"], name="need_answer"),
    Route(
        "/needs/{need_id:int}/propose",
        need_propose,
        methods=["GET", "POST"],
        name="need_propose",
    ),
    Route(
        "/needs/{need_id:int}/resolve",
        need_resolve,
        methods=["GET", "POST"],
        name="need_resolve",
    ),
]
