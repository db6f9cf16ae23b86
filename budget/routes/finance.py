"""Following the money: the finance view of all rounds and of one round (finance officers and
the council), the ledger with its CSV and XLSX exports, and a round's public final report."""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from budget.models import EntryKind, ProcurementKind, ProcurementStatus, Round
from budget.permissions import can
from budget.services import finance, finance_exports
from budget.services import finance_ledger as ledger
from budget.services.finance_charts import Series, bar_chart, svg
from core.errors import NotFound
from core.i18n import _, format_day, format_money, format_number, label, local_today, per_locale
from core.models import Role
from core.permissions import can as core_can
from core.prepared import Prepared
from core.services.audit_log import record_export
from core.web import (
    Page,
    client_address,
    int_param,
    login_required,
    render,
    require,
    route_url_around,
    with_user,
)

PROCUREMENTS_PER_PAGE = 25
ENTRIES_PER_PAGE = 50


def _require_finance(request: Request) -> None:
    require(
        can(request.state.user, "see_finance"),
        _("Only finance officers and council members see the money of the rounds."),
    )


# its SQL built once per database (the finance pages are hot), run with the path's id
_DISTRICT_ROUND = Prepared(lambda rid: Round.filter(id=rid, is_study=False).limit(2))


async def _district_round(request: Request) -> Round:
    """The round of the path: one of the district's (an imported election has no money)."""
    rnd = await _DISTRICT_ROUND.first(request.path_params["round_id"])
    if rnd is None:
        raise NotFound(_("Not found."))
    return rnd


@login_required
async def finance_overview(request: Request) -> Response:
    """Every round with procurements: fund, capped, committed, paid, remaining, states, late."""
    _require_finance(request)
    user = request.state.user
    # a finance officer's home (`/` and signing in lead here): what waits for them first
    work = await finance.work_for(user.id) if user.role == Role.FINANCE else None
    return render(
        request,
        "budget/finance_overview.html",
        {"lines": await finance.overview(), "ProcurementStatus": ProcurementStatus, "work": work},
    )


def _charts(data: finance.RoundFinance) -> dict[str, Markup]:
    """The round page's three charts (the tables beside them show the same figures)."""
    budget = Series("budget", _("Budget"))
    capped, committed = Series("capped", _("Capped")), Series("committed", _("Committed"))
    paid, count = Series("paid", _("Paid")), Series("count", _("Procurements"))
    charts = {
        "areas": bar_chart(
            _("Money by area"),
            [budget, capped, committed, paid],
            [
                (
                    line.label,
                    [
                        line.figures.budget_fen or 0,
                        line.figures.capped_fen,
                        line.figures.committed_fen,
                        line.figures.paid_fen,
                    ],
                )
                for line in data.envelopes
            ],
            format_money,
        ),
        "kinds": bar_chart(
            _("Money by kind"),
            [capped, committed, paid],
            [(label(kind), [f.capped_fen, f.committed_fen, f.paid_fen]) for kind, f in data.kinds],
            format_money,
        ),
        "states": bar_chart(
            _("Procurements by state"),
            [count],
            [(label(s), [n]) for s, n in data.total.state_counts()],
            format_number,
        ),
    }
    return {name: svg(chart, f"chart-{name}") for name, chart in charts.items()}


@per_locale
def _row_text() -> SimpleNamespace:
    """What every row of a procurement list says whatever the procurement: translated and
    escaped once per locale, not once per row."""
    return SimpleNamespace(
        status={s: escape(label(s)) for s in ProcurementStatus},
        kind={k: escape(label(k)) for k in ProcurementKind},
        district=escape(_("District-wide")),
        late=escape(_("Late")),
        ledger=escape(_("Ledger")),
        audit=escape(_("Audit trail")),
    )


