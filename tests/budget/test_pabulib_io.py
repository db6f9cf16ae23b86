"""Pabulib import and export services, the rule comparison and the frozen certificates.

Real files come from $PABULIB_DIR, else ../shared/pabulib (tests/fixtures/pabulib_files.py;
the small ones only); pabutools (a test-only dependency) must read every export and reproduce
our count.
"""

from __future__ import annotations

import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from budget.models import (
    Ballot,
    BallotChoice,
    BallotType,
    Channel,
    ComparisonCache,
    Envelope,
    Outcome,
    Phase,
    Proposal,
    ProposalStatus,
    Round,
)
from budget.pabulib import election_from_pb, parse_pb
from budget.rules import Election, compute_outcome, verify_certificate
from budget.rules.election import Outcome as RuleOutcome
from budget.services import compare, voting
from budget.services import results as svc
from budget.services.counting import UNIT_FEN, EnvelopeCount, load_round_ballots
from budget.services.pabulib_export import export_pb
from budget.services.pabulib_import import import_pabulib
from budget.services.studies import set_study_public
from core.errors import NotFound, PermissionDenied, ValidationError
from core.models import AuditEntry, Role
from tests.budget.test_results_services import counted_round
from tests.fixtures.pabulib_files import pabulib_dir
from tests.fixtures.regen_pabutools import run_pabutools
from tests.helpers import make_area, make_proposal, make_round, make_user

SMALL = ("Netherlands_Assen_2024", "Poland_Czestochowa_2020_Grabowka", "Switzerland_Zurich_D10")
FEASIBLE = ProposalStatus.FEASIBLE


def real_file(stem: str) -> bytes:
    path = pabulib_dir() / f"{stem}.pb"
    if not path.exists():
        pytest.skip(f"{path} is not there (set PABULIB_DIR)")
    return path.read_bytes()


def pabutools_outcome(text: str, tmp_path: Path, rule: str) -> list[str]:
    """What pabutools selects on a .pb text (parsed by pabutools itself)."""
    pytest.importorskip("pabutools")
    from pabutools.election import parse_pabulib

    path = tmp_path / "export.pb"
    path.write_text(text, encoding="utf-8")
    instance, profile = parse_pabulib(str(path))
    points = "vote_type;cumulative" in text
    return sorted(run_pabutools(instance, profile, rule, points))


def frozen(outcome: Outcome) -> list[str]:
    return sorted(outcome.data["selected"])


SMALL_FILE = """META
key;value
description;Tiny test
country;Nowhere
instance;2025
budget;1000.5
vote_type;approval
rule;equalshares/add1
PROJECTS
project_id;cost;name;category
p1;600.25;Big park;urban greenery
p2;400;Lamps;
p3;300;;equipment
VOTES
voter_id;vote
v1;p1,p2
v2;p1
v3;p3
"""


