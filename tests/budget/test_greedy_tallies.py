"""Greedy counted from the database's tallies (budget.services.tallies) gives the same outcome,
field for field, as greedy counted from every ballot (budget.services.counting), on generated
rounds with what makes the envelopes' ballots tricky: areas without an envelope, ballots
choosing in other areas, ballots with no area (imported) or no choice, points with zeros,
revised costs and projects no longer on the ballot."""

from __future__ import annotations

import random
import secrets

import pytest

from budget.models import Ballot, BallotChoice, BallotType, Envelope, ProposalStatus
from budget.services.counting import count_envelope, load_round_ballots
from budget.services.results import compute_results
from budget.services.tallies import count_tally, load_round_tallies
from core.models import Role
from tests.helpers import make_area, make_proposal, make_round, make_user

STATUSES = [
    ProposalStatus.FEASIBLE,
    ProposalStatus.FEASIBLE,
    ProposalStatus.FEASIBLE,
    ProposalStatus.FUNDED,
    ProposalStatus.NOT_FUNDED,
    ProposalStatus.WITHDRAWN,
    ProposalStatus.INFEASIBLE,
]


async def generated_round(seed: int, ballot_type: BallotType, own_area_only: bool = False):
    rng = random.Random(seed)
    areas = [await make_area(f"Area {seed}-{i}") for i in range(4)]
    # areas 0-2 have an envelope (area 3 has none); a district-wide envelope half the time
    envelope_areas = areas[:3] + ([None] if rng.random() < 0.5 else [])
    rnd = await make_round(
        f"Round {seed}",
        ballot_type=ballot_type,
        envelopes={a: rng.randint(5, 40) * 10_000_00 for a in envelope_areas},
    )
    author = await make_user(f"author{seed}", area=areas[0])
    proposals = []
    for i in range(rng.randint(6, 18)):
        area = rng.choice([*areas, None])
        proposals.append(
            await make_proposal(
                rnd,
                author,
                f"P{seed}-{i}",
                cost_fen=rng.choice([0, rng.randint(1, 30) * 1_000_00]),
                area=area,
                status=rng.choice(STATUSES),
                revised_cost_fen=rng.choice([None, rng.randint(1, 30) * 1_000_00]),
            )
        )
    for v in range(rng.randint(10, 40)):
        area = rng.choice([*areas, None])
        voter = await make_user(f"v{seed}-{v}", area=area) if rng.random() < 0.9 else None
        ballot = await Ballot.create(
            round=rnd, voter=voter, area=area, receipt=secrets.token_hex(8)
        )
        choosable = [
            p
            for p in proposals
            if not own_area_only or p.area_id is None or (area and p.area_id == area.id)
        ]
        chosen = rng.sample(choosable, rng.randint(0, min(6, len(choosable))))
        await BallotChoice.bulk_create(
            [
                BallotChoice(
                    ballot_id=ballot.id,
                    proposal_id=p.id,
                    points=rng.randint(0, 5) if ballot_type == BallotType.POINTS else 1,
                )
                for p in chosen
            ]
        )
    return rnd


CASES = [
    (seed, t, False) for seed in range(6) for t in (BallotType.BUDGET_APPROVAL, BallotType.POINTS)
]
# as in a district's own rounds: each voter chooses in their own area and district-wide only
CASES += [
    (seed, t, True) for seed in (6, 7) for t in (BallotType.BUDGET_APPROVAL, BallotType.POINTS)
]


@pytest.mark.parametrize("seed, ballot_type, own_area_only", CASES)
async def test_tallies_count_as_the_ballots_do(db, seed, ballot_type, own_area_only):
    rnd = await generated_round(seed, ballot_type, own_area_only)
    tallies = await load_round_tallies(rnd)
    groups = (await load_round_ballots(rnd)).counts
    assert [t.envelope_id for t in tallies] == [g.envelope_id for g in groups]
    assert len(tallies) >= 3
    for tally, group in zip(tallies, groups, strict=True):
        assert tally.ballots == len(group.ballots)
        assert tally.costs == group.costs
        fast = count_tally(tally).to_json()
        slow = count_envelope("greedy", str(ballot_type), group).to_json()
        assert fast == slow
    # the rounds are not trivial: someone voted, and some envelope funds something
    assert sum(t.ballots for t in tallies) > 0


async def test_a_greedy_count_freezes_the_tallied_outcome(db):
    rnd = await generated_round(99, BallotType.BUDGET_APPROVAL)
    rnd.phase = "results"
    await rnd.save()
    chair = await make_user("chair", role=Role.COUNCIL)
    outcomes = await compute_results(chair, rnd.id)
    groups = (await load_round_ballots(rnd)).counts
    envelopes = await Envelope.filter(round_id=rnd.id).order_by("id").values_list("id", flat=True)
    assert [o.envelope_id for o in outcomes] == envelopes
    for outcome, group in zip(outcomes, groups, strict=True):
        assert outcome.ballots_counted == len(group.ballots)
        assert outcome.data == count_envelope("greedy", str(rnd.ballot_type), group).to_json()
