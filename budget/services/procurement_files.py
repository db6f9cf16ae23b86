"""A procurement's milestones and documents (contracts, acceptance reports, invoices).

Documents are PDF, JPEG or PNG, recognised by their first bytes (not their name), at most
`MAX_DOCUMENT_BYTES`, stored like proposal photos under a random name in the upload directory;
the public sees only those marked public.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tortoise.transactions import in_transaction

from budget.models import DocumentKind, Milestone, Procurement, ProcurementDocument
from budget.permissions import can
from budget.services.photos import Upload, delete_photo_files, prepare_photos, write_photo
from core.audit import record
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import parse_date, text
from core.i18n import _, local_today
from core.models import User

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def sniff_document(data: bytes) -> str | None:
    """PDF, JPEG or PNG by the file's first bytes; None for anything else."""
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def document_stored_name(content_type: str) -> str:
    """A random name of ours (never the uploader's), with the extension of what it is."""
    return f"{secrets.token_hex(16)}.{DOCUMENT_TYPES[content_type]}"


async def _procurement_for(user: User | None, procurement_id: int, conn: Any) -> Procurement:
    procurement = await Procurement.get_or_none(id=procurement_id).using_db(conn)
    if procurement is None:
        raise NotFound(_("This procurement does not exist."))
    if not can(user, "manage_procurement", procurement):
        raise PermissionDenied(_("Only finance officers change open procurements."))
    return procurement


async def add_milestone(
    user: User | None, procurement_id: int, form: Mapping[str, Any]
) -> Milestone:
    errors: dict[str, str] = {}
    title = text(form.get("title"), "title", errors, max_length=200)
    planned = parse_date(form.get("planned_date"), "planned_date", errors, required=True)
    done = parse_date(form.get("done_date"), "done_date", errors)
    if done and done > local_today():
        errors["done_date"] = _("The date cannot be in the future.")
    note = text(form.get("note"), "note", errors, required=False, max_length=2000)
    async with in_transaction() as conn:
        procurement = await _procurement_for(user, procurement_id, conn)
        if errors:
            raise ValidationError(errors=errors)
        milestone = await Milestone.create(
            procurement=procurement,
            title=title,
            planned_date=planned,
            done_date=done,
            note=note,
            using_db=conn,
        )
        await record(user, "procurement.milestone_added", procurement, using_db=conn, title=title)
    return milestone


async def complete_milestone(
    user: User | None, milestone_id: int, form: Mapping[str, Any]
) -> Milestone:
    """Mark a milestone done on a date (today by default), with an optional note."""
    errors: dict[str, str] = {}
    done = parse_date(form.get("done_date"), "done_date", errors) or local_today()
    if done > local_today():
        errors["done_date"] = _("The date cannot be in the future.")
    note = text(form.get("note"), "note", errors, required=False, max_length=2000)
    milestone = await Milestone.get_or_none(id=milestone_id)
    if milestone is None:
        raise NotFound(_("This milestone does not exist."))
    async with in_transaction() as conn:
        procurement = await _procurement_for(user, milestone.procurement_id, conn)
        if errors:
            raise ValidationError(errors=errors)
        milestone.done_date = done
        if note:
            milestone.note = note
        await milestone.save(using_db=conn)
        await record(
            user,
            "procurement.milestone_done",
            procurement,
            using_db=conn,
            title=milestone.title,
            done_date=done.isoformat(),
        )
    return milestone


async def add_document(
    user: User | None,
    procurement_id: int,
    form: Mapping[str, Any],
    upload: Upload | None,
    upload_dir: Path,
) -> ProcurementDocument:
    """Store one document after checking its content and size; nothing is kept if refused."""
    errors: dict[str, str] = {}
    try:
        kind = DocumentKind(str(form.get("kind") or ""))
    except ValueError:
        kind = DocumentKind.OTHER
        errors["kind"] = _("Choose what the document is.")
    title = text(form.get("title"), "title", errors, max_length=200)
    content_type = None
    if upload is None or not upload.data:
        errors["file"] = _("Choose a file.")
    elif len(upload.data) > MAX_DOCUMENT_BYTES:
        errors["file"] = _("{name} is too large: at most {mb} MB.", name=upload.filename, mb=10)
    else:
        content_type = sniff_document(upload.data)
        if content_type is None:
            errors["file"] = _("{name} is not a PDF, JPEG or PNG file.", name=upload.filename)
    data = upload.data if upload else b""
    if content_type in ("image/jpeg", "image/png"):
        # A photo of the works is re-encoded as residents' photos are: no GPS position or
        # camera details are published with it.
        try:
            photo = (await prepare_photos([upload], MAX_DOCUMENT_BYTES, field="file"))[0]
            content_type, data = photo.content_type, photo.data
        except ValidationError as exc:
            errors.update(exc.errors)
    public = str(form.get("public") or "") in ("1", "on", "true")
    stored = None
    try:
        async with in_transaction() as conn:
            procurement = await _procurement_for(user, procurement_id, conn)
            if errors:
                raise ValidationError(errors=errors)
            stored = document_stored_name(content_type)
            document = await ProcurementDocument.create(
                procurement=procurement,
                kind=kind,
                title=title,
                stored_name=stored,
                content_type=content_type,
                size=len(data),
                public=public,
                uploaded_by=user,
                using_db=conn,
            )
            write_photo(upload_dir, stored, data)
            await record(
                user,
                "procurement.document_added",
                procurement,
                using_db=conn,
                public=public,
                title=title,
                kind=kind.value,
            )
    except BaseException:
        if stored:
            delete_photo_files(upload_dir, [stored])
        raise
    return document


async def set_document_public(
    user: User | None, document_id: int, public: bool
) -> ProcurementDocument:
    document = await ProcurementDocument.get_or_none(id=document_id)
    if document is None:
        raise NotFound(_("This document does not exist."))
    async with in_transaction() as conn:
        procurement = await _procurement_for(user, document.procurement_id, conn)
        document.public = public
        await document.save(using_db=conn, update_fields=["public"])
        await record(
            user,
            "procurement.document_published" if public else "procurement.document_hidden",
            procurement,
            using_db=conn,
            title=document.title,
        )
    return document