# --- import ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stem", SMALL)
async def test_import_real_files(db, stem):
    data = real_file(stem)
    council = await make_user("council", role=Role.COUNCIL)
    rnd = await import_pabulib(council, f"{stem}.pb", data)
    pb = parse_pb(data.decode("utf-8-sig"))

    rnd = await Round.get(id=rnd.id)
    assert rnd.phase == Phase.RESULTS and rnd.results_published_at is None
    assert rnd.source == f"{stem}.pb"
    assert rnd.is_study and not rnd.study_public and len(rnd.source_digest) == 64
    assert rnd.study_voters == int(pb.meta["num_votes"])
    assert rnd.fund_fen == int(Fraction(pb.budget) * 100)
    assert rnd.title.startswith(pb.meta["description"])
    envelope = await Envelope.get(round_id=rnd.id)
    assert envelope.area_id is None and envelope.budget_fen == rnd.fund_fen
    proposals = await Proposal.filter(round_id=rnd.id).order_by("id")
    assert [p.external_id for p in proposals] == [row["project_id"] for row in pb.projects]
    assert [p.cost_fen for p in proposals] == [pb.costs[p.external_id] * 100 for p in proposals]
    assert all(p.author_id is None for p in proposals)
    assert await Ballot.filter(round_id=rnd.id).count() == len(pb.votes)
    assert not await Ballot.filter(round_id=rnd.id, voter_id__isnull=False).exists()
    assert not await Ballot.exclude(round_id=rnd.id, channel=Channel.IMPORTED).exists()
    assert await BallotChoice.filter(ballot__round_id=rnd.id).count() == sum(
        len(v.projects) for v in pb.votes
    )
    if pb.vote_type == "cumulative":
        assert rnd.ballot_type == BallotType.POINTS
        assert rnd.points_total == int(pb.meta["max_sum_points"])
    # counted with its rule (equal shares where the city used it), same as on the file itself
    expected_rule = "equal-shares" if pb.meta["rule"].startswith("equalshares") else "greedy"
    assert rnd.rule == expected_rule
    outcome = await Outcome.get(round_id=rnd.id)
    ours = compute_outcome(expected_rule, election_from_pb(pb))
    assert frozen(outcome) == sorted(ours.selected)
    assert outcome.total_cost_fen == ours.total_cost * 100
    # a study's count is its result: who sees it is the study's own visibility
    funded = await Proposal.filter(round_id=rnd.id, status=ProposalStatus.FUNDED).count()
    assert funded == len(ours.selected)
    entry = await AuditEntry.get(action="round.import", subject_id=rnd.id)
    assert entry.actor_id == council.id and entry.detail["ballots"] == len(pb.votes)


async def test_import_mapping_decimals_and_generated_texts(db):
    rnd = await import_pabulib(None, "tiny.pb", SMALL_FILE.encode())
    assert rnd.title == "Tiny test 2025"
    assert rnd.fund_fen == 1000_50
    assert rnd.ballot_type == BallotType.BUDGET_APPROVAL and rnd.rule == "equal-shares"
    assert rnd.created_by_id is None
    rows = {p.external_id: p for p in await Proposal.filter(round_id=rnd.id)}
    assert rows["p1"].cost_fen == 600_25 and rows["p1"].title == "Big park"
    assert rows["p1"].category == "engineering"  # urban greenery
    assert rows["p2"].category == "service"  # no category: public service
    assert rows["p3"].title == "Project p3" and rows["p3"].category == "equipment"
    assert (
        rows["p3"].description == ""
    )  # its page says where it came from, in the reader's language
    # only the file's own comment is stored: the sentence about the file is written on the
    # page, in the reader's language (tests/test_chinese_pages.py)
    assert rnd.description == ""


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        ("vote_type;approval\nmax_length;2", (BallotType.APPROVAL, 2, None)),
        (
            "vote_type;approval\nmax_length;2\nmax_sum_cost;1000",
            (BallotType.BUDGET_APPROVAL, None, None),
        ),
        ("vote_type;choose-1", (BallotType.APPROVAL, 1, None)),
        ("vote_type;ordinal", (BallotType.APPROVAL, 2, None)),
        ("vote_type;cumulative", (BallotType.POINTS, None, 5)),
        ("vote_type;scoring\nmax_sum_points;10", (BallotType.POINTS, None, 10)),
    ],
)
async def test_import_ballot_types(db, meta, expected):
    points = "cumulative" in meta or "scoring" in meta
    votes = "voter_id;vote;points\n1;a,b;2,3\n2;b;1\n" if points else "voter_id;vote\n1;b,a\n2;b\n"
    if "choose-1" in meta:
        votes = "voter_id;vote\n1;b\n2;a\n"
    text = (
        f"META\nkey;value\nbudget;1000\n{meta}\nPROJECTS\nproject_id;cost\na;600\nb;500\n"
        f"VOTES\n{votes}"
    )
    rnd = await import_pabulib(None, "t.pb", text.encode())
    assert (rnd.ballot_type, rnd.max_choices, rnd.points_total) == expected
    if points:
        pts = sorted(
            await BallotChoice.filter(ballot__round_id=rnd.id).values_list("points", flat=True)
        )
        assert pts == [1, 2, 3]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        (SMALL_FILE.replace("v3;p3", "v3;p9"), 18, "unknown project 'p9'"),
        (SMALL_FILE.replace("600.25", "600.255"), 11, "fraction of a fen"),
        (SMALL_FILE.replace("budget;1000.5", "budget;1000.555"), 6, "fraction of a fen"),
        (SMALL_FILE.replace("p2;400;", "p2;0;"), 12, "costs nothing"),
        (SMALL_FILE.replace("p2;400;Lamps;", "p2;lots;Lamps;"), 12, "not a number"),
        (
            SMALL_FILE.replace("PROJECTS\n", "").replace("project_id;cost;name;category\n", ""),
            9,
            "fields where the header has 2",
        ),
    ],
)
async def test_malformed_files_name_the_line_and_save_nothing(db, text, line, words):
    council = await make_user("council", role=Role.COUNCIL)
    with pytest.raises(ValidationError) as info:
        await import_pabulib(council, "bad.pb", text.encode())
    message = info.value.errors["file"]
    assert message.startswith(f"Line {line}:"), message
    assert words in message
    assert await Round.all().count() == 0
    assert await Proposal.all().count() == 0 and await Ballot.all().count() == 0


