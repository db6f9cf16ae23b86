"""Voting: the ballot (cast, change, running total), the receipt and its public check, and
paper ballots entered by grid workers."""

from __future__ import annotations

from typing import Any

import segno
from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import Ballot, BallotType, Channel, Phase, Proposal, Round
from budget.permissions import can
from budget.rules import ballots as rules
from budget.services import ballot_form
from budget.services import voting as svc
from core.errors import NotFound, PermissionDenied, ValidationError
from core.i18n import _
from core.models import Role, User
from core.web import (
    flash,
    int_param,
    login_required,
    paginate,
    private,
    read_form,
    redirect,
    render,
    route_url,
    with_user,
)


def _page(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    base = {
        "can": can,
        "BallotType": BallotType,
        "Channel": Channel,
        "format_receipt": svc.format_receipt,
        "BALLOT": rules.BALLOT,
        "problem_message": ballot_form.problem_message,
    }
    return render(request, f"budget/{name}", {**base, **ctx}, **kwargs)


def _ballot_ctx(
    rnd: Round,
    envelopes: list[ballot_form.BallotEnvelope],
    choices: dict[int, int],
    *,
    errors: dict[str, list[str]] | None = None,
    field_errors: dict[str, str] | None = None,
    require_choice: bool = False,
    **ctx: Any,
) -> dict[str, Any]:
    """What the ballot form (and its running total) needs."""
    check = ballot_form.check_ballot(rnd, envelopes, choices, require_choice=require_choice)
    return {
        "round": rnd,
        "envelopes": envelopes,
        "choices": choices,
        "check": check,
        "errors": errors if errors is not None else {},
        "field_errors": field_errors or {},
        **ctx,
    }


def _invalid(
    rnd: Round,
    envelopes: list[ballot_form.BallotEnvelope],
    choices: dict[int, int],
    field_errors: dict[str, str],
) -> dict[str, Any]:
    """The context of a refused ballot: every problem, per envelope, with the choices kept."""
    check = ballot_form.check_ballot(rnd, envelopes, choices)
    errors = ballot_form.error_messages(check)
    if field_errors:
        errors.setdefault(rules.BALLOT, []).append(_("Some numbers of points are not valid."))
    return _ballot_ctx(
        rnd, envelopes, choices, errors=errors, field_errors=field_errors, require_choice=True
    )


def _typed(form: FormData) -> dict[str, str]:
    """The points as typed (kept when the form comes back)."""
    return {k: str(v) for k, v in form.items() if k.startswith("points-") and isinstance(v, str)}


def _is_preview(form: FormData) -> bool:
    """The no-JavaScript 'Update the totals' button: show the totals, save nothing."""
    return form.get("preview") == "1"


@login_required
async def ballot(request: Request) -> Response:
    """The current resident's ballot: GET shows it (pre-filled when they already voted), POST
    casts or changes it; invalid ballots come back with 422, the choices kept."""
    user = request.state.user
    round_id = request.path_params["round_id"]
    form = specs = None
    first_tried = False
    if request.method == "POST" and svc.one_statement_ballots():
        # a cast is the busiest moment of a round: a first ballot checked against the round
        # this process keeps is written in one round trip; any other case reads the round
        # and what checking the ballot needs in one query. The CSRF token is checked first.
        form = await read_form(request)
        if not _is_preview(form):
            if await svc.cast_on_kept_round(user, round_id, form) is not None:
                return _saved(request, round_id)
            first_tried = True
        ids = ballot_form.form_project_ids(form)
        rnd, specs = await svc.round_for_ballot(round_id, user, ids)
    else:
        rnd = await svc.get_round(round_id)
    action = str(route_url(request, "budget:ballot", round_id=rnd.id))
    if request.method == "POST":
        if form is None:
            form = await read_form(request)
        # Checked before anything is counted or shown, the preview ("Update the totals") too.
        if not can(user, "vote", rnd):
            raise PermissionDenied(svc.vote_refusal(user, rnd))
        choices, field_errors = ballot_form.parse_choices(rnd, form)
        if not field_errors and not _is_preview(form):
            try:
                await svc.cast_ballot(user, rnd, choices, specs=specs, first_tried=first_tried)
            except ValidationError:
                pass  # shown below with every problem per envelope
            else:
                return _saved(request, rnd.id)
        envelopes = await ballot_form.ballot_envelopes(rnd, user.area_id)
        if _is_preview(form):
            ctx = _ballot_ctx(rnd, envelopes, choices, field_errors=field_errors)
            return _page(request, "ballot.html", {**ctx, "action": action, "values": _typed(form)})
        ctx = _invalid(rnd, envelopes, choices, field_errors)
        return _page(
            request,
            "ballot.html",
            {**ctx, "action": action, "values": _typed(form)},
            status_code=422,
        )

    existing = await svc.ballot_of(rnd.id, user.id)
    if existing is not None and existing.channel == Channel.PAPER:
        return _page(request, "ballot_paper_entered.html", {"round": rnd, "ballot": existing})
    if not can(user, "vote", rnd):
        raise PermissionDenied(svc.vote_refusal(user, rnd))
    envelopes = await ballot_form.ballot_envelopes(rnd, user.area_id)
    choices = existing.choice_map if existing is not None else {}
    ctx = _ballot_ctx(rnd, envelopes, choices, ballot=existing, action=action)
    return _page(request, "ballot.html", ctx)


def _saved(request: Request, round_id: int) -> Response:
    flash(request, _("Your ballot has been saved. Thank you for voting!"))
    return redirect(request, str(route_url(request, "budget:ballot_receipt", round_id=round_id)))


@login_required
async def ballot_total(request: Request) -> Response:
    """The running total (htmx, on every change of the ballot form): the `_ballot_summary`
    fragment with chosen cost, count or points against each envelope's budget and limit."""
    user = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    if not (can(user, "vote", rnd) or can(user, "enter_paper_ballot", rnd)):
        raise PermissionDenied(svc.vote_refusal(user, rnd))
    form = await read_form(request)
    choices, field_errors = ballot_form.parse_choices(rnd, form)
    envelopes = await ballot_form.ballot_envelopes(rnd, user.area_id, only=choices)
    ctx = _ballot_ctx(rnd, envelopes, choices, field_errors=field_errors)
    return _page(request, "_ballot_summary.html", ctx)


async def _chosen_projects(ballot: Ballot) -> list[tuple[Proposal, int]]:
    proposals = (
        await Proposal.filter(id__in=list(ballot.choice_map))
        .select_related("area")
        .order_by("title", "id")
    )
    return [(p, ballot.choice_map[p.id]) for p in proposals]


@login_required
async def ballot_receipt(request: Request) -> Response:
    """After casting: the receipt code, what was chosen, and where to check it later."""
    user = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    ballot = await svc.ballot_of(rnd.id, user.id)
    if ballot is None:
        raise NotFound(_("You have no ballot in this round."))
    ctx = {
        "round": rnd,
        "ballot": ballot,
        "chosen": await _chosen_projects(ballot),
        "can_change": can(user, "vote", rnd) and ballot.channel == Channel.ONLINE,
    }
    return _page(request, "receipt.html", ctx)


@with_user
async def receipt_check(request: Request) -> Response:
    """Public: is the ballot with this receipt code recorded? Shows the round, the channel and
    the last change, never who voted or what. The code is POSTed, never put in the URL, so
    that it stays out of access logs, proxies and the browser's history (GET shows the form
    only, whatever its query says)."""
    code = ""
    found = None
    if request.method == "POST":
        form = await read_form(request)
        code = str(form.get("code") or "").strip()[:40]
        found = await svc.find_receipt(code) if code else None
    ctx = {"code": code, "found": found, "Phase": Phase}
    status = 422 if code and found is None else 200
    return _page(request, "receipt_check.html", ctx, status_code=status)


def _require_grid_worker(user: User) -> None:
    if user.role != Role.GRID_WORKER:
        raise PermissionDenied(_("Only grid workers enter paper ballots."))


def _qr(data: str, title: str) -> Markup:
    """A QR code as inline SVG (segno): no style attribute, so the CSP lets it through."""
    svg = segno.make(data, error="m").svg_inline(scale=4, title=title, svgclass="qr")
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))


