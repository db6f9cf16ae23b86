"""Statements of a deliberation round and residents' votes on them: submitting one, the
council's moderation queue, one statement at a time to vote on, and one's own votes.

With htmx the vote card, a moderated statement and one's vote in the list change in place;
without JavaScript every form POSTs and is answered 303 to the page to see next.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.models import Choice
from consult.permissions import can, concerns
from consult.services import statements as service
from consult.services import votes
from consult.services.deliberations import get_deliberation
from core.errors import PermissionDenied, ValidationError
from core.i18n import _
from core.permissions import is_verified_resident
from core.web import flash, is_htmx, login_required, read_form, redirect, render, require


def _url(request: Request, name: str, **params: Any) -> str:
    return str(request.url_for(f"consult:{name}", **params))


def voting_refusal(user: Any, d: Any) -> str:
    """Why `user` has no statements to vote on in `d` (for the 403)."""
    if not is_verified_resident(user):
        return _("Only verified residents vote on statements.")
    if not d.open_for_votes:
        return _("Voting on statements is closed in this round.")
    if not concerns(d, user):
        return _("Only residents of the areas this round concerns vote on its statements.")
    return _("You may not vote in this round.")


# --- submitting -----------------------------------------------------------------------------


@login_required
async def statement_new(request: Request) -> Response:
    """Submit a statement (≤ 140 characters); it is shown once a council member approves it.
    The round's page carries the same form; with htmx its block changes in place."""
    user = request.state.user
    d = await get_deliberation(request.path_params["deliberation_id"])
    require(can(user, "submit_statement", d), service.submit_refusal(user, d))
    values: dict[str, str] = {}
    if request.method == "POST":
        form = await read_form(request)
        values = {"body": str(form.get("body") or "")}
        try:
            await service.submit_statement(user, d.id, form)
        except ValidationError as exc:
            ctx = {"d": d, "values": values, "errors": exc.errors, "can": can}
            if is_htmx(request):
                ctx["own"] = await service.own_statements(user, d)
                return render(
                    request,
                    "consult/deliberation_detail.html",
                    ctx,
                    status_code=422,
                    block="contribute",
                )
            return render(request, "consult/statement_form.html", ctx, status_code=422)
        message = _("Thank you. Your statement is shown once a council member approves it.")
        if is_htmx(request):
            ctx = {
                "d": d,
                "values": {},
                "errors": {},
                "can": can,
                "own": await service.own_statements(user, d),
                "submitted": message,
            }
            return render(request, "consult/deliberation_detail.html", ctx, block="contribute")
        flash(request, message)
        url = _url(request, "deliberation_detail", deliberation_id=d.id)
        return redirect(request, f"{url}#own")
    ctx = {"d": d, "values": values, "errors": {}, "can": can}
    return render(request, "consult/statement_form.html", ctx)


# --- moderation -----------------------------------------------------------------------------


@login_required
async def statement_queue(request: Request) -> Response:
    """The council's queue of a round's statements waiting for approval, oldest first."""
    user = request.state.user
    d = await get_deliberation(request.path_params["deliberation_id"])
    require(can(user, "moderate_statements", d), _("Only council members moderate statements."))
    pending = await service.pending_statements(d)
    ctx = {"d": d, "pending": pending, "errors": {}, "values": {}}
    return render(request, "consult/statement_queue.html", ctx)


async def _moderated(request: Request, statement: Any, errors: dict, values: dict, status: int):
    """After a moderation: htmx gets the statement's item back; a refused form without
    JavaScript gets the whole queue with the message next to that statement."""
    d = await get_deliberation(statement.deliberation_id)
    if is_htmx(request):
        ctx = {"d": d, "s": statement, "errors": errors, "values": values}
        return render(
            request, "consult/statement_queue.html", ctx, status_code=status, block="item"
        )
    pending = await service.pending_statements(d)
    ctx = {"d": d, "pending": pending, "errors": errors, "values": values, "failed": statement.id}
    return render(request, "consult/statement_queue.html", ctx, status_code=status)


@login_required
async def statement_approve(request: Request) -> Response:
    """Approve a statement: from now on it is shown and voted on."""
    user = request.state.user
    await read_form(request)
    statement = await service.approve_statement(user, request.path_params["statement_id"])
    if is_htmx(request):
        return await _moderated(request, statement, {}, {}, 200)
    flash(request, _("The statement is approved and shown to residents."))
    return redirect(
        request, _url(request, "statement_queue", deliberation_id=statement.deliberation_id)
    )


