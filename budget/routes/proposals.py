"""Proposals: list (public), detail with history (public), submit, edit, withdraw, support,
review and merge; photos served from the upload directory."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from markupsafe import escape
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Route

from budget.models import Category, ProposalPhoto, ProposalStatus, Round
from budget.permissions import can
from budget.services import disclosure, proposal_changes, studies
from budget.services import proposals as svc
from budget.services.pending_photos import Pending, discard_pending, keep_pending, load_pending
from budget.services.photos import MAX_PHOTOS, Upload, photo_form_limit, served_path
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import fen_to_yuan_input
from core.i18n import _, label, per_locale
from core.web import (
    Page,
    flash,
    follow_state,
    int_param,
    is_htmx,
    login_required,
    read_form,
    redirect,
    render,
    route_url_around,
    subject_panels,
    with_user,
)
from core.web.limits import body_limit
from core.web.page_cache import cached_for_visitors

FORM_FIELDS = ("title", "description", "category", "cost", "area", "beneficiaries", "location")


def _page(request: Request, name: str, ctx: dict[str, Any], **kwargs: Any) -> Response:
    """render() with what every proposal template uses."""
    base = {
        "can": can,
        "DISTRICT": svc.DISTRICT,
        "Category": Category,
        "ProposalStatus": ProposalStatus,
    }
    return render(request, f"budget/{name}", {**base, **ctx}, **kwargs)


def _detail_url(request: Request, proposal_id: int) -> str:
    return str(request.url_for("budget:proposal_detail", proposal_id=proposal_id))


async def _read_uploads(request: Request, form: FormData) -> list[Upload]:
    """The files chosen in the form's photo input (empty file inputs are skipped); each read
    up to one byte past the limit, enough to know it is too large."""
    limit = request.app.state.settings.max_photo_bytes
    uploads = []
    for item in form.getlist("photos"):
        if not isinstance(item, UploadFile) or not item.filename:
            continue
        data = await item.read(limit + 1)
        await item.close()
        if not data:
            continue
        uploads.append(Upload(filename=item.filename, data=data))
    return uploads


@per_locale
def _sort_labels() -> list[tuple[str, str]]:
    return [
        ("newest", _("Newest first")),
        ("support", _("Most supported")),
        ("cost_asc", _("Cost: low to high")),
        ("cost_desc", _("Cost: high to low")),
        ("title", _("Title (A–Z)")),
    ]


@per_locale
def _card_text() -> SimpleNamespace:
    """What every proposal card says whatever the proposal (templates/budget/
    _proposal_card.html), and the list's status and category options: translated and escaped
    once per locale instead of once per card."""
    return SimpleNamespace(
        cost=escape(_("Cost")),
        supporters=escape(_("Supporters")),
        round=escape(_("Round")),
        district=escape(_("District-wide")),
        revised=escape(_("revised by the council")),
        yours=escape(_("Your proposal")),
        reason=escape(_("Council's reason:")),
        status={s: escape(label(s)) for s in ProposalStatus},
        category={c: escape(label(c)) for c in Category},
    )


@cached_for_visitors
@with_user
async def proposal_list(request: Request) -> Response:
    """Every proposal, filtered, searched, sorted and paginated; htmx swaps only the results."""
    user = request.state.user
    filters = svc.ProposalFilters.from_query(request.query_params, user)
    choices = await svc.list_choices()
    items, number, total = await svc.list_page(
        filters, int_param(request.query_params.get("page"), 1), svc.PAGE_SIZE, choices
    )
    page = Page(items=items, number=number, size=svc.PAGE_SIZE, total=total)
    current_round = choices.rounds_by_id.get(filters.round_id)
    ctx = {
        "page": page,
        "filters": filters,
        "rounds": choices.rounds,
        "areas": choices.areas,
        "area_options": choices.area_options,
        "statuses": list(ProposalStatus),
        "sorts": _sort_labels(),
        "current_round": current_round,
        "card_text": _card_text(),
        "detail_url": route_url_around(request, "budget:proposal_detail", "proposal_id"),
        "card_photos": await svc.card_photo_ids([p.id for p in items]),
        "photo_url": route_url_around(request, "budget:proposal_photo", "photo_id"),
        "filtered": any(
            [filters.category, filters.area, filters.status, filters.q, filters.author_id]
        ),
    }
    return _page(request, "proposal_list.html", ctx, block="results")


def _form_ctx(request: Request, **ctx: Any) -> dict[str, Any]:
    limit = request.app.state.settings.max_photo_bytes
    return {
        "categories": list(Category),
        "errors": {},
        "max_photos": MAX_PHOTOS,
        "max_mb": f"{limit / (1024 * 1024):.0f}",
        "max_bytes": limit,
        "photos": [],
        "pending": [],
        **ctx,
    }


def _pending_from_form(request: Request, form: FormData) -> tuple[list[Pending], list[Pending]]:
    """The photos kept from the form's last try (pending uploads): those to send again, and
    those the person chose to remove."""
    settings = request.app.state.settings
    tokens = [str(t) for t in form.getlist("pending_photo")]
    pending = load_pending(settings.upload_dir, settings.secret_key, request.state.user.id, tokens)
    dropped = {str(t) for t in form.getlist("drop_pending")}
    return [p for p in pending if p.token not in dropped], [
        p for p in pending if p.token in dropped
    ]


async def _keep_for_next_try(
    request: Request, kept: list[Pending], dropped: list[Pending], uploads: list[Upload]
) -> tuple[list[Pending], bool]:
    """After an error: the photos to show with the form again (those kept before and the good
    new ones, stored as pending uploads), and whether some chosen ones could not be kept."""
    settings = request.app.state.settings
    discard_pending(settings.upload_dir, dropped)
    fresh = await keep_pending(
        settings.upload_dir,
        settings.secret_key,
        request.state.user.id,
        uploads,
        settings.max_photo_bytes,
        room=max(0, MAX_PHOTOS - len(kept)),
    )
    return kept + fresh, len(fresh) < len(uploads)


def _form_values(form: FormData) -> dict[str, str]:
    return {k: str(form.get(k) or "") for k in FORM_FIELDS}


@body_limit(photo_form_limit)
@login_required
async def proposal_new(request: Request) -> Response:
    """The proposal form (multipart, with photos) for a round that is collecting proposals."""
    user = request.state.user
    rnd = await Round.get_or_none(id=request.path_params["round_id"])
    if rnd is None:
        raise NotFound(_("This round does not exist."))
    if not can(user, "propose", rnd):
        raise PermissionDenied(
            _(
                "Only verified residents can propose, and only while the round is collecting "
                "proposals."
            )
        )
    choices = await svc.area_choices(rnd, user)
    action = str(request.url_for("budget:proposal_new", round_id=rnd.id))
    values = {k: "" for k in FORM_FIELDS}
    values["area"] = next((c.value for c in choices if c.value != svc.DISTRICT), "")
    if request.method == "POST":
        form = await read_form(request, max_files=MAX_PHOTOS + 5)
        values = _form_values(form)
        uploads = await _read_uploads(request, form)
        kept, dropped = _pending_from_form(request, form)
        settings = request.app.state.settings
        try:
            proposal = await proposal_changes.submit_proposal(
                user,
                rnd.id,
                form,
                [p.upload for p in kept] + uploads,
                upload_dir=settings.upload_dir,
                max_bytes=settings.max_photo_bytes,
            )
        except ValidationError as exc:
            pending, reselect = await _keep_for_next_try(request, kept, dropped, uploads)
            ctx = _form_ctx(
                request,
                round=rnd,
                choices=choices,
                values=values,
                errors=exc.errors,
                action=action,
                editing=False,
                pending=pending,
                reselect=reselect,
            )
            return _page(request, "proposal_form.html", ctx, status_code=422)
        discard_pending(settings.upload_dir, kept + dropped)
        flash(request, _("Your proposal has been submitted. The council will review it."))
        return redirect(request, _detail_url(request, proposal.id))
    ctx = _form_ctx(
        request, round=rnd, choices=choices, values=values, action=action, editing=False
    )
    return _page(request, "proposal_form.html", ctx)


@cached_for_visitors
@with_user
async def proposal_detail(request: Request) -> Response:
    """One proposal: all its facts, photos, the verdict, supports and its public history."""
    user = request.state.user
    proposal = await svc.get_proposal(request.path_params["proposal_id"])
    studies.require_visible(user, proposal.round)  # a private study's projects: staff only
    ctx = {
        "proposal": proposal,
        "photos": await svc.proposal_photos(proposal),
        "merged_from": await svc.merged_from(proposal),
        "history": await svc.proposal_history(proposal),
        "supported": await svc.has_supported(user, proposal),
        "procurement_id": await disclosure.procurement_id_of(proposal.id)
        if proposal.status == ProposalStatus.FUNDED
        else None,
        # discussion, deliberation rounds and meetings about it (consult, via core.web.panels)
        "panels": []
        if proposal.round.is_study
        else await subject_panels(request, "proposal", proposal.id),
        "follow": None
        if proposal.round.is_study
        else await follow_state(request, "proposal", proposal.id),
    }
    return _page(request, "proposal_detail.html", ctx)


@body_limit(photo_form_limit)
@login_required
async def proposal_edit(request: Request) -> Response:
    """The author edits their proposal (photos too) while proposing is open."""
    user = request.state.user
    proposal = await svc.get_proposal(request.path_params["proposal_id"])
    if not can(user, "edit_proposal", proposal):
        raise PermissionDenied(
            _("Only the author can edit a proposal, and only while proposing is open.")
        )
    photos = await ProposalPhoto.filter(proposal_id=proposal.id)
    choices = await svc.area_choices(proposal.round, user)
    action = str(request.url_for("budget:proposal_edit", proposal_id=proposal.id))
    if request.method == "POST":
        form = await read_form(request, max_files=MAX_PHOTOS + 5)
        values = _form_values(form)
        uploads = await _read_uploads(request, form)
        kept, dropped = _pending_from_form(request, form)
        remove = [i for i in (int_param(str(v)) for v in form.getlist("remove_photo")) if i]
        settings = request.app.state.settings
        try:
            await proposal_changes.edit_proposal(
                user,
                proposal.id,
                form,
                [p.upload for p in kept] + uploads,
                remove,
                upload_dir=settings.upload_dir,
                max_bytes=settings.max_photo_bytes,
            )
        except ValidationError as exc:
            pending, reselect = await _keep_for_next_try(request, kept, dropped, uploads)
            ctx = _form_ctx(
                request,
                round=proposal.round,
                proposal=proposal,
                choices=choices,
                values=values,
                errors=exc.errors,
                action=action,
                editing=True,
                photos=photos,
                removing=set(remove),
                pending=pending,
                reselect=reselect,
            )
            return _page(request, "proposal_form.html", ctx, status_code=422)
        discard_pending(settings.upload_dir, kept + dropped)
        flash(request, _("Your changes have been saved."))
        return redirect(request, _detail_url(request, proposal.id))
    values = {
        "title": proposal.title,
        "description": proposal.description,
        "category": str(proposal.category),
        "cost": fen_to_yuan_input(proposal.cost_fen),
        "area": str(proposal.area_id) if proposal.area_id else svc.DISTRICT,
        "beneficiaries": str(proposal.beneficiaries),
        "location": proposal.location,
    }
    ctx = _form_ctx(
        request,
        round=proposal.round,
        proposal=proposal,
        choices=choices,
        values=values,
        action=action,
        editing=True,
        photos=photos,
    )
    return _page(request, "proposal_form.html", ctx)


@login_required
async def proposal_withdraw(request: Request) -> Response:
    """GET asks for confirmation (works without JavaScript); POST withdraws."""
    user = request.state.user
    proposal = await svc.get_proposal(request.path_params["proposal_id"])
    if not can(user, "withdraw_proposal", proposal):
        raise PermissionDenied(
            _("Only the author can withdraw a proposal, and only while proposing is open.")
        )
    if request.method == "POST":
        await read_form(request)
        await proposal_changes.withdraw_proposal(user, proposal.id)
        flash(request, _("Your proposal has been withdrawn."), "info")
        return redirect(request, _detail_url(request, proposal.id))
    return _page(request, "proposal_withdraw.html", {"proposal": proposal})


@login_required
async def proposal_support(request: Request) -> Response:
    """POST toggles the current user's support; htmx gets the support block back."""
    user = request.state.user
    await read_form(request)
    proposal, supported = await proposal_changes.toggle_support(
        user, request.path_params["proposal_id"]
    )
    if is_htmx(request):
        ctx = {"proposal": proposal, "supported": supported}
        return _page(request, "proposal_detail.html", ctx, block="support")
    if supported:
        flash(request, _("Thank you: you support this proposal."))
    else:
        flash(request, _("You no longer support this proposal."), "info")
    return redirect(request, _detail_url(request, proposal.id))


