"""Placeholder: to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")

routes = [
    Route("/receipt", _todo, name="receipt_check"),
    Route("/paper", _todo, name="paper_ballot_start"),
]
