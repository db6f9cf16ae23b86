"""`make bench` fills its database with raw INSERTs (tests/bench/fill.py, fill_money.py), past
the ORM: the columns it writes are every column of each table, and a tiny district and its
money written into the test database read back through the ORM, the app and the services, so
a new column cannot break the benchmark unnoticed (CI does not run `make bench`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from tortoise import connections

from budget.models import (
    Ballot,
    BallotChoice,
    EntryKind,
    Envelope,
    LedgerEntry,
    Milestone,
    Phase,
    Procurement,
    ProcurementStatus,
    Proposal,
    ProposalStatus,
    Rating,
    Round,
)
from budget.services import ledger
from consult.rules.need_stats import NeedCounts
from core.models import Area, AuditEntry, Role, User
from tests.bench import fill, fill_money, fill_needs
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


# --- the money (tests/bench/fill_money.py) ----------------------------------------------------

TINY_MONEY = fill_money.MoneySizes(
    procurements=40, big_round=12, entries=600, officers=3, ratings_per=2
)


async def test_fill_money_writes_every_column_of_the_tables_it_fills(db):
    base = fill_money.Base(
        next_id={model._meta.db_table: 1 for model in fill_money.MODELS},
        area_ids=[1, 2],
        residents={1: [10, 11, 12], 2: [13, 14]},
        council_id=1,
    )
    tables, money = fill_money.generate_money(base, TINY_MONEY, date(2026, 5, 1))
    assert list(tables) == [model._meta.db_table for model in fill_money.MODELS]
    for model in fill_money.MODELS:
        table = model._meta.db_table
        written, rows = tables[table]
        assert set(written) == model._meta.db_fields == await table_columns(table), table
        assert rows and all(len(row) == len(written) for row in rows), table
    assert money.counts["procurement"] == 40 and money.counts["ledger_entry"] == 600
    assert money.counts["round"] == 10 and money.open_procurements


async def test_fill_money_leaves_what_the_services_would_have(db):
    district = await fill.fill_district(db, TINY, analyze=False)
    money = await fill_money.fill_money(db, TINY_MONEY, analyze=False)
    for model in fill_money.MODELS:  # beside the district's rows
        table = model._meta.db_table
        expected = district.counts.get(table, 0) + money.counts[table]
        assert await model.all().count() == expected, table
    assert await User.filter(role=Role.FINANCE).count() == 3
    # ten finished rounds, results published; every status in the latest one
    rounds = await Round.filter(id__in=money.round_ids)
    assert {r.phase for r in rounds} == {Phase.IMPLEMENTING, Phase.CLOSED}
    assert all(r.results_published_at for r in rounds)
    latest = await Procurement.filter(round_id=money.big_round_id)
    assert len(latest) == 12 and {p.status for p in latest} == set(ProcurementStatus)
    for rnd in rounds:  # a closed round has only finished procurements
        if rnd.phase == Phase.CLOSED:
            assert all(p.status_enum.finished for p in await Procurement.filter(round_id=rnd.id))
    # the money adds up: totals = the entries' sums, paid ≤ committed ≤ cap, envelopes hold
    assert await fill_money.invariant_breaks() == (0, [])
    kinds = {e.kind for e in await LedgerEntry.all()}
    assert kinds == set(EntryKind)
    assert await Rating.all().count() and await Milestone.all().count()

    # a filled officer commits on a filled open procurement through the service
    pid = next(iter(money.open_procurements))
    before = await Procurement.get(id=pid)
    officer = await User.get(id=money.officer_ids[0])
    await ledger.record_entry(
        officer, pid, {"kind": "commit", "amount": "1.00", "entry_date": "2026-01-05"}
    )
    after = await Procurement.get(id=pid)
    assert after.committed_fen == before.committed_fen + 100
    assert await fill_money.invariant_breaks() == (0, [])

    # and the check sees a total that no longer matches its entries
    paid = await Procurement.filter(paid_fen__gt=0).first()
    await Procurement.filter(id=paid.id).update(paid_fen=paid.paid_fen - 1)
    breaks, described = await fill_money.invariant_breaks()
    assert breaks == 1 and f"procurement {paid.id}" in described[0]


# --- the needs (tests/bench/fill_needs.py) ----------------------------------------------------

TINY_NEEDS = fill_needs.NeedSizes(needs=400, days=120)


async def test_fill_needs_writes_every_column_and_counts_as_the_services_do(client, db):
    from consult.models import Need, NeedStat, NeedState
    from consult.rules.need_stats import total
    from tests.consult.need_dashboard_setup import tables

    district = await fill.fill_district(db, TINY, analyze=False)
    generated, _info = fill_needs.generate_needs(district, TINY_NEEDS)
    written, rows = generated["need"]
    assert set(written) == Need._meta.db_fields == await table_columns("need")
    assert len(rows) == 400 and all(len(row) == len(written) for row in rows)

    needs = await fill_needs.fill_needs(db, district, TINY_NEEDS, analyze=False)
    assert await Need.all().count() == needs.counts["need"] == 400
    assert {n.state for n in await Need.all()} == set(NeedState)  # every state
    stats = total(
        NeedCounts(*row)
        for row in await NeedStat.all().values_list(
            "received", "answered", "resolved", "rated", "satisfied"
        )
    )
    assert (stats.received, stats.answered, stats.resolved, stats.rated) == (
        400,
        needs.answered,
        needs.resolved,
        needs.rated,
    )
    # the dashboard reads them: every need of the last 120 days in its last twelve months
    page = await client.get("/needs")
    assert page.status_code == 200
    found = tables(page.text)
    shown = [c for d, c in found["table-months"] if d.get("total")][0]
    assert shown[1] == "400"
