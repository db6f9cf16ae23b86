"""Needs: raising one (a resident, online), entering one for a resident (a grid worker: pick
the resident, then the form), "my needs", a grid worker's entries, the lookup by tracking
number, a need's page with its timeline, its photos, and the resident's rating.

The council's list and answers are consult.routes.need_answers, mounted with these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from budget.services.photos import MAX_PHOTOS, Upload, photo_form_limit, served_path
from consult.models import NeedCategory, NeedState
from consult.permissions import can
from consult.rules import needs as rules
from consult.services import need_answers, needs
from core.errors import NotFound, RateLimited, ValidationError
from core.i18n import _
from core.models import Area
from core.permissions import is_staff
from core.web import (
    flash,
    int_param,
    login_required,
    paginate,
    read_form,
    redirect,
    render,
    require,
)
from core.web.limits import body_limit


def detail_url(request: Request, need_id: int) -> str:
    return str(request.url_for("consult:need_detail", need_id=need_id))


def _page(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    """render() with what every need template uses."""
    base = {"can": can, "NeedState": NeedState, "rules": rules}
    return render(request, f"consult/{name}", {**base, **ctx}, **kwargs)


async def _read_uploads(request: Request, form: FormData) -> list[Upload]:
    """The chosen photos (empty inputs skipped), each read up to one byte past the limit."""
    limit = request.app.state.settings.max_photo_bytes
    uploads = []
    for item in form.getlist("photos"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        data = await item.read(limit + 1)
        await item.close()
        if data:
            uploads.append(Upload(filename=item.filename, data=data))
    return uploads


async def _form_ctx(request: Request, **ctx: Any) -> dict[str, Any]:
    """The need form's choices; the area shown is the resident's (the one entered for, or the
    signed-in resident)."""
    limit = request.app.state.settings.max_photo_bytes
    whose = ctx.get("resident") or request.state.user
    area = await Area.get_or_none(id=whose.area_id) if whose.area_id else None
    return {
        "category_options": [(c.value, c.label) for c in NeedCategory],
        "channel_options": [(c.value, c.label) for c in needs.OFFLINE_CHANNELS],
        "area_name": area.name if area else "–",
        "errors": {},
        "values": needs.form_values(),
        "max_photos": MAX_PHOTOS,
        "max_mb": f"{limit / (1024 * 1024):.0f}",
        "resident": None,
        **ctx,
    }


async def _submit(request: Request, action: str, resident: Any) -> Response:
    """Raise (resident None) or enter (for `resident`) a need from the posted form."""
    user = request.state.user
    form = await read_form(request, max_files=MAX_PHOTOS + 5)
    uploads = await _read_uploads(request, form)
    settings = request.app.state.settings
    kwargs = {"upload_dir": settings.upload_dir, "max_bytes": settings.max_photo_bytes}
    try:
        if resident is None:
            need = await needs.raise_need(user, form, uploads, **kwargs)
        else:
            need = await needs.enter_need(user, resident.id, form, uploads, **kwargs)
    except (ValidationError, RateLimited) as exc:
        ctx = await _form_ctx(
            request,
            values=needs.form_values(form),
            errors=exc.errors,
            refusal="" if exc.errors else exc.message,
            action=action,
            resident=resident,
            reselect=bool(uploads),
        )
        return _page(request, "need_form.html", ctx, status_code=exc.status_code)
    flash(
        request,
        _(
            "The need is received. Its tracking number is {number}: keep it to look the need up.",
            number=need.number,
        ),
    )
    return redirect(request, detail_url(request, need.id))


@body_limit(photo_form_limit)
@login_required
async def need_new(request: Request) -> Response:
    """A verified resident raises a need: what, where, which kind, photos (optional)."""
    user = request.state.user
    require(can(user, "raise_need"), _("Only verified residents with an area can raise a need."))
    action = str(request.url_for("consult:need_new"))
    if request.method == "POST":
        return await _submit(request, action, None)
    return _page(request, "need_form.html", await _form_ctx(request, action=action))


@login_required
async def need_enter_start(request: Request) -> Response:
    """A grid worker picks the resident of their area a need is entered for (by name or
    username, with the household to tell namesakes apart)."""
    user = request.state.user
    require(can(user, "enter_need"), _("Only grid workers with an area enter needs for residents."))
    q = request.query_params.get("q", "").strip()[:100]
    page = await paginate(
        needs.resident_candidates(user, q),
        int_param(request.query_params.get("page"), 1),
        needs.PAGE_SIZE,
    )
    households = await needs.households_of([u.id for u in page.items])
    await user.fetch_related("area")
    ctx = {"q": q, "page": page, "households": households}
    return _page(request, "need_enter_start.html", ctx, block="residents")


@body_limit(photo_form_limit)
@login_required
async def need_enter(request: Request) -> Response:
    """The need form, for a resident of the grid worker's area, with the channel."""
    user = request.state.user
    resident = await needs.entry_resident(user, request.path_params["user_id"])
    action = str(request.url_for("consult:need_enter", user_id=resident.id))
    if request.method == "POST":
        return await _submit(request, action, resident)
    households = await needs.households_of([resident.id])
    resident.household = households.get(resident.id, "")
    ctx = await _form_ctx(request, action=action, resident=resident)
    return _page(request, "need_form.html", ctx)


