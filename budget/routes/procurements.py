"""Procurements for the finance officer and the council: converting funded proposals (one by one
or a whole round), the officer's workspace of one procurement (status and history, the ledger,
milestones, documents, the cap and its changes), editing it, moving it along, and serving its
documents (to the public too, when marked public).

Every POST checks the CSRF token, then the permission (`can`), then calls one service; bad input
re-renders the page it came from with the messages next to the fields (422), success redirects
(303). The ledger's entry form also works through htmx: it swaps only the money block.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from budget.models import (
    CapChange,
    CapChangeStatus,
    DocumentKind,
    EntryKind,
    Envelope,
    LedgerEntry,
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
from budget.services.photos import Upload, photo_path
from core.errors import NotFound, ValidationError
from core.forms import fen_to_yuan_input
from core.i18n import _, format_money, local_today
from core.models import User
from core.web import (
    flash,
    get_object_or_404,
    is_htmx,
    login_required,
    read_form,
    redirect,
    render,
    require,
    with_user,
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


def _manage_url(request: Request, procurement_id: int) -> str:
    return str(request.url_for("budget:procurement_manage", procurement_id=procurement_id))


def _after_round_conversion_url(request: Request, round_id: int) -> str:
    """The round's finance page, which lists its procurements."""
    return str(request.url_for("budget:finance_round", round_id=round_id))


# --- shared helpers --------------------------------------------------------------------------


def _page(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
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


def _values(form: FormData, names: tuple[str, ...] | None = None) -> dict[str, str]:
    """What was typed, to show it again (files and the CSRF token left out)."""
    if names is not None:
        return {k: str(form.get(k) or "") for k in names}
    return {k: v for k, v in form.items() if k != "csrf_token" and isinstance(v, str)}


async def _procurement(procurement_id: int) -> Procurement:
    """A procurement with what its pages show about it (404 if unknown)."""
    procurement = await Procurement.get_or_none(id=procurement_id).select_related(
        "round", "envelope", "area", "officer", "proposal"
    )
    if procurement is None:
        raise NotFound(_("This procurement does not exist."))
    return procurement


def _require_finance(user: User | None, action: str, procurement: Procurement) -> None:
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
    return _page(request, "procurement_round_convert.html", ctx, status_code=status_code)


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
            return redirect(request, _manage_url(request, existing.id))
    values = procurements.conversion_defaults(proposal, user, proposal.round)
    errors: dict[str, str] = {}
    refused = ""  # a refusal of the whole conversion (converted already), not of a field
    status_code = 200
    if form is not None:
        values = _values(form, CONVERT_FIELDS)
        try:
            procurement = await procurements.convert_proposal(user, proposal.id, form)
        except ValidationError as exc:
            errors, refused, status_code = exc.errors, "" if exc.errors else exc.message, 422
        else:
            flash(request, _("{title} is now a procurement.", title=procurement.title))
            return redirect(request, _manage_url(request, procurement.id))
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
    return _page(request, "procurement_convert.html", ctx, status_code=status_code)


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


async def _manage(
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
    return _page(request, "procurement_manage.html", ctx, status_code=status_code, block=block)


@login_required
async def procurement_manage(request: Request) -> Response:
    """The officer's workspace of one procurement (finance officers and the council)."""
    procurement = await _procurement(request.path_params["procurement_id"])
    require(
        can(request.state.user, "see_procurement_internals", procurement),
        _("Only finance officers and the council see a procurement's workspace."),
    )
    return await _manage(request, procurement)


@login_required
async def procurement_edit(request: Request) -> Response:
    """Title, kind, responsible officer and planned dates."""
    user = request.state.user
    procurement = await _procurement(request.path_params["procurement_id"])
    form = await read_form(request) if request.method == "POST" else None
    _require_finance(user, "manage_procurement", procurement)
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
        values = _values(form, EDIT_FIELDS)
        try:
            await procurements.edit_procurement(user, procurement.id, form)
        except ValidationError as exc:
            errors, status_code = exc.errors or {"title": exc.message}, 422
        else:
            flash(request, _("The procurement has been saved."))
            return redirect(request, _manage_url(request, procurement.id))
    ctx = {
        "procurement": procurement,
        "values": values,
        "errors": errors,
        "kinds": _kind_options(),
        "officers": await _officer_options(),
    }
    return _page(request, "procurement_edit.html", ctx, status_code=status_code)


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
    procurement = await _procurement(request.path_params["procurement_id"])
    try:
        target = ProcurementStatus(request.path_params["to_status"])
    except ValueError:
        raise NotFound(_("This page does not exist.")) from None
    form = await read_form(request) if request.method == "POST" else None
    _require_finance(user, "move_procurement", procurement)
    values = _move_defaults(procurement, target)
    errors: dict[str, str] = {}
    refused = _move_refusal(procurement, target)
    status_code = 422 if refused else 200
    if form is not None and not refused:
        values = _values(form, MOVE_FIELDS.get(target, ()))
        try:
            moved = await procurements.move_procurement(user, procurement.id, target, form)
        except ValidationError as exc:  # bad input, or someone moved it meanwhile
            errors, refused, status_code = exc.errors, "" if exc.errors else exc.message, 422
        else:
            flash(
                request,
                _("{title} is now: {status}.", title=moved.title, status=moved.status_enum.label),
            )
            return redirect(request, _manage_url(request, procurement.id))
    ctx = {
        "procurement": procurement,
        "target": target,
        "values": values,
        "errors": errors,
        "refused": refused,
        "unspent": procurement.committed_fen - procurement.paid_fen,
    }
    return _page(request, "procurement_move.html", ctx, status_code=status_code)


# --- the ledger ------------------------------------------------------------------------------


@login_required
async def procurement_entry(request: Request) -> Response:
    """Record a commitment, a payment or a release; htmx gets the money block back."""
    user = request.state.user
    form = await read_form(request)
    procurement = await _procurement(request.path_params["procurement_id"])
    _require_finance(user, "record_entry", procurement)
    try:
        entry = await ledger.record_entry(user, procurement.id, form)
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed="entry",
            values=_values(form),
            errors=exc.errors or {"amount": exc.message},
            status_code=422,
            block="money",
        )
    message = _(
        "{kind} of {amount} recorded in the ledger.",
        kind=EntryKind(entry.kind).label,
        amount=format_money(entry.amount_fen),
    )
    if is_htmx(request):
        procurement = await _procurement(procurement.id)
        return await _manage(request, procurement, notice=message, block="money")
    flash(request, message)
    return redirect(request, _manage_url(request, procurement.id))


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
    procurement = await _procurement(entry.procurement_id)
    form = await read_form(request) if request.method == "POST" else None
    _require_finance(user, "record_entry", procurement)
    final = (
        entry.kind == EntryKind.REVERSAL or await LedgerEntry.filter(reverses_id=entry.id).exists()
    )
    values = {"entry_date": local_today().isoformat(), "document_ref": "", "note": ""}
    errors: dict[str, str] = {}
    status_code = 200
    if form is not None:
        values = _values(form, tuple(values))
        try:
            await ledger.reverse_entry(user, entry.id, form)
        except ValidationError as exc:
            errors, status_code = exc.errors or {"note": exc.message}, 422
        else:
            flash(request, _("The entry has been reversed."))
            return redirect(request, _manage_url(request, procurement.id))
    ctx = {
        "procurement": procurement,
        "entry": entry,
        "final": final,
        "values": values,
        "errors": errors,
    }
    return _page(request, "procurement_reverse.html", ctx, status_code=status_code)


# --- milestones ------------------------------------------------------------------------------


@login_required
async def procurement_milestone_add(request: Request) -> Response:
    """Add a milestone (title, planned date, optionally already done)."""
    user = request.state.user
    form = await read_form(request)
    procurement = await _procurement(request.path_params["procurement_id"])
    _require_finance(user, "manage_procurement", procurement)
    try:
        await procurement_files.add_milestone(user, procurement.id, form)
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed="milestone",
            values=_values(form),
            errors=exc.errors or {"title": exc.message},
            status_code=422,
        )
    flash(request, _("The milestone has been added."))
    return redirect(request, _manage_url(request, procurement.id))


