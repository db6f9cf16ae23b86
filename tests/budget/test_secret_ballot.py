"""The secret ballot: residents cast ballots online and on paper; then every page and export
that each staff role can open, and the audit log itself, are scanned for anything that links
a ballot to a resident (a ballot id, a receipt code, the order of casting, a ballot's time).
"""

from __future__ import annotations

import itertools
import json
import re

from budget.models import (
    Ballot,
    BallotType,
    Channel,
    Envelope,
    Outcome,
    Phase,
    Proposal,
    ProposalStatus,
)
from budget.pabulib import parse_pb
from budget.services import results, voting
from core.models import AuditEntry, Role, User
from tests.helpers import login, make_area, make_proposal, make_round, make_user, page_text
from tests.test_pages import _walk

FEASIBLE = ProposalStatus.FEASIBLE
STAFF = ("council", "admin", "finance", "grid")
BALLOT_ACTIONS = ("ballot.cast", "ballot.changed", "ballot.paper_entered", "ballot.paper_corrected")


async def cast_district():
    """East Gate: six projects; 22 of its residents vote, each for a different set of them
    (3 on paper, entered by the grid worker; one changes an online vote), a third of them
    for the district-wide project too; West Bank: two voters. Returns the round, the
    residents in the order they voted, each one's choices, the area and the district-wide
    project."""
    east, west = await make_area("East Gate"), await make_area("West Bank")
    rnd = await make_round(
        "Secret round",
        phase=Phase.VOTING,
        ballot_type=BallotType.BUDGET_APPROVAL,
        fund_fen=2_000_000_00,
        rule="equal-shares",
        envelopes={east: 1_000_000_00, west: 500_000_00, None: 500_000_00},
    )
    east_projects = [
        await make_proposal(rnd, None, f"East {i}", (10 + i) * 1_000_00, east, FEASIBLE)
        for i in range(6)
    ]
    west_projects = [
        await make_proposal(rnd, None, f"West {i}", 20_000_00, west, FEASIBLE) for i in range(2)
    ]
    district = await make_proposal(rnd, None, "Canal path", 50_000_00, None, FEASIBLE)
    for username, role, area in (
        ("council", Role.COUNCIL, None),
        ("admin", Role.ADMIN, None),
        ("finance", Role.FINANCE, None),
        ("grid", Role.GRID_WORKER, east),
    ):
        await make_user(username, role=role, area=area)
    worker = await User.get(username="grid")
    subsets = [
        {p.id for p in combo}
        for size in (1, 2, 3)
        for combo in itertools.combinations(east_projects, size)
    ]
    voters, chosen = [], {}
    for i, subset in enumerate(subsets[:22]):
        user = await make_user(f"e{i:02}", area=east, display_name=f"Resident {i:02}")
        picks = subset | ({district.id} if i % 3 == 0 else set())
        if is_paper(user):
            await voting.enter_paper_ballot(worker, rnd.id, user.id, dict.fromkeys(picks, 1))
        else:
            if i == 7:  # a change keeps the ballot (and its place): the last choice counts
                await voting.cast_ballot(user, rnd.id, {district.id: 1})
            await voting.cast_ballot(user, rnd.id, dict.fromkeys(picks, 1))
        voters.append(user)
        chosen[user.id] = picks
    for i, project in enumerate(west_projects):
        user = await make_user(f"w{i}", area=west)
        await voting.cast_ballot(user, rnd.id, {project.id: 1})
        voters.append(user)
        chosen[user.id] = {project.id}
    return rnd, voters, chosen, east, district


def is_paper(user: User) -> bool:
    return user.username.startswith("e") and int(user.username[1:]) % 6 == 5


def _fill(path: str, ids: dict[str, int]) -> str:
    for key, value in ids.items():
        path = path.replace("{" + key + ":int}", str(value))
    return path


