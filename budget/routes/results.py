"""Results: the page (public once published, staff before), computing the count and publishing
it (with a confirmation step)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from budget.models import BallotType, OutcomeRule
from budget.permissions import can
from budget.services import compare, disclosure, studies
from budget.services import results as svc
from core.errors import PermissionDenied, ValidationError
from core.i18n import _
from core.web import flash, login_required, read_form, redirect, render, with_user


def _results_url(request: Request, round_id: int) -> str:
    return str(request.url_for("budget:results", round_id=round_id))


@with_user
async def results(request: Request) -> Response:
    """Per envelope: the rule, every project with votes, cost, funded or not and why; turnout
    per area and channel. Before publishing only staff see it; others read that it is not
    published yet."""
    user = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    if rnd.is_study:  # an imported election's results are on its own page
        studies.require_visible(user, rnd)
        return RedirectResponse(request.url_for("budget:study_detail", round_id=rnd.id), 303)
    state = svc.results_state(user, rnd)
    ctx = {
        "round": rnd,
        "state": state,
        "can": can,
        "fen": svc.fen,
        "rule_label": svc.rule_label,
        "round_fen": svc.round_fen,
        "by_points": rnd.ballot_type == BallotType.POINTS,
        "OutcomeRule": OutcomeRule,
        "BallotType": BallotType,
        "voting_closed": svc.phase_reached(rnd, svc.Phase.RESULTS),
    }
    if state != "waiting":
        ctx["envelopes"] = await svc.envelope_results(rnd)
        ctx["turnout"] = await svc.turnout(rnd)
        ctx["summary"] = svc.summarize(ctx["envelopes"], ctx["turnout"][-1].ballots)
    if state == "published":
        ctx["has_procurements"] = await disclosure.round_has_procurements(rnd.id)
    return render(request, "budget/results.html", ctx)


@login_required
async def results_compute(request: Request) -> Response:
    """A council member counts (or re-counts) the ballots and freezes the outcome."""
    await read_form(request)
    outcomes = await svc.compute_results(request.state.user, request.path_params["round_id"])
    flash(
        request,
        _(
            "The results have been computed for {n} envelopes. Check them, count "
            "again if needed, then publish them.",
            n=len(outcomes),
        ),
    )
    return redirect(request, _results_url(request, request.path_params["round_id"]))


@login_required
async def results_publish(request: Request) -> Response:
    """GET asks for confirmation; POST (with "I confirm") publishes: read-only from then on."""
    user = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    if not can(user, "publish_results", rnd):
        raise PermissionDenied(svc._compute_refusal(user, rnd))
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        if form.get("confirm") != "1":
            errors["confirm"] = _("Tick the box to confirm that you want to publish.")
        else:
            try:
                await svc.publish_results(user, rnd.id)
            except ValidationError as exc:
                errors["confirm"] = exc.message
            else:
                flash(request, _("The results are published. Everyone can now see them."))
                return redirect(request, _results_url(request, rnd.id))
    ctx = {"round": rnd, "errors": errors}
    return render(request, "budget/results_publish.html", ctx, status_code=422 if errors else 200)


@login_required
async def results_compare(request: Request) -> Response:
    """Staff compare greedy and equal shares on a counted round's ballots, side by side (in
    memory, nothing frozen): which projects change, totals, and how many voters have at least
    one funded project they voted for, per envelope and per area."""
    rnd = await svc.get_round(request.path_params["round_id"])
    studies.require_visible(request.state.user, rnd)
    comparison = await compare.compare_rules(request.state.user, rnd.id)
    ctx = {
        "round": rnd,
        "comparison": comparison,
        "rule_label": svc.rule_label,
        "by_points": rnd.ballot_type == BallotType.POINTS,
    }
    return render(request, "budget/results_compare.html", ctx)


routes = [
    Route("/rounds/{round_id:int}/results", results, name="results"),
    Route(
        "/rounds/{round_id:int}/results/compute",
        results_compute,
        name="results_compute",
        methods=["POST"],
    ),
    Route(
        "/rounds/{round_id:int}/results/publish",
        results_publish,
        name="results_publish",
        methods=["GET", "POST"],
    ),
    Route("/rounds/{round_id:int}/results/compare", results_compare, name="results_compare"),
]
