"""`.pb` parsing, writing and the CLI: our reading of every Pabulib file equals pabutools',
what we write pabutools reads back, and malformed files are refused with the right line."""

from __future__ import annotations

import json
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import pytest

from budget.pabulib import (
    PabulibError,
    PbVote,
    anonymise,
    election_from_pb,
    parse_pb,
    write_pb,
)
from tests.fixtures.pabulib_files import real_file
from tests.fixtures.regen_pabutools import REPO, pabulib_dir

PB_FILES = sorted(pabulib_dir().glob("*.pb"))
needs_files = pytest.mark.skipif(not PB_FILES, reason=f"no .pb files in {pabulib_dir()}")
# pabutools parses these twice in a round trip: 8 to 15 s here, more on a slow machine
LARGE_FILES = {"Poland_Lodz_2022", "Poland_Katowice_2023"}
ROUND_TRIP_FILES = [
    pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.stem in LARGE_FILES else [])
    for p in PB_FILES
]


def _pabutools_ballots(path: Path):
    from pabutools.election import parse_pabulib

    instance, profile = parse_pabulib(str(path))
    kind = instance.meta["vote_type"]
    ballots = []
    for ballot in profile:
        if kind in ("cumulative", "scoring"):
            ballots.append({p.name: Fraction(str(x)) for p, x in ballot.items() if x})
        else:
            ballots.append({p.name: 1 for p in ballot})
    costs = {p.name: Fraction(str(p.cost)) for p in instance}
    return Fraction(str(instance.budget_limit)), costs, ballots


@needs_files
@pytest.mark.parametrize("path", PB_FILES, ids=lambda p: p.stem)
def test_parse_equals_pabutools(path: Path) -> None:
    pytest.importorskip("pabutools")
    pb = parse_pb(path.read_text(encoding="utf-8-sig"))
    election = election_from_pb(pb)
    budget, costs, ballots = _pabutools_ballots(path)
    assert election.budget == budget
    assert dict(election.costs) == costs
    assert [dict(b) for b in election.ballots] == ballots
    assert len(pb.projects) == int(pb.meta["num_projects"])
    assert len(pb.votes) == int(pb.meta["num_votes"])


@needs_files
@pytest.mark.parametrize("path", ROUND_TRIP_FILES)
def test_write_round_trip(path: Path, tmp_path: Path) -> None:
    pb = parse_pb(path.read_text(encoding="utf-8-sig"))
    text = write_pb(pb.meta, pb.projects, pb.votes)
    again = parse_pb(text)
    assert again.meta == pb.meta
    assert again.projects == pb.projects
    assert again.votes == pb.votes
    pytest.importorskip("pabutools")
    out = tmp_path / path.name
    out.write_text(text, encoding="utf-8")
    assert _pabutools_ballots(out) == _pabutools_ballots(path)


def test_write_anonymised_with_fractions(tmp_path: Path) -> None:
    votes = [
        PbVote("alice@example.org", ["a", "b"], [Fraction(3, 2), 1], {"age": "33"}),
        PbVote("bob", ["b"], [2]),
    ]
    text = write_pb(
        {"budget": Fraction(501, 2), "vote_type": "cumulative", "description": "two\nlines"},
        [
            {"project_id": "a", "cost": Fraction(2505, 10), "name": 'say "hi"; ok'},
            {"project_id": "b", "cost": 10},
        ],
        anonymise(votes),
    )
    assert "alice" not in text and "33" not in text
    pb = parse_pb(text)
    assert pb.budget == Fraction(501, 2) and pb.costs == {"a": Fraction(501, 2), "b": 10}
    assert pb.projects[0]["name"] == 'say "hi"; ok'
    assert [v.voter_id for v in pb.votes] == ["1", "2"]
    assert pb.votes[0].points == [Fraction(3, 2), 1]
    pytest.importorskip("pabutools")
    (tmp_path / "x.pb").write_text(text, encoding="utf-8")
    budget, costs, ballots = _pabutools_ballots(tmp_path / "x.pb")
    assert budget == Fraction(501, 2) and ballots[0] == {"a": Fraction(3, 2), "b": 1}


