"""Discussion: the panel on a subject's page (counts per stance, threads, "load more", the
form), posting and replying (in place with htmx, full pages and 303 without JavaScript), and a
thread's own page. Editing, reporting, the council's hiding and its queue are in
`consult.routes.comment_moderation` (their routes are part of `routes` here).

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

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from consult.models import Comment, Stance
from consult.permissions import can, may_post
from consult.routes import comment_moderation
from consult.routes.comment_views import (
    SUBJECT_TYPES,
    comment_url,
    form_values,
    fragment,
    subject_type_of,
    subject_url,
    template_context,
    thread_url,
    with_controls,
)
from consult.rules.comments import Reply, assemble_threads
from consult.services import comments as svc
from consult.services import discussion
from core.errors import NotFound, RateLimited, ValidationError
from core.i18n import _
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
    with_user,
)
from core.web.kept_forms import kept_values

# --- the panel ------------------------------------------------------------------------------


async def panel(request: Request, subject_type: str, subject_id: int) -> str:
    """The discussion at the bottom of a subject's page: counts per stance, a page of threads
    (after `?comments_after=` when given), "load more", the form. Three indexed queries
    whatever the size of the discussion, one when it has no comment yet (a deliberation
    round adds one for its phase)."""
    if subject_type not in SUBJECT_TYPES:
        return ""
    after = int_param(request.query_params.get("comments_after"))
    counts = await discussion.stance_counts(subject_type, subject_id)
    if counts.total:
        page = await discussion.thread_page(subject_type, subject_id, after)
    else:  # nothing to read: one query for a subject nobody has discussed yet
        page = discussion.ThreadPage(threads=[], after=after, next_after=None)
    user = getattr(request.state, "user", None)
    poster, refusal, closed_text = may_post(user), "", ""
    if subject_type in discussion.AREA_SCOPED:  # only the residents of a convention's areas
        subject = await discussion.load_subject(subject_type, subject_id)
        is_open, closed_text = subject.open, svc.closed_refusal(subject_type)
        if poster and not discussion.admits(subject, user):
            poster, refusal = False, svc.outside_refusal()
    else:
        is_open = await discussion.subject_is_open(subject_type, subject_id)
    with_controls(request, page.threads, is_open and not refusal)  # no reply link: 403
    extra = {}
    if is_open and poster and not refusal:
        # the page's language switch sends this form along (templates/base.html), and what
        # was typed comes back here after the switch (core.web.kept_forms), also without
        # JavaScript
        request.state.keep_form_id = "comment-fields"
        kept = kept_values(request, "comment-fields")
        if kept:
            extra["values"] = {"stance": Stance.NEUTRAL, **kept}
    ctx = template_context(
        request,
        **extra,
        subject_type=subject_type,
        subject_id=subject_id,
        counts=counts,
        page=page,
        discussion_open=is_open,
        may_post=poster,
        refusal=refusal,
        closed_text=closed_text,
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
    subject_type = subject_type_of(request)
    subject_id = request.path_params["subject_id"]
    after = int_param(request.query_params.get("after"))
    if not is_htmx(request):
        return RedirectResponse(subject_url(request, subject_type, subject_id, after), 303)
    page = await discussion.thread_page(subject_type, subject_id, after)
    posted = {int_param(v) for v in request.query_params.getlist("posted")}
    is_open = await discussion.subject_is_open(subject_type, subject_id)
    page.threads = with_controls(
        request, (t for t in page.threads if t.root.id not in posted), is_open
    )
    more_page = subject_url(request, subject_type, subject_id, page.next_after)
    return fragment(
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
    subject_type = subject_type_of(request)
    subject = await discussion.load_subject(subject_type, request.path_params["subject_id"])
    ctx = template_context(
        request, subject=subject, values=form_values(form), inline=is_htmx(request)
    )
    if form is None:
        require(can(user, "comment"), svc.posting_refusal(user))
        require(subject.open, svc.closed_refusal(subject.type))
        require(discussion.admits(subject, user), svc.outside_refusal())
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
    (alone,) = with_controls(request, assemble_threads([comment], []), is_open)
    thread = alone if comment.depth == 0 else None
    return fragment(
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
    ctx = template_context(
        request,
        parent=parent,
        subject=subject,
        values=form_values(form),
        inline=is_htmx(request),
        discussion_open=subject.open,
    )
    if form is None:
        require(may_post(user), svc.posting_refusal(user))
        require(subject.open, svc.closed_refusal(subject.type))
        require(discussion.admits(subject, user), svc.outside_refusal())
        require(can(user, "reply", parent), svc.reply_refusal(parent))
        if is_htmx(request):
            return fragment(request, "consult/_reply_form.html", ctx)
        return render(request, "consult/comment_reply.html", ctx)
    try:
        comment = await svc.reply_to_comment(user, parent.id, form)
    except (ValidationError, RateLimited) as exc:
        ctx["errors"] = exc.errors or {"body": exc.message}
        if is_htmx(request):
            response = fragment(
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
    with_controls(request, [view.thread], view.subject.open)
    ctx = template_context(
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
    Route("/comments/{comment_id:int}", comment_thread, name="comment_thread"),
    Route(
        "/comments/{comment_id:int}/reply",
        comment_reply,
        methods=["GET", "POST"],
        name="comment_reply",
    ),
] + comment_moderation.routes