@login_required
async def proposal_review(request: Request) -> Response:
    """A council member marks a proposal feasible or not, with a public reason."""
    user = request.state.user
    proposal = await svc.get_proposal(request.path_params["proposal_id"])
    if not can(user, "review", proposal):
        raise PermissionDenied(_("Only council members review proposals, before voting opens."))
    values = {
        "verdict": str(proposal.status)
        if proposal.status in (ProposalStatus.FEASIBLE, ProposalStatus.INFEASIBLE)
        else "",
        "reason": proposal.review_reason,
        "revised_cost": fen_to_yuan_input(proposal.revised_cost_fen),
    }
    if request.method == "POST":
        form = await read_form(request)
        values = {k: str(form.get(k) or "") for k in values}
        try:
            await proposal_changes.review_proposal(user, proposal.id, form)
        except ValidationError as exc:
            ctx = {"proposal": proposal, "values": values, "errors": exc.errors}
            return _page(request, "proposal_review.html", ctx, status_code=422)
        flash(request, _("The review has been saved and is now public."))
        return redirect(request, _detail_url(request, proposal.id))
    return _page(
        request, "proposal_review.html", {"proposal": proposal, "values": values, "errors": {}}
    )


@login_required
async def proposal_merge(request: Request) -> Response:
    """A council member merges a duplicate into another proposal of the round (confirmed)."""
    user = request.state.user
    proposal = await svc.get_proposal(request.path_params["proposal_id"])
    if not can(user, "merge", proposal):
        raise PermissionDenied(_("Only council members merge proposals, before voting opens."))
    candidates = await svc.merge_candidates(proposal)
    values = {"survivor": request.query_params.get("survivor", ""), "confirm": ""}
    if request.method == "POST":
        form = await read_form(request)
        values = {
            "survivor": str(form.get("survivor") or ""),
            "confirm": str(form.get("confirm") or ""),
        }
        try:
            survivor = await proposal_changes.merge_proposal(
                user, proposal.id, int_param(values["survivor"]), values["confirm"] == "yes"
            )
        except ValidationError as exc:
            ctx = {
                "proposal": proposal,
                "candidates": candidates,
                "values": values,
                "errors": exc.errors,
            }
            return _page(request, "proposal_merge.html", ctx, status_code=422)
        flash(request, _("The proposal has been merged into “{title}”.", title=survivor.title))
        return redirect(request, _detail_url(request, survivor.id))
    ctx = {"proposal": proposal, "candidates": candidates, "values": values, "errors": {}}
    return _page(request, "proposal_merge.html", ctx)


