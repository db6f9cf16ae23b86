"""(skeleton: to be written)"""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route


async def panel(request: Request, subject_type: str, subject_id: int) -> str:
    """What this concept shows on the page of another subject ("" when nothing)."""
    return ""


routes: list[Route] = []
