"""The route table: no two routes in one list match the same path, so their order only
decides how many patterns a request is tried on (budget puts its busiest routes first)."""

from __future__ import annotations

import re

from starlette.routing import Mount, Route


def _sample(path: str) -> str:
    """A concrete path the route's pattern matches (each parameter filled in)."""
    path = re.sub(r"\{[^}]+:path\}", "x7/y7", path)
    path = re.sub(r"\{[^}]+:int\}", "7", path)
    return re.sub(r"\{[^}]+\}", "x7", path)


def _lists(routes, prefix=""):
    """(where, the Routes of one list) for the app's list and every mount's."""
    yield prefix or "/", [r for r in routes if isinstance(r, Route)]
    for r in routes:
        if isinstance(r, Mount) and r.routes:
            yield from _lists(r.routes, prefix + r.path)


def _overlaps(routes: list[Route]) -> list[tuple[str, str]]:
    found = []
    for route in routes:
        sample = _sample(route.path)
        assert route.path_regex.match(sample), route.path
        found += [
            (route.path, o.path) for o in routes if o is not route and o.path_regex.match(sample)
        ]
    return found


def test_no_two_routes_of_a_list_match_the_same_path(app):
    lists = list(_lists(app.routes))
    assert any(where == "/budget" and len(routes) > 50 for where, routes in lists)
    for where, routes in lists:
        assert _overlaps(routes) == [], where


def test_the_check_finds_an_overlap():
    async def page(request):  # pragma: no cover
        return None

    routes = [Route("/rounds/{slug}", page), Route("/rounds/new", page)]
    assert _overlaps(routes) == [("/rounds/new", "/rounds/{slug}")]
