"""Discussion: the panel on a subject's page (counts per stance, threads, "load more", the
form), posting and replying (in place with htmx, full pages and 303 without JavaScript),
editing, reporting, the council's hiding and its queue of reported comments, and a thread's
own page.

URLs (mounted at /consult):
    /discussions/{subject_type}/{subject_id}/comments     POST a comment (GET: its form page)
    /discussions/{subject_type}/{subject_id}/threads?after=<id>   the next threads (htmx)
    /comments/{id}                    a thread's own page (?after=<reply id>)
    /comments/{id}/reply | edit | report | hide    GET a form, POST it
    /comments/{id}/dismiss            POST: the council keeps a reported comment
    /comments/reported                the council's queue
Without JavaScript, "load more" is the subject's own page with `?comments_after=<id>`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from markupsafe import escape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from consult.models import Comment, CommentReport, Stance, SubjectType
from consult.permissions import EDIT_WINDOW, can, may_post
from consult.rules.comments import MAX_BODY, MAX_REASON, Reply, Thread, assemble_threads
from consult.services import comments as svc
from consult.services import discussion
from core.errors import Conflict, NotFound, RateLimited, ValidationError
from core.i18n import _, label, per_locale
from core.permissions import is_staff
from core.web import (
    flash,
    int_param,
    is_htmx,
    login_required,
    query_with,
    read_form,
    redirect,
    render,
    render_fragment,
    require,
    route_url,
    route_url_around,
    with_user,
)

# The page of each kind of subject: (route name, its id parameter).
SUBJECT_PAGES = {
    SubjectType.PROPOSAL: ("budget:proposal_detail", "proposal_id"),
    SubjectType.ROUND: ("budget:round_detail", "round_id"),
    SubjectType.DELIBERATION: ("consult:deliberation_detail", "deliberation_id"),
    SubjectType.MEETING: ("consult:meeting_detail", "meeting_id"),
}
SUBJECT_TYPES = frozenset(t.value for t in SubjectType)
FORM_FIELDS = ("body", "stance")


def subject_url(
    request: Request,
    subject_type: str,
    subject_id: int,
    after: int | None = None,
    anchor: str = "comments",
) -> str:
    """The page of a subject, showing its threads after the cursor `after`, at `anchor`."""
    name, param = SUBJECT_PAGES[SubjectType(subject_type)]
    url = str(route_url(request, name, **{param: subject_id}))
    if after:
        url += f"?comments_after={after}"
    return url + (f"#{anchor}" if anchor else "")


def thread_url(request: Request, root_id: int, after: int | None = None) -> str:
    url = str(route_url(request, "consult:comment_thread", comment_id=root_id))
    return url + (f"?after={after}" if after else "")


async def comment_url(request: Request, comment: Comment) -> str:
    """Where `comment` shows, at its anchor: its subject's page (the page of threads that
    holds it), or its thread's page for a reply far down a long thread."""
    place = await discussion.place_of(comment)
    if place.on_subject_page:
        return subject_url(
            request,
            comment.subject_type,
            comment.subject_id,
            place.after,
            f"comment-{comment.id}",
        )
    return thread_url(request, place.root_id, place.after) + f"#comment-{comment.id}"


@per_locale
def _comment_text() -> SimpleNamespace:
    """What every comment says whatever the comment (templates/consult/_comments.html),
    translated and escaped once per locale instead of once per comment."""
    return SimpleNamespace(
        reply=escape(_("Reply")),
        edit=escape(_("Edit")),
        report=escape(_("Report")),
        hide=escape(_("Hide")),
        edited=escape(_("(edited)")),
        council=escape(_("Council")),
        former=escape(_("a former resident")),
        stance={s: escape(label(s)) for s in Stance},
    )


def _comment_urls(request: Request) -> SimpleNamespace:
    """The start of each comment's addresses, to which the template adds its id and the
    action (…/comments/12/reply): a page of a hundred comments builds no URL one by one."""
    before, after = route_url_around(request, "consult:comment_thread", "comment_id")
    return SimpleNamespace(comment=before, end=after)


def _with_controls(
    request: Request, threads: Iterable[Thread], is_open: bool = True
) -> list[Thread]:
    """Mark each comment of `threads` with what the signed-in user may do to it (reply, edit,
    report, hide), asked of the permissions table here rather than four times per comment in
    the template. Nothing for the public, who may do none of it."""
    threads = list(threads)
    user = getattr(request.state, "user", None)
    if user is None:
        return threads
    now = datetime.now(UTC)
    for thread in threads:
        for c in _thread_comments(thread):
            c.controls = (
                is_open and can(user, "reply", c, now),
                can(user, "edit_comment", c, now),
                can(user, "report_comment", c, now),
                can(user, "hide_comment", c, now),
            )
    return threads


def _thread_comments(thread: Thread) -> Iterator[Comment]:
    yield thread.root
    for reply in thread.replies:
        yield reply.comment
        yield from reply.replies