@login_required
async def paper_ballot_start(request: Request) -> Response:
    """A grid worker picks a voting round and a resident of their area (searched by name, with
    their household and whether they have voted). The round form works without JavaScript
    (its button) and with htmx (on change: the rest of the page below it is replaced)."""
    user = request.state.user
    _require_grid_worker(user)
    rounds = await svc.voting_rounds()
    round_id = int_param(request.query_params.get("round"))
    rnd = next((r for r in rounds if r.id == round_id), None)
    if rnd is None and len(rounds) == 1:
        rnd = rounds[0]
    q = request.query_params.get("q", "").strip()[:100]
    page = channels = None
    if rnd is not None and user.area_id is not None:
        page = await paginate(
            svc.paper_candidates(user, q),
            int_param(request.query_params.get("page"), 1),
            svc.PAGE_SIZE,
        )
        channels = await svc.channels_of(rnd.id, [u.id for u in page.items])
    ctx = {"rounds": rounds, "round": rnd, "q": q, "page": page, "channels": channels or {}}
    block = "residents" if request.headers.get("HX-Target") == "residents" else "round_body"
    return _page(request, "paper_start.html", ctx, block=block)


@login_required
async def paper_confirm(request: Request) -> Response:
    """Before the ballot form: "Is this the person?" — name, household, area, username and
    whether they have voted, so that residents with the same name are not confused."""
    worker = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    resident = await svc.paper_resident(worker, rnd, request.path_params["user_id"])
    channel = (await svc.channels_of(rnd.id, [resident.id])).get(resident.id)
    ctx = {"round": rnd, "resident": resident, "channel": channel}
    return _page(request, "paper_confirm.html", ctx)


