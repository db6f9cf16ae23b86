"""Imported elections are studies, not the district's rounds: kept off the home page, the
proposal list and the district's counts; listed for staff, public when the council says so;
turnout from the file's own count; a file is imported once."""

from __future__ import annotations

import pytest

from budget.models import Ballot, Phase, Proposal, ProposalStatus, Round
from budget.services import studies
from budget.services.pabulib_export import export_pb
from budget.services.pabulib_import import import_pabulib
from core.errors import NotFound, PermissionDenied
from core.models import AuditEntry, Role
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.budget.test_pabulib_routes import upload
from tests.helpers import (
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)

# SMALL_FILE: "Tiny test 2025", projects Big park (funded), Lamps, Project p3; 3 voters.
TITLE = "Tiny test 2025"


async def district_and_study():
    """A district (an area, residents, a round with a funded proposal) and an imported study."""
    east = await make_area("East Gate")
    residents = [await make_user(f"r{i}", area=east) for i in range(4)]
    council = await make_user("council", role=Role.COUNCIL)
    rnd = await make_round("2026 micro-projects", phase=Phase.VOTING)
    await make_proposal(rnd, residents[0], "Benches by the canal", status=ProposalStatus.FEASIBLE)
    study = await import_pabulib(council, "tiny.pb", SMALL_FILE.encode())
    park = await Proposal.get(round_id=study.id, external_id="p1")
    assert park.status == ProposalStatus.FUNDED  # counted with its rule
    return rnd, study, park, council


async def assert_not_among_the_districts(client, study: Round, park: Proposal) -> None:
    home = page_text((await client.get("/budget/")).text)
    assert "2026 micro-projects" in home
    assert TITLE not in home
    listing = await client.get("/budget/proposals")
    text = page_text(listing.text)
    assert "Benches by the canal" in text and "1 proposal found." in text
    assert "Big park" not in text and "Lamps" not in text and TITLE not in text
    funded = page_text((await client.get("/budget/proposals?status=funded")).text)
    assert "0 proposals found." in funded and "Big park" not in funded
    by_round = page_text((await client.get(f"/budget/proposals?round={study.id}")).text)
    assert "0 proposals found." in by_round
    searched = page_text((await client.get("/budget/proposals?q=park")).text)
    assert "0 proposals found." in searched


async def test_an_import_is_not_a_round_of_the_district_for_residents(client, db):
    rnd, study, park, _council = await district_and_study()
    for who in (None, "r0"):
        client.cookies.clear()
        if who:
            await login(client, who)
        await assert_not_among_the_districts(client, study, park)
        # private: not listed, and its pages are not there for them
        listed = page_text((await client.get("/budget/studies")).text)
        assert TITLE not in listed and "No imported election is public yet." in listed
        for path in (
            f"/budget/studies/{study.id}",
            f"/budget/rounds/{study.id}",
            f"/budget/rounds/{study.id}/results",
            f"/budget/rounds/{study.id}/export.pb",
            f"/budget/proposals/{park.id}",
        ):
            assert (await client.get(path)).status_code == 404, path
        assert "/budget/studies" not in (await client.get("/budget/")).text


async def test_staff_find_it_under_imported_elections(client, db):
    rnd, study, park, _council = await district_and_study()
    await login(client, "council")
    await assert_not_among_the_districts(client, study, park)
    home = await client.get("/budget/")
    assert '/budget/studies"' in home.text  # the staff navigation
    listed = page_text((await client.get("/budget/studies")).text)
    assert f"{TITLE} Private" in listed and "Import an election (.pb)" in listed
    page = await client.get(f"/budget/studies/{study.id}")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Private: only council members can see this imported election." in text
    assert "Rule: Method of Equal Shares" in text and "Big park" in text
    assert "Publish this imported election" in text
    assert "The whole budget" in text and "District-wide" not in text
    assert f"/budget/rounds/{study.id}/results/compare" in page.text
    assert f"/budget/rounds/{study.id}/export.pb" in page.text
    for path in (f"/budget/rounds/{study.id}", f"/budget/rounds/{study.id}/results"):
        moved = await client.get(path)
        assert moved.status_code == 303
        assert moved.headers["location"].endswith(f"/budget/studies/{study.id}")
    compare = await client.get(f"/budget/rounds/{study.id}/results/compare")
    assert compare.status_code == 200
    compared = page_text(compare.text)
    assert "All voters 3" in compared and "The whole budget" in compared
    assert "Whole district" not in compared and "District-wide" not in compared
    export = await client.get(f"/budget/rounds/{study.id}/export.pb")
    assert export.status_code == 200 and "Big park" in export.text
    detail = page_text((await client.get(f"/budget/proposals/{park.id}")).text)
    assert f"A project of the imported election {TITLE}" in detail
    assert "Votes 2 Imported from tiny.pb · project p1" in detail
    assert "a former resident" not in detail and "support this proposal" not in detail
    assert "District-wide" not in detail
    # nothing of the district's workflow applies to it
    assert (await client.get(f"/budget/rounds/{study.id}/edit")).status_code == 403
    assert (await client.get(f"/budget/rounds/{study.id}/advance")).status_code == 403


