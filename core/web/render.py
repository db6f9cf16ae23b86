"""Rendering: a page, or for htmx one named block of the same template; POST → 303; flash
messages kept in the signed session cookie until the next page shows them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from jinja2_fragments.starlette import Jinja2Blocks
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from core.web.kept_forms import kept_values
from core.web.security import csrf_token


def is_htmx(request: Request) -> bool:
    """A fragment is wanted for htmx requests, but not for history restores (full page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> Response:
    """Render a page; for htmx requests render only `block` (when given) of the same template."""
    ctx = {
        "current_user": request.state.user if hasattr(request.state, "user") else None,
        "csrf_token": csrf_token(request),
        "flashes": pop_flashes(request),
        **(context or {}),
    }
    kept = kept_values(request)
    if kept:  # a form sent after its session expired: what was typed, to check and send again
        values = ctx.get("values")
        ctx["values"] = {**values, **kept} if isinstance(values, dict) else kept
    templates: Jinja2Blocks = request.app.state.templates
    kwargs: dict[str, Any] = {}
    if block and is_htmx(request):
        kwargs["block_name"] = block
        # Flashes stay for the next full page if the fragment does not show them.
        if ctx["flashes"] and block != "content":
            request.session.setdefault("_flashes", []).extend(ctx["flashes"])
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code, **kwargs)
    response.headers.append("Vary", "HX-Request")
    return response


def same_origin_target(request: Request, url: str) -> str:
    """`url` as a path on this site, percent-encoded (a header carries ASCII only); "/" for a
    target on another site, which htmx must never be sent to."""
    parts = urlsplit(str(url))
    if parts.scheme not in ("", "http", "https") or (
        parts.netloc and parts.netloc != request.url.netloc
    ):
        return "/"
    path = parts.path if parts.path.startswith("/") else "/" + parts.path
    if path.startswith("//"):
        return "/"
    target = quote(path, safe=_PATH_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=_PATH_SAFE + "?")
    if parts.fragment:
        target += "#" + quote(parts.fragment, safe=_PATH_SAFE)
    return target


_PATH_SAFE = "/:@!$&'()*+,;=%-._~"


def redirect(request: Request, url: str) -> Response:
    """POST → 303 redirect; for htmx requests, HX-Redirect (a same-origin path) so that htmx
    does a full navigation."""
    if is_htmx(request):
        return Response(status_code=200, headers={"HX-Redirect": same_origin_target(request, url)})
    return RedirectResponse(str(url), status_code=303)


def flash(request: Request, message: str, category: str = "success") -> None:
    request.session.setdefault("_flashes", []).append([category, str(message)])


def pop_flashes(request: Request) -> list[tuple[str, str]]:
    if "session" not in request.scope:
        return []
    return [tuple(x) for x in request.session.pop("_flashes", [])]
