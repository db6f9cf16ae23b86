"""The ledger page and its exports: each filter narrows the entries and their totals; bad
filter values are ignored with a message; the CSV and XLSX list the same entries with the same
totals as the page (parsed back with the csv module and openpyxl)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from budget.models import LedgerEntry
from budget.services import ledger
from tests.budget.test_finance import Story, money_story
from tests.helpers import login, page_text
from tests.querycount import count_queries
from tests.test_pages import audit_html


def _totals_text(committed: str, paid: str, released: str, net: str) -> str:
    return (
        f"Committed {committed} Paid {paid} Released {released} "
        f"Net committed (committed − released) {net}"
    )


async def _ledger(client, query: str) -> str:
    response = await client.get("/budget/ledger" + query)
    assert response.status_code == 200, query
    assert audit_html(response.text) == [], query
    return page_text(response.text)


def _count(text: str) -> int:
    words = text.split("Totals of ", 1)[1].split()
    return int(words[0])


@pytest.fixture
async def story(db) -> Story:
    return await money_story()


async def test_every_entry_newest_first_with_its_totals(client, story):
    await login(client, "finance")
    text = await _ledger(client, "")
    # nine entries: eight in the funded round, one in the other
    assert "Totals of 9 entries" in text
    assert _totals_text("¥85,000", "¥44,000", "¥10,000", "¥75,000") in text
    # newest first: the release of the cancelled library (today) comes before the rest
    table = text.split("Download XLSX", 1)[1]
    assert table.index("Release") < table.index("Reversal (Payment)")
    assert table.index("Entered twice") < table.index("Contract with Harbour Works Ltd")
    assert f"reverses #{story.reversed_payment}" in text
    assert "-¥5,000" in text  # the reversal, by its effect
    assert "Zhou Qian" in text and "Fang Cai" in text  # staff are named


@pytest.mark.parametrize(
    "query, count, totals",
    [
        # round: the funded round's eight entries (the other round's ¥1,000 left out)
        ("?round={round}", 8, ("¥84,000", "¥44,000", "¥10,000", "¥74,000")),
        ("?round={other_round}", 1, ("¥1,000", "¥0", "¥0", "¥1,000")),
        # area: East has the benches, the lamps and the other round's theatre
        ("?area={east}", 7, ("¥75,000", "¥44,000", "¥0", "¥75,000")),
        ("?area=district", 2, ("¥10,000", "¥0", "¥10,000", "¥0")),
        ("?area={west}", 0, ("¥0", "¥0", "¥0", "¥0")),
        # kind
        ("?kind=works", 4, ("¥50,000", "¥20,000", "¥0", "¥50,000")),
        ("?kind=goods", 4, ("¥34,000", "¥24,000", "¥10,000", "¥24,000")),
        ("?kind=services", 1, ("¥1,000", "¥0", "¥0", "¥1,000")),
        # procurement
        ("?procurement={benches}", 4, ("¥50,000", "¥20,000", "¥0", "¥50,000")),
        # officer
        ("?officer={finance2}", 1, ("¥0", "¥24,000", "¥0", "¥0")),
        # entry kind: the payments alone (the reversal is its own kind)
        ("?entry_kind=pay", 3, ("¥0", "¥49,000", "¥0", "¥0")),
        ("?entry_kind=reversal", 1, ("¥0", "-¥5,000", "¥0", "¥0")),
        # dates: 08-01 (pay 20,000), 08-15 (pay 24,000), 09-10 (pay 5,000)
        ("?from=2026-08-01&to=2026-09-10", 3, ("¥0", "¥49,000", "¥0", "¥0")),
        ("?from=2026-09-11", 2, ("¥0", "-¥5,000", "¥10,000", "-¥10,000")),
        # filters combine
        ("?round={round}&kind=goods&entry_kind=commit", 2, ("¥34,000", "¥0", "¥0", "¥34,000")),
    ],
)
async def test_each_filter_narrows_the_entries_and_totals(client, story, query, count, totals):
    await login(client, "finance")
    query = query.format(
        round=story.fr.round.id,
        other_round=story.other_round_procurement.round_id,
        east=story.fr.east.id,
        west=story.fr.west.id,
        benches=story.benches.id,
        finance2=story.other_officer.id,
    )
    text = await _ledger(client, query)
    assert _count(text) == count, text[:400]
    assert _totals_text(*totals) in text
    if count == 0:
        assert "No entry matches these filters." in text


async def test_bad_filter_values_are_ignored_with_a_message(client, story):
    await login(client, "council")
    response = await client.get(
        "/budget/ledger?round=abc&area=-1&kind=rockets&procurement=1e9&officer=%00"
        "&entry_kind=gift&from=2026-13-45&to=yesterday&page=zz"
    )
    assert response.status_code == 200
    text = page_text(response.text)
    assert "Totals of 9 entries" in text  # every filter ignored
    assert "Ignored the round filter" in text
    assert "Ignored the kind filter" in text
    assert "Ignored the from date filter: write a date as YYYY-MM-DD." in text
    reversed_dates = await client.get("/budget/ledger?from=2026-10-01&to=2026-09-01")
    text = page_text(reversed_dates.text)
    assert "before the “from” date" in text and "Totals of 0 entries" in text
    for path in (
        "/budget/ledger.csv?round=abc&from=x",
        "/budget/ledger.xlsx?upto=x&kind=z",
        "/budget/ledger.csv?upto=99999999999999999999999&round=99999999999999999999",
        "/budget/ledger.csv?upto=-5",
    ):
        assert (await client.get(path)).status_code == 200
    # a page past the last shows the last
    for page in ("99", "99999999999999999999999", "-3"):
        assert (await client.get(f"/budget/ledger?page={page}")).status_code == 200
    round_page = f"/budget/rounds/{story.fr.round.id}/finance?page=99999999999999999999"
    assert (await client.get(round_page)).status_code == 200


async def test_pages_of_fifty_newest_first(client, story):
    for _i in range(30):
        await ledger.record_entry(
            story.fr.finance,
            story.benches.id,
            {"kind": "pay", "amount": "10", "entry_date": "2026-10-02"},
        )
        await ledger.record_entry(
            story.fr.finance,
            story.benches.id,
            {"kind": "commit", "amount": "10", "entry_date": "2026-10-01"},
        )
    await login(client, "finance")
    first = await _ledger(client, f"?procurement={story.benches.id}")
    assert "Totals of 64 entries" in first and "Page 1 of 2" in first
    second = await _ledger(client, f"?procurement={story.benches.id}&page=2")
    assert "Page 2 of 2" in second and "Totals of 64 entries" in second
    # the oldest entry (the contract's commitment) is on the last page only
    assert "Contract with Harbour Works Ltd" in second
    assert "Contract with Harbour Works Ltd" not in first


def _yuan(value: str) -> int:
    return int(Decimal(value) * 100)


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


async def _screen_totals(client, query: str) -> tuple[int, list[str]]:
    text = await _ledger(client, query)
    return _count(text), text


@pytest.mark.parametrize(
    "query",
    ["", "?round={round}", "?kind=goods", "?entry_kind=reversal", "?from=2026-08-01"],
)
async def test_the_exports_list_the_same_entries_and_totals_as_the_page(client, story, query):
    await login(client, "finance")
    query = query.format(round=story.fr.round.id)
    count, text = await _screen_totals(client, query)

    response = await client.get("/budget/ledger.csv" + query)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = _csv_rows(response.content)
    header, entries, totals = rows[0], rows[1:-4], rows[-4:]
    assert header == [
        "Date",
        "Round",
        "Procurement",
        "Area",
        "Kind",
        "Entry",
        "Amount (yuan)",
        "Document reference",
        "Officer",
        "Note",
        "Reverses entry",
    ]
    assert len(entries) == count
    assert [r[0] for r in totals] == ["Total"] * 4
    by_name = {r[5]: r[6] for r in totals}
    shown = {
        "Committed": text.split("Committed ", 1)[1].split()[0],
        "Paid": text.split(" Paid ", 1)[1].split()[0],
        "Released": text.split("Released ", 1)[1].split()[0],
        "Net committed (committed − released)": text.split("(committed − released) ", 1)[1].split()[
            0
        ],
    }
    for name, money in shown.items():
        fen = int(money.replace("¥", "").replace(",", "").replace("-", "")) * 100
        assert _yuan(by_name[name]) == (-fen if money.startswith("-") else fen), name
    # the rows add up to the totals, each entry by its effect
    effect = {"Commitment": "Committed", "Payment": "Paid", "Release": "Released"}
    sums = dict.fromkeys(effect.values(), 0)
    for row in entries:
        kind = row[5].removeprefix("Reversal (").removesuffix(")")
        sums[effect[kind]] += _yuan(row[6])
    for name, fen in sums.items():
        assert _yuan(by_name[name]) == fen, name
    assert all(len(r[6].split(".")[1]) == 2 for r in entries + totals)

    book = await client.get("/budget/ledger.xlsx" + query)
    assert book.status_code == 200
    assert "spreadsheetml" in book.headers["content-type"]
    sheet = load_workbook(io.BytesIO(book.content)).active
    cells = list(sheet.iter_rows(values_only=True))
    assert list(cells[0]) == header
    assert len(cells) - 5 == count
    for xrow, crow in zip(cells[1:], rows[1:], strict=True):
        assert Decimal(str(xrow[6])).quantize(Decimal("0.01")) == Decimal(crow[6])
        assert (xrow[0].date().isoformat() if hasattr(xrow[0], "date") else xrow[0]) == crow[0]
        assert [str(v or "") for v in xrow[1:6]] == crow[1:6]


async def test_the_reversal_row_names_what_it_reverses(client, story):
    await login(client, "finance")
    response = await client.get("/budget/ledger.csv?entry_kind=reversal")
    rows = _csv_rows(response.content)
    assert rows[1][0] == "2026-09-11"
    assert rows[1][5] == "Reversal (Payment)"
    assert rows[1][6] == "-5000.00"
    assert rows[1][10] == str(story.reversed_payment)
    assert rows[1][8] == "Fang Cai"
    assert rows[1][3] == "East Gate" and rows[1][4] == "Engineering works"


async def test_the_exports_keep_to_the_entries_the_page_showed(client, story):
    """An entry appended after the page was shown is not in the exports made from it."""
    await login(client, "finance")
    page = await client.get("/budget/ledger")
    upto = await LedgerEntry.all().order_by("-id").first().values_list("id", flat=True)
    assert f"upto={upto}" in page.text
    await ledger.record_entry(
        story.fr.finance,
        story.benches.id,
        {"kind": "pay", "amount": "1", "entry_date": "2026-10-01"},
    )
    rows = _csv_rows((await client.get(f"/budget/ledger.csv?upto={upto}")).content)
    assert len(rows) == 1 + 9 + 4
    assert {r[5]: r[6] for r in rows[-4:]}["Paid"] == "44000.00"
    rows = _csv_rows((await client.get("/budget/ledger.csv")).content)
    assert len(rows) == 1 + 10 + 4


async def test_text_that_looks_like_a_formula_stays_text(client, story):
    await ledger.record_entry(
        story.fr.finance,
        story.benches.id,
        {"kind": "pay", "amount": "1", "entry_date": "2026-10-01", "note": "=HYPERLINK(1)"},
    )
    await login(client, "finance")
    rows = _csv_rows((await client.get("/budget/ledger.csv?from=2026-10-01&to=2026-10-01")).content)
    assert rows[1][9] == "'=HYPERLINK(1)"
    book = await client.get("/budget/ledger.xlsx?from=2026-10-01&to=2026-10-01")
    sheet = load_workbook(io.BytesIO(book.content)).active
    cell = list(sheet.iter_rows(min_row=2, max_row=2))[0][9]
    assert cell.value == "=HYPERLINK(1)" and cell.data_type == "s"


async def test_the_csv_reads_the_ledger_in_chunks(client, story, monkeypatch):
    """The export reads a fixed number of rows per query, never every entry in one."""
    from budget.services import finance_ledger

    original = finance_ledger.ledger_rows

    def small_chunks(filters, upto_id, chunk=2000):
        return original(filters, upto_id, chunk=3)

    monkeypatch.setattr("budget.services.finance_exports.ledger_rows", small_chunks)
    await login(client, "finance")
    with count_queries() as queries:
        response = await client.get("/budget/ledger.csv")
    rows = _csv_rows(response.content)
    assert len(rows) == 1 + 9 + 4
    assert len({r[0] + r[2] + r[6] + r[9] for r in rows[1:-4]}) == 9  # none twice
    dates = [r[0] for r in rows[1:-4]]
    assert dates == sorted(dates, reverse=True)
    selects = [q for q in queries if '"entry_date" DESC' in q]
    assert len(selects) == 4  # 3 + 3 + 3 + an empty one
