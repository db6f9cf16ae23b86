"""Placeholder routes (names fixed so that templates can link to them): to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")


routes = [
    Route("/rounds/{round_id:int}/results", _todo, name="results"),
    Route("/rounds/{round_id:int}/results/compute", _todo, name="results_compute"),
    Route("/rounds/{round_id:int}/results/publish", _todo, name="results_publish"),
]
