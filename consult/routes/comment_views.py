"""What the discussion's endpoints share (`consult.routes.comments` and
`consult.routes.comment_moderation`): the address of a subject's page and of a comment, the
context of the discussion templates, and each comment's controls for the signed-in user."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from functools import partial
from types import SimpleNamespace
from typing import Any

from markupsafe import escape
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from consult.models import Comment, Stance, SubjectType
from consult.permissions import can
from consult.rules.comments import MAX_BODY, MAX_REASON, Thread
from consult.services import discussion
from core.errors import NotFound
from core.i18n import _, label, per_locale
from core.web import render_fragment, route_url, route_url_around

SUBJECT_PAGES = {
    SubjectType.PROPOSAL: ("budget:proposal_detail", "proposal_id"),
    SubjectType.ROUND: ("budget:round_detail", "round_id"),
    SubjectType.DELIBERATION: ("consult:deliberation_detail", "deliberation_id"),
    SubjectType.MEETING: ("consult:meeting_detail", "meeting_id"),
    SubjectType.CONSULTATION: ("consult:convention_detail", "convention_id"),
    SubjectType.CLAUSE: ("consult:convention_clause", "clause_id"),
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
def comment_text() -> SimpleNamespace:
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


def comment_urls(request: Request) -> SimpleNamespace:
    """The start of each comment's addresses, to which the template adds its id and the
    action (…/comments/12/reply): a page of a hundred comments builds no URL one by one."""
    before, _after = route_url_around(request, "consult:comment_thread", "comment_id")
    return SimpleNamespace(comment=before)


def with_controls(
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
        for c in thread_comments(thread):
            c.controls = (
                is_open and can(user, "reply", c, now),
                can(user, "edit_comment", c, now),
                can(user, "report_comment", c, now),
                can(user, "hide_comment", c, now),
            )
    return threads


def thread_comments(thread: Thread) -> Iterator[Comment]:
    yield thread.root
    for reply in thread.replies:
        yield reply.comment
        yield from reply.replies


def template_context(request: Request, **ctx: Any) -> dict[str, Any]:
    """What every discussion template uses."""
    return {
        "text": comment_text(),
        "urls": comment_urls(request),
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


def fragment(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    """An htmx fragment: a template rendered alone (flash messages stay for the next page)."""
    response = HTMLResponse(
        render_fragment(request, name, template_context(request, **ctx)), **kwargs
    )
    response.headers.append("Vary", "HX-Request")
    return response


def form_values(form: FormData | None) -> dict[str, str]:
    if form is None:
        return {"stance": Stance.NEUTRAL}
    return {k: str(form.get(k) or "") for k in FORM_FIELDS}


def subject_type_of(request: Request) -> str:
    value = request.path_params["subject_type"]
    if value not in SUBJECT_TYPES:
        raise NotFound(_("There is no such discussion."))
    return value
