"""A convention's phase steps, each a confirmation page (GET) then a POST: open the
consultation, start and publish a revision, open the ratification vote, close it, amend an
adopted convention. The resident's vote is consult.routes.conventions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from consult.permissions import can
from consult.services import convention_phases as phases
from consult.services import convention_reading as reading
from consult.services import conventions as service
from consult.services.ratification import current_outcome, eligible_count
from core.errors import ValidationError
from core.i18n import _
from core.web import flash, int_param, login_required, read_form, redirect, render, require


def _detail(request: Request, convention_id: int, anchor: str = "") -> str:
    url = str(request.url_for("consult:convention_detail", convention_id=convention_id))
    return url + (f"#{anchor}" if anchor else "")


# The permission each step's confirmation page asks for.
STEPS = {
    "open": "open_consultation",
    "publish": "publish_revision",
    "ratify": "open_ratification",
    "close": "close_ratification",
    "amend": "amend_convention",
}


async def _confirm_page(
    request: Request, c: Any, step: str, errors: dict | None = None, status_code: int = 200
) -> Response:
    ctx: dict[str, Any] = {"c": c, "step": step, "errors": errors or {}}
    if step == "open":
        ctx["view"] = await reading.version_view(c, 1, with_counts=False)
        ctx["eligible"] = await eligible_count(c)
    elif step == "publish":
        ctx["view"] = await reading.version_view(c, c.revision, with_counts=False)
    elif step == "ratify":
        ctx["eligible"] = await eligible_count(c)
    elif step == "close":
        ctx["outcome"] = await current_outcome(c)
    return render(request, "consult/convention_confirm.html", ctx, status_code=status_code)


def _step(step: str, act: Any, done: Any) -> Any:
    """An endpoint for a step: GET its confirmation page, POST it (422: the page again with
    why; 409 when it was already done)."""

    @login_required
    async def endpoint(request: Request) -> Response:
        user = request.state.user
        c = await service.visible_convention(user, request.path_params["convention_id"])
        if request.method == "GET":
            require(can(user, STEPS[step], c), phases.phase_refusal())
            return await _confirm_page(request, c, step)
        form = await read_form(request)
        try:
            result = await act(user, c.id, form)
        except ValidationError as exc:
            return await _confirm_page(request, c, step, exc.errors, 422)
        flash(request, done(result))
        return redirect(request, _detail(request, result.id))

    endpoint.__name__ = f"convention_{step}"
    endpoint.__doc__ = f"The {step} step of a convention: a confirmation page, then POST."
    return endpoint


def _from_state(form: Any) -> str | None:
    return str(form.get("from_state") or "") or None


convention_open = _step(
    "open",
    lambda user, cid, form: phases.open_consultation(user, cid, _from_state(form)),
    lambda c: _(
        "The consultation on {title} is open: residents can comment on each clause.", title=c.title
    ),
)
convention_publish = _step(
    "publish",
    lambda user, cid, form: phases.publish_revision(
        user, cid, int_param(form.get("from_revision"))
    ),
    lambda c: _("Version {n} of {title} is published.", n=c.version, title=c.title),
)
convention_ratify = _step(
    "ratify",
    lambda user, cid, form: phases.open_ratification(user, cid, _from_state(form)),
    lambda c: _("The ratification vote on {title} is open.", title=c.title),
)
convention_close = _step(
    "close",
    lambda user, cid, form: phases.close_ratification(user, cid, _from_state(form)),
    lambda c: _(
        "The vote on {title} is closed: {outcome}.", title=c.title, outcome=c.state_enum.label
    ),
)
convention_amend = _step(
    "amend",
    lambda user, cid, form: phases.amend_convention(user, cid),
    lambda c: _("A new draft of {title} is started from the adopted text.", title=c.title),
)


@login_required
async def convention_revise(request: Request) -> Response:
    """POST: start a revision (a copy of the current version to edit)."""
    user = request.state.user
    await read_form(request)  # checks the CSRF token
    c = await phases.start_revision(user, request.path_params["convention_id"])
    flash(
        request,
        _(
            "Version {n} is started as a copy of the current text: edit it, then publish it.",
            n=c.revision,
        ),
    )
    return redirect(request, str(request.url_for("consult:convention_text", convention_id=c.id)))


def _route(path: str, endpoint: Any, name: str, methods: list[str] | None = None) -> Route:
    return Route(
        "/conventions/{convention_id:int}/" + path,
        endpoint,
        methods=methods or ["GET", "POST"],
        name=name,
    )


routes: list[Route] = [
    _route("open", convention_open, "convention_open"),
    _route("revise", convention_revise, "convention_revise", ["POST"]),
    _route("publish", convention_publish, "convention_publish"),
    _route("ratify", convention_ratify, "convention_ratify"),
    _route("close", convention_close, "convention_close"),
    _route("amend", convention_amend, "convention_amend"),
]
