"""Common ground, opinion groups and divisive statements of a deliberation round.

`analyse(votes, areas, statements)` takes every vote of a round as (voter id, statement id,
choice) with choice "agree" / "disagree" / "pass", each voter's area (None: no area) and the
approved statements' ids. Votes on other statements are ignored; if a voter appears twice on
one statement the later vote counts. It returns a JSON-serialisable dict that names no voter:

    {
      "voters": int,                       # residents who voted at least once
      "clustered": int,                    # of whom voted enough to be placed in a group
      "common_ground": [                   # best first
        {"statement": id, "score": float,  # product over areas of (agree + 1) / (votes + 2)
         "agree": int, "disagree": int, "pass": int, "votes": int,
         "areas": [{"area": id | None, "agree": int, "votes": int}]},
      ],
      "groups": [                          # largest first; empty when there are none
        {"group": int,                     # 1, 2, ... (its place in this list, from 1)
         "size": int,
         "statements": [{"statement": id, "direction": "agree" | "disagree",
                         "agree": float, "others_agree": float,
                         "disagree": float, "others_disagree": float,
                         "votes": int, "others_votes": int}]},
      ],
      "k": int, "silhouette": float | None,   # 0 and None without groups
      "silhouettes": [{"k": int, "score": float}],   # every k tried (may be tried and refused)
      "divisive": [
        {"statement": id, "agree_group": int, "agree_rate": float,   # groups by "group"
         "disagree_group": int, "disagree_rate": float, "gap": float},
      ],
    }

Rates are plain shares of the votes cast (a pass is a vote: agree + disagree + pass = 1).

**Common ground.** A statement's score is the product, over every area that has voters in the
round, of that area's smoothed agree rate (agree + 1) / (votes + 2): Pol.is' group-informed
consensus with areas as the groups. An area that has not voted on the statement contributes
(0 + 1) / (0 + 2) = 1/2, the same as an area split down the middle. Leaving such areas out
would let one area carry a statement alone (one factor near 1 against four factors below 1 for
a statement every area voted on); with them in, an area that has not spoken counts as
undecided, so a statement only one area has voted on scores at most (1/2)^(areas - 1) and is
overtaken by one the other areas like too. Voters without an area form one more "area".
A score is in (0, 1) and is the same whatever the areas are called (the factors are
multiplied in sorted order, so even the rounding is). Statements need MIN_COMMON_VOTES votes
to be listed: below that the score says more about the smoothing than about the residents.
Ties: more votes first, then the smaller statement id.

**Opinion groups.** Voters with at least min(MIN_VOTES_TO_CLUSTER, statements voted on)
votes, as Pol.is (7, or every statement if there are fewer), are rows of a matrix over the
statements anyone voted on: agree +1, disagree -1, pass 0, and a statement not voted on gets
the statement's mean vote, i.e. 0 once the columns are centred, so that a missing vote pulls a
voter neither towards "pass" nor towards anyone. The rows are projected on the first two
principal components and, as in Pol.is, scaled by sqrt(statements / votes cast) so that
someone who voted on a few statements is not squeezed towards the centre. k-means (k = 2 ... 5)
and the silhouette choose the groups (see `consult.rules.clustering`); there are none with
fewer than MIN_VOTERS_TO_CLUSTER voters, when a group would have fewer than MIN_GROUP_SIZE
members (five: also so that no group is small enough to point at someone), or when the best
silhouette is below clustering.MIN_SILHOUETTE. The rows are put in a canonical order (sorted by
their votes) before anything random happens and k-means++ draws from a fixed seed, so the
groups depend on the votes alone, not on voter ids or the order of the input. Groups are
numbered by size, largest first (ties: the one whose first member in that order comes first).

A statement sets a group apart ("representative" in Pol.is' sense) when, among that group's
and the other groups' voters, the group's smoothed agree rate (agree + 1) / (votes + 2) exceeds
the others' by at least MIN_DIFFERENCE, most of the group's votes are agrees, at least
MIN_GROUP_VOTES of its members voted on it, and a two-proportion z-test on the raw counts gives
z >= MIN_Z; likewise for disagreeing ("direction": "disagree"). Both bars because the groups
were made from these very votes, so the test alone flatters them, and the difference alone
means little on a handful of votes: 0.2 is a difference a reader sees as real and z >= 1.96
the usual 95 % bar. A group lists at most MAX_DISTINCTIVE statements, largest difference first.

**Divisive statements.** A statement on which some group agrees at a rate >= DIVISIVE_RATE and
another disagrees at a rate >= DIVISIVE_RATE, each with at least MIN_GROUP_VOTES votes on it;
the pair with the largest gap (agree rate of the one minus agree rate of the other) stands for
the statement, and statements are ranked by that gap. None without groups.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

from consult.rules.clustering import choose_clusters, project

CHOICES = {"agree": 1, "disagree": -1, "pass": 0}
MIN_COMMON_VOTES = 5
MIN_VOTES_TO_CLUSTER = 7
MIN_GROUP_SIZE = 5
MIN_VOTERS_TO_CLUSTER = 2 * MIN_GROUP_SIZE
MIN_GROUP_VOTES = 3
MIN_DIFFERENCE = 0.2
MIN_Z = 1.96
MAX_DISTINCTIVE = 5
DIVISIVE_RATE = 0.6
SEED = 10


def analyse(
    votes: Sequence[tuple[int, int, str]],
    areas: Mapping[int, int | None],
    statements: Sequence[int],
) -> dict[str, Any]:
    """See the module docstring."""
    ids, voter_ids, value, voted = vote_matrix(votes, statements)
    result: dict[str, Any] = {
        "voters": len(voter_ids),
        "clustered": 0,
        "common_ground": common_ground(ids, value, voted, [areas.get(v) for v in voter_ids]),
        "groups": [],
        "k": 0,
        "silhouette": None,
        "silhouettes": [],
        "divisive": [],
    }
    columns, rows = _eligible(voted)
    ids, value, voted = ids[columns], value[rows][:, columns], voted[rows][:, columns]
    result["clustered"] = len(value)
    if len(value) < MIN_VOTERS_TO_CLUSTER:
        return result
    order = np.lexsort((value + 2 * voted).T[::-1])  # canonical: sorted by the votes alone
    value, voted = value[order], voted[order]
    clustering = choose_clusters(
        _positions(value, voted), np.random.default_rng(SEED), MIN_GROUP_SIZE
    )
    result["silhouettes"] = [{"k": k, "score": s} for k, s in clustering.scores.items()]
    if clustering.labels is None:
        return result
    labels = _by_size(clustering.labels)
    counts = _group_counts(labels, value, voted)
    result["k"] = int(labels.max()) + 1
    result["silhouette"] = clustering.silhouette
    result["groups"] = [
        {
            "group": g + 1,
            "size": int((labels == g).sum()),
            "statements": distinctive(ids, counts, g),
        }
        for g in range(result["k"])
    ]
    result["divisive"] = divisive(ids, counts)
    return result


def vote_matrix(
    votes: Sequence[tuple[int, int, str]], statements: Sequence[int]
) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray]:
    """(statement ids sorted, voter ids sorted, value, voted): value[i, j] is voter i's vote on
    statement j (+1 / -1 / 0), voted[i, j] whether there is one. Voters with no vote on an
    approved statement are left out."""
    ids = np.array(sorted(set(statements)), dtype=np.int64)
    if not votes or not len(ids):
        return ids, [], np.zeros((0, len(ids)), np.int8), np.zeros((0, len(ids)), bool)
    n = len(votes)
    voter = np.fromiter(map(itemgetter(0), votes), np.int64, n)
    statement = np.fromiter(map(itemgetter(1), votes), np.int64, n)
    try:
        choice = np.fromiter(map(CHOICES.__getitem__, map(itemgetter(2), votes)), np.int8, n)
    except KeyError as e:
        raise ValueError(f"unknown choice {e.args[0]!r}") from None
    column = np.minimum(np.searchsorted(ids, statement), len(ids) - 1)
    keep = ids[column] == statement
    voter, column, choice = voter[keep], column[keep], choice[keep]
    voter_ids, row = np.unique(voter, return_inverse=True)
    # the later of two votes by one voter on one statement counts: first in reversed order
    key = row * len(ids) + column
    _, first = np.unique(key[::-1], return_index=True)
    last = len(key) - 1 - first
    value = np.zeros((len(voter_ids), len(ids)), np.int8)
    voted = np.zeros((len(voter_ids), len(ids)), bool)
    value[row[last], column[last]] = choice[last]
    voted[row[last], column[last]] = True
    return ids, voter_ids.tolist(), value, voted


def _area_key(area: int | None) -> tuple[bool, int]:
    return (area is None, area or 0)


def common_ground(
    ids: np.ndarray, value: np.ndarray, voted: np.ndarray, voter_areas: list[int | None]
) -> list[dict[str, Any]]:
    """Statements with MIN_COMMON_VOTES votes or more, best group-informed consensus first."""
    agrees = voted & (value == 1)
    disagrees = voted & (value == -1)
    area_list = sorted(set(voter_areas), key=_area_key)
    place = {area: a for a, area in enumerate(area_list)}
    area_of = np.array([place[area] for area in voter_areas], dtype=np.int64)
    area_agree = np.array([agrees[area_of == a].sum(axis=0) for a in range(len(area_list))])
    area_votes = np.array([voted[area_of == a].sum(axis=0) for a in range(len(area_list))])
    area_agree = area_agree.reshape(len(area_list), len(ids))
    area_votes = area_votes.reshape(len(area_list), len(ids))
    factors = (area_agree + 1) / (area_votes + 2)
    score = np.sort(factors, axis=0).prod(axis=0)  # sorted: the same float whatever the order
    total = voted.sum(axis=0)
    agree, disagree = agrees.sum(axis=0), disagrees.sum(axis=0)
    listed = [j for j in range(len(ids)) if total[j] >= MIN_COMMON_VOTES]
    listed.sort(key=lambda j: (-score[j], -total[j], ids[j]))
    return [
        {
            "statement": int(ids[j]),
            "score": float(score[j]),
            "agree": int(agree[j]),
            "disagree": int(disagree[j]),
            "pass": int(total[j] - agree[j] - disagree[j]),
            "votes": int(total[j]),
            "areas": [
                {"area": area, "agree": int(area_agree[a, j]), "votes": int(area_votes[a, j])}
                for a, area in enumerate(area_list)
            ],
        }
        for j in listed
    ]


def _eligible(voted: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(columns, rows): the statements anyone voted on, the voters with enough votes."""
    columns = voted.any(axis=0)
    enough = max(min(MIN_VOTES_TO_CLUSTER, int(columns.sum())), 1)
    return columns, voted.sum(axis=1) >= enough