async def proposal_photo(request: Request) -> Response:
    """A proposal's photo (`?size=thumb`: its thumbnail, for cards and lists), with its
    content type; never sniffed, never a download."""
    photo = await ProposalPhoto.get_or_none(id=request.path_params["photo_id"])
    if photo is None:
        raise NotFound(_("This photo does not exist."))
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
            "Content-Disposition": f'inline; filename="photo-{photo.id}.{ext}"',
            "Cache-Control": "public, max-age=604800",
        },
    )


routes = [
    Route("/proposals", proposal_list, name="proposal_list"),
    Route(
        "/rounds/{round_id:int}/propose", proposal_new, methods=["GET", "POST"], name="proposal_new"
    ),
    Route("/proposals/{proposal_id:int}", proposal_detail, name="proposal_detail"),
    Route(
        "/proposals/{proposal_id:int}/edit",
        proposal_edit,
        methods=["GET", "POST"],
        name="proposal_edit",
    ),
    Route(
        "/proposals/{proposal_id:int}/withdraw",
        proposal_withdraw,
        methods=["GET", "POST"],
        name="proposal_withdraw",
    ),
    Route(
        "/proposals/{proposal_id:int}/support",
        proposal_support,
        methods=["POST"],
        name="proposal_support",
    ),
    Route(
        "/proposals/{proposal_id:int}/review",
        proposal_review,
        methods=["GET", "POST"],
        name="proposal_review",
    ),
    Route(
        "/proposals/{proposal_id:int}/merge",
        proposal_merge,
        methods=["GET", "POST"],
        name="proposal_merge",
    ),
    Route("/photos/{photo_id:int}", proposal_photo, name="proposal_photo"),
]
