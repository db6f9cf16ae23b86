"""Proposal services against the database: submit and validate, edit and withdraw by phase and
author, support toggling with its count, review and merge."""

from __future__ import annotations

import pytest

from budget.models import Phase, Proposal, ProposalPhoto, ProposalStatus, Review, Support
from budget.services import proposal_changes as svc
from budget.services import proposals
from budget.services.photos import Upload, sniff_image, thumb_name
from core.errors import NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry, Role
from tests.helpers import make_area, make_proposal, make_round, make_user, tiny_png

MAX = 1024 * 1024


def form(**changes):
    data = {
        "title": "Benches by the canal",
        "description": "Six benches along the canal path.",
        "category": "engineering",
        "cost": "12,000.50",
        "area": "district",
        "beneficiaries": "300",
        "location": "Canal path",
    }
    data.update(changes)
    return data


async def setup():
    east = await make_area("East Gate")
    west = await make_area("West Lake")
    rnd = await make_round(fund_fen=100_000_00, envelopes={None: 40_000_00, east: 60_000_00})
    resident = await make_user("wang", area=east)
    return rnd, east, west, resident


async def test_submit_proposal_with_photo(db, tmp_path):
    rnd, east, _, resident = await setup()
    proposal = await svc.submit_proposal(
        resident,
        rnd.id,
        form(area=str(east.id)),
        [Upload("a.png", tiny_png())],
        upload_dir=tmp_path,
        max_bytes=MAX,
    )
    assert proposal.cost_fen == 1_200_050
    assert proposal.area_id == east.id and proposal.beneficiaries == 300
    assert proposal.status == ProposalStatus.SUBMITTED
    photo = await ProposalPhoto.get(proposal_id=proposal.id)
    assert photo.content_type == "image/jpeg"  # re-encoded: an opaque image becomes a JPEG
    stored = (tmp_path / photo.stored_name).read_bytes()
    assert stored.startswith(b"\xff\xd8\xff") and photo.size == len(stored)
    assert (tmp_path / thumb_name(photo.stored_name)).is_file()
    entry = await AuditEntry.get(action="proposal.submitted")
    assert entry.public and entry.subject_id == proposal.id


async def test_submit_validates_every_field(db, tmp_path):
    rnd, _, west, resident = await setup()
    bad = form(title="", category="roads", cost="-5", area=str(west.id), beneficiaries="x")
    with pytest.raises(ValidationError) as exc:
        await svc.submit_proposal(resident, rnd.id, bad, [], upload_dir=tmp_path, max_bytes=MAX)
    assert set(exc.value.errors) == {"title", "category", "cost", "area", "beneficiaries"}
    assert await Proposal.all().count() == 0


async def test_cost_limited_by_envelope_and_fund(db, tmp_path):
    rnd, east, _, resident = await setup()
    with pytest.raises(ValidationError) as exc:
        await svc.submit_proposal(
            resident, rnd.id, form(cost="40000.01"), [], upload_dir=tmp_path, max_bytes=MAX
        )
    assert "District-wide" in exc.value.errors["cost"]
    with pytest.raises(ValidationError) as exc:
        await svc.submit_proposal(
            resident,
            rnd.id,
            form(cost="100001", area=str(east.id)),
            [],
            upload_dir=tmp_path,
            max_bytes=MAX,
        )
    assert "cost" in exc.value.errors
    ok = await svc.submit_proposal(
        resident, rnd.id, form(cost="40000"), [], upload_dir=tmp_path, max_bytes=MAX
    )
    assert ok.area_id is None


async def test_bad_photo_refused_and_nothing_saved(db, tmp_path):
    rnd, _, _, resident = await setup()
    for upload in (
        Upload("x.png", b"just text, not an image"),
        Upload("big.png", tiny_png() + b"\0" * 2000),
    ):
        with pytest.raises(ValidationError) as exc:
            await svc.submit_proposal(
                resident, rnd.id, form(), [upload], upload_dir=tmp_path, max_bytes=1000
            )
        assert "photos" in exc.value.errors
    assert await Proposal.all().count() == 0
    assert list(tmp_path.iterdir()) == []