async def test_not_utf8_and_empty_files_are_refused(db):
    with pytest.raises(ValidationError) as info:
        await import_pabulib(None, "x.pb", b"META\nkey;value\ndescription;\xff\xfe\n")
    assert "Line 3" in info.value.message and "UTF-8" in info.value.message
    with pytest.raises(ValidationError):
        await import_pabulib(None, "x.pb", b"  \n")


async def test_a_failure_half_way_leaves_nothing(db, monkeypatch):
    async def broken(conn, rnd, actor):
        raise RuntimeError("the count failed")

    monkeypatch.setattr(svc, "freeze_count", broken)
    with pytest.raises(RuntimeError):
        await import_pabulib(None, "tiny.pb", SMALL_FILE.encode())
    assert await Round.all().count() == 0
    assert await Proposal.all().count() == 0
    assert await Ballot.all().count() == 0 and await BallotChoice.all().count() == 0
    assert await AuditEntry.all().count() == 0


async def test_only_council_imports(db):
    area = await make_area()
    resident = await make_user("resident", area=area)
    with pytest.raises(PermissionDenied):
        await import_pabulib(resident, "tiny.pb", SMALL_FILE.encode())
    assert await Round.all().count() == 0


async def test_empty_vote_still_counts_as_a_voter(db):
    text = SMALL_FILE.replace("v3;p3\n", "v3;p3\nv4;\n")
    rnd = await import_pabulib(None, "tiny.pb", text.encode())
    outcome = await Outcome.get(round_id=rnd.id)
    assert outcome.ballots_counted == 4
    pb = parse_pb(text)
    ours = compute_outcome("equal-shares", election_from_pb(pb))
    assert frozen(outcome) == sorted(ours.selected)


# --- export ---------------------------------------------------------------------------------


