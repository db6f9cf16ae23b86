"""Placeholder routes (names fixed so that templates can link to them): to be written."""

from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def _todo(request):
    return PlainTextResponse("todo")


routes = [
    Route("/rounds/{round_id:int}/ballot", _todo, name="ballot"),
    Route("/rounds/{round_id:int}/ballot/total", _todo, name="ballot_total"),
    Route("/rounds/{round_id:int}/ballot/receipt", _todo, name="ballot_receipt"),
    Route("/receipt", _todo, name="receipt_check"),
    Route("/paper", _todo, name="paper_ballot_start"),
    Route("/rounds/{round_id:int}/paper/{user_id:int}", _todo, name="paper_ballot"),
]
