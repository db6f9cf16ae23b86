"""The finance view through the app: who may see it, the figures of a round per area, kind
and state for a known set of entries, the late ones, the charts beside their tables; the
public final report; the audit log filtered by a procurement; queries that do not grow with
the ledger."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html.parser import HTMLParser

import pytest
from tortoise.transactions import in_transaction

from budget.models import Phase, Procurement, ProposalStatus
from budget.services import ledger, procurements
from budget.services.procurement_caps import reserved_sum
from core.models import AuditEntry, Role, User
from tests.budget.money import FundedRound, contract, convert, funded_round, pay
from tests.helpers import login, make_proposal, make_round, make_user, page_text
from tests.querycount import count_queries
from tests.test_pages import audit_html


@dataclass
class Story:
    fr: FundedRound
    benches: Procurement  # East, works, cap ¥60,000: contracted ¥50,000, paid ¥20,000
    lamps: Procurement  # East, goods, cap ¥25,000: paid ¥24,000, delivered, closed
    cleaning: Procurement  # West, services, cap ¥40,000: tendering, late (ends 2026-09-30)
    library: Procurement  # district-wide, goods, cap ¥20,000: contracted ¥10,000, cancelled
    other_officer: User  # "finance2", who paid the lamps
    reversed_payment: int  # the id of the payment of ¥5,000 on the benches, reversed
    other_round_procurement: Procurement  # another round: East, services, ¥1,000 committed


async def money_story() -> Story:
    """Eight entries on four procurements of the funded round, one more in another round.

    benches: commit 50,000 (07-01), pay 20,000 (08-01), pay 5,000 (09-10), its reversal (09-11)
    lamps: commit 24,000 (07-01), pay 24,000 by finance2 (08-15); delivered 10-01, closed
    library: commit 10,000 (07-01), cancelled: release 10,000 (today)
    cleaning: no money, planned end 2026-09-30 (late)
    """
    fr = await funded_round()
    finance2 = await make_user("finance2", Role.FINANCE, display_name="Zhou Qian")
    benches = await convert(fr, fr.benches)
    await contract(fr, benches, 50_000_00)
    await pay(fr, benches, 20_000_00, "2026-08-01")
    wrong = await pay(fr, benches, 5_000_00, "2026-09-10")
    await ledger.reverse_entry(
        fr.finance, wrong.id, {"entry_date": "2026-09-11", "note": "Entered twice"}
    )

    lamps = await convert(fr, fr.lamps)
    await contract(fr, lamps, 24_000_00)
    await ledger.record_entry(
        finance2, lamps.id, {"kind": "pay", "amount": "24000", "entry_date": "2026-08-15"}
    )
    await procurements.move_procurement(fr.finance, lamps.id, "in_progress", {})
    await procurements.move_procurement(
        fr.finance, lamps.id, "delivered", {"delivered_on": "2026-10-01"}
    )
    await procurements.move_procurement(fr.finance, lamps.id, "closed", {})

    await fr.cleaning.fetch_related("round")
    values = procurements.conversion_defaults(fr.cleaning, fr.finance, fr.round)
    values["planned_end"] = "2026-09-30"
    cleaning = await procurements.convert_proposal(fr.finance, fr.cleaning.id, values)
    await procurements.move_procurement(fr.finance, cleaning.id, "tendering", {})

    library = await convert(fr, fr.library)
    await contract(fr, library, 10_000_00)
    await procurements.move_procurement(
        fr.finance, library.id, "cancelled", {"reason": "The supplier closed down"}
    )

    other = await make_round(
        "2025 micro-projects",
        fund_fen=10_000_00,
        phase=Phase.IMPLEMENTING,
        envelopes={fr.east: 10_000_00},
        results_published_at=datetime(2025, 6, 1, tzinfo=UTC),
        implementing_starts=date(2025, 6, 15),
        closes=date(2025, 12, 31),
    )
    proposal = await make_proposal(
        other, fr.resident, "Street theatre", 2_000_00, fr.east, ProposalStatus.FUNDED, "service"
    )
    other_p = await convert(fr, proposal)
    await contract(fr, other_p, 1_000_00)
    return Story(
        fr,
        *[await Procurement.get(id=p.id) for p in (benches, lamps, cleaning, library)],
        finance2,
        wrong.id,
        await Procurement.get(id=other_p.id),
    )


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, keyed by its caption."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._rows: list[list[str]] | None = None
        self._caption: list[str] | None = None
        self._cell: list[str] | None = None
        self._name = ""

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self._rows, self._name = [], ""
        elif tag == "caption":
            self._caption = []
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "caption" and self._caption is not None:
            self._name = " ".join("".join(self._caption).split())
            self._caption = None
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._name] = self._rows
            self._rows = None

    def handle_data(self, data):
        if self._caption is not None:
            self._caption.append(data)
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def by_first_cell(rows: list[list[str]]) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in rows if row}


# --- who may see it --------------------------------------------------------------------------


FINANCE_PAGES = (
    "/budget/finance",
    "/budget/rounds/{round}/finance",
    "/budget/ledger",
    "/budget/ledger.csv",
    "/budget/ledger.xlsx",
    "/budget/ledger?round={round}&kind=works",
    "/budget/ledger.csv?procurement=1",
)


async def test_residents_and_the_public_cannot_open_the_finance_pages(client, db):
    fr = await funded_round()
    pages = [p.format(round=fr.round.id) for p in FINANCE_PAGES]
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 303, path
        assert "/login?next=" in response.headers["location"]
    await login(client, "resident")
    for path in pages:
        response = await client.get(path)
        assert response.status_code == 403, path
        assert "Only finance officers and council members" in page_text(response.text)
    # no "Finance" in the resident's navigation
    home = await client.get("/budget/")
    assert "/budget/finance" not in home.text


@pytest.mark.parametrize("username", ["finance", "council"])
async def test_finance_officers_and_the_council_can(client, db, username):
    fr = await funded_round()
    await login(client, username)
    for path in [p.format(round=fr.round.id) for p in FINANCE_PAGES]:
        response = await client.get(path)
        assert response.status_code == 200, path
    home = await client.get("/budget/")
    assert 'href="http://testserver/budget/finance"' in home.text


async def test_an_imported_election_has_no_finance_page(client, db):
    fr = await funded_round()
    fr.round.is_study = True
    await fr.round.save()
    await login(client, "finance")
    assert (await client.get(f"/budget/rounds/{fr.round.id}/finance")).status_code == 404
    assert (await client.get(f"/budget/rounds/{fr.round.id}/report")).status_code == 404
    assert (await client.get("/budget/rounds/999999/finance")).status_code == 404


# --- the figures -----------------------------------------------------------------------------


async def test_the_round_page_shows_the_money_per_area_kind_and_state(client, db):
    story = await money_story()
    rnd = story.fr.round
    await login(client, "finance")
    response = await client.get(f"/budget/rounds/{rnd.id}/finance")
    assert response.status_code == 200
    assert audit_html(response.text) == []
    text = page_text(response.text)
    found = tables(response.text)

    # fund 200,000; caps 60+25+40+20; committed: 50 (benches) + 24 (lamps); paid 20 + 24;
    # held: benches 60 and cleaning 40 (open), lamps 24 (paid, closed), library 0 (cancelled)
    areas = by_first_cell(found["Money by area"])
    assert areas["East Gate"] == [
        "¥100,000",
        "¥85,000",
        "¥74,000",
        "¥44,000",
        "¥16,000",
        "2",
        "0",
    ]
    assert areas["West Lake"] == ["¥50,000", "¥40,000", "¥0", "¥0", "¥10,000", "1", "1"]
    assert areas["District-wide"] == ["¥50,000", "¥20,000", "¥0", "¥0", "¥50,000", "1", "0"]
    assert areas["Round"] == ["¥200,000", "¥145,000", "¥74,000", "¥44,000", "¥76,000", "4", "1"]

    kinds = by_first_cell(found["Money by kind"])
    assert kinds["Engineering works"] == ["¥60,000", "¥50,000", "¥20,000", "¥40,000", "1", "0"]
    assert kinds["Goods and equipment"] == ["¥45,000", "¥24,000", "¥24,000", "¥0", "2", "0"]
    assert kinds["Public services"] == ["¥40,000", "¥0", "¥0", "¥40,000", "1", "1"]

    states = by_first_cell(found["Procurements by state"][1:])
    assert states == {
        "Planned": ["0"],
        "Tendering": ["1"],
        "Contracted": ["1"],
        "In progress": ["0"],
        "Delivered": ["0"],
        "Closed": ["1"],
        "Cancelled": ["1"],
    }
    assert "Late (past the planned end, not delivered) 1" in text
    assert "Delivered on time 1" in text and "Delivered late 0" in text
    assert "Returned ¥21,000" in text  # lamps 1,000 + library 20,000
    assert "Remaining ¥76,000" in text

    rows = by_first_cell(found["The round's procurements"])
    assert rows["Lake clean-up"][:6] == [
        "West Lake",
        "Public services",
        "Tendering",
        "¥40,000",
        "¥0",
        "¥0",
    ]
    assert "Late" in rows["Lake clean-up"][6]
    assert "Late" not in rows["Benches by the canal"][6]
    assert rows["Benches by the canal"][3:6] == ["¥60,000", "¥50,000", "¥20,000"]
    # the other round's procurement is not here
    assert "Street theatre" not in text
    # links: each procurement's workspace and ledger; no audit trail for a finance officer
    assert f"/budget/procurements/{story.benches.id}/manage" in response.text
    assert f"/budget/ledger?procurement={story.benches.id}" in response.text
    assert "subject=procurement:" not in response.text
    assert f"/budget/ledger?round={rnd.id}" in response.text


async def test_the_charts_are_svg_with_their_values_written(client, db):
    story = await money_story()
    await login(client, "council")
    response = await client.get(f"/budget/rounds/{story.fr.round.id}/finance")
    svgs = re.findall(r"<svg .*?</svg>", response.text, re.S)
    assert len(svgs) == 3
    areas, kinds, states = svgs
    assert '<title id="chart-areas-title">Money by area</title>' in areas
    assert 'role="img"' in areas and "style=" not in areas
    # every bar's value is written beside it, and the bars are proportional
    assert ">¥100,000</text>" in areas and ">¥74,000</text>" in areas
    widths = [int(w) for w in re.findall(r'<rect x="\d+" y="\d+" width="(\d+)"', kinds)]
    assert widths[:3] == [360, 300, 120]  # works: 60,000 (the largest), 50,000, 20,000
    assert ">Tendering</text>" in states


async def test_the_overview_lists_the_rounds_with_procurements(client, db):
    story = await money_story()
    await make_round("Empty round", phase=Phase.PROPOSING)
    await login(client, "finance")
    response = await client.get("/budget/finance")
    assert audit_html(response.text) == []
    rows = by_first_cell(tables(response.text)["Rounds with procurements"])
    main = next(v for k, v in rows.items() if k.startswith("2026 micro-projects"))
    assert main[:5] == ["¥200,000", "¥145,000", "¥74,000", "¥44,000", "¥76,000"]
    assert main[6] == "1"
    assert "Tendering 1" in main[5] and "Cancelled 1" in main[5]
    other = next(v for k, v in rows.items() if k.startswith("2025 micro-projects"))
    assert other[:5] == ["¥10,000", "¥2,000", "¥1,000", "¥0", "¥8,000"]
    assert not any(k.startswith("Empty round") for k in rows)
    assert f"/budget/rounds/{story.fr.round.id}/finance" in response.text


async def test_the_finance_totals_equal_the_sums_of_the_entries(db):
    from budget.services import finance
    from budget.services.finance_ledger import LedgerFilters, ledger_totals

    story = await money_story()
    view = await finance.round_finance(story.fr.round)
    entries = await ledger_totals(LedgerFilters(round_id=story.fr.round.id))
    assert entries.net_fen == view.total.committed_fen == 74_000_00
    assert entries.paid_fen == view.total.paid_fen == 44_000_00
    assert entries.released_fen == 10_000_00
    # "remaining" is what the caps' own rules leave (procurement_caps.reserved_sum)
    async with in_transaction() as conn:
        held = await reserved_sum(conn, round_id=story.fr.round.id)
        east = await reserved_sum(conn, envelope_id=story.fr.east_envelope.id)
    assert view.total.remaining_fen == story.fr.round.fund_fen - held
    line = next(e for e in view.envelopes if e.envelope_id == story.fr.east_envelope.id)
    assert line.figures.remaining_fen == story.fr.east_envelope.budget_fen - east


# --- the final report ------------------------------------------------------------------------


async def test_the_public_report_shows_planned_against_paid_and_money_returned(client, db):
    story = await money_story()
    rnd = story.fr.round
    page = await client.get(f"/budget/rounds/{rnd.id}")
    assert f"/budget/rounds/{rnd.id}/report" in page.text  # linked once implementing

    response = await client.get(f"/budget/rounds/{rnd.id}/report")
    assert response.status_code == 200
    assert audit_html(response.text) == []
    rows = by_first_cell(tables(response.text)["Planned against paid, per project"])
    # planned, committed, paid, returned, delivery
    assert rows["Solar lamps"][1:6] == ["Closed", "¥25,000", "¥24,000", "¥24,000", "¥1,000"]
    assert rows["Solar lamps"][6].startswith("On time")
    assert rows["Mobile library"][1:6] == ["Cancelled", "¥20,000", "¥0", "¥0", "¥20,000"]
    assert rows["Benches by the canal"][1:6] == [
        "Contracted",
        "¥60,000",
        "¥50,000",
        "¥20,000",
        "–",
    ]
    assert rows["Lake clean-up"][6].startswith("Not delivered, planned")
    assert rows["Total (4 projects)"] == ["¥145,000", "¥74,000", "¥44,000", "¥21,000", ""]
    text = page_text(response.text)
    assert "Delivered on time 1" in text and "Delivered late 0" in text
    assert "Not delivered yet 2 (1 past the planned end)" in text
    assert "Cancelled 1" in text
    # no resident's name, no officer's either
    for name in ("Li Ming", "Wang Fang", "Fang Cai", "Zhou Qian"):
        assert name not in text


async def test_no_report_before_the_results_are_published(client, db):
    fr = await funded_round(phase=Phase.RESULTS)
    fr.round.results_published_at = None
    await fr.round.save()
    assert (await client.get(f"/budget/rounds/{fr.round.id}/report")).status_code == 404
    page = await client.get(f"/budget/rounds/{fr.round.id}")
    assert "/report" not in page.text


# --- the audit log ---------------------------------------------------------------------------


async def test_the_audit_log_filtered_by_a_procurement_lists_only_its_entries(client, db):
    story = await money_story()
    await login(client, "council")
    finance_page = await client.get(f"/budget/rounds/{story.fr.round.id}/finance")
    link = f"/audit?subject=procurement:{story.benches.id}"
    assert link in finance_page.text  # the council sees each procurement's audit trail

    response = await client.get(link)
    assert response.status_code == 200
    assert audit_html(response.text) == []
    rows = tables(response.text)[""][1:]
    expected = await AuditEntry.filter(subject_type="procurement", subject_id=story.benches.id)
    # converted, tendering, contracted, its commitment, two payments, the reversal
    assert len(rows) == len(expected) == 7
    assert all(row[3] == f"Procurement #{story.benches.id}" for row in rows)
    # each action by its name, its code beside it
    actions = {row[2].split()[-2] for row in rows}
    assert actions == {"procurement.converted", "procurement.moved", "ledger.commit"} | {
        "ledger.pay",
        "ledger.reversal",
    }
    assert f"Only the entries about Procurement #{story.benches.id}." in page_text(response.text)

    everything = await client.get("/audit")
    assert f"{await AuditEntry.all().count()} entries" in page_text(everything.text)
    bad = await client.get("/audit?subject=procurement:abc")
    assert bad.status_code == 200
    assert "Ignored the subject filter" in page_text(bad.text)
    assert f"{await AuditEntry.all().count()} entries" in page_text(bad.text)


# --- speed: queries that do not grow with the data --------------------------------------------


async def _queries(client, path: str) -> int:
    with count_queries() as queries:
        response = await client.get(path)
    assert response.status_code == 200, path
    return len(queries)


async def test_queries_per_page_do_not_grow_with_the_ledger(client, db):
    story = await money_story()
    rnd = story.fr.round
    await login(client, "council")
    paths = [
        "/budget/finance",
        f"/budget/rounds/{rnd.id}/finance",
        f"/budget/rounds/{rnd.id}/report",
        "/budget/ledger",
        f"/budget/ledger?round={rnd.id}&area={story.fr.east.id}&kind=works&from=2026-01-01",
    ]
    before = [await _queries(client, p) for p in paths]
    assert max(before) <= 10, before

    # forty more entries, and more procurements in another round
    for i in range(20):
        await pay(story.fr, story.benches, 100, f"2026-10-{i + 1:02d}")
        entry = await pay(story.fr, story.benches, 100, f"2026-10-{i + 1:02d}")
        await ledger.reverse_entry(
            story.fr.finance, entry.id, {"entry_date": "2026-10-25", "note": "Twice"}
        )
    more = await make_round(
        "More projects",
        fund_fen=100_000_00,
        phase=Phase.IMPLEMENTING,
        envelopes={None: 100_000_00},
        results_published_at=datetime(2026, 6, 1, tzinfo=UTC),
    )
    for i in range(5):
        p = await make_proposal(
            more, None, f"Project {i}", 1_000_00, None, ProposalStatus.FUNDED, "equipment"
        )
        await convert(story.fr, p)
    after = [await _queries(client, p) for p in paths]
    assert after == before
