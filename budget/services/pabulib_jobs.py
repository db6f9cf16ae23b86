"""An import of a Pabulib file as a job: the upload is answered at once with the job's page,
and the import runs on — in the worker process that received it, as an asyncio task that
awaits the reading worker (`pabulib_worker`) and then the database, never blocking the event
loop. Its progress is an `ImportJob` row in the database (phase, lines read of lines in the
file), so the job's page — polled by htmx every second, or reloaded by hand — shows it
whichever worker process on whichever host answers.

A job is `reading` while its file is read, `saving` while it is saved and counted (one
transaction: no progress inside it, as SQLite has a single writer), then `done` (its round) or
`failed` (its error, with the study a known file became). A job that has not moved for
STALE_AFTER was interrupted (its server stopped; its transaction left nothing behind): its page
says so.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from budget.models import ImportJob, ImportPhase
from budget.services import pabulib_import, studies
from budget.services.pabulib_worker import TIME_LIMIT
from core.errors import DomainError, NotFound
from core.i18n import _
from core.models import User

log = logging.getLogger(__name__)

STALE_AFTER = timedelta(seconds=TIME_LIMIT) + timedelta(minutes=15)
RUNNING = (ImportPhase.READING, ImportPhase.SAVING)

# The running imports of this process, only so that asyncio keeps them alive (and tests can
# await one): their state is in the database.
_tasks: dict[int, asyncio.Task[None]] = {}


async def start_import(actor: User, filename: str, data: bytes) -> ImportJob:
    """Record an import job and start it (see the module's docstring); refused at once if the
    actor may not import."""
    pabulib_import.require_importer(actor)
    job = await ImportJob.create(
        created_by=actor,
        filename=pabulib_import.clean_filename(filename),
        lines_total=data.count(b"\n") + (0 if data.endswith(b"\n") else 1),
    )
    task = asyncio.create_task(_run(job.id, actor, filename, data))
    _tasks[job.id] = task
    task.add_done_callback(lambda _t: _tasks.pop(job.id, None))
    return job


async def _run(job_id: int, actor: User, filename: str, data: bytes) -> None:
    async def progress(lines: int) -> None:
        await ImportJob.filter(id=job_id).update(lines_read=lines)

    try:
        plan = await pabulib_import.prepare_import(actor, filename, data, progress)
        await ImportJob.filter(id=job_id).update(
            phase=ImportPhase.SAVING, lines_read=data.count(b"\n")
        )
        rnd = await pabulib_import.save_import(actor, filename, plan)
    except studies.AlreadyImported as exc:
        await _fail(job_id, exc, existing_id=exc.study.id)
    except DomainError as exc:
        await _fail(job_id, exc)
    except Exception:
        log.exception("import job %s failed", job_id)
        await ImportJob.filter(id=job_id).update(
            phase=ImportPhase.FAILED,
            error=_("The import failed. Nothing was saved. Please try again later."),
            error_status=500,
        )
    else:
        await ImportJob.filter(id=job_id).update(phase=ImportPhase.DONE, round_id=rnd.id)


async def _fail(job_id: int, exc: DomainError, existing_id: int | None = None) -> None:
    await ImportJob.filter(id=job_id).update(
        phase=ImportPhase.FAILED,
        error=exc.message,
        error_status=exc.status_code,
        existing_id=existing_id,
    )


async def wait(job_id: int) -> None:
    """Until this process's import `job_id` ends (at once if it is not running here)."""
    task = _tasks.get(job_id)
    if task is not None:
        await asyncio.wait([task])


async def get_job(actor: User, job_id: int) -> ImportJob:
    """The actor's own import job (another's is not told to exist); a running job that has not
    moved for STALE_AFTER is returned as failed."""
    job = None
    if 0 < job_id < 2**31:  # the column's range
        job = (
            await ImportJob.filter(id=job_id, created_by_id=actor.id)
            .select_related("round", "existing")
            .first()
        )
    if job is None:
        raise NotFound(_("No such import."))
    if job.phase in RUNNING and datetime.now(UTC) - job.updated_at > STALE_AFTER:
        job.phase = ImportPhase.FAILED
        job.error = _("The import was interrupted. Nothing was saved. Please try again.")
        job.error_status = 422
    return job
