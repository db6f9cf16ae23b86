"""Meetings: the list of occurrences (public), a meeting's page with its agenda and what
happened at each occurrence (public), scheduling, editing, cancelling, agenda items (the
council); the public calendar feed at the site root (`root_routes`: /meetings.ics). An
occurrence's page, minutes, follow-up actions and `panel` (what a proposal's, a budgeting
round's or a deliberation round's page shows of the meetings about it) are in
`meeting_records`; the names other packages use (`routes`, `root_routes`, `panel`) are here."""

from __future__ import annotations

from hashlib import sha256
from typing import Any

from babel.dates import get_day_names
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette_babel import get_locale

from consult.models import MeetingKind
from consult.permissions import can
from consult.routes import meeting_records
from consult.routes.meeting_common import detail_url, page
from consult.routes.meeting_records import panel
from consult.rules import recurrence
from consult.services import meeting_agenda, meeting_calendar, meeting_pages
from consult.services import meetings as svc
from core.errors import NotFound, PermissionDenied, ValidationError
from core.i18n import _, label
from core.models import Area
from core.web import (
    flash,
    follow_state,
    int_param,
    is_htmx,
    login_required,
    read_form,
    redirect,
    route_url,
    subject_panels,
    with_user,
)

# --- the list and the calendar ---------------------------------------------------------------


@with_user
async def meeting_list(request: Request) -> Response:
    """Meetings of the next three months (recurring ones expanded) and those held, with a
    minutes marker; filtered by area and kind; htmx swaps only the results."""
    areas = await Area.all().values_list("id", "name")
    filters = meeting_pages.ListFilters.from_query(request.query_params, {i for i, _n in areas})
    upcoming, past = await meeting_pages.list_occurrences(
        filters, int_param(request.query_params.get("page"), 1)
    )
    feed = str(route_url(request, "meetings_ics"))
    if filters.area_id is not None:
        feed += f"?area={filters.area_id}"
    ctx = {
        "filters": filters,
        "areas": areas,
        "upcoming": upcoming,
        "page": past,
        "feed_url": feed,
        "filtered": bool(filters.area or filters.kind),
    }
    return page(request, "meeting_list.html", ctx, block="results")


async def calendar_feed(request: Request) -> Response:
    """The iCalendar feed of meetings (all, or `?area=` an area's and the district-wide ones):
    one VEVENT per meeting, the same UIDs on every request; ETag for a cheap revalidation."""
    raw = request.query_params.get("area", "")
    area = None
    if raw:
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
            raise HTTPException(400, _("The area of the calendar must be given by its number."))
        area = await Area.get_or_none(id=int(raw))
        if area is None:
            raise NotFound(_("There is no such area."))
    meetings = await meeting_calendar.feed_meetings(area.id if area else None)
    name = (
        _("Meetings in {area}", area=area.name) if area else _("Community meetings of the district")
    )
    body = meeting_calendar.build_calendar(
        meetings,
        name,
        lambda i: str(route_url(request, "consult:meeting_detail", meeting_id=i)),
        domain=request.app.state.settings.calendar_domain,
    )
    etag = '"' + sha256(body).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "Vary": "Accept-Language, Cookie",
        "Content-Disposition": 'inline; filename="meetings.ics"',
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="text/calendar; charset=utf-8", headers=headers)


# --- one meeting -----------------------------------------------------------------------------


async def _detail_ctx(request: Request, meeting_id: int, **extra: Any) -> dict[str, Any]:
    meeting = await svc.get_meeting(meeting_id)
    view = await meeting_pages.meeting_page(meeting)
    ctx = {
        "meeting": meeting,
        "view": view,
        "occurrence_choices": [
            (key, meeting_pages.when_words(at, meeting.duration_minutes))
            for key, at in view.upcoming_keys
        ],
        "links": await meeting_agenda.link_choices()
        if can(request.state.user, "manage_agenda", meeting)
        else [],
        "feed_url": str(route_url(request, "meetings_ics"))
        + (f"?area={meeting.area_id}" if meeting.area_id else ""),
        "values": {},
        "errors": {},
    }
    return {**ctx, **extra}


@with_user
async def meeting_detail(request: Request) -> Response:
    """One meeting: when and where, its recurrence in words, the next occurrences, the agenda,
    what happened at each occurrence held, the council's forms, and its discussion."""
    ctx = await _detail_ctx(request, request.path_params["meeting_id"])
    ctx["panels"] = await subject_panels(request, "meeting", ctx["meeting"].id)
    ctx["follow"] = await follow_state(request, "meeting", ctx["meeting"].id)
    return page(request, "meeting_detail.html", ctx)


def _weekday_options() -> list[tuple[str, str]]:
    names = get_day_names("wide", locale=get_locale())
    return [(code, names[i]) for i, code in enumerate(recurrence.WEEKDAYS)]


async def _form_ctx(**ctx: Any) -> dict[str, Any]:
    areas = await Area.all().values_list("id", "name")
    return {
        "areas": areas,
        "kinds": [(k.value, label(k)) for k in MeetingKind],
        "weekdays": _weekday_options(),
        "monthdays": [(str(d), str(d)) for d in range(1, 32)] + [("-1", _("The last day"))],
        "nths": [
            ("1", _("The first")),
            ("2", _("The second")),
            ("3", _("The third")),
            ("4", _("The fourth")),
            ("-1", _("The last")),
        ],
        "max_count": recurrence.MAX_COUNT,
        "max_years": recurrence.MAX_YEARS,
        "errors": {},
        **ctx,
    }


def _values(form: Any) -> dict[str, str]:
    return {k: str(form.get(k) or "") for k in svc.FORM_FIELDS}