@login_required
async def milestone_done(request: Request) -> Response:
    """Mark a milestone done (today unless another date is given)."""
    user = request.state.user
    form = await read_form(request)
    milestone = await Milestone.get_or_none(id=request.path_params["milestone_id"])
    if milestone is None:
        raise NotFound(_("This milestone does not exist."))
    procurement = await _procurement(milestone.procurement_id)
    _require_finance(user, "manage_procurement", procurement)
    try:
        await procurement_files.complete_milestone(user, milestone.id, form)
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed=f"done-{milestone.id}",
            values=_values(form),
            errors=exc.errors or {"done_date": exc.message},
            status_code=422,
        )
    flash(request, _("The milestone “{title}” is done.", title=milestone.title))
    return redirect(request, _manage_url(request, procurement.id))


# --- documents -------------------------------------------------------------------------------


async def _read_upload(form: FormData) -> Upload | None:
    """The chosen file, read up to one byte past the limit (enough to know it is too large)."""
    item = form.get("file")
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    data = await item.read(procurement_files.MAX_DOCUMENT_BYTES + 1)
    await item.close()
    return Upload(filename=item.filename, data=data) if data else None


@login_required
async def procurement_document_add(request: Request) -> Response:
    """Upload a contract, acceptance report, invoice…: PDF, JPEG or PNG, checked by content."""
    user = request.state.user
    form = await read_form(request, max_files=2)
    procurement = await _procurement(request.path_params["procurement_id"])
    _require_finance(user, "manage_procurement", procurement)
    upload = await _read_upload(form)
    try:
        await procurement_files.add_document(
            user, procurement.id, form, upload, request.app.state.settings.upload_dir
        )
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed="document",
            values=_values(form),
            errors=exc.errors or {"file": exc.message},
            status_code=422,
        )
    flash(request, _("The document has been added."))
    return redirect(request, _manage_url(request, procurement.id))


