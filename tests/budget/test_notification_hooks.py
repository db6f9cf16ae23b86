"""Budgeting tells the followers of its proposals and rounds what changed (in the same
transaction as the change): a submitted proposal is followed by its author; a phase change,
a review, a merge and a delivery reach the followers — not the one who made the change, and
nobody when the change is refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from budget.models import Phase, ProposalStatus
from budget.services import procurements, proposal_changes, rounds
from core.errors import Conflict, PermissionDenied, ValidationError
from core.i18n import local_today
from core.models import Follow, Notification, Role
from core.services import notifications
from tests.budget.money import contract, convert, funded_round
from tests.budget.test_proposals_services import form
from tests.helpers import make_area, make_proposal, make_round, make_user


async def _told(user) -> list[str]:
    """What `user` was told, oldest first, in English."""
    rows = await Notification.filter(user_id=user.id).order_by("id")
    return [notifications.message(n) for n in rows]


async def test_a_submitted_proposal_is_followed_by_its_author(db, tmp_path):
    area = await make_area()
    rnd = await make_round(envelopes={None: 100_000_00})
    wang = await make_user("wang", area=area)
    proposal = await proposal_changes.submit_proposal(
        wang, rnd.id, form(), [], upload_dir=tmp_path, max_bytes=1024
    )
    assert await notifications.is_following(wang.id, "proposal", proposal.id)
    with pytest.raises(ValidationError):  # refused: no proposal, nothing followed
        await proposal_changes.submit_proposal(
            wang, rnd.id, form(title=""), [], upload_dir=tmp_path, max_bytes=1024
        )
    assert await Follow.filter(user_id=wang.id).count() == 1


async def test_a_phase_change_tells_the_rounds_followers_but_not_who_made_it(db):
    area = await make_area()
    rnd = await make_round("Spring round", phase=Phase.PROPOSING)
    ana = await make_user("ana", area=area)
    bystander = await make_user("ben", area=area)
    chair = await make_user("chair", Role.COUNCIL)
    for user in (ana, chair):
        await notifications.follow(user.id, "round", rnd.id)
    await rounds.advance_phase(chair, rnd)
    assert await _told(ana) == ["“Spring round” moved to a new phase: Reviewing"]
    assert await _told(chair) == [] and await _told(bystander) == []
    n = await Notification.get(user_id=ana.id)
    assert (n.subject_type, n.subject_id, n.url) == ("round", rnd.id, f"/budget/rounds/{rnd.id}")
    # the phase is kept as a message id and shown in the reader's language
    assert n.params["phase"] == {"msgid": "Reviewing"}

    with pytest.raises(Conflict):  # the page showed another phase: nothing happens
        await rounds.advance_phase(chair, rnd, from_phase="proposing")
    with pytest.raises(PermissionDenied):
        await rounds.advance_phase(ana, rnd)
    assert len(await _told(ana)) == 1


async def test_a_review_tells_the_proposals_followers_its_verdict(db):
    area = await make_area()
    rnd = await make_round(phase=Phase.REVIEWING)
    author = await make_user("author", area=area)
    reviewer = await make_user("council", Role.COUNCIL)
    proposal = await make_proposal(rnd, author, "Benches", area=area)
    await notifications.follow(author.id, "proposal", proposal.id)
    await notifications.follow(reviewer.id, "proposal", proposal.id)

    with pytest.raises(ValidationError):  # no verdict: refused, nobody told
        await proposal_changes.review_proposal(reviewer, proposal.id, {"reason": "Why"})
    assert await Notification.all().count() == 0

    await proposal_changes.review_proposal(
        reviewer, proposal.id, {"verdict": "infeasible", "reason": "No room on the pavement"}
    )
    assert await _told(author) == ["The council reviewed “Benches”: not feasible"]
    assert await _told(reviewer) == []
    n = await Notification.get(user_id=author.id)
    assert n.url == f"/budget/proposals/{proposal.id}"


async def test_a_merge_tells_the_duplicates_followers_and_they_follow_the_survivor(db):
    area = await make_area()
    rnd = await make_round(phase=Phase.REVIEWING)
    ana = await make_user("ana", area=area)
    council = await make_user("council", Role.COUNCIL)
    duplicate = await make_proposal(rnd, ana, "Lamps", area=area)
    survivor = await make_proposal(rnd, council, "Street lights", area=area)
    await notifications.follow(ana.id, "proposal", duplicate.id)
    await proposal_changes.merge_proposal(council, duplicate.id, survivor.id, confirmed=True)
    assert await _told(ana) == ["“Lamps” was merged into “Street lights”"]
    assert await notifications.is_following(ana.id, "proposal", survivor.id)
    assert await _told(council) == []


async def test_a_delivery_tells_the_followers_of_the_proposal_it_came_from(db):
    fr = await funded_round()
    await notifications.follow(fr.resident.id, "proposal", fr.benches.id)
    await notifications.follow(fr.finance.id, "proposal", fr.benches.id)
    await notifications.follow(fr.west_resident.id, "proposal", fr.lamps.id)  # another one
    p = await convert(fr, fr.benches)
    p = await contract(fr, p, 55_000_00)
    await procurements.move_procurement(fr.finance, p.id, "in_progress", {})
    assert await Notification.all().count() == 0  # only a delivery is told

    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError):  # a delivery in the future: refused, nobody told
        await procurements.move_procurement(
            fr.finance, p.id, "delivered", {"delivered_on": tomorrow}
        )
    assert await Notification.all().count() == 0

    today = local_today().isoformat()
    await procurements.move_procurement(fr.finance, p.id, "delivered", {"delivered_on": today})
    assert await _told(fr.resident) == ["“Benches by the canal” was delivered"]
    assert await _told(fr.finance) == [] and await _told(fr.west_resident) == []
    n = await Notification.get(user_id=fr.resident.id)
    assert n.url == f"/budget/procurements/{p.id}"


async def test_a_delivery_reaches_the_followers_of_proposals_merged_into_it(db):
    fr = await funded_round()
    merged = await make_proposal(
        fr.round,
        fr.west_resident,
        "Canal seats",
        area=fr.east,
        status=ProposalStatus.MERGED,
        merged_into=fr.benches,
    )
    await notifications.follow(fr.west_resident.id, "proposal", merged.id)
    await notifications.follow(fr.resident.id, "proposal", fr.benches.id)
    await notifications.follow(fr.resident.id, "proposal", merged.id)  # told once, not twice
    p = await contract(fr, await convert(fr, fr.benches), 55_000_00)
    await procurements.move_procurement(fr.finance, p.id, "in_progress", {})
    today = local_today().isoformat()
    await procurements.move_procurement(fr.finance, p.id, "delivered", {"delivered_on": today})
    assert await _told(fr.west_resident) == ["“Benches by the canal” was delivered"]
    assert len(await _told(fr.resident)) == 1


async def test_a_change_that_fails_after_telling_takes_its_notifications_with_it(db, monkeypatch):
    """The notifications are written in the change's transaction: when something after them
    fails (here the audit entry), the phase stays and nobody is told."""
    rnd = await make_round("Spring round", phase=Phase.PROPOSING)
    ana = await make_user("ana", area=await make_area())
    chair = await make_user("chair", Role.COUNCIL)
    await notifications.follow(ana.id, "round", rnd.id)

    async def broken_record(*args, **kwargs):
        raise RuntimeError("the audit log is full")

    monkeypatch.setattr(rounds, "record", broken_record)
    with pytest.raises(RuntimeError):
        await rounds.advance_phase(chair, rnd)
    assert (await type(rnd).get(id=rnd.id)).phase == Phase.PROPOSING
    assert await Notification.all().count() == 0


async def test_a_phase_change_also_tells_the_followers_of_the_rounds_proposals_once(db):
    area = await make_area()
    rnd = await make_round("Spring round", phase=Phase.PROPOSING)
    other = await make_round("Autumn round", phase=Phase.PROPOSING)
    ana = await make_user("ana", area=area)
    ben = await make_user("ben", area=area)
    cai = await make_user("cai", area=area)
    chair = await make_user("chair", Role.COUNCIL)
    benches = await make_proposal(rnd, ben, "Benches", area=area)
    lamps = await make_proposal(rnd, ben, "Lamps", area=area)
    elsewhere = await make_proposal(other, ben, "Elsewhere", area=area)
    await notifications.follow(ana.id, "proposal", benches.id)
    for subject_type, subject_id in (("round", rnd.id), ("proposal", benches.id)):
        await notifications.follow(ben.id, subject_type, subject_id)
    await notifications.follow(ben.id, "proposal", lamps.id)
    await notifications.follow(cai.id, "proposal", elsewhere.id)
    await rounds.advance_phase(chair, rnd)
    assert await _told(ana) == ["“Spring round” moved to a new phase: Reviewing"]
    assert len(await _told(ben)) == 1  # three follows in the round, told once
    assert await _told(cai) == []