@login_required
async def statement_reject(request: Request) -> Response:
    """Reject a statement with a reason that its author sees."""
    user = request.state.user
    form = await read_form(request)
    statement_id = request.path_params["statement_id"]
    try:
        statement = await service.reject_statement(user, statement_id, form)
    except ValidationError as exc:
        statement = await service.get_statement(statement_id)
        values = {"reason": str(form.get("reason") or "")}
        return await _moderated(request, statement, exc.errors, values, 422)
    if is_htmx(request):
        return await _moderated(request, statement, {}, {}, 200)
    flash(request, _("The statement is rejected; its author sees your reason."), "info")
    return redirect(
        request, _url(request, "statement_queue", deliberation_id=statement.deliberation_id)
    )


# --- voting ---------------------------------------------------------------------------------


@login_required
async def statement_next(request: Request) -> Response:
    """The next statement for the signed-in resident, in their own order (the page that
    voting without JavaScript returns to)."""
    user = request.state.user
    d = await get_deliberation(request.path_params["deliberation_id"])
    require(can(user, "vote_in_deliberation", d), voting_refusal(user, d))
    ctx = {"d": d, "next": await votes.next_statement(user, d)}
    return render(request, "consult/statement_next.html", ctx)


@login_required
async def statement_vote(request: Request) -> Response:
    """Agree, disagree or pass on a statement (or change one's vote). From the vote card, htmx
    gets the next statement's card; from one's list of votes, that vote's row."""
    user = request.state.user
    form = await read_form(request)
    statement_id = request.path_params["statement_id"]
    from_list = form.get("from") == "mine"
    try:
        vote = await votes.vote_statement(user, statement_id, form.get("choice"))
    except PermissionDenied as exc:
        if not is_htmx(request):
            raise
        # htmx does not swap a refusal in: show it on the round's page instead
        statement = await service.get_statement(statement_id)
        flash(request, exc.message, "error")
        return redirect(
            request, _url(request, "deliberation_detail", deliberation_id=statement.deliberation_id)
        )
    saved = _("Saved: {choice}.", choice=Choice(vote.choice).label)
    if not from_list and not is_htmx(request):  # the next statement's page (the common case)
        flash(request, saved)
        return redirect(
            request, _url(request, "statement_next", deliberation_id=vote.deliberation_id)
        )
    d = await get_deliberation(vote.deliberation_id)
    if from_list:
        if is_htmx(request):
            rows = await votes.own_votes(user, d, vote.statement_id)
            ctx = {
                "d": d,
                "row": rows[0],
                "open": can(user, "vote_in_deliberation", d),
                "saved": vote.statement_id,
            }
            return render(request, "consult/my_votes.html", ctx, block="row")
        flash(request, saved)
        url = _url(request, "my_votes", deliberation_id=d.id)
        return redirect(request, f"{url}#vote-{vote.statement_id}")
    ctx = {"d": d, "next": await votes.next_statement(user, d), "saved": saved}
    return render(request, "consult/statement_next.html", ctx, block="card")


@login_required
async def my_votes(request: Request) -> Response:
    """A resident's votes in a round, the latest first; each changeable while voting is open."""
    user = request.state.user
    d = await get_deliberation(request.path_params["deliberation_id"])
    rows = await votes.own_votes(user, d)
    ctx = {"d": d, "rows": rows, "open": can(user, "vote_in_deliberation", d)}
    return render(request, "consult/my_votes.html", ctx)


routes: list[Route] = [
    Route(
        "/deliberations/{deliberation_id:int}/statements/new",
        statement_new,
        methods=["GET", "POST"],
        name="statement_new",
    ),
    Route(
        "/deliberations/{deliberation_id:int}/moderation",
        statement_queue,
        name="statement_queue",
    ),
    Route(
        "/statements/{statement_id:int}/approve",
        statement_approve,
        methods=["POST"],
        name="statement_approve",
    ),
    Route(
        "/statements/{statement_id:int}/reject",
        statement_reject,
        methods=["POST"],
        name="statement_reject",
    ),
    Route("/deliberations/{deliberation_id:int}/vote", statement_next, name="statement_next"),
    Route(
        "/statements/{statement_id:int}/vote",
        statement_vote,
        methods=["POST"],
        name="statement_vote",
    ),
    Route("/deliberations/{deliberation_id:int}/my-votes", my_votes, name="my_votes"),
]