async def staff_urls(app, rnd, voters, east) -> list[str]:
    """Every GET page of the app, each page about a resident once per voter, and the lists
    that a query opens (a round's proposals, the paper-ballot residents, the audit log)."""
    proposal = await rnd.proposals.all().first()
    fixed = {"round_id": rnd.id, "proposal_id": proposal.id, "area_id": east.id, "photo_id": 9}
    urls = []
    for path, methods in _walk(app.routes):
        if "GET" not in methods or path.startswith("/static") or path in ("/logout", "/language"):
            continue
        if "{user_id:int}" in path:
            urls += [_fill(path, {**fixed, "user_id": v.id}) for v in voters]
        else:
            urls.append(_fill(path, fixed))
    urls += [
        f"/budget/proposals?round={rnd.id}",
        f"/budget/paper?round={rnd.id}",
        *(f"/budget/paper?round={rnd.id}&page={n}" for n in (2, 3)),
        *(f"/audit?page={n}" for n in range(1, 5)),
        *(f"/audit?action={action}" for action in BALLOT_ACTIONS),
    ]
    return urls


def receipts_in(text: str, codes: dict[str, int]) -> set[int]:
    """The voters whose receipt code (as stored or as printed) appears in `text`."""
    return {
        voter
        for code, voter in codes.items()
        if code in text or voting.format_receipt(code) in text
    }


async def scan_pages(client, app, rnd, voters, east) -> int:
    """As each staff role, open every page: no receipt code of anyone (but the receipt a grid
    worker writes on the slip of a paper ballot they may still correct), no ballot named in
    the audit log, no online ballot's choices on a paper-ballot form."""
    ballots = {b.voter_id: b for b in await Ballot.filter(round_id=rnd.id)}
    codes = {b.receipt: voter for voter, b in ballots.items()}
    paper = {voter for voter, b in ballots.items() if b.channel == Channel.PAPER}
    opened = 0
    for username in STAFF:
        client.cookies.clear()
        await login(client, username)
        for url in await staff_urls(app, rnd, voters, east):
            response = await client.get(url)
            assert response.status_code < 500, url
            if response.status_code != 200:
                continue
            opened += 1
            allowed = set()
            match = re.fullmatch(rf"/budget/rounds/{rnd.id}/paper/(\d+)/receipt", url)
            if match and username == "grid" and rnd.phase == Phase.VOTING:
                allowed = {int(match.group(1))} & paper
            assert receipts_in(response.text, codes) <= allowed, (username, url)
            assert "ballot #" not in page_text(response.text), (username, url)
            match = re.fullmatch(rf"/budget/rounds/{rnd.id}/paper/(\d+)", url)
            if match and int(match.group(1)) not in paper:
                assert not re.search(r'name="project"[^>]* checked', response.text), url
    return opened


def check_audit_log(entries, rnd, voters, codes, chosen) -> None:
    """Who voted, in which round and how: yes. Which ballot, its receipt or its choices: no."""
    voted = set()
    for entry in entries:
        assert entry.subject_type != "ballot", entry.action
        dumped = json.dumps(entry.detail)
        assert not any(code in dumped for code in codes), entry.action
        if entry.action in BALLOT_ACTIONS:
            assert (entry.subject_type, entry.subject_id) == ("round", rnd.id)
            assert set(entry.detail) <= {"channel", "resident"}, entry.detail
            if entry.detail["channel"] == Channel.PAPER:
                assert entry.action.startswith("ballot.paper_")
                voted.add(entry.detail["resident"])
            else:
                assert "resident" not in entry.detail
                voted.add(entry.actor_id)
    assert voted == {v.id for v in voters} == set(chosen)


async def export_order(client, rnd, envelope_id, chosen) -> tuple[list[int], str]:
    """The voters (recognised by their unique sets of choices) in the order an export of the
    envelope lists their ballots, and the file's text."""
    response = await client.get(f"/budget/rounds/{rnd.id}/export.pb?envelope={envelope_id}")
    assert response.status_code == 200
    pb = parse_pb(response.text)
    assert [v.voter_id for v in pb.votes] == [str(i) for i in range(1, len(pb.votes) + 1)]
    voter_of = {frozenset(str(p) for p in picks): voter for voter, picks in chosen.items()}
    return [voter_of[frozenset(v.projects)] for v in pb.votes], response.text


