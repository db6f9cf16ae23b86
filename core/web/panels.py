"""Panels: what another package adds to a page about a subject, without an import between
the two packages.

A page about a subject (a proposal, a budgeting round) asks `subject_panels(request,
"proposal", 12)` for the HTML that other packages show there (consultation's discussion, the
deliberation rounds and meetings that concern it). `app.py` registers the providers at start
(`register_panels`): the arrows stay budget → core and consult → core, budget's services.

A provider is `async (request, subject_type, subject_id) -> str`: read-only, "" when it has
nothing for that subject, and already-escaped HTML otherwise (a rendered template).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request

from core.web.security import csrf_token

Panel = Callable[[Request, str, int], Awaitable[str]]


def register_panels(app: Starlette, providers: Sequence[Panel]) -> None:
    """The providers of `app`, in the order their panels appear on a page."""
    app.state.panels = tuple(providers)


async def subject_panels(request: Request, subject_type: str, subject_id: int) -> list[Markup]:
    """The HTML each registered provider shows on the page of this subject (none: [])."""
    found = []
    for provider in getattr(request.app.state, "panels", ()):
        html = await provider(request, subject_type, subject_id)
        if html:
            found.append(Markup(html))
    return found


def render_fragment(request: Request, name: str, context: dict[str, Any]) -> Markup:
    """A template rendered to HTML for a panel, with what every page template has."""
    env = request.app.state.templates.env
    ctx = {
        "request": request,
        "current_user": getattr(request.state, "user", None),
        "csrf_token": csrf_token(request),
        **context,
    }
    return Markup(env.get_template(name).render(ctx))
