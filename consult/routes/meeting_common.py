"""What the meeting pages share: rendering with the meeting templates' helpers, and the
URLs of a meeting, an occurrence and of what an agenda item or an action is about."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import NoMatchFound

from consult.models import MeetingKind, SubjectType
from consult.permissions import can
from consult.rules import recurrence
from consult.services import meeting_pages
from consult.services.meeting_form import DISTRICT
from core.web import render, route_url

# What an agenda item or an action may be about, and the page it links to.
SUBJECT_PAGES = {
    SubjectType.PROPOSAL: ("budget:proposal_detail", "proposal_id"),
    SubjectType.ROUND: ("budget:round_detail", "round_id"),
    SubjectType.DELIBERATION: ("consult:deliberation_detail", "deliberation_id"),
}


def subject_url(request: Request) -> Any:
    """For templates: (kind, id) → the page of that proposal, round or deliberation round
    (None when that page is not served)."""

    def url(kind: str | None, ident: int | None) -> str | None:
        target = SUBJECT_PAGES.get(SubjectType(kind)) if kind else None
        if target is None or ident is None:
            return None
        try:
            return str(route_url(request, target[0], **{target[1]: ident}))
        except NoMatchFound:  # a page not (yet) served
            return None

    return url


def page(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    """render() with what every meeting template uses."""
    base = {
        "can": can,
        "MeetingKind": MeetingKind,
        "words": meeting_pages.recurrence_words,
        "when": meeting_pages.when_words,
        "local_day": recurrence.local_date,
        "subject_url": subject_url(request),
        "DISTRICT": DISTRICT,
    }
    return render(request, f"consult/{name}", {**base, **ctx}, **kwargs)


def detail_url(request: Request, meeting_id: int, anchor: str = "") -> str:
    url = str(request.url_for("consult:meeting_detail", meeting_id=meeting_id))
    return url + (f"#{anchor}" if anchor else "")


def occurrence_url(request: Request, meeting_id: int, key: str) -> str:
    return str(request.url_for("consult:meeting_occurrence", meeting_id=meeting_id, occurrence=key))
