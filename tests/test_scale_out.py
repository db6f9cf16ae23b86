"""Two app processes (uvicorn, as production runs them) on one PostgreSQL database, spoken to
over real HTTP: a session made on one works on the other, the same resident casting on both at
once gets one ballot, a ballot cast on one shows on the other, and an area renamed through one
shows on the other's pages at once (no stale copy in a process).

The database is one of this test's own, made, filled and migrated by other processes; the
session's live database is never touched."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from contextlib import ExitStack
from datetime import date

import asyncpg
import httpx
import pytest

from core.db import create_postgres_database, drop_postgres_database
from core.settings import ROOT
from tests.bench.bench_app import server
from tests.conftest import ADMIN_URL, ON_POSTGRES
from tests.helpers import PASSWORD, csrf_token, page_text, post_form

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not ON_POSTGRES, reason="two processes on one database: PostgreSQL (set DATABASE_URL)"
    ),
]

N = 12  # simultaneous ballots of one resident, half to each process


async def fill_database(url: str) -> dict:
    """Migrate and fill a fresh database (run in a process of its own): an area, a round in
    voting with four projects there, a resident and an administrator. Returns their ids."""
    from tortoise import Tortoise

    from budget.models import Envelope, Phase, Proposal, ProposalStatus, Round
    from core.db import migrate_database
    from core.models import Area, Role, User
    from core.settings import tortoise_config
    from tests.helpers import password_hash

    await migrate_database(tortoise_config(url))
    await Tortoise.init(config=tortoise_config(url))
    try:
        area = await Area.create(name="East Gate")
        rnd = await Round.create(
            title="2026 micro-projects",
            fund_fen=1_000_000_00,
            phase=Phase.VOTING,
            proposing_starts=date(2026, 3, 1),
        )
        await Envelope.create(round=rnd, area=area, budget_fen=1_000_000_00)
        projects = [
            await Proposal.create(
                round=rnd,
                title=f"Project {i}",
                description="A project",
                category="engineering",
                cost_fen=10_000_00,
                area=area,
                status=ProposalStatus.FEASIBLE,
                beneficiaries=10,
            )
            for i in range(4)
        ]
        for username, role in (("alice", Role.RESIDENT), ("admin", Role.ADMIN)):
            await User.create(
                username=username,
                display_name=username.title(),
                password_hash=password_hash(),
                role=role,
                area=area,
                verified=True,
            )
        return {"area": area.id, "round": rnd.id, "projects": [p.id for p in projects]}
    finally:
        await Tortoise.close_connections()


@pytest.fixture
async def own_database():
    name = f"yishi_scale_{os.getpid()}"
    url = await create_postgres_database(ADMIN_URL, name)
    yield url
    await drop_postgres_database(ADMIN_URL, name)


def _checked(html: str) -> set[int]:
    """The projects ticked on a ballot page."""
    return {
        int(m.group(1))
        for m in re.finditer(r'<input[^>]*name="project"[^>]*value="(\d+)"[^>]*>', html)
        if " checked" in m.group(0)
    }


async def test_two_processes_share_sessions_ballots_and_renames(own_database, tmp_path):
    url = own_database
    code = (
        "import asyncio, json, sys; from tests.test_scale_out import fill_database; "
        "print(json.dumps(asyncio.run(fill_database(sys.argv[1]))))"
    )
    env = {**os.environ, "DATABASE_URL": url}
    made = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", code, url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert made.returncode == 0, made.stderr
    ids = json.loads(made.stdout.strip().splitlines()[-1])
    rid, projects = ids["round"], ids["projects"]
    ballot = f"/budget/rounds/{rid}/ballot"

    app_env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "the-same-key-on-every-host",
        "UPLOAD_DIR": str(tmp_path / "uploads"),
    }
    with ExitStack() as stack:
        a, b = (
            stack.enter_context(server("app:create_app", app_env, factory=True, probe="/healthz"))
            for _ in range(2)
        )
        headers = {"Accept-Language": "en"}
        # one browser (one cookie jar, as cookies know no ports) on A, and on B by full URL
        async with (
            httpx.AsyncClient(base_url=a, headers=headers) as browser,
            httpx.AsyncClient(base_url=b, headers=headers) as staff_on_b,
        ):
            # a session made on A works on B
            signed_in = await post_form(
                browser, "/login", {"username": "alice", "password": PASSWORD}
            )
            assert signed_in.status_code == 303
            page = await browser.get(b + ballot)
            assert page.status_code == 200 and "Alice" in page_text(page.text)

            # the same resident casts N times at once, half on each process: one ballot
            token = await csrf_token(browser, ballot)
            submitted = [{projects[i % 4], projects[(i + 1) % 4]} for i in range(N)]
            answers = await asyncio.gather(
                *(
                    browser.post(
                        (a if i % 2 else b) + ballot,
                        data={"project": [str(p) for p in s], "csrf_token": token},
                    )
                    for i, s in enumerate(submitted)
                )
            )
            assert [r.status_code for r in answers] == [303] * N, [
                page_text(r.text)[:300] for r in answers
            ]
            conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
            try:
                assert await conn.fetchval("SELECT COUNT(*) FROM ballot") == 1
                chosen = await conn.fetch(
                    "SELECT proposal_id FROM ballot_choice ORDER BY proposal_id"
                )
            finally:
                await conn.close()
            assert {r["proposal_id"] for r in chosen} in submitted  # one submission, no mix

            # a ballot cast on A shows on B at once
            changed = await browser.post(
                ballot, data={"project": [str(projects[3])], "csrf_token": token}
            )
            assert changed.status_code == 303
            assert _checked((await browser.get(b + ballot)).text) == {projects[3]}

            # an area renamed through B shows on A's list of proposals at once, to the
            # signed-in resident and to a visitor (whose page A kept: core.web.page_cache)
            assert "East Gate" in page_text((await browser.get("/budget/proposals")).text)
            for _ in range(2):
                async with httpx.AsyncClient(base_url=a, headers=headers) as visitor:
                    kept = await visitor.get("/budget/proposals")
                assert "East Gate" in page_text(kept.text)
            assert (
                await post_form(staff_on_b, "/login", {"username": "admin", "password": PASSWORD})
            ).status_code == 303
            renamed = await post_form(
                staff_on_b,
                f"/areas/{ids['area']}/edit",
                {"name": "Dongmen", "description": ""},
            )
            assert renamed.status_code == 303, renamed.text[:300]
            listing = page_text((await browser.get("/budget/proposals")).text)
            assert "Dongmen" in listing and "East Gate" not in listing
            async with httpx.AsyncClient(base_url=a, headers=headers) as visitor:
                listing = page_text((await visitor.get("/budget/proposals")).text)
            assert "Dongmen" in listing and "East Gate" not in listing