def _positions(value: np.ndarray, voted: np.ndarray) -> np.ndarray:
    """Each voter's place on the first two principal components (see the module docstring)."""
    cast = voted.sum(axis=0)
    mean = np.where(voted, value, 0).sum(axis=0) / np.maximum(cast, 1)
    centred = np.where(voted, value - mean, 0.0)  # a missing vote is the mean: 0 once centred
    scale = np.sqrt(voted.shape[1] / voted.sum(axis=1))
    return project(centred) * scale[:, None]


def _by_size(labels: np.ndarray) -> np.ndarray:
    """Labels renumbered 0, 1, ... by decreasing size (ties: first member first)."""
    k = int(labels.max()) + 1
    sizes = np.bincount(labels, minlength=k)
    first = np.array([np.flatnonzero(labels == g)[0] for g in range(k)])
    order = sorted(range(k), key=lambda g: (-sizes[g], first[g]))
    renumber = np.empty(k, dtype=np.int64)
    renumber[order] = np.arange(k)
    return renumber[labels]


def _group_counts(
    labels: np.ndarray, value: np.ndarray, voted: np.ndarray
) -> dict[str, np.ndarray]:
    """agree / disagree / votes per group and statement (k x statements), for every
    statement of the matrix (columns of `value`)."""
    k = int(labels.max()) + 1
    member = np.eye(k)[labels].T  # k x voters
    return {
        "agree": np.rint(member @ (voted & (value == 1))).astype(np.int64),
        "disagree": np.rint(member @ (voted & (value == -1))).astype(np.int64),
        "votes": np.rint(member @ voted).astype(np.int64),
    }


