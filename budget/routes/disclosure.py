"""Following the money in public: a round's spending page, a procurement's page, its OCDS
export, and residents' ratings of what was delivered (rate, and the council hiding a
comment). The pages and the export need no account and name no resident."""

from __future__ import annotations

from types import SimpleNamespace

from markupsafe import escape
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from budget.models import Procurement, ProcurementKind, ProcurementStatus, Rating
from budget.permissions import can
from budget.services import disclosure as svc
from budget.services import ocds, ratings
from core.errors import ValidationError
from core.i18n import _, format_day, format_percent, per_locale
from core.web import (
    flash,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    route_url,
    route_url_around,
    with_user,
)


def document_url(request: Request, document_id: int) -> str:
    return str(route_url(request, "budget:document_download", document_id=document_id))


def manage_url(request: Request, procurement_id: int) -> str:
    return str(route_url(request, "budget:procurement_manage", procurement_id=procurement_id))


def _detail_url(request: Request, procurement_id: int) -> str:
    return str(route_url(request, "budget:procurement_detail", procurement_id=procurement_id))


@per_locale
def _row_text() -> SimpleNamespace:
    """What the spending page's rows say whatever the procurement: translated and escaped
    once per locale, not once per row."""
    return SimpleNamespace(
        status={s: escape(s.label) for s in ProcurementStatus},
        kind={k: escape(k.label) for k in ProcurementKind},
        delivery={d: escape(d.label) for d in svc.Delivery},
        district=escape(_("District-wide")),
    )


@with_user
async def round_spending(request: Request) -> Response:
    """Where a round's money went: totals (fund, capped, committed, paid), delivery on time,
    late or open, satisfaction and beneficiaries, then every procurement (a page at a time)."""
    rnd = await svc.public_round(request.path_params["round_id"])
    totals = await svc.round_totals(rnd)
    page = await svc.spending_rows(
        rnd, int_param(request.query_params.get("page"), 1), totals.procurements
    )
    return render(
        request,
        "budget/spending.html",
        {
            "round": rnd,
            "totals": totals,
            "page": page,
            "Delivery": svc.Delivery,
            # each date and satisfaction share formatted once per page (rows share them), looked
            # up by the rows
            "days": {day: format_day(day) for day in {row.planned_end for row in page.items}},
            "shares": {
                share: format_percent(share)
                for share in {row.satisfaction for row in page.items if row.ratings}
            },
            "text": _row_text(),
            "detail_url": route_url_around(request, "budget:procurement_detail", "procurement_id"),
        },
    )


async def _procurement_page(
    request: Request,
    procurement: Procurement,
    *,
    rating_values: dict | None = None,
    rating_errors: dict | None = None,
    hide_errors: dict | None = None,
    status_code: int = 200,
) -> Response:
    user = request.state.user
    page = await svc.procurement_page(procurement, int_param(request.query_params.get("page"), 1))
    mine = await ratings.own_rating(user, procurement.id)
    may_rate = can(user, "rate", procurement)
    if rating_values is None:
        rating_values = {"score": str(mine.score), "comment": mine.comment} if mine else {}
    return render(
        request,
        "budget/procurement_detail.html",
        {
            "p": procurement,
            "page": page,
            "can": can,
            "Status": ProcurementStatus,
            "Delivery": svc.Delivery,
            "document_url": lambda doc_id: document_url(request, doc_id),
            "manage_url": manage_url(request, procurement.id),
            "mine": mine,
            "may_rate": may_rate,
            "may_moderate": can(user, "moderate_rating", Rating()),
            "may_change": may_rate and (mine is None or ratings.can_still_change(mine)),
            "change_deadline": ratings.change_deadline(mine) if mine else None,
            "local_date": svc.local_date,
            "rate_refusal": ratings.rate_refusal(user, procurement) if user else "",
            "rating_values": rating_values,
            "rating_errors": rating_errors or {},
            "hide_errors": hide_errors or {},
        },
        status_code=status_code,
    )


@with_user
async def procurement_detail(request: Request) -> Response:
    """A procurement in public: its state and history (dates only), milestones, money and
    payments, the contract, public documents, and residents' ratings (without names)."""
    procurement = await svc.public_procurement(request.path_params["procurement_id"])
    return await _procurement_page(request, procurement)


@login_required
async def procurement_rate(request: Request) -> Response:
    """A resident of the area rates a delivered procurement 1–5 (or changes their rating
    within 30 days); bad input re-renders the page with the form's messages (422)."""
    form = await read_form(request)
    procurement_id = request.path_params["procurement_id"]
    try:
        await ratings.rate(request.state.user, procurement_id, form)
    except ValidationError as exc:
        procurement = await svc.public_procurement(procurement_id)
        values = {k: str(form.get(k) or "") for k in ("score", "comment")}
        return await _procurement_page(
            request,
            procurement,
            rating_values=values,
            rating_errors=exc.errors or {"score": exc.message},
            status_code=422,
        )
    flash(request, _("Thank you: your rating is saved."))
    return redirect(request, _detail_url(request, procurement_id) + "#rate")


@login_required
async def rating_hide(request: Request) -> Response:
    """A council member hides a rating's comment, giving a reason shown in its place."""
    form = await read_form(request)
    rating_id = request.path_params["rating_id"]
    try:
        rating = await ratings.hide_comment(request.state.user, rating_id, form)
    except ValidationError as exc:
        procurement_id = await ratings.procurement_of_rating(rating_id)
        procurement = await svc.public_procurement(procurement_id)
        return await _procurement_page(
            request,
            procurement,
            hide_errors={
                rating_id: {
                    "errors": exc.errors or {"reason": exc.message},
                    "reason": str(form.get("reason") or ""),
                }
            },
            status_code=422,
        )
    flash(request, _("The comment is hidden; the reason is shown in its place."))
    return redirect(request, _detail_url(request, rating.procurement_id) + f"#rating-{rating.id}")


async def round_ocds(request: Request) -> Response:
    """The round's procurements as an OCDS 1.1 release package (JSON, open data)."""
    rnd = await svc.public_round(request.path_params["round_id"])
    headers = {"Access-Control-Allow-Origin": "*"}
    media_type = "application/json; charset=utf-8"
    if not await svc.round_has_procurements(rnd.id):
        # a package needs at least one release: say so in JSON rather than publish an
        # invalid package
        return JSONResponse(
            {"error": _("This round has no procurements yet.")},
            status_code=404,
            headers=headers,
            media_type=media_type,
        )
    settings = request.app.state.settings
    publisher = ocds.Publisher(
        ocid_prefix=settings.ocds_prefix,
        buyer_name=settings.ocds_buyer_name,
        package_uri=str(request.url.remove_query_params("lang")),
        document_url=lambda doc_id: document_url(request, doc_id),
        procurement_url=lambda pid: _detail_url(request, pid),
    )
    package = await ocds.release_package(rnd, publisher)
    return JSONResponse(package, headers=headers, media_type=media_type)


routes = [
    Route("/rounds/{round_id:int}/spending", round_spending, name="round_spending"),
    Route("/rounds/{round_id:int}/ocds.json", round_ocds, name="round_ocds"),
    Route("/procurements/{procurement_id:int}", procurement_detail, name="procurement_detail"),
    Route(
        "/procurements/{procurement_id:int}/rating",
        procurement_rate,
        methods=["POST"],
        name="procurement_rate",
    ),
    Route("/ratings/{rating_id:int}/hide", rating_hide, methods=["POST"], name="rating_hide"),
]