async def test_export_app_round_reproduces_greedy_in_pabutools(db, tmp_path):
    rnd, council, p, (east, west) = await counted_round()
    await svc.compute_results(council, rnd.id)
    export = await export_pb(council, rnd.id)  # default: the district-wide envelope
    pb = parse_pb(export.text)
    assert export.filename == f"yishi_round_{rnd.id}.pb"
    assert pb.meta["country"] == "China" and pb.meta["currency"] == "CNY"
    assert pb.meta["budget"] == "50000" and pb.meta["vote_type"] == "approval"
    assert pb.meta["max_sum_cost"] == "50000" and pb.meta["rule"] == "greedy"
    assert pb.meta["num_votes"] == "5" and pb.meta["num_projects"] == "1"
    assert [row["project_id"] for row in pb.projects] == [str(p["D"].id)]
    assert pb.projects[0]["selected"] == "1" and pb.projects[0]["votes"] == "4"
    assert [v.voter_id for v in pb.votes] == ["1", "2", "3", "4", "5"]
    for name in ("east0", "east1", "west1", "Grid", "Council"):
        assert name.lower() not in export.text.lower()
    district = await Outcome.get(round_id=rnd.id, envelope__area_id=None)
    assert pabutools_outcome(export.text, tmp_path, "greedy") == frozen(district)

    east_env = await Envelope.get(round_id=rnd.id, area_id=east.id)
    east_export = await export_pb(council, rnd.id, east_env.id)
    assert east_export.filename == f"yishi_round_{rnd.id}_area_{east.id}.pb"
    east_pb = parse_pb(east_export.text)
    assert east_pb.meta["district"] == "East Gate" and east_pb.meta["budget"] == "100000"
    east_outcome = await Outcome.get(round_id=rnd.id, envelope_id=east_env.id)
    assert pabutools_outcome(east_export.text, tmp_path, "greedy") == frozen(east_outcome)
    assert {r["project_id"]: r["selected"] for r in east_pb.projects} == {
        str(p["A"].id): "1",
        str(p["B"].id): "0",
        str(p["C"].id): "1",
    }


async def test_export_equal_shares_round_reproduces_mes_in_pabutools(db, tmp_path):
    rnd, council, p, (east, west) = await counted_round(rule="equal-shares")
    await svc.compute_results(council, rnd.id)
    for envelope in await Envelope.filter(round_id=rnd.id):
        export = await export_pb(council, rnd.id, envelope.id)
        assert parse_pb(export.text).meta["rule"] == "equalshares/add1"
        outcome = await Outcome.get(round_id=rnd.id, envelope_id=envelope.id)
        assert pabutools_outcome(export.text, tmp_path, "equal-shares") == frozen(outcome)


async def test_export_points_round_with_a_voter_who_gave_nothing_here(db, tmp_path):
    """A points ballot with nothing in an area envelope still counts there (equal shares
    shares the money among all the area's voters): the export keeps that voter."""
    area = await make_area("North")
    rnd = await make_round(
        phase=Phase.VOTING,
        ballot_type=BallotType.POINTS,
        points_total=10,
        fund_fen=100_000_00,
        rule="equal-shares",
        envelopes={area: 60_000_00, None: 40_000_00},
    )
    a = await make_proposal(rnd, None, "A", 30_000_00, area, FEASIBLE)
    b = await make_proposal(rnd, None, "B", 45_000_00, area, FEASIBLE)
    d = await make_proposal(rnd, None, "D", 20_000_00, None, FEASIBLE)
    users = [await make_user(f"u{i}", area=area) for i in range(4)]
    await voting.cast_ballot(users[0], rnd.id, {a.id: 2, b.id: 8})
    await voting.cast_ballot(users[1], rnd.id, {a.id: 5, b.id: 5})
    await voting.cast_ballot(users[2], rnd.id, {b.id: 3, d.id: 7})
    await voting.cast_ballot(users[3], rnd.id, {d.id: 10})  # nothing in North
    rnd.phase = Phase.RESULTS
    await rnd.save()
    council = await make_user("council", role=Role.COUNCIL)
    await svc.compute_results(council, rnd.id)
    envelope = await Envelope.get(round_id=rnd.id, area_id=area.id)
    export = await export_pb(council, rnd.id, envelope.id)
    pb = parse_pb(export.text)
    assert pb.meta["vote_type"] == "cumulative" and pb.meta["max_sum_points"] == "10"
    assert len(pb.votes) == 4
    assert {r["project_id"]: r["score"] for r in pb.projects} == {str(a.id): "7", str(b.id): "16"}
    outcome = await Outcome.get(round_id=rnd.id, envelope_id=envelope.id)
    assert pabutools_outcome(export.text, tmp_path, "equal-shares") == frozen(outcome)
    election = election_from_pb(pb)
    assert len(election.ballots) == 4 and election.ballots.count({}) == 1  # (in any order)


