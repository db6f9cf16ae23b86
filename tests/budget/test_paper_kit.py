"""Paper ballots that grid workers can trust: residents with the same name told apart by
household and voted state, a confirmation step, the round switch, and the offline kit
(printable ballot, roll, receipt slip with a QR code)."""

from __future__ import annotations

import re

from budget.models import Ballot, Phase, ProposalStatus
from budget.services import voting
from core.models import AuditEntry, Notification, Role
from tests.helpers import (
    login,
    make_area,
    make_proposal,
    make_round,
    make_user,
    page_text,
    post_form,
)

FEASIBLE = ProposalStatus.FEASIBLE


async def setup():
    east = await make_area("East Gate")
    west = await make_area("West Bank")
    rnd = await make_round(
        "Spring round",
        phase=Phase.VOTING,
        fund_fen=150_000_00,
        envelopes={east: 100_000_00, west: 40_000_00, None: 50_000_00},
    )
    alice = await make_user("alice", area=east)
    p = {
        "benches": await make_proposal(rnd, alice, "Benches", 40_000_00, east, FEASIBLE),
        "lights": await make_proposal(rnd, alice, "Lights", 50_000_00, east, FEASIBLE),
        "library": await make_proposal(rnd, alice, "Library", 30_000_00, None, FEASIBLE),
        "wharf": await make_proposal(rnd, alice, "Wharf", 30_000_00, west, FEASIBLE),
    }
    grid = await make_user("grid", role=Role.GRID_WORKER, area=east)
    tang1 = await make_user("tang1", area=east, display_name="Tang Jiahao")
    tang2 = await make_user("tang2", area=east, display_name="Tang Jiahao")
    tang1.household = "Building 3, room 201"
    tang2.household = "Building 7, room 502"
    await tang1.save()
    await tang2.save()
    await voting.cast_ballot(tang2, rnd.id, {p["benches"].id: 1})
    return rnd, east, west, grid, tang1, tang2, p


def rows(html: str) -> list[str]:
    return [page_text(r) for r in re.findall(r"<tr>(.*?)</tr>", html, re.S)]