async def _kit(request: Request) -> tuple[Round, Any, list[Any]]:
    user = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    area, areas = await svc.kit_area(user, int_param(request.query_params.get("area")))
    return rnd, area, areas


@login_required
async def paper_kit_ballot(request: Request) -> Response:
    """The offline kit: a printable paper ballot of an area (its envelope and the
    district-wide one), projects numbered with their cost, how to fill it in, and a QR code
    linking to the round."""
    rnd, area, areas = await _kit(request)
    envelopes = await ballot_form.ballot_envelopes(rnd, area.id)
    round_url = str(request.url_for("budget:round_detail", round_id=rnd.id))
    numbered = []
    n = 0
    for envelope in envelopes:
        rows = []
        for project in envelope.projects:
            n += 1
            rows.append((n, project))
        numbered.append((envelope, rows))
    ctx = {
        "round": rnd,
        "area": area,
        "areas": areas,
        "numbered": numbered,
        "round_url": round_url,
        "qr": _qr(round_url, _("The round's page: {title}", title=rnd.title)),
    }
    return _page(request, "paper_kit_ballot.html", ctx)


@login_required
async def paper_kit_roll(request: Request) -> Response:
    """The offline kit: a printable roll of the area's residents with their household and
    whether they have voted in the round (yes or no only)."""
    rnd, area, areas = await _kit(request)
    roll = await svc.area_roll(rnd.id, area.id)
    voted = sum(1 for _u, has_voted in roll if has_voted)
    ctx = {"round": rnd, "area": area, "areas": areas, "roll": roll, "voted": voted}
    return _page(request, "paper_kit_roll.html", ctx)


