"""Placeholder routes (names fixed so that templates can link to them): to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")


routes = [
    Route("/accounts", _todo, name="account_list"),
    Route("/accounts/new", _todo, name="account_new"),
    Route("/accounts/{user_id:int}/edit", _todo, name="account_edit"),
    Route("/accounts/import", _todo, name="account_import"),
    Route("/areas", _todo, name="area_list"),
    Route("/areas/new", _todo, name="area_new"),
    Route("/areas/{area_id:int}/edit", _todo, name="area_edit"),
    Route("/invitations", _todo, name="invitation_list"),
    Route("/register", _todo, name="register"),
    Route("/audit", _todo, name="audit_log"),
]
