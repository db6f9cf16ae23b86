"""Synthetic elections for the rules benchmark (`bench_rules`), generated with fixed seeds.

- `budapest_like()`: about what Budapest's 2024 city-wide vote looks like (28,943 approval
  voters, 175 projects, costs in forints from a few million to well over a hundred million,
  add1 steps of one forint), drawn so that MES at the plain share spends little of the budget
  and add1 needs many increments, many of them changing which voters pay all they have;
- `district_round()`: the envelopes of `make bench`'s district round (tests/bench/fill.py's
  `generate`, 60,000 ballots over 21 envelopes), as the count sees them (`group_ballots`),
  without a database.
"""

from __future__ import annotations

import asyncio
import random

from budget.rules import Election

BUDAPEST_SEED = 2024


def budapest_like(voters: int = 30_000, projects: int = 175, seed: int = BUDAPEST_SEED) -> Election:
    """A Budapest-like approval election (see the module docstring)."""
    rng = random.Random(seed)
    names = [f"p{i:03d}" for i in range(projects)]
    # costs: log-uniform from 5 to 150 million forints, rounded to a thousand
    costs = {name: int(round(10 ** rng.uniform(6.7, 8.18), -3)) for name in names}
    budget = 1_000_000_000
    # popularity: Zipf-like, shuffled so popular projects have all kinds of costs; a few
    # "camps" of voters who approve projects of one theme (many overlapping supporter sets)
    popularity = [1.0 / (rank + 4) ** 0.9 for rank in range(projects)]
    rng.shuffle(popularity)
    themes = [rng.sample(names, 12) for _ in range(8)]
    ballots: list[dict[str, int]] = []
    for _ in range(voters):
        k = min(projects, max(1, int(rng.expovariate(1 / 4.0)) + 1))
        if rng.random() < 0.35:
            theme = themes[rng.randrange(len(themes))]
            chosen = set(rng.sample(theme, min(k, len(theme))))
        else:
            chosen = set(rng.choices(names, weights=popularity, k=k))
        ballots.append(dict.fromkeys(chosen, 1))
    return Election(budget=budget, costs=costs, ballots=ballots, utility="cost", unit=1)


def district_counts() -> list:
    """The district round of `make bench` as the count's input (`EnvelopeCount`s)."""
    from budget.services.counting import group_ballots
    from tests.bench.fill import Sizes, generate

    asyncio.run(_init_models())
    tables, _district = generate(Sizes())
    env_cols, env_rows = tables["envelope"]
    prop_cols, prop_rows = tables["proposal"]
    bal_cols, bal_rows = tables["ballot"]
    ch_cols, ch_rows = tables["ballot_choice"]

    def col(cols: list[str], name: str) -> int:
        return cols.index(name)

    e_id, e_area, e_budget = (col(env_cols, c) for c in ("id", "area_id", "budget_fen"))
    envelopes = [(r[e_id], r[e_area], r[e_budget]) for r in env_rows]
    p_id, p_area, p_cost, p_status = (
        col(prop_cols, c) for c in ("id", "area_id", "cost_fen", "status")
    )
    proposals = [(r[p_id], r[p_area], r[p_cost]) for r in prop_rows if r[p_status] == "feasible"]
    b_id, b_area = col(bal_cols, "id"), col(bal_cols, "area_id")
    c_ballot, c_proposal = col(ch_cols, "ballot_id"), col(ch_cols, "proposal_id")
    chosen: dict[int, list[int]] = {}
    for r in ch_rows:
        chosen.setdefault(r[c_ballot], []).append(r[c_proposal])
    rows = sorted((r[b_area], sorted(chosen.get(r[b_id], ())), None) for r in bal_rows)
    return group_ballots(envelopes, proposals, rows)


def district_round() -> list[tuple[str, Election]]:
    """The district round of `make bench` as one Election per envelope (add1 by one yuan)."""
    from budget.services.counting import UNIT_FEN

    counts = district_counts()
    return [
        (
            f"envelope {c.envelope_id} ({'district' if c.area_id is None else c.area_id})",
            Election(
                budget=c.budget_fen,
                costs=c.costs,
                ballots=c.ballots,
                utility="cost",
                unit=UNIT_FEN,
            ),
        )
        for c in counts
    ]


async def _init_models() -> None:
    """The ORM's model metadata (fill's row generator needs the columns): no database."""
    from tortoise import Tortoise

    from core.settings import tortoise_config

    await Tortoise.init(config=tortoise_config("sqlite://:memory:"))
    await Tortoise.close_connections()