@login_required
async def paper_ballot(request: Request) -> Response:
    """A grid worker enters (or corrects) a resident's paper ballot: the same form as the
    ballot, marked as paper and audited. Refused for a resident who voted online."""
    worker = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    resident = await svc.paper_resident(worker, rnd, request.path_params["user_id"])
    action = str(request.url_for("budget:paper_ballot", round_id=rnd.id, user_id=resident.id))
    extra = {"resident": resident, "action": action, "paper": True}
    if request.method == "POST":
        form = await read_form(request)
        choices, field_errors = ballot_form.parse_choices(rnd, form)
        if not field_errors and not _is_preview(form):
            try:
                await svc.enter_paper_ballot(worker, rnd.id, resident.id, choices)
            except ValidationError:
                pass
            else:
                flash(request, _("The paper ballot of {name} has been saved.", name=str(resident)))
                return redirect(
                    request,
                    str(
                        request.url_for(
                            "budget:paper_ballot_receipt", round_id=rnd.id, user_id=resident.id
                        )
                    ),
                )
        envelopes = await ballot_form.ballot_envelopes(rnd, resident.area_id)
        if _is_preview(form):
            ctx = _ballot_ctx(rnd, envelopes, choices, field_errors=field_errors)
            return _page(request, "paper_ballot.html", {**ctx, **extra, "values": _typed(form)})
        ctx = _invalid(rnd, envelopes, choices, field_errors)
        return _page(
            request, "paper_ballot.html", {**ctx, **extra, "values": _typed(form)}, status_code=422
        )

    existing = await svc.ballot_of(rnd.id, resident.id)
    envelopes = await ballot_form.ballot_envelopes(rnd, resident.area_id)
    choices = existing.choice_map if existing is not None else {}
    ctx = _ballot_ctx(
        rnd,
        envelopes,
        choices,
        ballot=existing,
        **extra,
        voted_online=existing is not None and existing.channel != Channel.PAPER,
    )
    return _page(request, "paper_ballot.html", ctx)


@login_required
async def paper_ballot_receipt(request: Request) -> Response:
    """After a paper ballot is entered: its receipt code, to write on the resident's slip."""
    worker = request.state.user
    rnd = await svc.get_round(request.path_params["round_id"])
    resident = await svc.paper_resident(worker, rnd, request.path_params["user_id"])
    ballot = await svc.ballot_of(rnd.id, resident.id)
    if ballot is None or ballot.channel != Channel.PAPER:
        raise NotFound(_("No paper ballot has been entered for this resident."))
    ctx = {
        "round": rnd,
        "ballot": ballot,
        "resident": resident,
        "chosen": await _chosen_projects(ballot),
        "qr": _qr(svc.format_receipt(ballot.receipt), _("Receipt code")),
    }
    return _page(request, "paper_receipt.html", ctx)


routes = [
    Route("/rounds/{round_id:int}/ballot", private(ballot), name="ballot", methods=["GET", "POST"]),
    Route(
        "/rounds/{round_id:int}/ballot/total",
        private(ballot_total),
        name="ballot_total",
        methods=["POST"],
    ),
    Route("/rounds/{round_id:int}/ballot/receipt", private(ballot_receipt), name="ballot_receipt"),
    Route("/receipt", private(receipt_check), name="receipt_check", methods=["GET", "POST"]),
    Route("/paper", private(paper_ballot_start), name="paper_ballot_start"),
    Route(
        "/rounds/{round_id:int}/paper/{user_id:int}",
        private(paper_ballot),
        name="paper_ballot",
        methods=["GET", "POST"],
    ),
    Route(
        "/rounds/{round_id:int}/paper/{user_id:int}/confirm",
        private(paper_confirm),
        name="paper_confirm",
    ),
    Route("/rounds/{round_id:int}/paper/kit", private(paper_kit_ballot), name="paper_kit_ballot"),
    Route("/rounds/{round_id:int}/paper/kit/roll", private(paper_kit_roll), name="paper_kit_roll"),
    Route(
        "/rounds/{round_id:int}/paper/{user_id:int}/receipt",
        private(paper_ballot_receipt),
        name="paper_ballot_receipt",
    ),
]