async def test_same_name_residents_told_apart_by_household_and_vote(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await login(client, "grid")
    page = await client.get("/budget/paper", params={"round": rnd.id, "q": "Tang"})
    assert page.status_code == 200
    tangs = [r for r in rows(page.text) if "Tang Jiahao" in r]
    assert len(tangs) == 2
    one = next(r for r in tangs if "Building 3, room 201" in r)
    two = next(r for r in tangs if "Building 7, room 502" in r)
    assert "Not yet voted" in one and "Enter the paper ballot" in one
    assert "Has voted (online)" in two and "No paper ballot possible" in two


async def test_confirmation_step_before_the_ballot_form(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await login(client, "grid")
    page = await client.get("/budget/paper", params={"round": rnd.id})
    confirm_url = f"/budget/rounds/{rnd.id}/paper/{tang1.id}/confirm"
    assert confirm_url in page.text
    confirm = await client.get(confirm_url)
    assert confirm.status_code == 200
    text = page_text(confirm.text)
    assert "Is this the person?" in text
    assert "Tang Jiahao" in text and "Building 3, room 201" in text and "East Gate" in text
    assert "Not yet voted" in text
    assert 'name="project"' not in confirm.text  # not the ballot yet
    assert f'href="http://testserver/budget/rounds/{rnd.id}/paper/{tang1.id}"' in confirm.text
    # the one who voted online: said so, no way on to a ballot
    other = await client.get(f"/budget/rounds/{rnd.id}/paper/{tang2.id}/confirm")
    assert "already voted online" in page_text(other.text)
    assert f'/paper/{tang2.id}"' not in other.text
    assert await Ballot.filter(voter_id=tang1.id).count() == 0


async def test_confirmation_refused_outside_the_area_and_to_residents(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    wes = await make_user("wes", area=west)
    await login(client, "grid")
    assert (await client.get(f"/budget/rounds/{rnd.id}/paper/{wes.id}/confirm")).status_code == 403
    client.cookies.clear()
    await login(client, "tang1")
    assert (
        await client.get(f"/budget/rounds/{rnd.id}/paper/{tang2.id}/confirm")
    ).status_code == 403


async def test_round_switch_with_two_rounds_in_voting(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    autumn = await make_round(
        "Autumn round", phase=Phase.VOTING, envelopes={east: 10_000_00, None: 10_000_00}
    )
    await login(client, "grid")
    first = await client.get("/budget/paper")
    assert "Choose a round first." in page_text(first.text)
    # without JavaScript: the round form's button sends ?round=
    assert re.search(r'<select id="round" name="round">', first.text)
    assert "Show this round" in first.text
    for chosen, voted_tang2 in ((rnd, True), (autumn, False)):
        page = await client.get("/budget/paper", params={"round": chosen.id})
        assert "Choose a round first." not in page_text(page.text)
        assert f'<option value="{chosen.id}" selected>' in page.text
        assert f"/budget/rounds/{chosen.id}/paper/{tang1.id}/confirm" in page.text
        tang2_row = next(r for r in rows(page.text) if "Building 7, room 502" in r)
        assert ("Has voted (online)" in tang2_row) is voted_tang2
    # with htmx: changing the select asks for the rest of the page, which comes alone
    fragment = await client.get(
        "/budget/paper",
        params={"round": autumn.id},
        headers={"HX-Request": "true", "HX-Target": "round-body"},
    )
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert 'id="round-body"' in fragment.text
    assert f"/budget/rounds/{autumn.id}/paper/{tang1.id}/confirm" in fragment.text
    assert f"/budget/rounds/{autumn.id}/paper/kit" in fragment.text
    search = await client.get(
        "/budget/paper",
        params={"round": autumn.id, "q": "tang1"},
        headers={"HX-Request": "true", "HX-Target": "residents"},
    )
    assert 'id="round-body"' not in search.text and 'id="residents"' in search.text
    assert "tang1" in search.text and "tang2" not in search.text


async def test_printable_ballot_of_the_area(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await login(client, "grid")
    page = await client.get(f"/budget/rounds/{rnd.id}/paper/kit")
    assert page.status_code == 200
    text = page_text(page.text)
    assert "Spring round" in text and "Paper ballot · East Gate" in text
    assert "How to vote" in text
    numbered = rows(page.text)
    assert any(r.startswith("1 ") and "¥" in r for r in numbered)
    titles = " ".join(numbered)
    assert "Benches" in titles and "Lights ¥50,000" in titles and "Library ¥30,000" in titles
    assert "Wharf" not in titles  # another area's project
    svg = re.search(r"<svg[^>]*>.*?</svg>", page.text, re.S)
    assert svg is not None and 'class="qr"' in svg.group(0)
    assert "style=" not in svg.group(0)  # the CSP allows no inline style
    assert f"/budget/rounds/{rnd.id}" in text  # the round's address, printed too
    # a grid worker prints their own area only
    west_kit = await client.get(f"/budget/rounds/{rnd.id}/paper/kit", params={"area": west.id})
    assert west_kit.status_code == 403


async def test_printable_roll_shows_household_and_voted_only(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await login(client, "grid")
    page = await client.get(f"/budget/rounds/{rnd.id}/paper/kit/roll")
    assert page.status_code == 200
    table = rows(page.text)
    one = next(r for r in table if "Building 3, room 201" in r)
    two = next(r for r in table if "Building 7, room 502" in r)
    assert one.endswith("Not yet voted") and two.endswith("Voted")
    assert "Benches" not in page_text(page.text)  # never what anyone chose
    assert (
        "receipt" not in page.text.lower()
        or voting.format_receipt((await Ballot.get(voter_id=tang2.id)).receipt) not in page.text
    )


async def test_kit_pages_refused_to_residents_and_visitors(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    urls = [f"/budget/rounds/{rnd.id}/paper/kit", f"/budget/rounds/{rnd.id}/paper/kit/roll"]
    for url in urls:
        anonymous = await client.get(url)
        assert anonymous.status_code in (302, 303, 401, 403)
        assert "Building 3" not in anonymous.text
    await login(client, "tang1")
    for url in urls:
        assert (await client.get(url)).status_code == 403


async def test_council_chooses_the_area_of_the_kit(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await make_user("chair", role=Role.COUNCIL)
    await login(client, "chair")
    page = await client.get(f"/budget/rounds/{rnd.id}/paper/kit", params={"area": west.id})
    assert page.status_code == 200 and "Wharf" in page_text(page.text)
    assert "Paper ballot · West Bank" in page_text(page.text)


async def test_receipt_slip_has_code_as_text_and_qr(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await login(client, "grid")
    saved = await post_form(
        client, f"/budget/rounds/{rnd.id}/paper/{tang1.id}", {"project": [str(p["lights"].id)]}
    )
    assert saved.status_code == 303
    slip = await client.get(saved.headers["location"])
    code = voting.format_receipt((await Ballot.get(voter_id=tang1.id)).receipt)
    assert code in page_text(slip.text)
    svg = re.search(r"<svg[^>]*>.*?</svg>", slip.text, re.S)
    assert svg is not None and "style=" not in svg.group(0)
    assert "data-print" in slip.text and "js/print.js" in slip.text


async def test_refused_paper_ballot_writes_nothing(client, db):
    rnd, east, west, grid, tang1, tang2, p = await setup()
    await make_user("admin", role=Role.ADMIN)
    await login(client, "admin")
    audit_before = await AuditEntry.all().count()
    notes_before = await Notification.all().count()
    refused = await post_form(
        client, f"/budget/rounds/{rnd.id}/paper/{tang1.id}", {"project": [str(p["lights"].id)]}
    )
    assert refused.status_code == 403
    assert await Ballot.filter(voter_id=tang1.id).count() == 0
    assert await AuditEntry.all().count() == audit_before
    assert await Notification.all().count() == notes_before
