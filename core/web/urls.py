"""URLs: `route_url` (Starlette's `url_for` without walking the routing table on every call),
links around an id for list pages, query strings, and safe redirect targets."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode, urlsplit

from markupsafe import Markup, escape
from starlette.convertors import IntegerConvertor, register_url_convertor
from starlette.datastructures import URL, URLPath
from starlette.requests import Request
from starlette.routing import Mount, Route

# The largest id a URL may name: what a 32-bit integer column holds (PostgreSQL's INTEGER;
# SQLite's are wider, but both databases answer alike). A larger id matches no route: 404.
MAX_ID = 2**31 - 1


def _digits_up_to(limit: int) -> str:
    """A regular expression matching the decimal numbers 0..limit (leading zeros allowed),
    so that a route whose id is out of range does not match at all."""
    text = str(limit)
    parts = [f"[0-9]{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        rest = len(text) - i - 1
        if digit != "0":
            low = "1" if i == 0 and len(text) > 1 else "0"
            if int(digit) - 1 >= int(low):
                tail = f"[0-9]{{{rest}}}" if rest else ""
                parts.append(f"{text[:i]}[{low}-{int(digit) - 1}]{tail}")
    parts.append(text)
    return "0*(?:" + "|".join(parts) + ")"


class BoundedIntegerConvertor(IntegerConvertor):
    """Starlette's `{name:int}`, but only up to MAX_ID: `/budget/rounds/99999999999999999999`
    is a 404 like any other unknown round, never an integer the database cannot hold (a 500).
    Registered for "int" when core.web is imported, before any package builds its routes."""

    regex = _digits_up_to(MAX_ID)


register_url_convertor("int", BoundedIntegerConvertor())


def route_url(request: Request, name: str, /, **path_params: Any) -> URL | str:
    """`request.url_for`, with the route looked up once per name and the absolute URL made by
    joining strings: a page of 20 cards would otherwise walk the whole routing table and parse
    a URL 20 times. Gives the same text as `request.url_for`."""
    index = _route_index(request.app)
    entry = index.get(name)
    if entry is None:
        entry = _mount_index(request.app).get(name)
        if entry is None or set(path_params) != {"path"}:
            return request.url_for(name, **path_params)
        path_params = {"path": str(path_params["path"]).lstrip("/")}
    elif set(path_params) != set(entry[1]):
        return request.url_for(name, **path_params)
    path_format, convertors = entry
    path = path_format.format(
        **{key: convertors[key].to_string(value) for key, value in path_params.items()}
    )
    return _url_prefix(request) + path


def route_url_around(request: Request, name: str, param: str) -> tuple[Markup, Markup]:
    """For a route whose one parameter `param` is an int: (before, after), escaped for a
    template, such that `route_url(request, name, **{param: n})` is before + n + after for every
    n >= 0. A list page writes its rows' links without a call per row."""
    path_format, convertors = _route_index(request.app)[name]
    if set(convertors) != {param} or not isinstance(convertors[param], IntegerConvertor):
        raise ValueError(f"{name} does not take just an int {param}")
    before, after = path_format.split("{" + param + "}")
    return escape(_url_prefix(request) + before), escape(after)


def _url_prefix(request: Request) -> str:
    """scheme://host[:port][root path] of the request, as `url_for` puts before a route's path
    (made once per request, and once per process for each of the few scheme, server, root path
    and Host header combinations that Starlette's base URL depends on)."""
    scope = request.scope
    prefix = scope.get("yishi.url_prefix")
    if prefix is None:
        host = next((value for key, value in scope["headers"] if key == b"host"), None)
        server = scope.get("server")
        key = (
            scope.get("scheme", "http"),
            tuple(server) if server else None,
            scope.get("app_root_path", scope.get("root_path", "")),
            host,
        )
        prefix = _URL_PREFIXES.get(key)
        if prefix is None:
            prefix = str(
                URLPath(path="", protocol="http").make_absolute_url(base_url=request.base_url)
            )
            if len(_URL_PREFIXES) < 64:  # the Host header is the client's: keep a few
                _URL_PREFIXES[key] = prefix
        scope["yishi.url_prefix"] = prefix
    return prefix


# Derived from the request alone (never from stored data), so it cannot go stale.
_URL_PREFIXES: dict[tuple, str] = {}


def _route_index(app: Any) -> dict[str, tuple[str, dict]]:
    """name -> (full path format, param convertors) for every plain route of the app."""
    index = getattr(app, "yishi_route_index", None)
    if index is None:
        index = {}

        def walk(routes: list, prefix: str, namespace: str) -> None:
            for route in routes:
                if isinstance(route, Mount):
                    if route.routes:
                        ns = f"{namespace}{route.name}:" if route.name else namespace
                        walk(route.routes, prefix + route.path, ns)
                elif isinstance(route, Route) and route.name:
                    index[namespace + route.name] = (
                        prefix + route.path_format,
                        dict(route.param_convertors),
                    )

        walk(app.router.routes, "", "")
        app.yishi_route_index = index
    return index


def _mount_index(app: Any) -> dict[str, tuple[str, dict]]:
    """name -> (path format, convertors) of the top-level named mounts of an app (static
    files), whose only parameter is `path`."""
    index = getattr(app, "yishi_mount_index", None)
    if index is None:
        index = {
            route.name: (route.path_format, dict(route.param_convertors))
            for route in app.router.routes
            if isinstance(route, Mount)
            and route.name
            and not route.routes
            and set(route.param_convertors) == {"path"}
        }
        app.yishi_mount_index = index
    return index


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters changed (None removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def safe_next(url: str | None, default: str) -> str:
    """Only local paths are followed after login or a language switch (no open redirects)."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    # Browsers read "/\\host" as "//host" (another site); control characters never belong.
    if "\\" in url or any(ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return default
    return url
