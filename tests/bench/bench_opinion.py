"""The opinion analysis of a deliberation round (consult.rules.opinion.analyse) on a large round.

    python -m tests.bench.bench_opinion [--voters 2000] [--statements 200] [--runs 5]

A benchmark, not a test: it prints the seconds of `analyse` (the input built beforehand) and
what it found. The round: voters in two planted groups of 60 % and 40 % across four areas,
each voting on about half the statements (--density); on a fifth of the statements the
groups disagree (one agrees with probability 0.85, the other 0.15), on the rest everyone
votes at random (45 % agree).
The issue asks for under one second with 200 statements and 2,000 voters.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from consult.rules.opinion import analyse


def planted_round(
    voters: int, statements: int, density: float = 0.5, seed: int = 1
) -> tuple[list[tuple[int, int, str]], dict[int, int | None], list[int], list[int]]:
    """(votes, areas, statement ids, planted group sizes)."""
    rng = np.random.default_rng(seed)
    group = (rng.random(voters) < 0.4).astype(int)
    p_agree = np.full((2, statements), 0.45)
    split = statements // 5
    p_agree[0, :split], p_agree[1, :split] = 0.85, 0.15
    draw = rng.random((voters, statements))
    p = p_agree[group]
    # agree with probability p, else disagree mostly and pass sometimes
    choice = np.where(draw < p, "agree", np.where(draw < p + (1 - p) * 0.8, "disagree", "pass"))
    cast = rng.random((voters, statements)) < density
    voter_ids = rng.permutation(voters) + 10_000
    statement_ids = (np.arange(statements) + 500).tolist()
    rows, cols = np.nonzero(cast)
    votes = [
        (int(voter_ids[i]), statement_ids[j], str(choice[i, j]))
        for i, j in zip(rows, cols, strict=True)
    ]
    areas = {int(v): 1 + int(v) % 4 for v in voter_ids}
    sizes = sorted(np.bincount(group).tolist(), reverse=True)
    return votes, areas, statement_ids, sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--density", type=float, default=0.5, help="share of statements voted on")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    votes, areas, statements, planted = planted_round(args.voters, args.statements, args.density)
    seconds = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = analyse(votes, areas, statements)
        seconds.append(time.perf_counter() - start)
    sizes = [g["size"] for g in result["groups"]]
    print(
        f"opinion analysis: {args.voters} voters, {args.statements} statements, "
        f"{len(votes)} votes, {args.runs} runs"
    )
    print(
        f"  seconds: first {seconds[0]:.3f}, median {statistics.median(seconds):.3f}, "
        f"max {max(seconds):.3f}"
    )
    print(
        f"  k = {result['k']}, silhouette = {result['silhouette']}, group sizes {sizes} "
        f"(planted {planted})"
    )
    print(
        f"  common ground: {len(result['common_ground'])} statements listed; "
        f"divisive: {len(result['divisive'])}; distinctive per group: "
        f"{[len(g['statements']) for g in result['groups']]}"
    )


if __name__ == "__main__":
    main()