@login_required
async def finance_round(request: Request) -> Response:
    """One round's money per area and per kind, procurements per state and late, with charts
    and the list of its procurements."""
    _require_finance(request)
    user = request.state.user
    rnd = await _district_round(request)
    data = await finance.round_finance(rnd)
    # the procurements' count is the figures' own: no COUNT query for the pages
    size, total = PROCUREMENTS_PER_PAGE, data.total.count
    number = min(
        max(1, int_param(request.query_params.get("page"), 1) or 1), -(-total // size) or 1
    )
    lines = await finance.procurement_lines(rnd, (number - 1) * size, size)
    days = {day: format_day(day) for day in {line.planned_end for line in lines}}
    return render(
        request,
        "budget/finance_round.html",
        {
            "round": rnd,
            "data": data,
            "charts": _charts(data),
            "page": Page(items=lines, number=number, size=size, total=total),
            "days": days,
            "text": _row_text(),
            "manage_url": route_url_around(request, "budget:procurement_manage", "procurement_id"),
            "may_convert": can(user, "convert", rnd),
            "can_audit": core_can(user, "view_audit"),
            "reported": rnd.results_published_at is not None,
        },
    )


@with_user
async def round_report(request: Request) -> Response:
    """A round's final report, public: each procurement planned (its cap) against committed
    and paid, the money returned, on time or late; the round's totals."""
    rnd = await _district_round(request)
    if rnd.results_published_at is None:
        raise NotFound(_("This round has no report: its results are not published."))
    report = await finance.round_report(rnd)
    return render(
        request,
        "budget/round_report.html",
        {
            "round": rnd,
            "report": report,
            "detail_url": route_url_around(request, "budget:procurement_detail", "procurement_id"),
        },
    )


def _ledger_filters(request: Request) -> tuple[ledger.LedgerFilters, list[str]]:
    return ledger.LedgerFilters.parse(request.query_params)


@login_required
async def ledger_page(request: Request) -> Response:
    """Every ledger entry, newest first, filtered; the totals of all the matching entries."""
    _require_finance(request)
    filters, problems = _ledger_filters(request)
    upto = await ledger.snapshot_id()
    totals = await ledger.ledger_totals(filters, upto)
    items, number = await ledger.ledger_page(
        filters,
        int_param(request.query_params.get("page"), 1),
        ENTRIES_PER_PAGE,
        totals.count,
        upto,
    )
    return render(
        request,
        "budget/finance_ledger.html",
        {
            "filters": filters,
            "problems": problems,
            "choices": await ledger.ledger_choices(filters),
            "page": Page(items=items, number=number, size=ENTRIES_PER_PAGE, total=totals.count),
            "totals": totals,
            "upto": upto,
            "DISTRICT": ledger.DISTRICT,
            "ProcurementKind": ProcurementKind,
            "EntryKind": EntryKind,
            "entry_label": ledger.entry_label,
            "signed_amount": ledger.signed_amount,
        },
    )


async def _export_args(request: Request) -> tuple[ledger.LedgerFilters, int]:
    """The filters of the query string and the snapshot the page showed (`upto`), or now."""
    filters, _problems = _ledger_filters(request)
    upto = int_param(request.query_params.get("upto"))
    if upto is None or not 0 <= upto < 2**62:
        upto = await ledger.snapshot_id()
    return filters, upto


async def _record_export(request: Request, fmt: str, upto: int) -> None:
    """The audit log keeps who exported the ledger, from where, with which filters."""
    await record_export(
        request.state.user,
        "ledger",
        None,
        client_address(request),
        format=fmt,
        upto=upto,
        filters=request.url.query[:300] or None,
    )


def _filename(ext: str) -> str:
    return f"ledger-{local_today().isoformat()}.{ext}"


@login_required
async def ledger_csv(request: Request) -> Response:
    """The matching entries as CSV, streamed, with the totals rows."""
    _require_finance(request)
    filters, upto = await _export_args(request)
    await _record_export(request, "csv", upto)
    return StreamingResponse(
        finance_exports.ledger_csv(filters, upto),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@login_required
async def ledger_xlsx(request: Request) -> Response:
    """The matching entries as an XLSX workbook, with the totals rows."""
    _require_finance(request)
    filters, upto = await _export_args(request)
    await _record_export(request, "xlsx", upto)
    return Response(
        await finance_exports.ledger_xlsx(filters, upto),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{_filename("xlsx")}"'},
    )


routes = [
    Route("/finance", finance_overview, name="finance_overview"),
    Route("/rounds/{round_id:int}/finance", finance_round, name="finance_round"),
    Route("/rounds/{round_id:int}/report", round_report, name="round_report"),
    Route("/ledger", ledger_page, name="ledger"),
    Route("/ledger.csv", ledger_csv, name="ledger_csv"),
    Route("/ledger.xlsx", ledger_xlsx, name="ledger_xlsx"),
]
