"""`make bench` fills its database with raw INSERTs (tests/bench/fill.py), past the ORM: the
columns it writes are every column of each table, and a tiny district written into the test
database reads back through the ORM and the app, so a new column cannot break the benchmark
unnoticed (CI does not run `make bench`)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from tortoise import connections

from budget.models import Ballot, BallotChoice, Envelope, Phase, Proposal, ProposalStatus, Round
from core.models import Area, AuditEntry, User
from tests.bench import fill
from tests.conftest import ON_POSTGRES
from tests.helpers import login, page_text

TINY = fill.Sizes(areas=2, residents=12, proposals=10, ballots=6, district_proposals=2)
FILLED = [Area, User, Round, Envelope, Proposal, Ballot, BallotChoice, AuditEntry]


async def table_columns(table: str) -> set[str]:
    """The columns of `table` in the migrated database."""
    conn = connections.get("default")
    if ON_POSTGRES:
        rows = await conn.execute_query_dict(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = $1",
            [table],
        )
        return {row["column_name"] for row in rows}
    return {row["name"] for row in await conn.execute_query_dict(f'PRAGMA table_info("{table}")')}


async def test_fill_writes_every_column_of_the_tables_it_fills(db):
    tables, _district = fill.generate(TINY)
    assert list(tables) == [model._meta.db_table for model in FILLED]
    for model in FILLED:
        table = model._meta.db_table
        written, rows = tables[table]
        assert len(set(written)) == len(written), table
        assert set(written) == model._meta.db_fields, table
        assert set(written) == await table_columns(table), table
        assert rows and all(len(row) == len(written) for row in rows), table


async def test_fill_writes_a_district_the_app_reads(client, db):
    district = await fill.fill_district(db, TINY, analyze=False)
    for model in FILLED:
        assert await model.all().count() == district.counts[model._meta.db_table], model
    # every row reads back through the ORM: enums, JSON, dates, defaults
    assert {p.status for p in await Proposal.all()} <= set(ProposalStatus)
    assert all(isinstance(e.detail, dict) for e in await AuditEntry.all())
    rnd = await Round.get(id=district.round_id)
    assert rnd.phase == Phase.VOTING and rnd.max_choices is None
    resident = await User.get(username="r000000")
    assert resident.is_active and resident.locale == "" and resident.last_login_at is None

    # a bench resident signs in (the benchmark's password) and sees the round's ballot
    await login(client, "r000000", "bench-password")
    page = await client.get(f"/budget/rounds/{district.round_id}/ballot")
    assert page.status_code == 200
    assert rnd.title in page_text(page.text)


def test_columns_left_out_take_the_model_defaults_and_unknown_ones_are_refused(db):
    now = datetime(2026, 5, 1, tzinfo=UTC)
    cols, rows = fill.table_rows(Area, [{"id": 1, "name": "东门"}], now)
    assert dict(zip(cols, rows[0], strict=True)) == {
        "id": 1,
        "name": "东门",
        "description": "",  # the model's default
        "created_at": now,  # auto_now_add
    }
    with pytest.raises(ValueError, match=r"area has no column \['nmae'\]"):
        fill.table_rows(Area, [{"id": 1, "nmae": "东门"}], now)
    with pytest.raises(ValueError, match="proposal.title has no default"):
        fill.table_rows(Proposal, [{"id": 1}], now)
