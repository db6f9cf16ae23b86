"""Pabulib files: a council member imports a past election (.pb) as a study (an imported
election, kept apart from the district's rounds); anyone allowed downloads a round's envelope
as a .pb file."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import Round
from budget.permissions import can
from budget.services import pabulib_export, pabulib_import, studies
from budget.services.pabulib_plan import MAX_FILE_BYTES
from core.errors import ValidationError
from core.i18n import _
from core.services.audit_log import record_export
from core.web import (
    client_address,
    flash,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    require,
    with_user,
)
from core.web.limits import FORM_MARGIN, body_limit


def _form(
    request: Request,
    errors: dict[str, str],
    status_code: int = 200,
    filename: str = "",
    existing: Round | None = None,
) -> Response:
    return render(
        request,
        "budget/round_import.html",
        {
            "errors": errors,
            "filename": filename,
            "existing": existing,
            "max_mb": MAX_FILE_BYTES // 1024 // 1024,
        },
        status_code=status_code,
    )


@body_limit(MAX_FILE_BYTES + FORM_MARGIN)
@login_required
async def study_import(request: Request) -> Response:
    """GET: the upload form. POST: import the .pb file as a study (counted with its rule,
    private) and go to its page; a malformed file comes back on the form (422) with the line
    and what is wrong, and nothing is saved; a file imported before comes back (409) with a
    link to the study it became."""
    user = request.state.user
    require(can(user, "import_pabulib"), _("Only council members import elections."))
    if request.method != "POST":
        return _form(request, {})
    form = await read_form(request, max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form(request, {"file": _("Choose a .pb file to import.")}, 422)
    data = await upload.read(MAX_FILE_BYTES + 1)
    try:
        rnd = await pabulib_import.import_pabulib(user, upload.filename, data)
    except studies.AlreadyImported as exc:
        return _form(request, exc.errors, 409, upload.filename, exc.study)
    except ValidationError as exc:
        return _form(request, exc.errors or {"file": exc.message}, 422, upload.filename)
    flash(
        request,
        _(
            "The election {title} is imported and counted with its rule. Only council "
            "members see it: compare the rules, then publish it if you wish.",
            title=rnd.title,
        ),
    )
    return redirect(request, str(request.url_for("budget:study_detail", round_id=rnd.id)))


@with_user
async def round_export(request: Request) -> Response:
    """One envelope of a round as a Pabulib .pb file (`?envelope=<id>`, default the
    district-wide one), with anonymous voter numbers. Public once the results are published
    (an imported election: once the council publishes it), staff always, never during
    voting."""
    user = request.state.user
    rnd = await Round.get_or_none(id=request.path_params["round_id"])
    if rnd is not None:
        studies.require_visible(user, rnd)  # a private study is not told to exist
    envelope = request.query_params.get("envelope")
    envelope_id = int_param(envelope) if envelope else None
    if envelope and envelope_id is None:
        envelope_id = -1  # not an id: "does not exist"
    export = await pabulib_export.export_pb(user, request.path_params["round_id"], envelope_id)
    if rnd is not None and not can(None, "export_pabulib", rnd):  # not public yet: logged
        await record_export(user, "pabulib", rnd, client_address(request), file=export.filename)
    return Response(
        export.text,
        media_type="text/plain; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{export.filename}"',
            "X-Content-Type-Options": "nosniff",
        },
    )


routes = [
    Route("/studies/import", study_import, name="study_import", methods=["GET", "POST"]),
    Route("/rounds/{round_id:int}/export.pb", round_export, name="round_export"),
]
