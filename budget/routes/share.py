"""Share and find: a QR code (SVG, made with segno) of a proposal's or a round's own address,
for the share box on their pages. The code holds the page's address as this request reached
the server, so on a phone in the same network it opens the same server."""

from __future__ import annotations

import io

import segno
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from budget.models import Round
from budget.services import proposals as svc
from budget.services import studies
from core.web import get_object_or_404, with_user


def qr_svg(url: str) -> bytes:
    """The QR code of `url` as a standalone SVG: no style attribute, no script (strict CSP)."""
    buf = io.BytesIO()
    segno.make(url, error="m", micro=False).save(
        buf, kind="svg", scale=4, border=2, xmldecl=False, svgclass=None, lineclass=None
    )
    return buf.getvalue()


def _svg(data: bytes) -> Response:
    return Response(
        data,
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@with_user
async def proposal_qr(request: Request) -> Response:
    proposal = await svc.get_proposal(request.path_params["proposal_id"])
    studies.require_visible(request.state.user, proposal.round)
    url = str(request.url_for("budget:proposal_detail", proposal_id=proposal.id))
    return _svg(qr_svg(url))


@with_user
async def round_qr(request: Request) -> Response:
    rnd = await get_object_or_404(Round, id=request.path_params["round_id"])
    studies.require_visible(request.state.user, rnd)
    return _svg(qr_svg(str(request.url_for("budget:round_detail", round_id=rnd.id))))


routes = [
    Route("/proposals/{proposal_id:int}/qr.svg", proposal_qr, name="proposal_qr"),
    Route("/rounds/{round_id:int}/qr.svg", round_qr, name="round_qr"),
]