async def test_the_council_publishes_it_and_makes_it_private_again(client, db):
    rnd, study, park, council = await district_and_study()
    await login(client, "council")
    url = f"/budget/studies/{study.id}/visibility"
    confirm = await client.get(url + "?public=1")
    assert confirm.status_code == 200
    assert "Everyone, without signing in, will see it" in page_text(confirm.text)
    unticked = await post_form(client, url, {"public": "1"})
    assert unticked.status_code == 422 and "Tick the box to confirm." in page_text(unticked.text)
    assert not (await Round.get(id=study.id)).study_public
    done = await post_form(client, url, {"public": "1", "confirm": "1"})
    assert done.status_code == 303 and done.headers["location"].endswith(f"/studies/{study.id}")
    entry = await AuditEntry.get(action="study.published", subject_id=study.id)
    assert entry.actor_id == council.id and entry.detail["title"] == TITLE

    client.cookies.clear()
    await assert_not_among_the_districts(client, study, park)  # still not the district's
    home = await client.get("/budget/")
    assert '/budget/studies"' in home.text  # the public finds it from the home page
    listed = page_text((await client.get("/budget/studies")).text)
    assert TITLE in listed and "Private" not in listed
    text = page_text((await client.get(f"/budget/studies/{study.id}")).text)
    assert "Big park" in text and "Funded in step" in text
    assert "Publish this imported election" not in text and "Make it private" not in text
    assert (await client.get(f"/budget/proposals/{park.id}")).status_code == 200
    assert (await client.get(f"/budget/rounds/{study.id}/export.pb")).status_code == 200
    await login(client, "r0")
    assert (await client.get(f"/budget/rounds/{study.id}/results/compare")).status_code == 403
    assert (await client.get(url)).status_code == 403
    refused = await post_form(client, url, {"public": "0", "confirm": "1"})
    assert refused.status_code == 403 and (await Round.get(id=study.id)).study_public

    client.cookies.clear()
    await login(client, "council")
    again = await post_form(client, url, {"public": "0", "confirm": "1"})
    assert again.status_code == 303
    assert await AuditEntry.exists(action="study.unpublished", subject_id=study.id)
    client.cookies.clear()
    assert (await client.get(f"/budget/studies/{study.id}")).status_code == 404
    assert TITLE not in page_text((await client.get("/budget/studies")).text)


async def test_publishing_is_for_the_council(db):
    _rnd, study, _park, council = await district_and_study()
    resident = await make_user("reader", area=None)
    with pytest.raises(PermissionDenied):
        await studies.set_study_public(resident, study.id, True, confirmed=True)
    with pytest.raises(NotFound):
        await studies.set_study_public(council, _rnd.id, True, confirmed=True)  # not a study
    rnd, changed = await studies.set_study_public(council, study.id, True, confirmed=True)
    assert rnd.study_public and changed
    rnd, changed = await studies.set_study_public(council, study.id, True, confirmed=True)
    assert rnd.study_public and not changed
    assert await AuditEntry.filter(action="study.published").count() == 1


async def test_turnout_is_the_files_own_count(client, db):
    """Four residents live in the district; the file says 5 voted and holds 3 votes."""
    _rnd, study, _park, _council = await district_and_study()
    text = SMALL_FILE.replace("description;Tiny test\n", "description;Counted\nnum_votes;5\n")
    other = await import_pabulib(None, "counted.pb", text.encode())
    await login(client, "council")
    for rnd, voters in ((study, 3), (other, 5)):
        page = await client.get(f"/budget/rounds/{rnd.id}/results", follow_redirects=True)
        shown = page_text(page.text)
        assert f"Voters (the file's count) {voters}" in shown
        assert "Ballots imported 3" in shown
        assert "Eligible residents" not in shown and "Whole district" not in shown
        assert "Turnout" not in shown and "%" not in shown.split("Voters (the file", 1)[1]
        assert ("differs from the ballots" in shown) == (rnd is other)
    assert (await Round.get(id=other.id)).study_voters == 5


async def test_the_same_file_twice_is_refused_naming_the_study(client, db):
    council = await make_user("council", role=Role.COUNCIL)
    first = await import_pabulib(council, "tiny.pb", SMALL_FILE.encode())
    with pytest.raises(studies.AlreadyImported) as info:
        await import_pabulib(council, "renamed.pb", SMALL_FILE.encode())
    assert info.value.study.id == first.id
    assert f"already been imported: it is the imported election {TITLE}" in info.value.message
    windows = ("\ufeff" + SMALL_FILE.replace("\n", "\r\n")).encode()  # same file, saved elsewhere
    with pytest.raises(studies.AlreadyImported):
        await import_pabulib(None, "tiny.pb", windows)
    assert await Round.all().count() == 1
    assert await Ballot.all().count() == 3

    await login(client, "council")
    again = await upload(client, "tiny.pb", SMALL_FILE.encode())
    assert again.status_code == 409
    text = page_text(again.text)
    assert f"This file has already been imported: it is the imported election {TITLE}" in text
    assert f'/budget/studies/{first.id}"' in again.text
    assert await Round.all().count() == 1


async def test_another_file_with_the_same_title_gets_a_number(db):
    council = await make_user("council", role=Role.COUNCIL)
    first = await import_pabulib(council, "tiny.pb", SMALL_FILE.encode())
    exported = await export_pb(council, first.id)  # re-importing an export: another file
    second = await import_pabulib(council, "tiny_export.pb", exported.text.encode())
    third = await import_pabulib(council, "t3.pb", SMALL_FILE.replace("v3;p3", "v3;p2").encode())
    assert [first.title, second.title, third.title] == [TITLE, f"{TITLE} (2)", f"{TITLE} (3)"]
    district = await make_round(f"{TITLE} (4)")  # a district round's title is no study's
    fourth = await import_pabulib(None, "t4.pb", SMALL_FILE.replace("v2;p1", "v2;p2").encode())
    assert fourth.title == f"{TITLE} (4)" and district.title == fourth.title
