"""Placeholder: to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")

routes = [Route("/", _todo, name="round_list")]
