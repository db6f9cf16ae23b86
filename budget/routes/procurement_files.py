"""A procurement's milestones and documents: adding and completing milestones, uploading
documents (checked by content), serving them (to the public too, when marked public) and
making them public or private."""

from __future__ import annotations

from urllib.parse import quote

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from budget.models import (
    Milestone,
    ProcurementDocument,
)
from budget.permissions import can
from budget.routes.procurements import (
    load_procurement,
    manage_url,
    refused,
    require_finance,
)
from budget.services import procurement_files
from budget.services.photos import Upload, photo_path
from core.errors import NotFound, ValidationError
from core.i18n import _
from core.web import (
    flash,
    login_required,
    read_form,
    redirect,
    with_user,
)
from core.web.limits import FORM_MARGIN, body_limit

# --- milestones ------------------------------------------------------------------------------


@login_required
async def procurement_milestone_add(request: Request) -> Response:
    """Add a milestone (title, planned date, optionally already done)."""
    user = request.state.user
    form = await read_form(request)
    procurement = await load_procurement(request.path_params["procurement_id"])
    require_finance(user, "manage_procurement", procurement)
    try:
        await procurement_files.add_milestone(user, procurement.id, form)
    except ValidationError as exc:
        return await refused(request, procurement, form, "milestone", exc, "title")
    flash(request, _("The milestone has been added."))
    return redirect(request, manage_url(request, procurement.id))


@login_required
async def milestone_done(request: Request) -> Response:
    """Mark a milestone done (today unless another date is given)."""
    user = request.state.user
    form = await read_form(request)
    milestone = await Milestone.get_or_none(id=request.path_params["milestone_id"])
    if milestone is None:
        raise NotFound(_("This milestone does not exist."))
    procurement = await load_procurement(milestone.procurement_id)
    require_finance(user, "manage_procurement", procurement)
    try:
        await procurement_files.complete_milestone(user, milestone.id, form)
    except ValidationError as exc:
        return await refused(request, procurement, form, f"done-{milestone.id}", exc, "done_date")
    flash(request, _("The milestone “{title}” is done.", title=milestone.title))
    return redirect(request, manage_url(request, procurement.id))


# --- documents -------------------------------------------------------------------------------


async def _read_upload(form: FormData) -> Upload | None:
    """The chosen file, read up to one byte past the limit (enough to know it is too large)."""
    item = form.get("file")
    if not isinstance(item, UploadFile) or not item.filename:
        return None
    data = await item.read(procurement_files.MAX_DOCUMENT_BYTES + 1)
    await item.close()
    return Upload(filename=item.filename, data=data) if data else None


@body_limit(procurement_files.MAX_DOCUMENT_BYTES + FORM_MARGIN)
@login_required
async def procurement_document_add(request: Request) -> Response:
    """Upload a contract, acceptance report, invoice…: PDF, JPEG or PNG, checked by content."""
    user = request.state.user
    form = await read_form(request, max_files=2)
    procurement = await load_procurement(request.path_params["procurement_id"])
    require_finance(user, "manage_procurement", procurement)
    upload = await _read_upload(form)
    try:
        await procurement_files.add_document(
            user, procurement.id, form, upload, request.app.state.settings.upload_dir
        )
    except ValidationError as exc:
        return await refused(request, procurement, form, "document", exc, "file")
    flash(request, _("The document has been added."))
    return redirect(request, manage_url(request, procurement.id))


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
    procurement = await load_procurement(document.procurement_id)
    require_finance(user, "manage_procurement", procurement)
    public = str(form.get("public") or "") == "1"
    await procurement_files.set_document_public(user, document.id, public)
    if public:
        flash(request, _("“{title}” is public now.", title=document.title))
    else:
        flash(request, _("“{title}” is private now.", title=document.title), "info")
    return redirect(request, manage_url(request, procurement.id))


routes = [
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
]
