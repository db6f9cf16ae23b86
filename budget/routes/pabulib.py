"""Pabulib files: a council member imports a past election (.pb) as a study (an imported
election, kept apart from the district's rounds); anyone allowed downloads a round's envelope
as a .pb file."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import ImportPhase, Round
from budget.permissions import can
from budget.services import pabulib_export, pabulib_jobs, studies
from budget.services.pabulib_plan import MAX_FILE_BYTES, MAX_PROJECTS, MAX_VOTERS, too_big_message
from core.i18n import _
from core.services.audit_log import record_export
from core.web import (
    client_address,
    flash,
    int_param,
    is_htmx,
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
            "max_projects": f"{MAX_PROJECTS:,}",
            "max_voters": f"{MAX_VOTERS:,}",
        },
        status_code=status_code,
    )


@body_limit(MAX_FILE_BYTES + FORM_MARGIN)
@login_required
async def study_import(request: Request) -> Response:
    """GET: the upload form. POST: start importing the .pb file as a study (counted with its
    rule, private) and go to the import's page, which follows it to the study; a file too
    large is refused at once (422)."""
    user = request.state.user
    require(can(user, "import_pabulib"), _("Only council members import elections."))
    if request.method != "POST":
        return _form(request, {})
    form = await read_form(request, max_files=1)
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return _form(request, {"file": _("Choose a .pb file to import.")}, 422)
    data = await upload.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        return _form(request, {"file": too_big_message()}, 422, upload.filename)
    job = await pabulib_jobs.start_import(user, upload.filename, data)
    return redirect(request, str(request.url_for("budget:study_import_job", job_id=job.id)))


@login_required
async def study_import_job(request: Request) -> Response:
    """An import's progress (htmx polls the progress block every second; without JavaScript,
    a link reloads the page). Once done: on to the study. Failed: the form again, with the
    line and what is wrong (422), or a link to the study a file imported before became
    (409); nothing was saved."""
    user = request.state.user
    job = await pabulib_jobs.get_job(user, request.path_params["job_id"])
    here = str(request.url_for("budget:study_import_job", job_id=job.id))
    if job.phase == ImportPhase.DONE and job.round is not None:
        flash(
            request,
            _(
                "The election {title} is imported and counted with its rule. Only council "
                "members see it: compare the rules, then publish it if you wish.",
                title=job.round.title,
            ),
        )
        return redirect(request, str(request.url_for("budget:study_detail", round_id=job.round.id)))
    if job.phase in pabulib_jobs.RUNNING:
        return render(
            request, "budget/round_import_job.html", {"job": job, "here": here}, block="progress"
        )
    if is_htmx(request):  # ended while polled: the whole page shows how
        return redirect(request, here)
    errors = {"file": job.error or _("The import failed. Nothing was saved.")}
    return _form(request, errors, job.error_status, job.filename, job.existing)


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
    Route("/studies/imports/{job_id:int}", study_import_job, name="study_import_job"),
    Route("/rounds/{round_id:int}/export.pb", round_export, name="round_export"),
]
