"""Work that falls due with time rather than with a request (a questionnaire whose opening
time has come must be announced): each app process runs the due jobs once a minute.

With N workers on M hosts every process runs them, so each job must be safe to run at the
same moment in several places: it claims what it does with a conditional update in the
database, and only the process whose update succeeded acts (see
consult.services.questionnaire_publishing.announce_opened_questionnaires).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence

Job = Callable[[], Awaitable[object]]

EVERY_SECONDS = 60.0
log = logging.getLogger("yishi.ticker")


async def run_due(jobs: Sequence[Job]) -> None:
    """Run each job once; a failing job is logged and does not stop the others."""
    for job in jobs:
        try:
            await job()
        except Exception:
            log.exception("periodic job %s failed", getattr(job, "__qualname__", job))


async def tick_forever(jobs: Sequence[Job], every: float = EVERY_SECONDS) -> None:
    """Run the jobs now, then every `every` seconds, until cancelled."""
    while True:
        await run_due(jobs)
        await asyncio.sleep(every)
