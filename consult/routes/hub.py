"""The consultation home (/consult/): one page that leads to every way residents and the
council consult each other, so the header needs one link for all of them."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.permissions import can
from core.web import render, with_user


@with_user
async def consult_home(request: Request) -> Response:
    """Needs, deliberation rounds, meetings, conventions and questionnaires, with what the
    signed-in user may do in each."""
    return render(request, "consult/home.html", {"can": can})


routes = [Route("/", consult_home, name="home")]
