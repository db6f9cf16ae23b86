"""One occurrence of a meeting: its page (agenda, attendance, minutes, follow-up actions),
the council's minutes and actions; and `panel`, what a proposal's, a budgeting round's or a
deliberation round's page shows of the meetings and actions about it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.permissions import can
from consult.routes.meeting_common import SUBJECT_PAGES, detail_url, occurrence_url, page
from consult.rules import recurrence
from consult.services import meeting_agenda, meeting_pages, meeting_records
from consult.services import meetings as svc
from core.errors import NotFound, ValidationError
from core.i18n import _, label
from core.web import (
    flash,
    is_htmx,
    login_required,
    read_form,
    redirect,
    render_fragment,
    safe_next,
    with_user,
)
from core.web.limits import LONG_TEXT_LIMIT, body_limit

# --- an occurrence: minutes and actions ------------------------------------------------------


async def _occurrence_ctx(request: Request, **extra: Any) -> dict[str, Any]:
    meeting = await svc.get_meeting(request.path_params["meeting_id"])
    at = recurrence.parse_occurrence_key(request.path_params["occurrence"])
    if at is None or not recurrence.is_occurrence(meeting.starts_at, meeting.rrule, at):
        raise NotFound(_("This meeting does not take place at that time."))
    data = await meeting_pages.occurrence_page(meeting, at)
    rec = data["record"]
    user = request.state.user
    ctx = {
        "meeting": meeting,
        "at": at,
        "key": recurrence.occurrence_key(at),
        "begun": at <= datetime.now(UTC),
        "cancelled": meeting_pages.cancelled_at(meeting.cancelled_at, at),
        **data,
        "links": await meeting_agenda.link_choices()
        if rec and can(user, "manage_actions", meeting)
        else [],
        "record_values": {
            "attendance": str(rec.attendance) if rec else "",
            "minutes": rec.minutes if rec else "",
        },
        "record_errors": {},
        "values": {},
        "errors": {},
    }
    return {**ctx, **extra}


@with_user
async def meeting_occurrence(request: Request) -> Response:
    """One occurrence: its agenda, attendance and minutes, follow-up actions and the council's
    forms once it has begun."""
    return page(request, "meeting_occurrence.html", await _occurrence_ctx(request))


@body_limit(LONG_TEXT_LIMIT)
@login_required
async def meeting_record(request: Request) -> Response:
    """The council records or corrects attendance and minutes (403 before the meeting has
    begun, 422 for a time that is not one of its dates)."""
    form = await read_form(request)
    at = recurrence.parse_occurrence_key(request.path_params["occurrence"])
    meeting_id = request.path_params["meeting_id"]
    try:
        await meeting_records.record_minutes(request.state.user, meeting_id, at, form)
    except ValidationError as exc:
        if not exc.errors:  # not one of the meeting's dates: no form to show again
            raise
        values = {k: str(form.get(k) or "") for k in ("attendance", "minutes")}
        ctx = await _occurrence_ctx(request, record_values=values, record_errors=exc.errors)
        return page(request, "meeting_occurrence.html", ctx, status_code=422)
    flash(request, _("The minutes have been saved."))
    return redirect(request, occurrence_url(request, meeting_id, request.path_params["occurrence"]))


@login_required
async def action_add(request: Request) -> Response:
    """The council adds a follow-up action to an occurrence's minutes."""
    form = await read_form(request)
    at = recurrence.parse_occurrence_key(request.path_params["occurrence"])
    meeting_id = request.path_params["meeting_id"]
    try:
        await meeting_records.add_action(request.state.user, meeting_id, at, form)
    except ValidationError as exc:
        if not exc.errors:
            raise
        values = {k: str(form.get(k) or "") for k in ("title", "owner", "due_on", "link", "number")}
        ctx = await _occurrence_ctx(request, values=values, errors=exc.errors)
        return page(request, "meeting_occurrence.html", ctx, status_code=422)
    flash(request, _("The follow-up action has been added."))
    url = occurrence_url(request, meeting_id, request.path_params["occurrence"])
    return redirect(request, url + "#actions")


@login_required
async def action_done(request: Request) -> Response:
    """The council marks an action done, or undoes it; htmx gets the action back in place."""
    form = await read_form(request)
    act = await meeting_records.set_action_done(
        request.state.user, request.path_params["action_id"], form.get("done") == "1"
    )
    if is_htmx(request):
        meeting = await svc.get_meeting(act.meeting_id)
        act.overdue = meeting_pages.overdue(act)
        titles = await meeting_agenda.subject_titles([(act.subject_type, act.subject_id)])
        ctx = {"act": act, "meeting": meeting, "titles": titles, "next": form.get("next") or ""}
        return page(request, "_meeting_action.html", ctx)
    flash(request, _("Marked as done.") if act.done_at else _("Marked as not done."), "info")
    fallback = detail_url(request, act.meeting_id)
    return redirect(request, safe_next(str(form.get("next") or ""), fallback))


# --- on other subjects' pages ----------------------------------------------------------------


async def panel(request: Request, subject_type: str, subject_id: int) -> str:
    """On a proposal's, a budgeting round's or a deliberation round's page: the meetings whose
    agenda lists it and the follow-up actions about it (two indexed queries; "" when none)."""
    if subject_type not in SUBJECT_PAGES:
        return ""
    agenda, actions = await meeting_records.subject_items(subject_type, subject_id)
    if not agenda and not actions:
        return ""
    now = datetime.now(UTC)
    items = []
    for item in agenda:
        m = item.meeting
        if item.occurrence_at is not None:
            at = item.occurrence_at
        else:  # the standing agenda: the next occurrence, else the last
            ahead = recurrence.between(m.starts_at, m.rrule, after=now)
            at = ahead[0] if ahead else recurrence.occurrences(m.starts_at, m.rrule)[-1]
        items.append({"item": item, "meeting": m, "at": at, "key": recurrence.occurrence_key(at)})
    items.sort(key=lambda row: row["at"], reverse=True)
    for act in actions:
        act.overdue = meeting_pages.overdue(act)
        act.key = recurrence.occurrence_key(act.record.occurrence_at)
    ctx = {"items": items, "actions": actions, "label": label, "when": meeting_pages.when_words}
    return render_fragment(request, "consult/_meeting_panel.html", ctx)


routes = [
    Route(
        "/meetings/{meeting_id:int}/at/{occurrence}",
        meeting_occurrence,
        name="meeting_occurrence",
    ),
    Route(
        "/meetings/{meeting_id:int}/at/{occurrence}/minutes",
        meeting_record,
        methods=["POST"],
        name="meeting_record",
    ),
    Route(
        "/meetings/{meeting_id:int}/at/{occurrence}/actions",
        action_add,
        methods=["POST"],
        name="meeting_action_add",
    ),
    Route(
        "/meetings/actions/{action_id:int}/done",
        action_done,
        methods=["POST"],
        name="meeting_action_done",
    ),
]
