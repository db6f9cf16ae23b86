"""The outcome rules select exactly what pabutools (the reference implementation) selects.

For every Pabulib file (in $PABULIB_DIR, default <repo>/../shared/pabulib; skipped if absent)
and every rule, our selection is compared with pabutools': live for the small files, and with
the checked-in outcome (tests/fixtures/pabutools/<file>.<rule>.json, made by
`python -m tests.fixtures.regen_pabutools`) for the large ones, where pabutools takes minutes
to hours. Every outcome's certificate is re-checked and survives a JSON round trip.
"""

from __future__ import annotations

import dataclasses
import json
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from budget.pabulib import election_from_pb, parse_pb
from budget.rules import (
    RULES,
    TIE_BREAKING,
    CertificateError,
    Election,
    Outcome,
    compute_outcome,
    verify_certificate,
    verify_greedy_certificate,
    verify_mes_certificate,
)
from tests.fixtures.regen_pabutools import (
    fixture_path,
    pabulib_dir,
    pabutools_from_election,
    run_pabutools,
)

PB_FILES = sorted(pabulib_dir().glob("*.pb"))
LIVE_MAX_VOTERS = 300  # pabutools runs live (in well under a second) on files this small


@cache
def election_of(path: Path) -> Election:
    return election_from_pb(parse_pb(path.read_text(encoding="utf-8-sig")))


@cache
def outcome_of(path: Path, rule: str) -> Outcome:
    return compute_outcome(rule, election_of(path))


def pabutools_selection(path: Path, rule: str) -> list[str]:
    election = election_of(path)
    if len(election.ballots) <= LIVE_MAX_VOTERS:
        pytest.importorskip("pabutools")
        instance, profile = pabutools_from_election(election)
        return sorted(run_pabutools(instance, profile, rule, election.utility == "points"))
    fixture = fixture_path(path.stem, rule)
    if not fixture.exists():
        pytest.skip(f"no pabutools fixture {fixture.name}: run tests/fixtures/regen_pabutools.py")
    return json.loads(fixture.read_text())["selected"]


pytestmark = pytest.mark.skipif(not PB_FILES, reason=f"no .pb files in {pabulib_dir()}")


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("path", PB_FILES, ids=lambda p: p.stem)
def test_same_selection_as_pabutools(path: Path, rule: str) -> None:
    ours = outcome_of(path, rule)
    assert sorted(ours.selected) == pabutools_selection(path, rule)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("path", PB_FILES, ids=lambda p: p.stem)
def test_certificate_and_json(path: Path, rule: str) -> None:
    election = election_of(path)
    outcome = outcome_of(path, rule)
    verify_certificate(election, outcome)
    assert outcome.total_cost <= election.budget
    data = json.loads(json.dumps(outcome.to_json()))
    assert Outcome.from_json(data) == outcome
    assert outcome.to_json() == encoded_asdict(outcome)


MONEY_KEYS = {"cost", "votes", "price", "supporters_money", "money_left", "amount"}
MONEY_KEYS |= {"total_cost", "budget", "voter_budget"}


def encoded_asdict(outcome: Outcome) -> dict:
    """What `to_json` gave before it was written out field by field: `dataclasses.asdict`,
    then every amount (a money key, or any Fraction) as an exact string."""

    def encode(value, money=False):
        if isinstance(value, dict):
            return {k: encode(v, k in MONEY_KEYS) for k, v in value.items()}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if value is not None and (money or isinstance(value, Fraction)):
            return str(
                value.numerator if isinstance(value, Fraction) and value.denominator == 1 else value
            )
        return value

    return encode(dataclasses.asdict(outcome))


def approvals(*ballots: str) -> list[dict[str, int]]:
    return [dict.fromkeys(b, 1) for b in ballots]


def test_greedy_explains_ranks_and_money_left() -> None:
    election = Election(
        budget=100_000,
        costs={"a": 60_000, "b": 30_000, "c": 28_000, "d": 0},
        ballots=approvals("ab", "ab", "abc", "bc", "c"),
    )
    outcome = compute_outcome("greedy", election)
    # votes: a 3, b 4, c 3 -> b, then a and c tied on 3 (a first by id), then d (free, 0 votes)
    assert outcome.selected == ["b", "a", "d"]
    c = outcome.explanations["c"]
    assert (c.rank, c.money_left, c.funded, c.reason) == (3, 10_000, False, "did_not_fit")
    assert c.summary() == "did not fit: 10,000 left, it costs 28,000"
    assert outcome.explanations["d"].rank == 4 and outcome.explanations["d"].funded
    verify_greedy_certificate(election, outcome)


