"""Simultaneous imports (PostgreSQL: real concurrent transactions): one file imported 20 times
at once becomes one study; 20 files with one title become 20 studies with distinct titles."""

from __future__ import annotations

import asyncio
import os

import pytest

from budget.models import Ballot, Proposal, Round
from budget.services import studies
from budget.services.pabulib_import import import_pabulib
from core.models import Role
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.helpers import make_user

pytestmark = pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="SQLite serialises every transaction; real concurrency needs PostgreSQL "
    "(set DATABASE_URL=postgres://…)",
)

N = 20


async def test_one_file_imported_at_once_many_times_is_one_study(db):
    council = await make_user("council", role=Role.COUNCIL)
    results = await asyncio.gather(
        *(import_pabulib(council, f"tiny{i}.pb", SMALL_FILE.encode()) for i in range(N)),
        return_exceptions=True,
    )
    made = [r for r in results if isinstance(r, Round)]
    refused = [r for r in results if isinstance(r, studies.AlreadyImported)]
    assert len(made) == 1 and len(refused) == N - 1, results
    assert {r.study.id for r in refused} == {made[0].id}
    assert await Round.all().count() == 1
    assert await Proposal.all().count() == 3 and await Ballot.all().count() == 3


async def test_files_with_one_title_imported_at_once_are_numbered(db):
    council = await make_user("council", role=Role.COUNCIL)
    files = [SMALL_FILE + f"v{i + 10};p2\n" for i in range(N)]  # one more voter: another file
    results = await asyncio.gather(
        *(import_pabulib(council, f"t{i}.pb", text.encode()) for i, text in enumerate(files)),
        return_exceptions=True,
    )
    assert all(isinstance(r, Round) for r in results), results
    titles = sorted(await Round.all().values_list("title", flat=True))
    expected = ["Tiny test 2025"] + [f"Tiny test 2025 ({n})" for n in range(2, N + 1)]
    assert titles == sorted(expected)