async def test_nothing_staff_can_open_links_a_ballot_to_a_resident(app, client, db):
    rnd, voters, chosen, east, district = await cast_district()
    ballots = await Ballot.filter(round_id=rnd.id).order_by("id")
    cast_order = [b.voter_id for b in ballots]
    codes = {b.receipt: b.voter_id for b in ballots}
    assert len(ballots) == 24 and sum(b.channel == Channel.PAPER for b in ballots) == 3

    # while voting is open
    assert await scan_pages(client, app, rnd, voters, east) > 50
    # counted, published: the results, the proposals and the ballots as files are public
    council = await User.get(username="council")
    rnd.phase = Phase.RESULTS
    await rnd.save()
    await results.compute_results(council, rnd.id)
    await results.publish_results(council, rnd.id)
    await rnd.refresh_from_db()
    assert await scan_pages(client, app, rnd, voters, east) > 50

    check_audit_log(await AuditEntry.all(), rnd, voters, codes, chosen)

    # the .pb file of East Gate, as each staff role downloads it: fresh voter numbers, a new
    # random order every time (never the order of casting), no time, name or receipt
    envelope = await Envelope.get(round_id=rnd.id, area_id=east.id)
    east_voters = [v for v in cast_order if v in {u.id for u in voters[:22]}]
    east_chosen = {v: chosen[v] - {district.id} for v in east_voters}
    orders = []
    for username in STAFF:
        client.cookies.clear()
        await login(client, username)
        order, text = await export_order(client, rnd, envelope.id, east_chosen)
        assert sorted(order) == sorted(east_voters)
        assert order != east_voters
        orders.append(order)
        votes = text[text.index("VOTES\n") :]
        assert votes.startswith("VOTES\nvoter_id;vote\n")  # no other column: no time
        assert not re.search(r"\d\d:\d\d|\d{4}-\d\d-\d\d", text)
        assert not receipts_in(text, codes)
        assert not any(v.username in text or v.display_name in text for v in voters)
    assert len({tuple(order) for order in orders}) == len(orders)


async def test_the_count_does_not_follow_the_order_of_casting(db):
    """The frozen outcome (with its certificate: which voters paid for what, by index) is the
    same whatever order the same ballots were cast in: the count does not read them in the
    order of casting, which the audit log shows."""
    rnd, voters, chosen, east, _district = await cast_district()
    council = await User.get(username="council")

    async def frozen_after_casting(order):
        rnd.phase = Phase.VOTING
        await rnd.save()
        await Ballot.filter(round_id=rnd.id).delete()
        await Proposal.filter(round_id=rnd.id).update(status=FEASIBLE)  # on the ballot again
        worker = await User.get(username="grid")
        for user in order:
            picks = dict.fromkeys(chosen[user.id], 1)
            if is_paper(user):
                await voting.enter_paper_ballot(worker, rnd.id, user.id, picks)
            else:
                await voting.cast_ballot(user, rnd.id, picks)
        rnd.phase = Phase.RESULTS
        await rnd.save()
        await results.compute_results(council, rnd.id)
        rows = await Outcome.filter(round_id=rnd.id).order_by("envelope_id")
        return [row.data for row in rows]

    first = await frozen_after_casting(voters)
    again = await frozen_after_casting(list(reversed(voters)))
    assert any(
        group["voters"]
        for data in first
        for expl in data["explanations"].values()
        for group in expl.get("payments", [])
    )
    assert again == first


async def test_receipt_codes_stay_out_of_urls(client, db):
    """A receipt code is never put in a URL (where access logs, proxies and the browser's
    history keep it): the voter's receipt page checks it with a POST, and the public check
    does not look a code up from the query string."""
    rnd, voters, _chosen, _east, _district = await cast_district()
    voter = voters[0]
    code = (await Ballot.get(voter_id=voter.id)).receipt
    await login(client, voter.username)
    page = await client.get(f"/budget/rounds/{rnd.id}/ballot/receipt")
    assert voting.format_receipt(code) in page_text(page.text)  # the voter's own
    urls = re.findall(r'(?:href|action|hx-get|hx-post)="([^"]*)"', page.text)
    assert urls and not any(code in url for url in urls)
    assert re.search(r'<form method="post" action="[^"]*/budget/receipt"', page.text)

    client.cookies.clear()
    response = await client.get("/budget/receipt", params={"code": code})
    assert response.status_code == 200
    text = page_text(response.text)
    assert "This ballot is recorded" not in text and voting.format_receipt(code) not in text
