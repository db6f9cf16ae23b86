"""A procurement's money pages for the finance officer and the council: recording a ledger
entry (also through htmx, swapping the money block), reversing one, lowering the cap, asking
for a raise and the council's decision. Bad input re-renders the workspace (422)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import (
    CapChange,
    CapChangeStatus,
    EntryKind,
    LedgerEntry,
)
from budget.routes.procurements import (
    form_values,
    load_procurement,
    manage_page,
    manage_url,
    page,
    refused,
    require_finance,
)
from budget.services import ledger, procurement_caps
from core.errors import NotFound, ValidationError
from core.i18n import _, format_money, local_today
from core.web import (
    flash,
    is_htmx,
    login_required,
    read_form,
    redirect,
)

# --- the ledger ------------------------------------------------------------------------------


@login_required
async def procurement_entry(request: Request) -> Response:
    """Record a commitment, a payment or a release; htmx gets the money block back."""
    user = request.state.user
    form = await read_form(request)
    procurement = await load_procurement(request.path_params["procurement_id"])
    require_finance(user, "record_entry", procurement)
    try:
        entry = await ledger.record_entry(user, procurement.id, form)
    except ValidationError as exc:
        return await refused(request, procurement, form, "entry", exc, "amount", block="money")
    message = _(
        "{kind} of {amount} recorded in the ledger.",
        kind=EntryKind(entry.kind).label,
        amount=format_money(entry.amount_fen),
    )
    if is_htmx(request):
        procurement = await load_procurement(procurement.id)
        return await manage_page(request, procurement, notice=message, block="money")
    flash(request, message)
    return redirect(request, manage_url(request, procurement.id))


@login_required
async def ledger_reverse(request: Request) -> Response:
    """Reverse one entry (a confirmation with the reason and the date); once per entry, and
    never a reversal."""
    user = request.state.user
    entry = await LedgerEntry.get_or_none(id=request.path_params["entry_id"]).select_related(
        "officer"
    )
    if entry is None:
        raise NotFound(_("This ledger entry does not exist."))
    procurement = await load_procurement(entry.procurement_id)
    form = await read_form(request) if request.method == "POST" else None
    require_finance(user, "record_entry", procurement)
    final = (
        entry.kind == EntryKind.REVERSAL or await LedgerEntry.filter(reverses_id=entry.id).exists()
    )
    values = {"entry_date": local_today().isoformat(), "document_ref": "", "note": ""}
    errors: dict[str, str] = {}
    status_code = 200
    if form is not None:
        values = form_values(form, tuple(values))
        try:
            await ledger.reverse_entry(user, entry.id, form)
        except ValidationError as exc:
            errors, status_code = exc.errors or {"note": exc.message}, 422
        else:
            flash(request, _("The entry has been reversed."))
            return redirect(request, manage_url(request, procurement.id))
    ctx = {
        "procurement": procurement,
        "entry": entry,
        "final": final,
        "values": values,
        "errors": errors,
    }
    return page(request, "procurement_reverse.html", ctx, status_code=status_code)


# --- the cap ---------------------------------------------------------------------------------


@login_required
async def procurement_cap_lower(request: Request) -> Response:
    """Lower the cap (never below what is committed); the rest goes back to the envelope."""
    user = request.state.user
    form = await read_form(request)
    procurement = await load_procurement(request.path_params["procurement_id"])
    require_finance(user, "manage_procurement", procurement)
    try:
        changed = await procurement_caps.lower_cap(user, procurement.id, form)
    except ValidationError as exc:
        return await refused(request, procurement, form, "cap_lower", exc, "cap")
    flash(request, _("The cap is now {cap}.", cap=format_money(changed.cap_fen)))
    return redirect(request, manage_url(request, procurement.id))


@login_required
async def procurement_cap_request(request: Request) -> Response:
    """Ask the council for a higher cap, with a reason."""
    user = request.state.user
    form = await read_form(request)
    procurement = await load_procurement(request.path_params["procurement_id"])
    require_finance(user, "request_cap_change", procurement)
    try:
        await procurement_caps.request_cap_raise(user, procurement.id, form)
    except ValidationError as exc:
        return await refused(request, procurement, form, "cap_request", exc, "new_cap")
    flash(request, _("Your request has been sent to the council."))
    return redirect(request, manage_url(request, procurement.id))


@login_required
async def cap_change_decide(request: Request) -> Response:
    """A council member approves or refuses a requested raise (a note is needed to refuse)."""
    user = request.state.user
    form = await read_form(request)
    change = await CapChange.get_or_none(id=request.path_params["change_id"])
    if change is None:
        raise NotFound(_("This request does not exist."))
    procurement = await load_procurement(change.procurement_id)
    require_finance(user, "decide_cap_change", procurement)
    decision = str(form.get("decision") or "")
    failed = f"decide-{change.id}"
    try:
        if decision not in ("approve", "refuse"):
            raise ValidationError(errors={"decision": _("Approve or refuse the request.")})
        decided = await procurement_caps.decide_cap_change(
            user, change.id, decision == "approve", form
        )
    except ValidationError as exc:
        return await refused(request, procurement, form, failed, exc, "decision_note")
    if decided.status == CapChangeStatus.APPROVED:
        flash(
            request,
            _(
                "The raise is approved: the cap is now {cap}.",
                cap=format_money(decided.new_cap_fen),
            ),
        )
    else:
        flash(request, _("The raise is refused."), "info")
    return redirect(request, manage_url(request, procurement.id))


routes = [
    Route(
        "/procurements/{procurement_id:int}/entries",
        procurement_entry,
        methods=["POST"],
        name="procurement_entry",
    ),
    Route(
        "/ledger/{entry_id:int}/reverse",
        ledger_reverse,
        methods=["GET", "POST"],
        name="ledger_reverse",
    ),
    Route(
        "/procurements/{procurement_id:int}/cap",
        procurement_cap_lower,
        methods=["POST"],
        name="procurement_cap_lower",
    ),
    Route(
        "/procurements/{procurement_id:int}/cap-requests",
        procurement_cap_request,
        methods=["POST"],
        name="procurement_cap_request",
    ),
    Route(
        "/cap-changes/{change_id:int}/decide",
        cap_change_decide,
        methods=["POST"],
        name="cap_change_decide",
    ),
]
