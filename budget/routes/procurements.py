"""Procurements for the finance officer and the council: converting funded proposals (one by one
or a whole round), the officer's workspace of one procurement (status and history, the ledger,
milestones, documents, the cap and its changes), editing it and moving it along. The
workspace's forms post to `procurement_money` (ledger, cap) and `procurement_files`
(milestones, documents), which re-render it with `manage_page` when refused.

Every POST checks the CSRF token, then the permission (`can`), then calls one service; bad input
re-renders the page it came from with the messages next to the fields (422), success redirects
(303). The ledger's entry form also works through htmx: it swaps only the money block.
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import (
    CapChange,
    CapChangeStatus,
    DocumentKind,
    EntryKind,
    Envelope,
    Milestone,
    Procurement,
    ProcurementDocument,
    ProcurementEvent,
    ProcurementKind,
    ProcurementStatus,
    Proposal,
    Round,
)
from budget.permissions import can
from budget.rules.ledger import OPEN_FOR_MONEY, next_states
from budget.services import ledger, procurement_caps, procurement_files, procurements
from budget.services.ledger import MANUAL_KINDS
from core.errors import NotFound, ValidationError
from core.forms import fen_to_yuan_input
from core.i18n import _, local_today
from core.models import User
from core.web import (
    flash,
    get_object_or_404,
    login_required,
    read_form,
    redirect,
    render,
    require,
)

CONVERT_FIELDS = ("title", "kind", "officer", "planned_start", "planned_end", "cap")
EDIT_FIELDS = ("title", "kind", "officer", "planned_start", "planned_end")
MOVE_FIELDS = {
    ProcurementStatus.CONTRACTED: (
        "supplier_name",
        "supplier_code",
        "contract_ref",
        "contract_date",
        "contract_amount",
    ),
    ProcurementStatus.DELIVERED: ("delivered_on",),
    ProcurementStatus.CANCELLED: ("reason",),
}


# --- links other pages use -------------------------------------------------------------------


def manage_url(request: Request, procurement_id: int) -> str:
    return str(request.url_for("budget:procurement_manage", procurement_id=procurement_id))


def _after_round_conversion_url(request: Request, round_id: int) -> str:
    """The round's finance page, which lists its procurements."""
    return str(request.url_for("budget:finance_round", round_id=round_id))


# --- shared helpers --------------------------------------------------------------------------