@login_required
async def need_mine(request: Request) -> Response:
    """The signed-in resident's needs, newest first."""
    user = request.state.user
    page = await needs.my_needs(user, int_param(request.query_params.get("page"), 1))
    return _page(request, "need_mine.html", {"page": page, "entered": False})


@login_required
async def need_entered(request: Request) -> Response:
    """The needs a grid worker entered for residents, newest first."""
    user = request.state.user
    require(can(user, "see_entered_needs"), _("Only grid workers enter needs for residents."))
    page = await needs.entered_needs(user, int_param(request.query_params.get("page"), 1))
    return _page(request, "need_mine.html", {"page": page, "entered": True})


@login_required
async def need_lookup(request: Request) -> Response:
    """Look a need up by its tracking number (the resident's, the grid worker's who entered
    it, the council's); an unknown number: 404 on this page, with what was typed."""
    raw = request.query_params.get("number", "").strip()[:40]
    if not raw:
        return _page(request, "need_lookup.html", {"values": {}, "errors": {}})
    try:
        need = await needs.find_by_number(request.state.user, raw)
    except (ValidationError, NotFound) as exc:
        ctx = {"values": {"number": raw}, "errors": exc.errors}
        return _page(request, "need_lookup.html", ctx, status_code=exc.status_code)
    return redirect(request, detail_url(request, need.id))


async def detail_context(request: Request, need: Any, **extra: Any) -> dict[str, Any]:
    """What a need's page shows (also for the rating form's refusals)."""
    return {
        "need": need,
        "now": datetime.now(UTC),
        "timeline": need_answers.timeline(need),
        "is_staff": is_staff(request.state.user),
        "rating_deadline": rules.rating_deadline(need.answered_at) if need.answered_at else None,
        "values": {},
        "errors": {},
        **extra,
    }


@login_required
async def need_detail(request: Request) -> Response:
    """A need: what, where, photos, its tracking number and state; the timeline of its steps
    with their dates; the answer; the rating (form for its resident, shown to the council)."""
    need = await needs.get_need_for(request.state.user, request.path_params["need_id"])
    return _page(request, "need_detail.html", await detail_context(request, need))


@login_required
async def need_rate(request: Request) -> Response:
    """The resident rates the answer (POST from the need's page); a refusal shows the page
    again with the message by the form and what was typed kept."""
    user = request.state.user
    need_id = request.path_params["need_id"]
    form = await read_form(request)
    try:
        await need_answers.rate_need(user, need_id, form)
    except ValidationError as exc:
        need = await needs.get_need_for(user, need_id)
        values = {k: str(form.get(k) or "") for k in ("rating", "rating_comment")}
        ctx = await detail_context(request, need, values=values, errors=exc.errors)
        return _page(request, "need_detail.html", ctx, status_code=422)
    flash(request, _("Thank you: your rating is recorded."))
    return redirect(request, detail_url(request, need_id) + "#rating")


@login_required
async def need_photo(request: Request) -> Response:
    """A need's photo (`?size=thumb`: its thumbnail), only for those who may see the need;
    never sniffed, never cached publicly."""
    photo = await needs.need_photo(request.state.user, request.path_params["photo_id"])
    thumb = request.query_params.get("size") == "thumb"
    path = served_path(request.app.state.settings.upload_dir, photo.stored_name, thumb)
    if path is None:
        raise NotFound(_("This photo does not exist."))
    ext = photo.stored_name.rsplit(".", 1)[-1]
    return FileResponse(
        path,
        media_type=photo.content_type,
        headers={
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="need-photo-{photo.id}.{ext}"',
            "Cache-Control": "private, max-age=3600",
        },
    )


routes: list[Route] = [
    Route("/needs/new", need_new, methods=["GET", "POST"], name="need_new"),
    Route("/needs/enter", need_enter_start, name="need_enter_start"),
    Route("/needs/enter/{user_id:int}", need_enter, methods=["GET", "POST"], name="need_enter"),
    Route("/needs/mine", need_mine, name="need_mine"),
    Route("/needs/entered", need_entered, name="need_entered"),
    Route("/needs/track", need_lookup, name="need_lookup"),
    Route("/needs/{need_id:int}", need_detail, name="need_detail"),
    Route("/needs/{need_id:int}/rate", need_rate, methods=["POST"], name="need_rate"),
    Route("/needs/photos/{photo_id:int}", need_photo, name="need_photo"),
]
