"""Placeholder routes (names fixed so that templates can link to them): to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")


routes = [
    Route("/proposals", _todo, name="proposal_list"),
    Route("/rounds/{round_id:int}/propose", _todo, name="proposal_new"),
    Route("/proposals/{proposal_id:int}", _todo, name="proposal_detail"),
    Route("/proposals/{proposal_id:int}/edit", _todo, name="proposal_edit"),
    Route("/proposals/{proposal_id:int}/withdraw", _todo, name="proposal_withdraw"),
    Route("/proposals/{proposal_id:int}/support", _todo, name="proposal_support"),
    Route("/proposals/{proposal_id:int}/review", _todo, name="proposal_review"),
    Route("/proposals/{proposal_id:int}/merge", _todo, name="proposal_merge"),
    Route("/photos/{photo_id:int}", _todo, name="proposal_photo"),
]