@pytest.mark.slow
@pytest.mark.parametrize("stem", SMALL)
async def test_round_trip_of_real_files(db, stem, tmp_path):
    data = real_file(stem)
    rnd = await import_pabulib(None, f"{stem}.pb", data)
    original = parse_pb(data.decode("utf-8-sig"))
    council = await make_user("council", role=Role.COUNCIL)
    with pytest.raises(PermissionDenied):
        await export_pb(None, rnd.id)  # private until the council publishes it
    await set_study_public(council, rnd.id, True, confirmed=True)
    export = await export_pb(None, rnd.id)  # a published study is public
    again = parse_pb(export.text)
    assert export.filename == f"{stem}.pb"
    assert again.costs == original.costs
    assert [r["project_id"] for r in again.projects] == [r["project_id"] for r in original.projects]
    for key in ("country", "unit", "instance", "currency", "vote_type", "budget"):
        assert again.meta[key] == original.meta[key]

    def votes(pb):
        if pb.vote_type == "cumulative":
            return [dict(zip(v.projects, v.points, strict=True)) for v in pb.votes]
        return [set(v.projects) for v in pb.votes]

    # an imported election's anonymous ballots keep the file's order (no resident to
    # protect), ids renumbered
    assert votes(again) == votes(original)
    assert [v.voter_id for v in again.votes] == [str(i) for i in range(1, len(again.votes) + 1)]
    outcome = await Outcome.get(round_id=rnd.id)
    # which projects the count selected: public with the study
    assert sorted(r["project_id"] for r in again.projects if r["selected"] == "1") == frozen(
        outcome
    )
    staff_export = parse_pb((await export_pb(council, rnd.id)).text)
    selected = {r["project_id"] for r in staff_export.projects if r["selected"] == "1"}
    assert sorted(selected) == frozen(outcome)
    if len(original.votes) <= 300:
        assert pabutools_outcome(export.text, tmp_path, rnd.rule) == frozen(outcome)


async def test_export_permissions(db):
    rnd, council, p, (east, west) = await counted_round()
    resident = await make_user("reader", area=east)
    for who in (None, resident):
        with pytest.raises(PermissionDenied):
            await export_pb(who, rnd.id)  # counted, not published
    await export_pb(council, rnd.id)  # staff always
    await svc.compute_results(council, rnd.id)
    await svc.publish_results(council, rnd.id)
    rnd = await Round.get(id=rnd.id)
    assert "voter_id;vote" in (await export_pb(None, rnd.id)).text
    with pytest.raises(NotFound):
        await export_pb(None, rnd.id, 999_999)

    # never during voting, not even for staff: ballots are secret until the count
    voting_round = await make_round(title="Now voting", phase=Phase.VOTING)
    for who in (None, resident, council):
        with pytest.raises(PermissionDenied):
            await export_pb(who, voting_round.id)


async def test_export_shows_the_selection_only_to_who_may_see_the_results(db):
    """An imported election's file, with which projects its count selected, is for staff
    until the council makes the study public; then for everyone."""
    rnd = await import_pabulib(None, "tiny.pb", SMALL_FILE.encode())
    council = await make_user("council", role=Role.COUNCIL)
    with pytest.raises(PermissionDenied):
        await export_pb(None, rnd.id)
    staff = parse_pb((await export_pb(council, rnd.id)).text)
    assert len(staff.votes) == 3
    assert {r["project_id"]: r["selected"] for r in staff.projects} == {
        "p1": "1",
        "p2": "0",
        "p3": "1",
    }
    await set_study_public(council, rnd.id, True, confirmed=True)
    public = parse_pb((await export_pb(None, rnd.id)).text)
    assert [r["selected"] for r in public.projects] == ["1", "0", "1"]


# --- certificates from the frozen JSON, comparison of rules --------------------------------