def test_mes_explains_payments_and_unaffordable() -> None:
    # 4 voters, 25 each. a (cost 40) is bought by its 2 supporters at 20 each.
    election = Election(
        budget=100,
        costs={"a": 40, "b": 90, "c": 30},
        ballots=approvals("ab", "ab", "c", "bc"),
    )
    outcome = compute_outcome("mes", election)
    a = outcome.explanations["a"]
    assert a.step == 1 and a.funded
    assert [(g.amount, g.voters) for g in a.payments] == [(20, [0, 1])]
    b = outcome.explanations["b"]
    assert not b.funded and b.reason == "unaffordable"
    assert b.supporters == 3 and b.supporters_money < 90
    assert b.summary().startswith("not funded: its 3 supporters had")
    verify_mes_certificate(election, outcome)


def test_certificate_catches_a_tampered_payment() -> None:
    election = Election(budget=100, costs={"a": 40, "c": 30}, ballots=approvals("a", "a", "c"))
    outcome = compute_outcome("mes", election)
    verify_mes_certificate(election, outcome)
    outcome.explanations["a"].payments[0].amount += 1
    with pytest.raises(CertificateError):
        verify_mes_certificate(election, outcome)


def test_certificate_catches_a_wrong_greedy_skip() -> None:
    election = Election(budget=50, costs={"a": 40, "b": 30}, ballots=approvals("a", "ab"))
    outcome = compute_outcome("greedy", election)
    outcome.explanations["b"].money_left = 35
    with pytest.raises(CertificateError):
        verify_greedy_certificate(election, outcome)


def test_fraction_costs_and_unit_match_pabutools() -> None:
    pytest.importorskip("pabutools")
    election = Election(
        budget=Fraction(1001, 10),
        costs={"a": Fraction(605, 10), "b": 30, "c": Fraction(251, 10), "d": 44},
        ballots=approvals("ab", "a", "bc", "cd", "d", "abd"),
        unit=Fraction(1, 2),
    )
    instance, profile = pabutools_from_election(election)
    for rule in RULES:
        expected = run_pabutools(instance, profile, rule, False, unit=Fraction(1, 2))
        outcome = compute_outcome(rule, election)
        assert sorted(outcome.selected) == sorted(expected), rule
        verify_certificate(election, outcome)


def test_points_ballots_match_pabutools() -> None:
    pytest.importorskip("pabutools")
    election = Election(
        budget=100,
        costs={"a": 50, "b": 40, "c": 30, "z": 0},
        ballots=[{"a": 3, "b": 1}, {"b": 2, "c": 2}, {"c": 4, "z": 1}, {"a": 1}],
        utility="points",
    )
    instance, profile = pabutools_from_election(election)
    for rule in RULES:
        expected = run_pabutools(instance, profile, rule, True)
        outcome = compute_outcome(rule, election)
        assert sorted(outcome.selected) == sorted(expected), rule
        verify_certificate(election, outcome)
    assert compute_outcome("mes", election).explanations["z"].reason == "funded_free"


def test_every_rule_has_a_tie_breaking_sentence() -> None:
    assert set(TIE_BREAKING) == set(RULES)
    for rule in RULES:
        assert compute_outcome(rule, Election(10, {"a": 1}, [{"a": 1}])).tie_breaking


def test_unknown_rule() -> None:
    with pytest.raises(ValueError, match="unknown rule"):
        compute_outcome("borda", Election(10, {"a": 1}, [{"a": 1}]))


def test_no_voters() -> None:
    election = Election(budget=10, costs={"a": 4, "b": 8}, ballots=[])
    for rule in RULES:
        outcome = compute_outcome(rule, election)
        verify_certificate(election, outcome)
    assert compute_outcome("mes", election).selected == []
    assert compute_outcome("equal-shares", election).selected == ["a"]
