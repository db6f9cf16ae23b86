"""The ledger's exports: CSV (streamed) and XLSX (openpyxl, write-only), with the same rows
and the same totals as the ledger page for the same filters.

Columns: date, round, procurement, area, kind, entry, amount, document reference, officer (a
staff member's display name), note, the entry reversed. Amounts are yuan with two decimals; a
reversal is negative (it takes back the entry it names). After the entries come four totals
rows (committed, paid, released, net committed), computed in SQL over the same entries: every
entry up to the snapshot id the page showed, so an entry appended meanwhile changes neither.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from datetime import date
from decimal import Decimal

import anyio
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from budget.models import ProcurementKind
from budget.services.finance_ledger import (
    LedgerFilters,
    LedgerTotals,
    entry_label,
    ledger_rows,
    ledger_totals,
    signed_amount,
)
from core.i18n import _, label

CHUNK_ROWS = 500  # rows per piece of CSV sent, per batch handed to openpyxl
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def headers() -> list[str]:
    return [
        _("Date"),
        _("Round"),
        _("Procurement"),
        _("Area"),
        _("Kind"),
        _("Entry"),
        _("Amount (yuan)"),
        _("Document reference"),
        _("Officer"),
        _("Note"),
        _("Reverses entry"),
    ]


AMOUNT_COLUMN = 6


def yuan(fen: int) -> str:
    """Fen as yuan with two decimals, "-1234.50" (no grouping: a number for spreadsheets)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole}.{cents:02d}"


def _cells(row: Mapping) -> list:
    """One entry as the export's cells: the date as a date, the amount in fen (signed)."""
    area = row["procurement__area__name"] or _("District-wide")
    return [
        row["entry_date"],
        row["procurement__round__title"] or "",
        row["procurement__title"] or "",
        area,
        label(ProcurementKind(row["procurement__kind"])),
        entry_label(row),
        signed_amount(row),
        row["document_ref"] or "",
        row["officer__display_name"] or "",
        row["note"] or "",
        row["reverses_id"] or "",
    ]


def totals_rows(totals: LedgerTotals) -> list[list]:
    """The four totals, each on a row of its own: "Total" in the date column, what it adds up
    in the entry column, the sum in the amount column."""
    rows = []
    for what, fen in (
        (_("Committed"), totals.committed_fen),
        (_("Paid"), totals.paid_fen),
        (_("Released"), totals.released_fen),
        (_("Net committed (committed − released)"), totals.net_fen),
    ):
        row: list = [""] * len(headers())
        row[0], row[5], row[AMOUNT_COLUMN] = _("Total"), what, fen
        rows.append(row)
    return rows


def _csv_text(value: object) -> str:
    """A cell for CSV: dates ISO, text that a spreadsheet would run as a formula quoted."""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_row(cells: list) -> list[str]:
    out = [_csv_text(c) for c in cells]
    if cells[AMOUNT_COLUMN] != "":
        out[AMOUNT_COLUMN] = yuan(cells[AMOUNT_COLUMN])
    return out


async def ledger_csv(filters: LedgerFilters, upto_id: int) -> AsyncIterator[bytes]:
    """The CSV, piece by piece (UTF-8 with a byte-order mark, so spreadsheets read Chinese)."""
    totals = await ledger_totals(filters, upto_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(headers())
    n = 0
    async for row in ledger_rows(filters, upto_id):
        writer.writerow(_csv_row(_cells(row)))
        n += 1
        if n % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    for row in totals_rows(totals):
        writer.writerow(_csv_row(row))
    yield buffer.getvalue().encode("utf-8")


def _xlsx_cell(sheet, value: object, column: int) -> object:
    if column == AMOUNT_COLUMN and value != "":
        cell = WriteOnlyCell(sheet, value=Decimal(int(value)) / 100)
        cell.number_format = "0.00"
        return cell
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, never a formula
        return cell
    return value


def _append(sheet, rows: list[list]) -> None:
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v, i) for i, v in enumerate(row)])


async def ledger_xlsx(filters: LedgerFilters, upto_id: int) -> bytes:
    """The XLSX workbook: one sheet, the entries then the totals rows. openpyxl writes in a
    worker thread, a chunk of rows at a time, so a large export does not hold up the other
    requests."""
    totals = await ledger_totals(filters, upto_id)
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_("Ledger")[:31])
    sheet.append(headers())
    chunk: list[list] = []
    async for row in ledger_rows(filters, upto_id):
        chunk.append(_cells(row))
        if len(chunk) == CHUNK_ROWS:
            await anyio.to_thread.run_sync(_append, sheet, chunk)
            chunk = []
    await anyio.to_thread.run_sync(_append, sheet, chunk + totals_rows(totals))
    out = io.BytesIO()
    await anyio.to_thread.run_sync(workbook.save, out)
    return out.getvalue()
