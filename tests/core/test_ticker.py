"""The ticker runs every due job, and one job's failure does not stop the others."""

from __future__ import annotations

import asyncio
import logging

from core.ticker import run_due, tick_forever


async def test_a_failing_job_is_logged_and_the_others_still_run(caplog):
    ran = []

    async def broken() -> None:
        raise RuntimeError("database away")

    async def announce() -> None:
        ran.append("announce")

    with caplog.at_level(logging.ERROR, logger="yishi.ticker"):
        await run_due([broken, announce])
    assert ran == ["announce"]
    assert "broken" in caplog.text and "database away" in caplog.text


async def test_the_ticker_runs_at_once_then_again_until_cancelled():
    ran = []
    third = asyncio.Event()

    async def job() -> None:
        ran.append(len(ran))
        if len(ran) == 3:
            third.set()

    task = asyncio.create_task(tick_forever([job], every=0.01))
    await asyncio.wait_for(third.wait(), timeout=10)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled() and ran[:3] == [0, 1, 2]