def _ctx(request: Request, **ctx: Any) -> dict[str, Any]:
    """What every discussion template uses."""
    return {
        "can": can,
        "text": _comment_text(),
        "urls": _comment_urls(request),
        "Stance": Stance,
        "subject_url": partial(subject_url, request),
        "thread_url": partial(thread_url, request),
        "max_body": MAX_BODY,
        "max_reason": MAX_REASON,
        "discussion_open": True,
        "inline": False,
        "values": {"stance": Stance.NEUTRAL},
        "errors": {},
        **ctx,
    }


def _fragment(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    """An htmx fragment: a template rendered alone (flash messages stay for the next page)."""
    response = HTMLResponse(render_fragment(request, name, _ctx(request, **ctx)), **kwargs)
    response.headers.append("Vary", "HX-Request")
    return response


def _values(form: FormData | None) -> dict[str, str]:
    if form is None:
        return {"stance": Stance.NEUTRAL}
    return {k: str(form.get(k) or "") for k in FORM_FIELDS}


def _subject_type(request: Request) -> str:
    value = request.path_params["subject_type"]
    if value not in SUBJECT_TYPES:
        raise NotFound(_("There is no such discussion."))
    return value


# --- the panel ------------------------------------------------------------------------------


async def panel(request: Request, subject_type: str, subject_id: int) -> str:
    """The discussion at the bottom of a subject's page: counts per stance, a page of threads
    (after `?comments_after=` when given), "load more", the form. Two or three indexed
    queries whatever the size of the discussion (a deliberation round adds one for its
    phase)."""
    if subject_type not in SUBJECT_TYPES:
        return ""
    after = int_param(request.query_params.get("comments_after"))
    counts = await discussion.stance_counts(subject_type, subject_id)
    page = await discussion.thread_page(subject_type, subject_id, after)
    is_open = await discussion.subject_is_open(subject_type, subject_id)
    _with_controls(request, page.threads, is_open)
    ctx = _ctx(
        request,
        subject_type=subject_type,
        subject_id=subject_id,
        counts=counts,
        page=page,
        discussion_open=is_open,
        may_post=may_post(getattr(request.state, "user", None)),
        inline=True,
        first_page=request.url.path + "#comments",
        more_page=query_with(request, comments_after=page.next_after) + "#comments",
    )
    return render_fragment(request, "consult/_discussion.html", ctx)


@with_user
async def comment_threads(request: Request) -> Response:
    """ "Load more": the next page of threads as an htmx fragment (appended to the list, and
    the next "load more" link); without htmx, the subject's page after the same cursor.
    `posted` ids (comments just posted on the page, already shown below) are left out."""
    subject_type = _subject_type(request)
    subject_id = request.path_params["subject_id"]
    after = int_param(request.query_params.get("after"))
    if not is_htmx(request):
        return RedirectResponse(subject_url(request, subject_type, subject_id, after), 303)
    page = await discussion.thread_page(subject_type, subject_id, after)
    posted = {int_param(v) for v in request.query_params.getlist("posted")}
    is_open = await discussion.subject_is_open(subject_type, subject_id)
    page.threads = _with_controls(
        request, (t for t in page.threads if t.root.id not in posted), is_open
    )
    more_page = subject_url(request, subject_type, subject_id, page.next_after)
    return _fragment(
        request,
        "consult/_threads_more.html",
        {
            "subject_type": subject_type,
            "subject_id": subject_id,
            "page": page,
            "discussion_open": is_open,
            "inline": True,
            "more_page": more_page,
        },
    )


# --- posting and replying -------------------------------------------------------------------


@login_required
async def comment_post(request: Request) -> Response:
    """POST a top-level comment: htmx gets the new thread (and a fresh form, the counts);
    without JavaScript, 303 to it on the subject's page. Refused input (422) or too many
    comments a minute (429): the form again with the message and the text kept. GET: the
    form on a page of its own."""
    user = request.state.user
    form = await read_form(request) if request.method == "POST" else None
    subject_type = _subject_type(request)
    subject = await discussion.load_subject(subject_type, request.path_params["subject_id"])
    ctx = _ctx(request, subject=subject, values=_values(form), inline=is_htmx(request))
    if form is None:
        require(can(user, "comment"), svc.posting_refusal(user))
        require(subject.open, svc.closed_refusal())
        return render(request, "consult/comment_form.html", ctx)
    try:
        comment = await svc.post_comment(user, subject.type, subject.id, form)
    except (ValidationError, RateLimited) as exc:
        ctx["errors"] = exc.errors or {"body": exc.message}
        response = render(
            request,
            "consult/comment_form.html",
            ctx,
            status_code=exc.status_code,
            block="form",
        )
        if is_htmx(request):
            response.headers["HX-Retarget"] = "#comment-form"
            response.headers["HX-Reswap"] = "outerHTML"
        return response
    if is_htmx(request):
        return await _posted(request, comment, subject.type, subject.id, subject.open)
    flash(request, _("Your comment is posted."))
    return redirect(request, await comment_url(request, comment))


async def _posted(
    request: Request, comment: Comment, subject_type: str, subject_id: int, is_open: bool
) -> Response:
    """The htmx answer to a comment or reply just posted: the comment (appended where it
    belongs by the form's hx-target), and out of band the counts and a fresh form."""
    comment = await discussion.comment_with_author(comment.id)
    (alone,) = _with_controls(request, assemble_threads([comment], []), is_open)
    thread = alone if comment.depth == 0 else None
    return _fragment(
        request,
        "consult/_comment_posted.html",
        {
            "thread": thread,
            "reply": Reply(comment) if comment.depth else None,
            "subject_type": subject_type,
            "subject_id": subject_id,
            "counts": await discussion.stance_counts(subject_type, subject_id),
            "discussion_open": is_open,
            "may_post": True,
            "inline": True,
        },
    )


@login_required
async def comment_reply(request: Request) -> Response:
    """A reply to a comment. GET: the reply form (htmx: the form alone, under the comment;
    `?cancel=1` takes it away), or a page with the comment and the form. POST: htmx gets
    the reply (appended to the comment's replies); without JavaScript, 303 to it. Refused
    input (422: a hidden comment, too deep, an empty text) or 429: the form again, the text
    kept."""
    user = request.state.user
    if request.method == "GET" and request.query_params.get("cancel"):
        return HTMLResponse("")
    form = await read_form(request) if request.method == "POST" else None
    parent = await discussion.comment_with_author(request.path_params["comment_id"])
    subject = await discussion.load_subject(parent.subject_type, parent.subject_id)
    ctx = _ctx(
        request,
        parent=parent,
        subject=subject,
        values=_values(form),
        inline=is_htmx(request),
        discussion_open=subject.open,
    )
    if form is None:
        require(may_post(user), svc.posting_refusal(user))
        require(subject.open, svc.closed_refusal())
        require(can(user, "reply", parent), svc.reply_refusal(parent))
        if is_htmx(request):
            return _fragment(request, "consult/_reply_form.html", ctx)
        return render(request, "consult/comment_reply.html", ctx)
    try:
        comment = await svc.reply_to_comment(user, parent.id, form)
    except (ValidationError, RateLimited) as exc:
        ctx["errors"] = exc.errors or {"body": exc.message}
        if is_htmx(request):
            response = _fragment(
                request, "consult/_reply_form.html", ctx, status_code=exc.status_code
            )
            response.headers["HX-Retarget"] = f"#reply-slot-{parent.id}"
            response.headers["HX-Reswap"] = "innerHTML"
            return response
        return render(request, "consult/comment_reply.html", ctx, status_code=exc.status_code)
    if is_htmx(request):
        return await _posted(request, comment, subject.type, subject.id, subject.open)
    flash(request, _("Your reply is posted."))
    return redirect(request, await comment_url(request, comment))


# --- editing, reporting, hiding -------------------------------------------------------------


@login_required
async def comment_edit(request: Request) -> Response:
    """Its author edits a comment (text and stance) within 15 minutes of posting it."""
    user = request.state.user
    form = await read_form(request) if request.method == "POST" else None
    comment = await discussion.comment_with_author(request.path_params["comment_id"])
    require(can(user, "edit_comment", comment), svc.edit_refusal(user, comment))
    subject = await discussion.load_subject(comment.subject_type, comment.subject_id)
    values = _values(form) if form else {"body": comment.body, "stance": comment.stance}
    ctx = _ctx(
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
    ctx = _ctx(
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
    ctx = _ctx(
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
        _ctx(request, items=items, page=page, more=more),
    )


@with_user
async def comment_thread(request: Request) -> Response:
    """A thread on its own page: the top-level comment and its replies, 100 at a time (a
    reply's address leads to its thread, at the reply)."""
    comment_id = request.path_params["comment_id"]
    comment = await Comment.get_or_none(id=comment_id).only("id", "root_id")
    if comment is None:
        raise NotFound(_("This comment does not exist."))
    if comment.root_id:
        url = thread_url(request, comment.root_id) + f"#comment-{comment.id}"
        return RedirectResponse(url, 303)
    view = await discussion.thread_view(comment.id, int_param(request.query_params.get("after")))
    _with_controls(request, [view.thread], view.subject.open)
    ctx = _ctx(
        request,
        view=view,
        subject=view.subject,
        subject_type=view.subject.type,
        subject_id=view.subject.id,
        discussion_open=view.subject.open,
        inline=True,
    )
    return render(request, "consult/comment_thread.html", ctx)


routes = [
    Route(
        "/discussions/{subject_type}/{subject_id:int}/comments",
        comment_post,
        methods=["GET", "POST"],
        name="comment_post",
    ),
    Route(
        "/discussions/{subject_type}/{subject_id:int}/threads",
        comment_threads,
        name="comment_threads",
    ),
    Route("/comments/reported", comment_reports, name="comment_reports"),
    Route("/comments/{comment_id:int}", comment_thread, name="comment_thread"),
    Route(
        "/comments/{comment_id:int}/reply",
        comment_reply,
        methods=["GET", "POST"],
        name="comment_reply",
    ),
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