def election_of(count: EnvelopeCount, rnd: Round) -> Election:
    return Election(
        budget=count.budget_fen,
        costs=count.costs,
        ballots=count.ballots,
        utility="points" if rnd.ballot_type == BallotType.POINTS else "cost",
        unit=UNIT_FEN,
    )


@pytest.mark.parametrize("rule", ["greedy", "equal-shares"])
async def test_frozen_outcome_is_its_own_certificate(db, rule):
    """The JSON frozen in the database, read back alone, proves the outcome: no supporter
    paid more than their share, every price is right, the budget holds."""
    rnd, council, p, _areas = await counted_round(rule=rule)
    await svc.compute_results(council, rnd.id)
    imported = await import_pabulib(None, "Assen.pb", real_file("Netherlands_Assen_2024"))
    for counted in (await Round.get(id=rnd.id), imported):
        ballots = await load_round_ballots(counted)
        for outcome in await Outcome.filter(round_id=counted.id):
            parsed = RuleOutcome.from_json(outcome.data)
            verify_certificate(election_of(ballots.count_of(outcome.envelope_id), counted), parsed)
            assert parsed.total_cost == outcome.total_cost_fen <= outcome.budget_fen
    assert RuleOutcome.from_json((await Outcome.get(round_id=imported.id)).data).rule == (
        "equal-shares"
    )


async def polarised_round():
    """Six East voters approve A1 and A2, four West voters approve C; 100,000 district-wide,
    every project 50,000. Greedy funds A1 and A2 (East only); equal shares funds A1 and C."""
    east, west = await make_area("East Gate"), await make_area("West Bank")
    rnd = await make_round(phase=Phase.RESULTS, fund_fen=100_000_00)
    a1 = await make_proposal(rnd, None, "A1", 50_000_00, None, FEASIBLE)
    a2 = await make_proposal(rnd, None, "A2", 50_000_00, None, FEASIBLE)
    c = await make_proposal(rnd, None, "C", 50_000_00, None, FEASIBLE)
    voters = [(await make_user(f"e{i}", area=east), [a1, a2]) for i in range(6)]
    voters += [(await make_user(f"w{i}", area=west), [c]) for i in range(4)]
    for user, chosen in voters:
        ballot = await Ballot.create(
            round=rnd, voter=user, area_id=user.area_id, receipt=voting.new_receipt()
        )
        for proposal in chosen:
            await BallotChoice.create(ballot=ballot, proposal=proposal)
    council = await make_user("council", role=Role.COUNCIL)
    return rnd, council, {"A1": a1, "A2": a2, "C": c}


async def test_compare_rules_side_by_side(db):
    rnd, council, p = await polarised_round()
    comparison = await compare.compare_rules(council, rnd.id)
    (env,) = comparison.envelopes
    funded = {line.proposal.title: line.funded for line in env.lines}
    assert funded == {
        "A1": {"greedy": True, "equal-shares": True},
        "A2": {"greedy": True, "equal-shares": False},
        "C": {"greedy": False, "equal-shares": True},
    }
    assert env.changed == 2
    assert env.total_fen == {"greedy": 100_000_00, "equal-shares": 100_000_00}
    assert env.voters.ballots == 10
    assert env.voters.satisfied == {"greedy": 6, "equal-shares": 10}
    rows = {row.label: row for row in comparison.areas}
    assert rows["East Gate"].satisfied == {"greedy": 6, "equal-shares": 6}
    assert rows["West Bank"].satisfied == {"equal-shares": 4}
    assert rows["Whole district"].ballots == 10
    assert rows["Whole district"].share("equal-shares") == 1.0
    assert await Outcome.all().count() == 0  # nothing frozen


def funded_titles(comparison: compare.Comparison) -> list[tuple[str, dict, int]]:
    return [(x.proposal.title, x.funded, x.votes) for x in comparison.envelopes[0].lines]


