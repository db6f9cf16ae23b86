"""Changing proposals: submit, edit, withdraw, support, review, merge — each one transaction
with its audit entry — and the proposal form's validation."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from budget.models import Category, Proposal, ProposalPhoto, ProposalStatus, Review, Round, Support
from budget.permissions import can
from budget.services import notices, proposal_photos
from budget.services.photos import MAX_PHOTOS, Upload, delete_photos, prepared_photos
from budget.services.proposals import DISTRICT, AreaChoice, area_choices
from core.audit import record
from core.db import lock_rows
from core.errors import NotFound, PermissionDenied, ValidationError
from core.forms import parse_int, parse_yuan, text
from core.i18n import _
from core.models import User
from core.services.notifications import follow

# --- validation ----------------------------------------------------------------------------

FIELDS = ("title", "description", "category", "cost", "area", "beneficiaries", "location")


def validate_proposal(
    form: Mapping[str, Any], rnd: Round, choices: list[AreaChoice]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The cleaned values of a proposal form, and a message per bad field."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {
        "title": text(form.get("title"), "title", errors, max_length=200),
        "description": text(form.get("description"), "description", errors, max_length=10_000),
        "location": text(form.get("location"), "location", errors, required=False, max_length=200),
    }
    category = str(form.get("category") or "")
    if category not in Category._value2member_map_:
        errors["category"] = _("Choose a category.")
    data["category"] = category
    data["beneficiaries"] = parse_int(
        form.get("beneficiaries"), "beneficiaries", errors, minimum=0, maximum=100_000_000
    )
    area_value = str(form.get("area") or "")
    choice = next((c for c in choices if c.value == area_value), None)
    if choice is None:
        errors["area"] = _("Choose your area or district-wide.")
        data["area_id"] = None
    else:
        data["area_id"] = None if choice.value == DISTRICT else int(choice.value)
    cost = parse_yuan(form.get("cost"), "cost", errors)
    if cost is not None:
        if cost > rnd.fund_fen:
            errors["cost"] = _(
                "The cost cannot be more than the round's fund of {fund}.",
                fund=_money(rnd.fund_fen),
            )
        elif choice is not None and cost > choice.budget_fen:
            errors["cost"] = _(
                "The cost cannot be more than the budget of {envelope}, {budget}.",
                envelope=choice.label,
                budget=_money(choice.budget_fen),
            )
    data["cost_fen"] = cost
    return data, errors


def _money(fen: int) -> str:
    from core.i18n import format_money

    return format_money(fen)


async def _locked_proposal(conn, proposal_id: int) -> Proposal:
    """The proposal row, locked for this transaction (PostgreSQL), with its round loaded."""
    proposal = await Proposal.filter(id=proposal_id).select_for_update().using_db(conn).first()
    if proposal is None:
        raise NotFound(_("This proposal does not exist."))
    proposal.round = await Round.get(id=proposal.round_id).using_db(conn)
    return proposal


# --- changing ------------------------------------------------------------------------------


async def submit_proposal(
    user: User | None,
    round_id: int,
    form: Mapping[str, Any],
    uploads: list[Upload],
    *,
    upload_dir: Path,
    max_bytes: int,
) -> Proposal:
    """A verified resident submits a micro-project (with up to 3 photos) during proposing."""
    written: list[str] = []
    photos, photo_errors = await prepared_photos(uploads, max_bytes)
    try:
        async with in_transaction() as conn:
            rnd = await Round.get_or_none(id=round_id).using_db(conn)
            if rnd is None:
                raise NotFound(_("This round does not exist."))
            if not can(user, "propose", rnd):
                raise PermissionDenied(
                    _(
                        "Only verified residents can propose, and only while the round is "
                        "collecting proposals."
                    )
                )
            if photos:
                await lock_rows(conn, User, [user.id])
            data, errors = validate_proposal(form, rnd, await area_choices(rnd, user))
            errors.update(photo_errors)
            if len(uploads) > MAX_PHOTOS:
                errors["photos"] = _("At most {n} photos.", n=MAX_PHOTOS)
            elif photos:
                message = await proposal_photos.quota_error(conn, user.id, rnd.id, photos)
                if message:
                    errors["photos"] = message
            if errors:
                raise ValidationError(errors=errors)
            proposal = await Proposal.create(
                round=rnd, author=user, status=ProposalStatus.SUBMITTED, using_db=conn, **data
            )
            await proposal_photos.store_photos(conn, proposal, photos, upload_dir, written)
            await follow(user.id, notices.PROPOSAL, proposal.id, using_db=conn)  # one's own
            await record(
                user,
                "proposal.submitted",
                proposal,
                public=True,
                using_db=conn,
                title=proposal.title,
                cost_fen=proposal.cost_fen,
            )
            return proposal
    except BaseException:
        delete_photos(upload_dir, written)
        raise


async def edit_proposal(
    user: User | None,
    proposal_id: int,
    form: Mapping[str, Any],
    uploads: list[Upload],
    remove_photo_ids: list[int],
    *,
    upload_dir: Path,
    max_bytes: int,
) -> Proposal:
    """The author changes their proposal (and its photos) until proposing ends."""
    written: list[str] = []
    removed: list[str] = []
    photos_added, photo_errors = await prepared_photos(uploads, max_bytes)
    try:
        async with in_transaction() as conn:
            if photos_added and user is not None:
                await lock_rows(conn, User, [user.id])  # the quota's lock, before the proposal's
            proposal = await _locked_proposal(conn, proposal_id)
            if not can(user, "edit_proposal", proposal):
                raise PermissionDenied(
                    _("Only the author can edit a proposal, and only while proposing is open.")
                )
            author = await User.get(id=proposal.author_id).using_db(conn)
            data, errors = validate_proposal(
                form, proposal.round, await area_choices(proposal.round, author)
            )
            photos = await ProposalPhoto.filter(proposal_id=proposal.id).using_db(conn)
            remove = [p for p in photos if p.id in set(remove_photo_ids)]
            errors.update(photo_errors)
            if len(photos) - len(remove) + len(uploads) > MAX_PHOTOS:
                errors["photos"] = _(
                    "At most {n} photos: remove one before adding another.", n=MAX_PHOTOS
                )
            elif photos_added:
                message = await proposal_photos.quota_error(
                    conn, user.id, proposal.round_id, photos_added, {p.id for p in remove}
                )
                if message:
                    errors["photos"] = message
            if errors:
                raise ValidationError(errors=errors)
            changed = sorted(k for k, v in data.items() if getattr(proposal, k) != v)
            for key, value in data.items():
                setattr(proposal, key, value)
            await proposal.save(using_db=conn)
            if remove:
                await ProposalPhoto.filter(id__in=[p.id for p in remove]).using_db(conn).delete()
                removed = [p.stored_name for p in remove]
                changed.append("photos")
            if photos_added:
                await proposal_photos.store_photos(
                    conn, proposal, photos_added, upload_dir, written
                )
                changed.append("photos")
            await record(
                user,
                "proposal.edited",
                proposal,
                public=True,
                using_db=conn,
                fields=sorted(set(changed)),
            )
    except BaseException:
        delete_photos(upload_dir, written)
        raise
    delete_photos(upload_dir, removed)  # only once the change is committed
    return proposal


async def withdraw_proposal(user: User | None, proposal_id: int) -> Proposal:
    """The author takes their proposal back (it stays visible, marked withdrawn)."""
    async with in_transaction() as conn:
        proposal = await _locked_proposal(conn, proposal_id)
        if not can(user, "withdraw_proposal", proposal):
            raise PermissionDenied(
                _("Only the author can withdraw a proposal, and only while proposing is open.")
            )
        proposal.status = ProposalStatus.WITHDRAWN
        await proposal.save(using_db=conn, update_fields=["status", "updated_at"])
        await record(user, "proposal.withdrawn", proposal, public=True, using_db=conn)
        return proposal


async def toggle_support(user: User | None, proposal_id: int) -> tuple[Proposal, bool]:
    """Support a proposal, or take the support back; returns (proposal, supported now).

    The proposal row is locked and its support_count recounted in the same transaction, and
    the unique (proposal, user) constraint stops a double support."""
    async with in_transaction() as conn:
        proposal = await _locked_proposal(conn, proposal_id)
        if not can(user, "support", proposal):
            if user is not None and proposal.area_id not in (None, user.area_id):
                raise PermissionDenied(
                    _("You can support the proposals of your own area and district-wide ones.")
                )
            raise PermissionDenied(
                _("Only verified residents can support proposals, and only before voting.")
            )
        deleted = (
            await Support.filter(proposal_id=proposal.id, user_id=user.id).using_db(conn).delete()
        )
        supported = not deleted
        if supported:
            try:
                async with in_transaction() as inner:  # a savepoint: a double click loses
                    await Support.create(proposal_id=proposal.id, user_id=user.id, using_db=inner)
            except IntegrityError:
                pass
        proposal.support_count = (
            await Support.filter(proposal_id=proposal.id).using_db(conn).count()
        )
        await proposal.save(using_db=conn, update_fields=["support_count"])
        await record(
            user,
            "proposal.supported" if supported else "proposal.unsupported",
            proposal,
            using_db=conn,
        )
        return proposal, supported


async def review_proposal(user: User | None, proposal_id: int, form: Mapping[str, Any]) -> Review:
    """A council member's verdict: feasible or not, a public reason, maybe a revised cost."""
    async with in_transaction() as conn:
        proposal = await _locked_proposal(conn, proposal_id)
        if not can(user, "review", proposal):
            raise PermissionDenied(_("Only council members review proposals, before voting opens."))
        errors: dict[str, str] = {}
        verdict = str(form.get("verdict") or "")
        if verdict not in ("feasible", "infeasible"):
            errors["verdict"] = _("Choose feasible or not feasible.")
        reason = text(form.get("reason"), "reason", errors, max_length=5000)
        revised = parse_yuan(form.get("revised_cost"), "revised_cost", errors, required=False)
        if revised is not None and revised > proposal.round.fund_fen:
            errors["revised_cost"] = _(
                "The cost cannot be more than the round's fund of {fund}.",
                fund=_money(proposal.round.fund_fen),
            )
        if errors:
            raise ValidationError(errors=errors)
        feasible = verdict == "feasible"
        review = await Review.create(
            proposal=proposal,
            reviewer=user,
            feasible=feasible,
            reason=reason,
            revised_cost_fen=revised,
            using_db=conn,
        )
        proposal.status = ProposalStatus.FEASIBLE if feasible else ProposalStatus.INFEASIBLE
        proposal.revised_cost_fen = revised
        proposal.review_reason = reason
        await proposal.save(
            using_db=conn,
            update_fields=["status", "revised_cost_fen", "review_reason", "updated_at"],
        )
        await notices.tell_proposal_reviewed(conn, proposal, user)
        await record(
            user,
            "proposal.reviewed",
            proposal,
            public=True,
            using_db=conn,
            feasible=feasible,
            reason=reason,
            revised_cost_fen=revised,
        )
        return review