GOOD = """META
key;value
budget;100
vote_type;approval
PROJECTS
project_id;cost;name
p1;40;One
p2;70;Two
VOTES
voter_id;vote
1;p1,p2
2;p2
"""


def test_good_file() -> None:
    pb = parse_pb(GOOD)
    assert pb.costs == {"p1": 40, "p2": 70}
    assert [v.projects for v in pb.votes] == [["p1", "p2"], ["p2"]]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", 1, "missing META"),
        ("PROJECTS\n", 1, "where META was expected"),
        (GOOD.replace("key;value", "k;v;w"), 2, "META header"),
        (GOOD.replace("budget;100\n", ""), 4, "no 'budget'"),
        (GOOD.replace("budget;100", "budget;lots"), 3, "budget is not a number"),
        (GOOD.replace("vote_type;approval", "vote_type;borda"), 4, "unknown vote_type"),
        (GOOD.replace("project_id;cost;name", "id;cost;name"), 6, "PROJECTS header"),
        (GOOD.replace("p2;70;Two", "p2;seventy;Two"), 8, "not a number"),
        (GOOD.replace("p2;70;Two", "p1;70;Two"), 8, "duplicate project id"),
        (GOOD.replace("p2;70;Two", "p2;70"), 8, "2 fields where the header has 3"),
        (GOOD.replace("2;p2\n", "2;p3\n"), 12, "unknown project 'p3'"),
        (GOOD.replace("2;p2\n", "1;p2\n"), 12, "duplicate voter id"),
        (GOOD.replace("1;p1,p2", "1;p1,p1"), 11, "names a project twice"),
        (GOOD.replace("VOTES\nvoter_id;vote\n1;p1,p2\n2;p2\n", ""), 9, "missing VOTES"),
        (
            GOOD.replace("approval", "cumulative")
            .replace("voter_id;vote", "voter_id;vote;points")
            .replace("1;p1,p2", "1;p1,p2;3")
            .replace("2;p2\n", "2;p2;1\n"),
            11,
            "2 projects but 1 points",
        ),
        (GOOD.replace("approval", "cumulative"), 10, "needs a points column"),
    ],
)
def test_errors_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(PabulibError) as info:
        parse_pb(text)
    assert info.value.line == line, str(info.value)
    assert words in info.value.message


def test_ordinal_counts_every_ranked_project() -> None:
    text = GOOD.replace("approval", "ordinal")
    election = election_from_pb(parse_pb(text))
    assert election.ballots == [{"p1": 1, "p2": 1}, {"p2": 1}]
    assert election.utility == "cost"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "budget.pabulib", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("rule", ["greedy", "equal-shares", "mes", "mes-add1"])
def test_cli_json(tmp_path: Path, rule: str) -> None:
    path = tmp_path / "small.pb"
    path.write_text(GOOD, encoding="utf-8")
    result = _cli(str(path), "--rule", rule, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert set(data) == {"rule", "selected", "total_cost", "seconds"}
    assert data["rule"] == rule and isinstance(data["seconds"], float)
    assert data["selected"] in (["p2"], ["p1"], ["p2", "p1"], ["p1", "p2"])
    assert Fraction(data["total_cost"]) <= 100


@needs_files
def test_cli_text_on_a_real_file() -> None:
    path = real_file("Netherlands_Assen_2024.pb")
    result = _cli(str(path), "--rule", "equal-shares")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1].startswith("total cost: ")
    assert "3" in lines[:-1]


def test_cli_reports_a_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.pb"
    path.write_text(GOOD.replace("2;p2\n", "2;p9\n"), encoding="utf-8")
    result = _cli(str(path), "--json")
    assert result.returncode == 2 and result.stdout == ""
    assert "line 12" in result.stderr