@with_user
async def document_download(request: Request) -> Response:
    """A document, to those who may see it (anyone once public; staff and finance always)."""
    document = await ProcurementDocument.get_or_none(id=request.path_params["document_id"])
    if document is None or not can(request.state.user, "see_document", document):
        raise NotFound(_("This document does not exist."))
    path = photo_path(request.app.state.settings.upload_dir, document.stored_name)
    if not path.is_file():
        raise NotFound(_("This document does not exist."))
    ext = document.stored_name.rsplit(".", 1)[-1]
    nice = quote(f"{document.title}.{ext}", safe="")
    return FileResponse(
        path,
        media_type=document.content_type,
        headers={
            "Content-Disposition": (
                f"inline; filename=\"document-{document.id}.{ext}\"; filename*=UTF-8''{nice}"
            ),
            "Cache-Control": "no-cache" if document.public else "private, no-store",
        },
    )


@login_required
async def document_visibility(request: Request) -> Response:
    """Make a document public (anyone may read it) or private again."""
    user = request.state.user
    form = await read_form(request)
    document = await ProcurementDocument.get_or_none(id=request.path_params["document_id"])
    if document is None:
        raise NotFound(_("This document does not exist."))
    procurement = await _procurement(document.procurement_id)
    _require_finance(user, "manage_procurement", procurement)
    public = str(form.get("public") or "") == "1"
    await procurement_files.set_document_public(user, document.id, public)
    if public:
        flash(request, _("“{title}” is public now.", title=document.title))
    else:
        flash(request, _("“{title}” is private now.", title=document.title), "info")
    return redirect(request, _manage_url(request, procurement.id))


# --- the cap ---------------------------------------------------------------------------------


@login_required
async def procurement_cap_lower(request: Request) -> Response:
    """Lower the cap (never below what is committed); the rest goes back to the envelope."""
    user = request.state.user
    form = await read_form(request)
    procurement = await _procurement(request.path_params["procurement_id"])
    _require_finance(user, "manage_procurement", procurement)
    try:
        changed = await procurement_caps.lower_cap(user, procurement.id, form)
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed="cap_lower",
            values=_values(form),
            errors=exc.errors or {"cap": exc.message},
            status_code=422,
        )
    flash(request, _("The cap is now {cap}.", cap=format_money(changed.cap_fen)))
    return redirect(request, _manage_url(request, procurement.id))


@login_required
async def procurement_cap_request(request: Request) -> Response:
    """Ask the council for a higher cap, with a reason."""
    user = request.state.user
    form = await read_form(request)
    procurement = await _procurement(request.path_params["procurement_id"])
    _require_finance(user, "request_cap_change", procurement)
    try:
        await procurement_caps.request_cap_raise(user, procurement.id, form)
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed="cap_request",
            values=_values(form),
            errors=exc.errors or {"new_cap": exc.message},
            status_code=422,
        )
    flash(request, _("Your request has been sent to the council."))
    return redirect(request, _manage_url(request, procurement.id))


@login_required
async def cap_change_decide(request: Request) -> Response:
    """A council member approves or refuses a requested raise (a note is needed to refuse)."""
    user = request.state.user
    form = await read_form(request)
    change = await CapChange.get_or_none(id=request.path_params["change_id"])
    if change is None:
        raise NotFound(_("This request does not exist."))
    procurement = await _procurement(change.procurement_id)
    _require_finance(user, "decide_cap_change", procurement)
    decision = str(form.get("decision") or "")
    failed = f"decide-{change.id}"
    try:
        if decision not in ("approve", "refuse"):
            raise ValidationError(errors={"decision": _("Approve or refuse the request.")})
        decided = await procurement_caps.decide_cap_change(
            user, change.id, decision == "approve", form
        )
    except ValidationError as exc:
        return await _manage(
            request,
            procurement,
            failed=failed,
            values=_values(form),
            errors=exc.errors or {"decision_note": exc.message},
            status_code=422,
        )
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
    return redirect(request, _manage_url(request, procurement.id))


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
        "/procurements/{procurement_id:int}/milestones",
        procurement_milestone_add,
        methods=["POST"],
        name="procurement_milestone_add",
    ),
    Route(
        "/milestones/{milestone_id:int}/done",
        milestone_done,
        methods=["POST"],
        name="milestone_done",
    ),
    Route(
        "/procurements/{procurement_id:int}/documents",
        procurement_document_add,
        methods=["POST"],
        name="procurement_document_add",
    ),
    Route("/documents/{document_id:int}", document_download, name="document_download"),
    Route(
        "/documents/{document_id:int}/visibility",
        document_visibility,
        methods=["POST"],
        name="document_visibility",
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
