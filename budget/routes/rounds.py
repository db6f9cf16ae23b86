"""Rounds: the list (the home page), a round's page, opening and editing a round, moving it to
the next phase."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from budget.models import BallotType, OutcomeRule, Phase, ProposalStatus, Round
from budget.permissions import can
from budget.services import rounds as service
from budget.services import studies, voting
from budget.services.results import rule_label
from core.errors import ValidationError
from core.i18n import _
from core.models import Area
from core.web import (
    flash,
    follow_state,
    get_object_or_404,
    int_param,
    login_required,
    paginate,
    read_form,
    redirect,
    render,
    require,
    subject_panels,
    with_user,
)
from core.web.limits import LONG_TEXT_LIMIT, body_limit
from core.web.page_cache import cached_for_visitors


def _form_values(form) -> dict[str, str]:
    return {k: str(v) for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


def timetable(rnd: Round) -> list[dict]:
    """The phases in order with their planned start, marking the current one."""
    current = list(Phase).index(rnd.phase_enum)
    return [
        {
            "phase": phase,
            "starts": getattr(rnd, name),
            "current": i == current,
            "past": i < current,
        }
        for i, (name, phase) in enumerate(service.DATE_FIELDS)
    ]


@cached_for_visitors
@with_user
async def round_list(request: Request) -> Response:
    """The home page: the district's rounds, newest first, with phase, fund and dates
    (imported elections are studies, listed on their own page)."""
    page = await paginate(
        Round.filter(is_study=False), int_param(request.query_params.get("page"), 1), 20
    )
    return render(
        request,
        "budget/round_list.html",
        {
            "page": page,
            "can": can,
            "timetable": timetable,
            "public_studies": await studies.any_public_study(),
        },
    )


async def _round_form(
    request: Request, rnd: Round | None, values: dict, errors: dict, status_code: int = 200
) -> Response:
    envelopes = await service.envelopes_of(rnd) if rnd is not None else []
    return render(
        request,
        "budget/round_form.html",
        {
            "round": rnd,
            "values": values,
            "errors": errors,
            "areas": await Area.all(),
            "envelopes": envelopes,
            "rules_locked": rnd is not None
            and not can(request.state.user, "edit_round_rules", rnd),
            "ballot_types": list(BallotType),
            "rules": list(OutcomeRule),
            "date_fields": service.DATE_FIELDS,
            "envelope_field": service.envelope_field,
        },
        status_code=status_code,
    )


@body_limit(LONG_TEXT_LIMIT)
@login_required
async def round_new(request: Request) -> Response:
    """Open a round: fund, per-area envelopes, timetable, ballot type and outcome rule."""
    user = request.state.user
    require(can(user, "create_round"), _("Only council members open rounds."))
    if request.method == "POST":
        form = await read_form(request)
        try:
            rnd = await service.create_round(user, form)
        except ValidationError as exc:
            return await _round_form(request, None, _form_values(form), exc.errors, 422)
        flash(request, _("The round {title} is open for proposals.", title=rnd.title))
        return redirect(request, str(request.url_for("budget:round_detail", round_id=rnd.id)))
    return await _round_form(request, None, service.round_form_values(None), {})


@body_limit(LONG_TEXT_LIMIT)
@login_required
async def round_edit(request: Request) -> Response:
    """Edit a round; once voting opens its ballot rules, fund and envelopes are read-only."""
    user = request.state.user
    rnd = await get_object_or_404(Round, id=request.path_params["round_id"])
    require(can(user, "edit_round", rnd), _("You may not edit this round."))
    if request.method == "POST":
        form = await read_form(request)
        try:
            rnd = await service.edit_round(user, rnd, form)
        except ValidationError as exc:
            return await _round_form(request, rnd, _form_values(form), exc.errors, 422)
        flash(request, _("The round {title} is saved.", title=rnd.title))
        return redirect(request, str(request.url_for("budget:round_detail", round_id=rnd.id)))
    envelopes = await service.envelopes_of(rnd)
    return await _round_form(request, rnd, service.round_form_values(rnd, envelopes), {})


@cached_for_visitors
@with_user
async def round_detail(request: Request) -> Response:
    """A round: its timetable, fund and envelopes, proposals per status, what one can do now."""
    rnd = await get_object_or_404(Round, id=request.path_params["round_id"])
    if rnd.is_study:  # an imported election has its own page
        studies.require_visible(request.state.user, rnd)
        return RedirectResponse(request.url_for("budget:study_detail", round_id=rnd.id), 303)
    envelopes = await service.envelopes_of(rnd)
    counts = await service.proposal_counts(rnd)
    user = request.state.user
    # the resident's own ballot (their receipt and a "change" button instead of "Vote")
    my_ballot = None
    if rnd.phase == Phase.VOTING and user is not None and can(user, "vote", rnd):
        my_ballot = await voting.ballot_of(rnd.id, user.id)
        # the page now shows their receipt code: never stored by a browser or a proxy
        request.state.no_store = my_ballot is not None
    return render(
        request,
        "budget/round_detail.html",
        {
            "round": rnd,
            "envelopes": envelopes,
            "counts": [(s, counts[s.value]) for s in ProposalStatus if counts.get(s.value)],
            "total_proposals": sum(counts.values()),
            "timetable": timetable(rnd),
            "can": can,
            "Phase": Phase,
            "rule_label": rule_label,
            # discussion, deliberation rounds and meetings about it (consult, core.web.panels)
            "panels": await subject_panels(request, "round", rnd.id),
            "follow": await follow_state(request, "round", rnd.id),
            "from_results": list(Phase).index(rnd.phase_enum) >= list(Phase).index(Phase.RESULTS),
            "my_ballot": my_ballot,
            "format_receipt": voting.format_receipt,
        },
    )


@login_required
async def round_advance(request: Request) -> Response:
    """Move a round to its next phase by hand: a confirmation page, then POST."""
    user = request.state.user
    rnd = await get_object_or_404(Round, id=request.path_params["round_id"])
    require(can(user, "advance_phase", rnd), _("You may not move this round to another phase."))
    if request.method == "POST":
        form = await read_form(request)
        rnd = await service.advance_phase(user, rnd, str(form.get("from_phase") or "") or None)
        flash(
            request,
            _(
                "The round {title} is now in the phase {phase}.",
                title=rnd.title,
                phase=rnd.phase_enum.label,
            ),
        )
        return redirect(request, str(request.url_for("budget:round_detail", round_id=rnd.id)))
    return render(
        request,
        "budget/round_advance.html",
        {
            "round": rnd,
            "next_phase": rnd.phase_enum.next,
            "warnings": await service.advance_warnings(rnd),
            "blocked": await service.close_blocked_by(rnd),
        },
    )


routes = [
    Route("/", round_list, name="round_list"),
    Route("/rounds/new", round_new, methods=["GET", "POST"], name="round_new"),
    Route("/rounds/{round_id:int}", round_detail, name="round_detail"),
    Route("/rounds/{round_id:int}/edit", round_edit, methods=["GET", "POST"], name="round_edit"),
    Route(
        "/rounds/{round_id:int}/advance",
        round_advance,
        methods=["GET", "POST"],
        name="round_advance",
    ),
]
