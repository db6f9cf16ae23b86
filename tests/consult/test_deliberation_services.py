"""Deliberation rounds as services: opening and editing one (bad input refused, nothing
written), moving it on (council only, once per confirmation), and publishing the decision
with checked links to proposals, budgeting rounds and meetings."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from budget.models import Phase, ProposalStatus
from consult.models import (
    Deliberation,
    DeliberationArea,
    DeliberationLink,
    DeliberationPhase,
    Meeting,
)
from consult.services import decisions
from consult.services import deliberations as service
from core.errors import Conflict, NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry, Role
from tests.consult.deliberation_setup import district, make_deliberation
from tests.helpers import make_proposal, make_round, make_user

FORM = {
    "title": "  How should we sort our waste?  ",
    "description": "Bins downstairs or collection points?\nTell us.",
    "starts_on": "2026-03-01",
    "ends_on": "2026-04-30",
}


async def test_the_council_opens_a_round_for_some_areas(db):
    s = await district()
    d = await service.create_deliberation(s.council, {**FORM, "areas": [str(s.west.id)]})
    d = await Deliberation.get(id=d.id)
    assert d.title == "How should we sort our waste?"
    assert d.phase == DeliberationPhase.COLLECTING
    assert (d.starts_on.isoformat(), d.ends_on.isoformat()) == ("2026-03-01", "2026-04-30")
    areas = await DeliberationArea.filter(deliberation_id=d.id).values_list("area_id", flat=True)
    assert areas == [s.west.id]
    entry = await AuditEntry.get(action="deliberation.create")
    assert entry.public and entry.subject_id == d.id and entry.detail["areas"] == [s.west.id]


async def test_no_area_means_the_whole_district(db):
    s = await district()
    d = await service.create_deliberation(s.council, FORM)
    assert await DeliberationArea.filter(deliberation_id=d.id).count() == 0
    loaded = await service.get_deliberation(d.id)
    assert loaded.area_ids == [] and loaded.areas == []


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"title": "   "}, "title", "This field is required."),
        ({"title": "x" * 201}, "title", "At most 200 characters."),
        ({"starts_on": ""}, "starts_on", "This field is required."),
        ({"ends_on": "30/04/2026"}, "ends_on", "Enter a date as YYYY-MM-DD."),
        ({"ends_on": "2026-02-28"}, "ends_on", "must not come before the start date"),
        ({"areas": ["999999"]}, "areas", "Choose the areas from the list."),
        ({"areas": ["east"]}, "areas", "Choose the areas from the list."),
    ],
)
async def test_bad_input_is_refused_and_nothing_is_written(db, change, field, message):
    s = await district()
    before = await Deliberation.all().count()
    with pytest.raises(ValidationError) as refused:
        await service.create_deliberation(s.council, {**FORM, **change})
    assert message in refused.value.errors[field]
    assert await Deliberation.all().count() == before


async def test_only_the_council_opens_and_edits_rounds(db):
    s = await district()
    for user in (None, s.alice):
        with pytest.raises(PermissionDenied):
            await service.create_deliberation(user, FORM)
        with pytest.raises(PermissionDenied):
            await service.edit_deliberation(user, s.d.id, FORM)
    with pytest.raises(NotFound):
        await service.edit_deliberation(s.council, 999999, FORM)


async def test_editing_changes_areas_and_records_what_changed(db):
    s = await district()
    form = {**FORM, "title": "Waste sorting", "areas": [str(s.west.id), str(s.east.id)]}
    await service.edit_deliberation(s.council, s.d.id, form)
    d = await service.get_deliberation(s.d.id)
    assert d.title == "Waste sorting"
    assert d.area_ids == sorted([s.east.id, s.west.id])
    await service.edit_deliberation(s.council, s.d.id, {**form, "areas": []})
    assert (await service.get_deliberation(s.d.id)).area_ids == []
    entries = await AuditEntry.filter(action="deliberation.edit").order_by("id")
    assert entries[0].detail["title"] == "Waste sorting"
    assert entries[1].detail["areas"] == []


async def test_a_published_round_is_no_longer_edited(db):
    s = await district()
    published = await make_deliberation(phase=DeliberationPhase.PUBLISHED)
    with pytest.raises(PermissionDenied):
        await service.edit_deliberation(s.council, published.id, FORM)


async def test_advancing_goes_one_phase_at_a_time_and_stops_before_published(db):
    s = await district()
    d = await service.advance_deliberation(s.council, s.d.id, "collecting")
    assert d.phase == DeliberationPhase.DISCUSSING
    d = await service.advance_deliberation(s.council, s.d.id, "discussing")
    assert d.phase == DeliberationPhase.DECIDING
    with pytest.raises(PermissionDenied) as refused:
        await service.advance_deliberation(s.council, s.d.id, "deciding")
    assert "publishing its decision" in refused.value.message
    assert (await Deliberation.get(id=s.d.id)).phase == DeliberationPhase.DECIDING
    entries = await AuditEntry.filter(action="deliberation.advance").order_by("id")
    assert [(e.detail["from"], e.detail["to"]) for e in entries] == [
        ("collecting", "discussing"),
        ("discussing", "deciding"),
    ]
    assert all(e.public for e in entries)


async def test_a_second_click_moves_nothing(db):
    s = await district()
    await service.advance_deliberation(s.council, s.d.id, "collecting")
    with pytest.raises(Conflict):
        await service.advance_deliberation(s.council, s.d.id, "collecting")
    assert (await Deliberation.get(id=s.d.id)).phase == DeliberationPhase.DISCUSSING


async def test_residents_do_not_move_rounds(db):
    s = await district()
    with pytest.raises(PermissionDenied):
        await service.advance_deliberation(s.alice, s.d.id, "collecting")
    assert (await Deliberation.get(id=s.d.id)).phase == DeliberationPhase.COLLECTING


async def _decision_world():
    s = await district(phase=DeliberationPhase.DECIDING)
    rnd = await make_round("2026 micro-projects", phase=Phase.VOTING)
    proposal = await make_proposal(rnd, s.alice, "Bins with lids", status=ProposalStatus.FEASIBLE)
    other = await make_proposal(rnd, s.bob, "Compost corner")
    meeting = await Meeting.create(
        title="Talk on the 16th",
        place="Community hall",
        starts_at=datetime(2026, 5, 16, 2, tzinfo=UTC),
    )
    return s, rnd, proposal, other, meeting


async def test_publishing_the_decision_with_its_links(db):
    s, rnd, proposal, other, meeting = await _decision_world()
    form = {
        "summary": "Most agree on more guidance.",
        "decision": "Guidance volunteers from June.",
        "proposals": f"{proposal.id}，#{other.id}; {proposal.id}",
        "rounds": [str(rnd.id)],
        "meetings": [str(meeting.id)],
    }
    d = await decisions.publish_decision(s.council, s.d.id, form)
    d = await Deliberation.get(id=d.id)
    assert d.phase == DeliberationPhase.PUBLISHED and d.published_at is not None
    assert (d.summary, d.decision) == (
        "Most agree on more guidance.",
        "Guidance volunteers from June.",
    )
    links = set(
        await DeliberationLink.filter(deliberation_id=d.id).values_list(
            "subject_type", "subject_id"
        )
    )
    assert links == {
        ("proposal", proposal.id),
        ("proposal", other.id),
        ("round", rnd.id),
        ("meeting", meeting.id),
    }
    entry = await AuditEntry.get(action="deliberation.publish")
    assert entry.public and entry.detail["proposals"] == sorted([proposal.id, other.id])
    titles = [(i.kind.value, i.title) for i in await decisions.decision_links(d)]
    assert titles == [
        ("proposal", "Bins with lids"),
        ("proposal", "Compost corner"),
        ("round", "2026 micro-projects"),
        ("meeting", "Talk on the 16th"),
    ]
    with pytest.raises(Conflict):  # a second submission
        await decisions.publish_decision(s.council, s.d.id, form)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"summary": ""}, "summary", "This field is required."),
        ({"decision": " "}, "decision", "This field is required."),
        ({"proposals": "twelve"}, "proposals", "Enter numbers separated by commas"),
        ({"proposals": "999999"}, "proposals", "There is no proposal numbered 999999."),
        ({"rounds": ["999999"]}, "rounds", "Choose budgeting rounds from the list."),
        ({"rounds": ["x"]}, "rounds", "Choose from the list."),
        ({"meetings": ["999999"]}, "meetings", "Choose meetings from the list."),
    ],
)
async def test_a_bad_decision_is_refused_and_nothing_is_published(db, change, field, message):
    s, *_rest = await _decision_world()
    form = {"summary": "Summary", "decision": "Decision", **change}
    with pytest.raises(ValidationError) as refused:
        await decisions.publish_decision(s.council, s.d.id, form)
    assert message in refused.value.errors[field]
    d = await Deliberation.get(id=s.d.id)
    assert d.phase == DeliberationPhase.DECIDING and d.decision == ""
    assert await DeliberationLink.all().count() == 0


async def test_a_proposal_of_an_imported_election_is_no_subject_of_a_decision(db):
    s, *_rest = await _decision_world()
    study = await make_round("Imported", phase=Phase.CLOSED, is_study=True)
    imported = await make_proposal(study, None, "Someone else's park")
    with pytest.raises(ValidationError) as refused:
        await decisions.publish_decision(
            s.council, s.d.id, {"summary": "S", "decision": "D", "proposals": str(imported.id)}
        )
    assert "imported election" in refused.value.errors["proposals"]
    with pytest.raises(ValidationError):
        await decisions.publish_decision(
            s.council, s.d.id, {"summary": "S", "decision": "D", "rounds": [str(study.id)]}
        )


async def test_the_decision_is_published_only_in_the_deciding_phase_by_the_council(db):
    s = await district(phase=DeliberationPhase.DISCUSSING)
    form = {"summary": "S", "decision": "D"}
    with pytest.raises(PermissionDenied) as refused:
        await decisions.publish_decision(s.council, s.d.id, form)
    assert "deciding phase" in refused.value.message
    deciding = await make_deliberation(phase=DeliberationPhase.DECIDING)
    resident = await make_user("eve", role=Role.RESIDENT, area=s.east)
    with pytest.raises(PermissionDenied):
        await decisions.publish_decision(resident, deciding.id, form)
    assert await Deliberation.filter(phase=DeliberationPhase.PUBLISHED).count() == 0


async def test_decisions_about_a_subject_are_the_published_ones_only(db):
    s, rnd, proposal, _other, _meeting = await _decision_world()
    await decisions.publish_decision(
        s.council, s.d.id, {"summary": "S", "decision": "D", "proposals": str(proposal.id)}
    )
    unpublished = await make_deliberation("Draft", phase=DeliberationPhase.DECIDING)
    await DeliberationLink.create(
        deliberation=unpublished, subject_type="proposal", subject_id=proposal.id
    )
    found = await decisions.decisions_about("proposal", proposal.id)
    assert [d.id for d in found] == [s.d.id]
    assert await decisions.decisions_about("round", rnd.id) == []
