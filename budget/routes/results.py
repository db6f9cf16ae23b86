"""Placeholder: to be written."""

from starlette.responses import PlainTextResponse


async def _todo(request):
    return PlainTextResponse("todo")

routes = []
