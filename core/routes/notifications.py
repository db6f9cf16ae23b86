"""A signed-in user's notifications (/notifications) and the Follow / Unfollow button (/follow).

The list shows the newest first, a page at a time (cursor `before`: the last id shown). Seeing
a page marks its notifications read: they are shown as new on that page, and the header's
count already leaves them out. Opening one (`/notifications/{id}`) marks it read and goes to
what it is about, only ever a path of this site.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from core.i18n import _
from core.services import notifications
from core.web import (
    flash,
    int_param,
    is_htmx,
    load_user,
    login_required,
    read_form,
    redirect,
    render,
    route_url,
    safe_next,
)
from core.web.follow import FollowState, followable_title

PAGE_SIZE = notifications.PAGE_SIZE


@login_required
async def notification_list(request: Request) -> Response:
    """The user's notifications, newest first; the unread ones marked, then marked read."""
    user = request.state.user
    before = int_param(request.query_params.get("before"))
    # one more than a page tells whether there is an older page
    rows = await notifications.list_notifications(user.id, before=before, limit=PAGE_SIZE + 1)
    shown, older = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    unread_ids = [n.id for n in shown if n.read_at is None]
    if unread_ids:
        marked = await notifications.mark_read(user.id, unread_ids)
        # the header counts what is still unread once this page has been seen
        user.unread_notifications = max(0, (user.unread_notifications or 0) - marked)
    items = [
        {
            "id": n.id,
            "text": notifications.message(n),
            "created_at": n.created_at,
            "unread": n.read_at is None,  # as it was when the page was asked for
        }
        for n in shown
    ]
    return render(
        request,
        "core/notifications.html",
        {
            "items": items,
            "show_newest": before is not None,  # a later page links back to the first
            "older_than": shown[-1].id if older else None,
            "any_unread": bool(user.unread_notifications),
        },
        block="results",
    )


@login_required
async def notification_open(request: Request) -> Response:
    """Open a notification: marked read, then on to what it is about (303)."""
    user = request.state.user
    url = await notifications.open_notification(user.id, request.path_params["notification_id"])
    return RedirectResponse(url or route_url(request, "core:notifications"), status_code=303)


@login_required
async def notification_read_all(request: Request) -> Response:
    """Mark every notification of the user read (POST → 303 to the list)."""
    await read_form(request)
    count = await notifications.mark_read(request.state.user.id)
    if count:
        flash(request, _("All your notifications are marked as read."))
    else:
        flash(request, _("You had no unread notifications."), "info")
    return redirect(request, str(route_url(request, "core:notifications")))


async def follow(request: Request) -> Response:
    """Follow or stop following a subject (POST: subject_type, subject_id, follow=1|0, next):
    the subject type must be one an app registered, the subject must exist (404 otherwise).
    303 back to `next`; for htmx, the button again, in its new state."""
    form = await read_form(request)
    back = safe_next(str(form.get("next") or ""), str(route_url(request, "home")))
    user = await load_user(request)
    if user is None:
        flash(request, _("Please sign in first."), "info")
        login = request.url_for("core:login").include_query_params(next=back)
        return redirect(request, str(login))
    subject_type = str(form.get("subject_type") or "")
    subject_id = int_param(str(form.get("subject_id") or ""))
    title = await followable_title(request, subject_type, subject_id or 0)
    following = form.get("follow") == "1"
    await notifications.set_following(user, subject_type, subject_id, following)
    if is_htmx(request):
        state = FollowState(subject_type, subject_id, following, True, back)
        ctx = {"follow": state, "changed": True}
        return render(request, "core/_follow_button.html", ctx, block="follow")
    if following:
        flash(
            request,
            _("You follow “{title}”: changes to it will be in your notifications.", title=title),
        )
    else:
        flash(request, _("You no longer follow “{title}”.", title=title))
    return redirect(request, back)


routes = [
    Route("/notifications", notification_list, name="notifications"),
    Route(
        "/notifications/read",
        notification_read_all,
        methods=["POST"],
        name="notifications_read",
    ),
    Route(
        "/notifications/{notification_id:int}",
        notification_open,
        name="notification_open",
    ),
    Route("/follow", follow, methods=["POST"], name="follow"),
]
