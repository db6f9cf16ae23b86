"""Placeholder routes (names fixed so that templates can link to them): to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")


routes = [
    Route("/", _todo, name="round_list"),
    Route("/rounds/new", _todo, name="round_new"),
    Route("/rounds/{round_id:int}", _todo, name="round_detail"),
    Route("/rounds/{round_id:int}/edit", _todo, name="round_edit"),
    Route("/rounds/{round_id:int}/advance", _todo, name="round_advance"),
]