def page(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    """render() with what every procurement template uses."""
    base = {
        "can": can,
        "ProcurementStatus": ProcurementStatus,
        "ProcurementKind": ProcurementKind,
        "EntryKind": EntryKind,
        "DocumentKind": DocumentKind,
        "CapChangeStatus": CapChangeStatus,
        "today": local_today().isoformat(),
    }
    return render(request, f"budget/{name}", {**base, **ctx}, **kwargs)


def form_values(form: FormData, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """What was typed, to show it again (files and the CSRF token left out)."""
    if names is not None:
        return {k: str(form.get(k) or "") for k in names}
    return {k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


async def load_procurement(procurement_id: int) -> Procurement:
    """A procurement with what its pages show about it (404 if unknown)."""
    procurement = await Procurement.get_or_none(id=procurement_id).select_related(
        "round", "envelope", "area", "officer", "proposal"
    )
    if procurement is None:
        raise NotFound(_("This procurement does not exist."))
    return procurement


def require_finance(user: User | None, action: str, procurement: Procurement) -> None:
    messages = {
        "record_entry": _("Only finance officers record money on open procurements."),
        "move_procurement": _("Only finance officers move open procurements along."),
        "request_cap_change": _("Only finance officers ask for a higher cap."),
        "decide_cap_change": _("Only council members decide on a higher cap."),
    }
    require(
        can(user, action, procurement),
        messages.get(action, _("Only finance officers change open procurements.")),
    )


def _kind_options() -> list[tuple[str, str]]:
    return [(k.value, k.label) for k in ProcurementKind]


async def _officer_options() -> list[tuple[str, str]]:
    return [(str(u.id), u.display_name) for u in await procurements.finance_officers()]


# --- converting ------------------------------------------------------------------------------


async def _round_convert_page(
    request: Request, rnd: Round, error: str = "", status_code: int = 200
) -> Response:
    proposals = await procurements.convertible(rnd)
    envelopes = await Envelope.filter(round_id=rnd.id).select_related("area").order_by("id")
    by_area = {e.area_id: e for e in envelopes}
    rows = []
    wanted: dict[int, int] = {}
    for proposal in proposals:
        envelope = by_area.get(proposal.area_id) or by_area.get(None)
        rows.append({"proposal": proposal, "envelope": envelope})
        if envelope is not None:
            wanted[envelope.id] = wanted.get(envelope.id, 0) + proposal.effective_cost_fen
    summary = []
    for envelope in envelopes:
        room = await procurement_caps.room_left(rnd, envelope)
        need = wanted.get(envelope.id, 0)
        summary.append({"envelope": envelope, "room": room, "need": need, "over": need > room})
    converted = await Procurement.filter(round_id=rnd.id).order_by("id")
    ctx = {
        "round": rnd,
        "rows": rows,
        "summary": summary,
        "converted": converted,
        "error": error,
        "finance_url": str(request.url_for("budget:finance_round", round_id=rnd.id)),
    }
    return page(request, "procurement_round_convert.html", ctx, status_code=status_code)


@login_required
async def round_convert(request: Request) -> Response:
    """A round's funded proposals not yet converted, with their default caps and the money
    left per envelope; POST converts them all at once (all or none)."""
    user = request.state.user
    rnd = await get_object_or_404(Round, id=request.path_params["round_id"])
    if request.method == "POST":
        await read_form(request)
    require(
        can(user, "convert", rnd),
        _("Only finance officers convert funded proposals, once the results are published."),
    )
    if request.method == "POST":
        try:
            created = await procurements.convert_round(user, rnd.id)
        except ValidationError as exc:
            return await _round_convert_page(request, rnd, exc.message, 422)
        if created:
            flash(request, _("Procurements created: {n}.", n=len(created)))
        else:
            flash(request, _("No funded proposal was left to convert."), "info")
        return redirect(request, _after_round_conversion_url(request, rnd.id))
    return await _round_convert_page(request, rnd)


@login_required
async def proposal_convert(request: Request) -> Response:
    """The conversion form of one funded proposal: title, kind, officer, dates and cap (the
    approved cost by default, never more than the money left)."""
    user = request.state.user
    proposal = await Proposal.get_or_none(id=request.path_params["proposal_id"]).select_related(
        "round", "area"
    )
    if proposal is None:
        raise NotFound(_("This proposal does not exist."))
    form = await read_form(request) if request.method == "POST" else None
    require(
        can(user, "convert", proposal),
        _("Only finance officers convert funded proposals, once the results are published."),
    )
    if form is None:
        existing = await Procurement.get_or_none(proposal_id=proposal.id)
        if existing is not None:
            flash(request, _("{title} is already a procurement.", title=proposal.title), "info")
            return redirect(request, manage_url(request, existing.id))
    values = procurements.conversion_defaults(proposal, user, proposal.round)
    errors: dict[str, str] = {}
    refused = ""  # a refusal of the whole conversion (converted already), not of a field
    status_code = 200
    if form is not None:
        values = form_values(form, CONVERT_FIELDS)
        try:
            procurement = await procurements.convert_proposal(user, proposal.id, form)
        except ValidationError as exc:
            errors, refused, status_code = exc.errors, "" if exc.errors else exc.message, 422
        else:
            flash(request, _("{title} is now a procurement.", title=procurement.title))
            return redirect(request, manage_url(request, procurement.id))
    envelope = await procurements.envelope_of(proposal)
    ctx = {
        "proposal": proposal,
        "envelope": envelope,
        "room": await procurement_caps.room_left(proposal.round, envelope),
        "values": values,
        "errors": errors,
        "refused": refused,
        "kinds": _kind_options(),
        "officers": await _officer_options(),
    }
    return page(request, "procurement_convert.html", ctx, status_code=status_code)


# --- the workspace ---------------------------------------------------------------------------


def _form_defaults(procurement: Procurement) -> dict[str, dict[str, str]]:
    today = local_today().isoformat()
    return {
        "entry": {"kind": "pay", "amount": "", "entry_date": today, "document_ref": "", "note": ""},
        "milestone": {"title": "", "planned_date": "", "done_date": "", "note": ""},
        "document": {"kind": DocumentKind.CONTRACT.value, "title": "", "public": ""},
        "cap_lower": {"cap": fen_to_yuan_input(procurement.cap_fen)},
        "cap_request": {"new_cap": "", "reason": ""},
    }


async def manage_page(
    request: Request,
    procurement: Procurement,
    *,
    failed: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
    status_code: int = 200,
    block: str | None = None,
) -> Response:
    """The workspace; `failed` names the form whose input (`values`) was refused (`errors`)."""
    forms = _form_defaults(procurement)
    if failed:
        forms[failed] = values or {}
    ctx = {
        "procurement": procurement,
        "entries": await ledger.entries_of(procurement),
        "events": await ProcurementEvent.filter(procurement_id=procurement.id).select_related(
            "actor"
        ),
        "milestones": await Milestone.filter(procurement_id=procurement.id),
        "documents": await ProcurementDocument.filter(procurement_id=procurement.id),
        "changes": await CapChange.filter(procurement_id=procurement.id).select_related(
            "requested_by", "decided_by"
        ),
        "next_states": next_states(procurement.status_enum),
        "money_moves": procurement.status_enum in OPEN_FOR_MONEY,
        "entry_kinds": [(k.value, k.label) for k in MANUAL_KINDS],
        "document_kinds": [(k.value, k.label) for k in DocumentKind],
        "max_document_mb": procurement_files.MAX_DOCUMENT_BYTES // (1024 * 1024),
        "forms": forms,
        "errors": {failed: errors or {}} if failed else {},
        "notice": notice,
        "public_url": str(
            request.url_for("budget:procurement_detail", procurement_id=procurement.id)
        ),
    }
    return page(request, "procurement_manage.html", ctx, status_code=status_code, block=block)


async def refused(
    request: Request,
    procurement: Procurement,
    form: FormData,
    failed: str,
    exc: ValidationError,
    field: str,
    block: str | None = None,
) -> Response:
    """The workspace again after form `failed` was refused: what was typed kept, the messages
    next to the fields (a message without a field goes next to `field`), status 422."""
    return await manage_page(
        request,
        procurement,
        failed=failed,
        values=form_values(form),
        errors=exc.errors or {field: exc.message},
        status_code=422,
        block=block,
    )


@login_required
async def procurement_manage(request: Request) -> Response:
    """The officer's workspace of one procurement (finance officers and the council)."""
    procurement = await load_procurement(request.path_params["procurement_id"])
    require(
        can(request.state.user, "see_procurement_internals", procurement),
        _("Only finance officers and the council see a procurement's workspace."),
    )
    return await manage_page(request, procurement)


@login_required
async def procurement_edit(request: Request) -> Response:
    """Title, kind, responsible officer and planned dates."""
    user = request.state.user
    procurement = await load_procurement(request.path_params["procurement_id"])
    form = await read_form(request) if request.method == "POST" else None
    require_finance(user, "manage_procurement", procurement)
    values = {
        "title": procurement.title,
        "kind": procurement.kind_enum.value,
        "officer": str(procurement.officer_id or ""),
        "planned_start": procurement.planned_start.isoformat(),
        "planned_end": procurement.planned_end.isoformat(),
    }
    errors: dict[str, str] = {}
    status_code = 200
    if form is not None:
        values = form_values(form, EDIT_FIELDS)
        try:
            await procurements.edit_procurement(user, procurement.id, form)
        except ValidationError as exc:
            errors, status_code = exc.errors or {"title": exc.message}, 422
        else:
            flash(request, _("The procurement has been saved."))
            return redirect(request, manage_url(request, procurement.id))
    ctx = {
        "procurement": procurement,
        "values": values,
        "errors": errors,
        "kinds": _kind_options(),
        "officers": await _officer_options(),
    }
    return page(request, "procurement_edit.html", ctx, status_code=status_code)


def _move_refusal(procurement: Procurement, target: ProcurementStatus) -> str:
    """Why `target` is not offered now (the service's own words), or ""."""
    current = procurement.status_enum
    if target in next_states(current):
        return ""
    return _(
        "A procurement that is {current} can only become: {allowed}.",
        current=current.label,
        allowed=", ".join(s.label for s in next_states(current)),
    )


def _move_defaults(procurement: Procurement, target: ProcurementStatus) -> dict[str, str]:
    today = local_today().isoformat()
    values = {name: "" for name in MOVE_FIELDS.get(target, ())}
    if target == ProcurementStatus.CONTRACTED:
        values["contract_date"] = today
    elif target == ProcurementStatus.DELIVERED:
        values["delivered_on"] = today
    return values


@login_required
async def procurement_move(request: Request) -> Response:
    """One step along: a confirmation page with what the step needs (the contract, the
    delivery date, a reason to cancel); POST moves it."""
    user = request.state.user
    procurement = await load_procurement(request.path_params["procurement_id"])
    try:
        target = ProcurementStatus(request.path_params["to_status"])
    except ValueError:
        raise NotFound(_("This page does not exist.")) from None
    form = await read_form(request) if request.method == "POST" else None
    require_finance(user, "move_procurement", procurement)
    values = _move_defaults(procurement, target)
    errors: dict[str, str] = {}
    refused = _move_refusal(procurement, target)
    status_code = 422 if refused else 200
    if form is not None and not refused:
        values = form_values(form, MOVE_FIELDS.get(target, ()))
        try:
            moved = await procurements.move_procurement(user, procurement.id, target, form)
        except ValidationError as exc:  # bad input, or someone moved it meanwhile
            errors, refused, status_code = exc.errors, "" if exc.errors else exc.message, 422
        else:
            flash(
                request,
                _("{title} is now: {status}.", title=moved.title, status=moved.status_enum.label),
            )
            return redirect(request, manage_url(request, procurement.id))
    ctx = {
        "procurement": procurement,
        "target": target,
        "values": values,
        "errors": errors,
        "refused": refused,
        "unspent": procurement.committed_fen - procurement.paid_fen,
    }
    return page(request, "procurement_move.html", ctx, status_code=status_code)


routes = [
    Route(
        "/rounds/{round_id:int}/convert",
        round_convert,
        methods=["GET", "POST"],
        name="round_convert",
    ),
    Route(
        "/proposals/{proposal_id:int}/convert",
        proposal_convert,
        methods=["GET", "POST"],
        name="proposal_convert",
    ),
    Route(
        "/procurements/{procurement_id:int}/manage",
        procurement_manage,
        name="procurement_manage",
    ),
    Route(
        "/procurements/{procurement_id:int}/edit",
        procurement_edit,
        methods=["GET", "POST"],
        name="procurement_edit",
    ),
    Route(
        "/procurements/{procurement_id:int}/move/{to_status}",
        procurement_move,
        methods=["GET", "POST"],
        name="procurement_move",
    ),
]