async def merge_proposal(
    user: User | None, proposal_id: int, survivor_id: int | None, confirmed: bool
) -> Proposal:
    """Merge a duplicate into a survivor: its supports move there (no doubles), it points to
    the survivor and drops out of review and voting. Returns the survivor."""
    async with in_transaction() as conn:
        proposal = await _locked_proposal(conn, proposal_id)
        if not can(user, "merge", proposal):
            raise PermissionDenied(_("Only council members merge proposals, before voting opens."))
        errors: dict[str, str] = {}
        survivor = None
        if survivor_id is not None and survivor_id != proposal.id:
            survivor = (
                await Proposal.filter(id=survivor_id, round_id=proposal.round_id)
                .select_for_update()
                .using_db(conn)
                .first()
            )
        if survivor is None or survivor.status in (ProposalStatus.WITHDRAWN, ProposalStatus.MERGED):
            errors["survivor"] = _("Choose another open proposal of the same round.")
        if not confirmed:
            errors["confirm"] = _("Tick the box to confirm the merge.")
        if errors:
            raise ValidationError(errors=errors)
        # supports of users who had not supported the survivor move; the others are dropped
        already = Support.filter(proposal_id=survivor.id).using_db(conn)
        already_ids = set(await already.values_list("user_id", flat=True))
        supports = await Support.filter(proposal_id=proposal.id).using_db(conn)
        move = [s.id for s in supports if s.user_id not in already_ids]
        if move:
            await Support.filter(id__in=move).using_db(conn).update(proposal_id=survivor.id)
        await Support.filter(proposal_id=proposal.id).using_db(conn).delete()
        # proposals merged into this one before now point to the survivor
        await (
            Proposal.filter(merged_into_id=proposal.id)
            .using_db(conn)
            .update(merged_into_id=survivor.id)
        )
        proposal.status = ProposalStatus.MERGED
        proposal.merged_into_id = survivor.id
        proposal.support_count = 0
        await proposal.save(
            using_db=conn,
            update_fields=["status", "merged_into_id", "support_count", "updated_at"],
        )
        survivor.support_count = (
            await Support.filter(proposal_id=survivor.id).using_db(conn).count()
        )
        await survivor.save(using_db=conn, update_fields=["support_count"])
        await notices.tell_proposal_merged(conn, proposal, survivor, user)
        await record(
            user,
            "proposal.merged",
            proposal,
            public=True,
            using_db=conn,
            into_id=survivor.id,
            into_title=survivor.title,
            supports_moved=len(move),
        )
        await record(
            user,
            "proposal.merged_from",
            survivor,
            public=True,
            using_db=conn,
            from_id=proposal.id,
            from_title=proposal.title,
            supports_moved=len(move),
        )
        return survivor