async def test_compare_counts_again_only_when_what_it_counts_changed(db, monkeypatch):
    """Reloading the comparison does not count the round again — the counts are kept in the
    database (`ComparisonCache`), so another worker process does not count either; a cost
    revised underneath (by another worker process, straight in the database) is counted at
    the next visit."""
    rnd, council, p = await polarised_round()
    counted = []
    real = compare.count_envelopes

    async def counting(rule, *args):
        counted.append(rule)
        return await real(rule, *args)

    monkeypatch.setattr(compare, "count_envelopes", counting)
    first = await compare.compare_rules(council, rnd.id)
    assert await ComparisonCache.filter(round_id=rnd.id).count() == 1
    again = await compare.compare_rules(council, rnd.id)
    assert counted == ["greedy", "equal-shares"]
    assert funded_titles(again) == funded_titles(first)
    await Proposal.filter(id=p["C"].id).update(revised_cost_fen=60_000_00)
    changed = await compare.compare_rules(council, rnd.id)
    assert counted == ["greedy", "equal-shares"] * 2
    costs = {x.proposal.title: x.cost_fen for x in changed.envelopes[0].lines}
    assert costs["C"] == 60_000_00
    assert await ComparisonCache.filter(round_id=rnd.id).count() == 1  # replaced, not added


async def test_compare_sees_another_ballot_at_once(db):
    """A ballot added underneath changes what the comparison shows at the very next visit:
    the kept counts are stamped with what they counted, never used for other data."""
    rnd, council, p = await polarised_round()
    before = await compare.compare_rules(council, rnd.id)
    votes = {title: v for title, _f, v in funded_titles(before)}
    ballot = await Ballot.create(round=rnd, voter=None, area_id=None, receipt=voting.new_receipt())
    await BallotChoice.create(ballot=ballot, proposal=p["C"])
    after = await compare.compare_rules(council, rnd.id)
    assert {title: v for title, _f, v in funded_titles(after)} == {**votes, "C": votes["C"] + 1}
    assert after.envelopes[0].voters.ballots == before.envelopes[0].voters.ballots + 1
    # a kept row whose stamp does not name the current data is never used
    await ComparisonCache.filter(round_id=rnd.id).update(stamp="0" * 40, value={})
    again = await compare.compare_rules(council, rnd.id)
    assert funded_titles(again) == funded_titles(after)


async def test_compare_needs_staff_and_a_closed_vote(db):
    rnd, council, p = await polarised_round()
    resident = await make_user("reader", area=None)
    with pytest.raises(PermissionDenied):
        await compare.compare_rules(resident, rnd.id)
    rnd.phase = Phase.VOTING
    await rnd.save()
    with pytest.raises(PermissionDenied):
        await compare.compare_rules(council, rnd.id)


async def test_votes_of_an_import_keep_file_order(db):
    """Ballot ids follow the file's voter order, so a certificate's voter index i is the
    export's voter i + 1."""
    rnd = await import_pabulib(None, "tiny.pb", SMALL_FILE.encode())
    ballots = await load_round_ballots(rnd)
    assert [sorted(b) for b in ballots.counts[0].ballots] == [["p1", "p2"], ["p1"], ["p3"]]
    assert set(ballots.pid_of) == {"p1", "p2", "p3"}


def test_command_line_import(tmp_path):
    """`python manage.py import-pb FILE.pb` prints the new round's id; a bad file is
    refused with its line on stderr and exit status 1."""
    path = pabulib_dir() / "Netherlands_Assen_2024.pb"
    if not path.exists():
        pytest.skip(f"{path} is not there (set PABULIB_DIR)")
    env = {**os.environ, "DATABASE_URL": f"sqlite://{tmp_path}/cli.sqlite3"}
    repo = Path(__file__).resolve().parents[2]

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert manage("migrate").returncode == 0
    done = manage("import-pb", str(path))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().isdigit()
    bad = tmp_path / "bad.pb"
    bad.write_text(SMALL_FILE.replace("v3;p3", "v3;p9"), encoding="utf-8")
    refused = manage("import-pb", str(bad))
    assert refused.returncode == 1 and "Line 18" in refused.stderr