def _z(a1: np.ndarray, n1: np.ndarray, a2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """Two-proportion z statistic of a1/n1 against a2/n2 (0 where undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled = (a1 + a2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = (a1 / n1 - a2 / n2) / se
    return np.where(np.isfinite(z), z, 0.0)


def distinctive(ids: np.ndarray, counts: dict[str, np.ndarray], g: int) -> list[dict[str, Any]]:
    """The statements that set group g apart from the other groups (see the module docstring)."""
    n, n_rest = counts["votes"][g], counts["votes"].sum(axis=0) - counts["votes"][g]
    rates, found = {}, []
    for choice in ("agree", "disagree"):
        a, a_rest = counts[choice][g], counts[choice].sum(axis=0) - counts[choice][g]
        rates[choice] = (a / np.maximum(n, 1), a_rest / np.maximum(n_rest, 1))
        difference = (a + 1) / (n + 2) - (a_rest + 1) / (n_rest + 2)
        z = _z(a, n, a_rest, n_rest)
        chosen = (
            (n >= MIN_GROUP_VOTES)
            & (n_rest > 0)
            & (2 * a > n)  # most of the group's votes
            & (difference >= MIN_DIFFERENCE)
            & (z >= MIN_Z)
        )
        found += [(float(difference[j]), float(z[j]), j, choice) for j in np.flatnonzero(chosen)]
    found.sort(key=lambda f: (-f[0], -f[1], ids[f[2]]))
    return [
        {
            "statement": int(ids[j]),
            "direction": choice,
            "agree": float(rates["agree"][0][j]),
            "others_agree": float(rates["agree"][1][j]),
            "disagree": float(rates["disagree"][0][j]),
            "others_disagree": float(rates["disagree"][1][j]),
            "votes": int(n[j]),
            "others_votes": int(n_rest[j]),
        }
        for _, _, j, choice in found[:MAX_DISTINCTIVE]
    ]


def divisive(ids: np.ndarray, counts: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Statements one group agrees with and another disagrees with, largest gap first."""
    n = counts["votes"]
    agree = counts["agree"] / np.maximum(n, 1)
    disagree = counts["disagree"] / np.maximum(n, 1)
    enough = n >= MIN_GROUP_VOTES
    agreeing = enough & (agree >= DIVISIVE_RATE)
    disagreeing = enough & (disagree >= DIVISIVE_RATE)
    pair = agreeing[:, None, :] & disagreeing[None, :, :]  # [a, b, j]: a agrees, b disagrees
    gap = np.where(pair, agree[:, None, :] - agree[None, :, :], -np.inf)
    k = len(n)
    found = []
    for j in np.flatnonzero(pair.any(axis=(0, 1))):
        a, b = divmod(int(np.argmax(gap[:, :, j])), k)  # first of equal gaps: smaller numbers
        found.append(
            {
                "statement": int(ids[j]),
                "agree_group": a + 1,
                "agree_rate": float(agree[a, j]),
                "disagree_group": b + 1,
                "disagree_rate": float(disagree[b, j]),
                "gap": float(gap[a, b, j]),
            }
        )
    found.sort(key=lambda d: (-d["gap"], d["statement"]))
    return found