@login_required
async def meeting_new(request: Request) -> Response:
    """The council schedules a meeting, once or recurring."""
    user = request.state.user
    if not can(user, "schedule_meeting"):
        raise PermissionDenied(_("Only council members schedule and change meetings."))
    values = svc.blank_values()
    if request.method == "POST":
        form = await read_form(request)
        values = _values(form)
        try:
            meeting = await svc.schedule_meeting(user, form)
        except ValidationError as exc:
            ctx = await _form_ctx(values=values, errors=exc.errors, meeting=None)
            return page(request, "meeting_form.html", ctx, status_code=422)
        flash(request, _("The meeting has been scheduled."))
        return redirect(request, detail_url(request, meeting.id))
    return page(request, "meeting_form.html", await _form_ctx(values=values, meeting=None))


@login_required
async def meeting_edit(request: Request) -> Response:
    """The council changes a meeting (its calendar SEQUENCE rises when the time, the place or
    the recurrence changes)."""
    user = request.state.user
    meeting = await svc.get_meeting(request.path_params["meeting_id"])
    if not can(user, "edit_meeting", meeting):
        raise PermissionDenied(svc.refusal(user, meeting))
    values = svc.form_values(meeting)
    if request.method == "POST":
        form = await read_form(request)
        values = _values(form)
        try:
            await svc.edit_meeting(user, meeting.id, form)
        except ValidationError as exc:
            ctx = await _form_ctx(values=values, errors=exc.errors, meeting=meeting)
            return page(request, "meeting_form.html", ctx, status_code=422)
        flash(request, _("Your changes have been saved."))
        return redirect(request, detail_url(request, meeting.id))
    return page(request, "meeting_form.html", await _form_ctx(values=values, meeting=meeting))


@login_required
async def meeting_cancel(request: Request) -> Response:
    """GET asks for a reason and confirmation (works without JavaScript); POST cancels."""
    user = request.state.user
    meeting = await svc.get_meeting(request.path_params["meeting_id"])
    if not can(user, "cancel_meeting", meeting):
        raise PermissionDenied(svc.refusal(user, meeting))
    values = {"reason": ""}
    if request.method == "POST":
        form = await read_form(request)
        values = {"reason": str(form.get("reason") or "")}
        try:
            await svc.cancel_meeting(user, meeting.id, form)
        except ValidationError as exc:
            ctx = {"meeting": meeting, "values": values, "errors": exc.errors}
            return page(request, "meeting_cancel.html", ctx, status_code=422)
        flash(request, _("The meeting has been cancelled."), "info")
        return redirect(request, detail_url(request, meeting.id))
    ctx = {"meeting": meeting, "values": values, "errors": {}}
    return page(request, "meeting_cancel.html", ctx)


# --- agenda ----------------------------------------------------------------------------------


async def _agenda_done(request: Request, meeting_id: int, message: str) -> Response:
    """After an agenda change: htmx gets the agenda back in place; others the page."""
    if is_htmx(request):
        ctx = await _detail_ctx(request, meeting_id)
        return page(request, "meeting_detail.html", ctx, block="agenda")
    flash(request, message)
    return redirect(request, detail_url(request, meeting_id, "agenda"))


@login_required
async def agenda_add(request: Request) -> Response:
    """The council adds an agenda item (422 with the form kept when it cannot)."""
    meeting_id = request.path_params["meeting_id"]
    form = await read_form(request)
    try:
        await meeting_agenda.add_agenda_item(request.state.user, meeting_id, form)
    except ValidationError as exc:
        values = {k: str(form.get(k) or "") for k in ("title", "occurrence", "link", "number")}
        ctx = await _detail_ctx(request, meeting_id, values=values, errors=exc.errors)
        ctx["panels"] = await subject_panels(request, "meeting", meeting_id)
        return page(request, "meeting_detail.html", ctx, status_code=422, block="agenda")
    return await _agenda_done(request, meeting_id, _("The item has been added to the agenda."))


@login_required
async def agenda_remove(request: Request) -> Response:
    await read_form(request)
    meeting_id = await meeting_agenda.remove_agenda_item(
        request.state.user, request.path_params["agenda_id"]
    )
    return await _agenda_done(request, meeting_id, _("The item has been removed from the agenda."))


@login_required
async def agenda_move(request: Request) -> Response:
    form = await read_form(request)
    meeting_id = await meeting_agenda.move_agenda_item(
        request.state.user, request.path_params["agenda_id"], str(form.get("direction") or "")
    )
    return await _agenda_done(request, meeting_id, _("The agenda has been reordered."))


__all__ = ["panel", "root_routes", "routes"]

routes = [
    Route("/meetings", meeting_list, name="meeting_list"),
    Route("/meetings/new", meeting_new, methods=["GET", "POST"], name="meeting_new"),
    Route("/meetings/{meeting_id:int}", meeting_detail, name="meeting_detail"),
    Route(
        "/meetings/{meeting_id:int}/edit",
        meeting_edit,
        methods=["GET", "POST"],
        name="meeting_edit",
    ),
    Route(
        "/meetings/{meeting_id:int}/cancel",
        meeting_cancel,
        methods=["GET", "POST"],
        name="meeting_cancel",
    ),
    Route(
        "/meetings/{meeting_id:int}/agenda", agenda_add, methods=["POST"], name="meeting_agenda_add"
    ),
    Route(
        "/meetings/agenda/{agenda_id:int}/remove",
        agenda_remove,
        methods=["POST"],
        name="meeting_agenda_remove",
    ),
    Route(
        "/meetings/agenda/{agenda_id:int}/move",
        agenda_move,
        methods=["POST"],
        name="meeting_agenda_move",
    ),
    *meeting_records.routes,
]

root_routes = [Route("/meetings.ics", calendar_feed, name="meetings_ics")]
