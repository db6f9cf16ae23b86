"""Common ground, opinion groups and divisive statements of a deliberation round (skeleton:
the interface is fixed, the computation is being written).

`analyse(votes, areas, statements)` takes every vote of a round as (voter id, statement id,
choice) with choice "agree" / "disagree" / "pass", each voter's area (None: no area), and the
approved statements' ids; it returns a JSON-serialisable dict that names no voter:

    {
      "voters": int,                       # residents who voted at least once
      "common_ground": [                   # best first
        {"statement": id, "score": float,  # product over areas of (agree + 1) / (votes + 2)
         "areas": [{"area": id | None, "agree": int, "votes": int}]},
      ],
      "groups": [                          # empty when too few votes to cluster
        {"size": int,
         "statements": [{"statement": id, "agree": float, "others_agree": float}]},
      ],
      "k": int, "silhouette": float | None,
      "divisive": [
        {"statement": id, "agree_group": int, "agree_rate": float,
         "disagree_group": int, "disagree_rate": float},
      ],
    }
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def analyse(
    votes: Sequence[tuple[int, int, str]],
    areas: Mapping[int, int | None],
    statements: Sequence[int],
) -> dict[str, Any]:
    """See the module docstring (skeleton: common ground only, no groups yet)."""
    per: dict[int, dict[int | None, list[int]]] = {s: {} for s in statements}
    voters = set()
    for voter, statement, choice in votes:
        if statement not in per:
            continue
        voters.add(voter)
        tally = per[statement].setdefault(areas.get(voter), [0, 0])
        tally[1] += 1
        if choice == "agree":
            tally[0] += 1
    ground = []
    for statement, by_area in per.items():
        if not by_area:
            continue
        score = 1.0
        for agree, n in by_area.values():
            score *= (agree + 1) / (n + 2)
        ground.append(
            {
                "statement": statement,
                "score": score,
                "areas": [{"area": a, "agree": t[0], "votes": t[1]} for a, t in by_area.items()],
            }
        )
    ground.sort(key=lambda g: (-g["score"], g["statement"]))
    return {
        "voters": len(voters),
        "common_ground": ground,
        "groups": [],
        "k": 0,
        "silhouette": None,
        "divisive": [],
    }