def test_sniff_image():
    assert sniff_image(tiny_png()) == "image/png"
    assert sniff_image(b"\xff\xd8\xff\xe0" + b"\0" * 10) == "image/jpeg"
    assert sniff_image(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    assert sniff_image(b"<svg xmlns='http://www.w3.org/2000/svg'/>") is None
    assert sniff_image(b"GIF89a") is None


async def test_only_verified_residents_propose_during_proposing(db, tmp_path):
    rnd, east, _, _ = await setup()
    unverified = await make_user("li", area=east, verified=False)
    council = await make_user("chair", role=Role.COUNCIL)
    for user in (None, unverified, council):
        with pytest.raises(PermissionDenied):
            await svc.submit_proposal(user, rnd.id, form(), [], upload_dir=tmp_path, max_bytes=MAX)
    voting = await make_round(title="Old", phase=Phase.VOTING)
    resident = await make_user("zhao", area=east)
    with pytest.raises(PermissionDenied):
        await svc.submit_proposal(
            resident, voting.id, form(), [], upload_dir=tmp_path, max_bytes=MAX
        )
    with pytest.raises(NotFound):
        await svc.submit_proposal(resident, 9999, form(), [], upload_dir=tmp_path, max_bytes=MAX)


async def test_edit_only_by_author_during_proposing(db, tmp_path):
    rnd, east, _, author = await setup()
    other = await make_user("li", area=east)
    p = await svc.submit_proposal(
        author, rnd.id, form(), [Upload("a.png", tiny_png())], upload_dir=tmp_path, max_bytes=MAX
    )
    with pytest.raises(PermissionDenied):
        await svc.edit_proposal(
            other, p.id, form(title="Hijacked"), [], [], upload_dir=tmp_path, max_bytes=MAX
        )
    photo = await ProposalPhoto.get(proposal_id=p.id)
    await svc.edit_proposal(
        author,
        p.id,
        form(title="Better benches", cost="9000"),
        [],
        [photo.id],
        upload_dir=tmp_path,
        max_bytes=MAX,
    )
    p = await Proposal.get(id=p.id)
    assert p.title == "Better benches" and p.cost_fen == 900_000
    assert await ProposalPhoto.filter(proposal_id=p.id).count() == 0
    assert not (tmp_path / photo.stored_name).exists()
    entry = await AuditEntry.get(action="proposal.edited")
    assert set(entry.detail["fields"]) == {"title", "cost_fen", "photos"}
    rnd.phase = Phase.REVIEWING
    await rnd.save()
    with pytest.raises(PermissionDenied):
        await svc.edit_proposal(author, p.id, form(), [], [], upload_dir=tmp_path, max_bytes=MAX)


async def test_edit_keeps_three_photos_at_most(db, tmp_path):
    rnd, _, _, author = await setup()
    p = await svc.submit_proposal(
        author,
        rnd.id,
        form(),
        [Upload("a.png", tiny_png())] * 3,
        upload_dir=tmp_path,
        max_bytes=MAX,
    )
    with pytest.raises(ValidationError) as exc:
        await svc.edit_proposal(
            author,
            p.id,
            form(),
            [Upload("d.png", tiny_png())],
            [],
            upload_dir=tmp_path,
            max_bytes=MAX,
        )
    assert "photos" in exc.value.errors
    assert len(list(tmp_path.glob("*.thumb.jpg"))) == 3  # the first three and their thumbnails
    assert len(list(tmp_path.iterdir())) == 6


async def test_withdraw(db, tmp_path):
    rnd, east, _, author = await setup()
    p = await make_proposal(rnd, author)
    with pytest.raises(PermissionDenied):
        await svc.withdraw_proposal(await make_user("li", area=east), p.id)
    await svc.withdraw_proposal(author, p.id)
    assert (await Proposal.get(id=p.id)).status == ProposalStatus.WITHDRAWN
    with pytest.raises(PermissionDenied):  # once withdrawn, it stays so
        await svc.withdraw_proposal(author, p.id)


async def test_support_toggles_and_counts(db):
    rnd, east, _, author = await setup()
    p = await make_proposal(rnd, author)
    li = await make_user("li", area=east)
    p2, supported = await svc.toggle_support(li, p.id)
    assert supported and p2.support_count == 1
    await svc.toggle_support(author, p.id)
    assert (await Proposal.get(id=p.id)).support_count == 2
    _, supported = await svc.toggle_support(li, p.id)
    assert not supported
    assert (await Proposal.get(id=p.id)).support_count == 1
    assert await Support.filter(proposal_id=p.id).count() == 1
    council = await make_user("chair", role=Role.COUNCIL)
    with pytest.raises(PermissionDenied):
        await svc.toggle_support(council, p.id)
    rnd.phase = Phase.VOTING
    await rnd.save()
    with pytest.raises(PermissionDenied):
        await svc.toggle_support(li, p.id)


async def test_review_sets_status_cost_and_reason(db):
    rnd, _, _, author = await setup()
    p = await make_proposal(rnd, author, cost_fen=10_000_00)
    council = await make_user("chair", role=Role.COUNCIL)
    with pytest.raises(PermissionDenied):
        await svc.review_proposal(author, p.id, {"verdict": "feasible", "reason": "ok"})
    with pytest.raises(ValidationError) as exc:
        await svc.review_proposal(council, p.id, {"verdict": "", "reason": ""})
    assert set(exc.value.errors) == {"verdict", "reason"}
    await svc.review_proposal(
        council, p.id, {"verdict": "feasible", "reason": "Sound plan.", "revised_cost": "8000"}
    )
    p = await Proposal.get(id=p.id)
    assert p.status == ProposalStatus.FEASIBLE
    assert p.revised_cost_fen == 800_000 and p.effective_cost_fen == 800_000
    assert p.review_reason == "Sound plan."
    review = await Review.get(proposal_id=p.id)
    assert review.feasible and review.reviewer_id == council.id
    await svc.review_proposal(council, p.id, {"verdict": "infeasible", "reason": "No land."})
    p = await Proposal.get(id=p.id)
    assert p.status == ProposalStatus.INFEASIBLE and p.revised_cost_fen is None
    assert await AuditEntry.filter(action="proposal.reviewed", public=True).count() == 2


async def test_merge_moves_supports_without_doubles(db):
    rnd, east, _, author = await setup()
    dup = await make_proposal(rnd, author, title="Benches")
    survivor = await make_proposal(rnd, author, title="Canal benches")
    other_round = await make_round(title="Other")
    elsewhere = await make_proposal(other_round, author)
    a, b, c = [await make_user(n, area=east) for n in "abc"]
    for user in (a, b):
        await svc.toggle_support(user, dup.id)
    for user in (b, c):
        await svc.toggle_support(user, survivor.id)
    council = await make_user("chair", role=Role.COUNCIL)
    with pytest.raises(PermissionDenied):
        await svc.merge_proposal(author, dup.id, survivor.id, True)
    for target, confirmed in ((elsewhere.id, True), (dup.id, True), (survivor.id, False)):
        with pytest.raises(ValidationError):
            await svc.merge_proposal(council, dup.id, target, confirmed)
    result = await svc.merge_proposal(council, dup.id, survivor.id, True)
    assert result.id == survivor.id
    dup = await Proposal.get(id=dup.id)
    survivor = await Proposal.get(id=survivor.id)
    assert dup.status == ProposalStatus.MERGED and dup.merged_into_id == survivor.id
    assert survivor.support_count == 3 and dup.support_count == 0
    users = await Support.filter(proposal_id=survivor.id).values_list("user_id", flat=True)
    assert sorted(users) == sorted([a.id, b.id, c.id])
    assert await AuditEntry.filter(action__startswith="proposal.merged", public=True).count() == 2


async def test_list_filters_and_sorts(db):
    rnd, east, _, author = await setup()
    await make_proposal(rnd, author, title="Cheap lamp", cost_fen=100_00, category="equipment")
    await make_proposal(
        rnd, author, title="Dear bridge", cost_fen=90_000_00, area=east, revised_cost_fen=50_00
    )
    await make_proposal(
        rnd,
        author,
        title="Reading club",
        cost_fen=500_00,
        category="service",
        description="Books for the LAMP room",
    )

    async def titles(**kw):
        qs = proposals.filtered_proposals(proposals.ProposalFilters(**kw))
        return [p.title for p in await qs]

    assert await titles(sort="cost_asc") == ["Dear bridge", "Cheap lamp", "Reading club"]
    assert await titles(sort="cost_desc") == ["Reading club", "Cheap lamp", "Dear bridge"]
    assert await titles(q="lamp", sort="title") == ["Cheap lamp", "Reading club"]
    assert await titles(area="district", sort="title") == ["Cheap lamp", "Reading club"]
    assert await titles(area=str(east.id)) == ["Dear bridge"]
    assert await titles(category="service") == ["Reading club"]
    page = await proposals.filtered_proposals(proposals.ProposalFilters(sort="cost_desc")).count()
    assert page == 3
