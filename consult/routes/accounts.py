"""Placeholder: to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")


routes = [
    Route("/accounts", _todo, name="account_list"),
    Route("/areas", _todo, name="area_list"),
    Route("/audit", _todo, name="audit_log"),
    Route("/register", _todo, name="register"),
]
