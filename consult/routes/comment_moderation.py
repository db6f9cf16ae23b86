"""Discussion, the steps on pages of their own: its author edits a comment within 15 minutes,
a resident reports one, a council member hides one with a public reason or keeps a reported
one, and the council's queue of reported comments."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.models import CommentReport
from consult.permissions import EDIT_WINDOW, can
from consult.routes.comment_views import comment_url, form_values, template_context
from consult.services import comments as svc
from consult.services import discussion
from core.errors import Conflict, ValidationError
from core.i18n import _
from core.permissions import is_staff
from core.web import (
    flash,
    int_param,
    login_required,
    read_form,
    redirect,
    render,
    require,
    route_url,
)


@login_required
async def comment_edit(request: Request) -> Response:
    """Its author edits a comment (text and stance) within 15 minutes of posting it."""
    user = request.state.user
    form = await read_form(request) if request.method == "POST" else None
    comment = await discussion.comment_with_author(request.path_params["comment_id"])
    require(can(user, "edit_comment", comment), svc.edit_refusal(user, comment))
    subject = await discussion.load_subject(comment.subject_type, comment.subject_id)
    values = form_values(form) if form else {"body": comment.body, "stance": comment.stance}
    ctx = template_context(
        request,
        comment=comment,
        subject=subject,
        values=values,
        deadline=comment.created_at + EDIT_WINDOW,
    )
    if form is None:
        return render(request, "consult/comment_edit.html", ctx)
    try:
        comment = await svc.edit_comment(user, comment.id, form)
    except ValidationError as exc:
        ctx["errors"] = exc.errors
        return render(request, "consult/comment_edit.html", ctx, status_code=422)
    flash(request, _("Your comment is updated."))
    return redirect(request, await comment_url(request, comment))


@login_required
async def comment_report(request: Request) -> Response:
    """A resident reports a comment to the council (once), with an optional reason."""
    user = request.state.user
    form = await read_form(request) if request.method == "POST" else None
    comment = await discussion.comment_with_author(request.path_params["comment_id"])
    require(can(user, "report_comment", comment), svc.report_refusal(user, comment))
    subject = await discussion.load_subject(comment.subject_type, comment.subject_id)
    ctx = template_context(
        request,
        comment=comment,
        subject=subject,
        values={"reason": str(form.get("reason") or "")} if form else {},
        already=await CommentReport.filter(comment_id=comment.id, reporter_id=user.id).exists(),
    )
    if form is None:
        return render(request, "consult/comment_report.html", ctx)
    try:
        await svc.report_comment(user, comment.id, form)
    except ValidationError as exc:
        ctx["errors"] = exc.errors
        return render(request, "consult/comment_report.html", ctx, status_code=422)
    except Conflict as exc:
        flash(request, exc.message, "info")
    else:
        flash(request, _("Thank you: the council will look at this comment."))
    return redirect(request, await comment_url(request, comment))


@login_required
async def comment_hide(request: Request) -> Response:
    """A council member hides a comment with a reason that residents read in its place."""
    user = request.state.user
    form = await read_form(request) if request.method == "POST" else None
    comment = await discussion.comment_with_author(request.path_params["comment_id"])
    require(is_staff(user), _("Only council members hide comments."))
    if comment.hidden:
        raise Conflict(_("This comment is already hidden."))
    subject = await discussion.load_subject(comment.subject_type, comment.subject_id)
    back = str((form or request.query_params).get("back") or "")
    ctx = template_context(
        request,
        comment=comment,
        subject=subject,
        back=back,
        values={"reason": str(form.get("reason") or "")} if form else {},
    )
    if form is None:
        return render(request, "consult/comment_hide.html", ctx)
    try:
        comment = await svc.hide_comment(user, comment.id, form)
    except ValidationError as exc:
        ctx["errors"] = exc.errors
        return render(request, "consult/comment_hide.html", ctx, status_code=422)
    flash(request, _("The comment is hidden; residents read your reason in its place."))
    if back == "reports":
        return redirect(request, str(route_url(request, "consult:comment_reports")))
    return redirect(request, await comment_url(request, comment))


@login_required
async def comment_dismiss(request: Request) -> Response:
    """A council member keeps a reported comment: it leaves the queue."""
    await read_form(request)
    await svc.dismiss_reports(request.state.user, request.path_params["comment_id"])
    flash(request, _("The comment stays; it has left the queue."), "info")
    return redirect(request, str(route_url(request, "consult:comment_reports")))


@login_required
async def comment_reports(request: Request) -> Response:
    """The council's queue: comments residents reported, most reported first, with the
    reasons given; hide one (with a reason) or keep it."""
    user = request.state.user
    require(can(user, "see_reports"), _("Only council members see reported comments."))
    page = int_param(request.query_params.get("page"), 1) or 1
    items, more = await discussion.reported_comments(page)
    return render(
        request,
        "consult/comment_reports.html",
        template_context(request, items=items, page=page, more=more),
    )


routes = [
    Route("/comments/reported", comment_reports, name="comment_reports"),
    Route(
        "/comments/{comment_id:int}/edit",
        comment_edit,
        methods=["GET", "POST"],
        name="comment_edit",
    ),
    Route(
        "/comments/{comment_id:int}/report",
        comment_report,
        methods=["GET", "POST"],
        name="comment_report",
    ),
    Route(
        "/comments/{comment_id:int}/hide",
        comment_hide,
        methods=["GET", "POST"],
        name="comment_hide",
    ),
    Route(
        "/comments/{comment_id:int}/dismiss",
        comment_dismiss,
        methods=["POST"],
        name="comment_dismiss",
    ),
]
