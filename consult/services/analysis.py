"""Common ground, opinion groups and divisive statements of a deliberation round, as its page
shows them.

The computation is `consult.rules.opinion.analyse` (pure). Here: the round's votes read in one
query, the result kept in DeliberationAnalysis for the round's `votes_version`, and the ids in
it turned into statements' texts and areas' names.

Never stale, no cron: every vote and every approval raises `votes_version` in its own
transaction, so a page that finds the cache made for another version computes it again. The
version is read (with the round, by the page) before the votes: votes that commit in between
are counted in a result marked with the older version, which the next page recomputes; the
other order could mark old votes with a new version and keep them.
"""

from __future__ import annotations

import asyncio
import string
from dataclasses import dataclass, field
from typing import Any

from tortoise.exceptions import IntegrityError

from consult.models import Deliberation, DeliberationAnalysis, Statement, StatementStatus
from consult.rules.opinion import analyse
from core.db import select_named
from core.models import Area

COMMON_GROUND_SHOWN = 10
GROUP_STATEMENTS_SHOWN = 5
DIVISIVE_SHOWN = 10

_VOTES_SQL = (
    'SELECT "voter_id", "statement_id", "choice", "area_id" FROM "statement_vote" '
    'WHERE "deliberation_id" = :deliberation'
)


async def load_votes(
    deliberation_id: int,
) -> tuple[list[tuple[int, int, str]], dict[int, int | None]]:
    """Every vote of a round as (voter, statement, choice), and each voter's area (the one
    recorded with their latest-read vote; a resident's area rarely changes mid-round)."""
    rows = await select_named(_VOTES_SQL, {"deliberation": deliberation_id})
    votes = []
    areas: dict[int, int | None] = {}
    for voter, statement, choice, area in rows:
        votes.append((voter, statement, str(choice)))
        areas[voter] = area
    return votes, areas


async def compute(d: Deliberation, statements: list[int] | None = None) -> dict[str, Any]:
    """The analysis of a round for its current votes, cached for `d.votes_version` (read by
    the caller before this runs). `statements`: the approved statements' ids, when known."""
    version = d.votes_version
    cached = await DeliberationAnalysis.get_or_none(deliberation_id=d.id)
    if cached is not None and cached.votes_version == version:
        return cached.result
    if statements is None:
        statements = await Statement.filter(
            deliberation_id=d.id, status=StatementStatus.APPROVED
        ).values_list("id", flat=True)
    votes, areas = await load_votes(d.id)
    # Pure numpy and Python work (~0.2 s for 2,000 voters on 200 statements): off the event
    # loop, so that the other requests of this worker go on while it runs.
    result = await asyncio.to_thread(analyse, votes, areas, sorted(statements))
    await _keep(d.id, version, result, cached is not None)
    return result


async def _keep(deliberation_id: int, version: int, result: dict, exists: bool) -> None:
    """Store a result unless a newer one is there already (another worker's)."""
    if exists:
        await DeliberationAnalysis.filter(
            deliberation_id=deliberation_id, votes_version__lt=version
        ).update(votes_version=version, result=result)
        return
    try:
        await DeliberationAnalysis.create(
            deliberation_id=deliberation_id, votes_version=version, result=result
        )
    except IntegrityError:  # another request stored one first: fine, it is a cache
        pass


# --- what the page shows --------------------------------------------------------------------


@dataclass
class AreaCount:
    name: str | None  # None: residents without an area
    agree: int
    votes: int


@dataclass
class GroundRow:
    body: str
    score: float
    areas: list[AreaCount]


@dataclass
class GroupStatement:
    body: str
    agree: float
    others_agree: float


@dataclass
class Group:
    label: str  # "A", "B" … never a name
    size: int
    statements: list[GroupStatement]


@dataclass
class DivisiveRow:
    body: str
    agree_group: str
    agree_rate: float
    disagree_group: str
    disagree_rate: float


@dataclass
class AnalysisView:
    voters: int
    k: int
    common_ground: list[GroundRow] = field(default_factory=list)
    groups: list[Group] = field(default_factory=list)
    divisive: list[DivisiveRow] = field(default_factory=list)


def group_label(number: int) -> str:
    """Group 1, 2, … of consult.rules.opinion (numbered from the largest) as A, B, …"""
    letters = string.ascii_uppercase
    return letters[number - 1] if 1 <= number <= len(letters) else str(number)


async def analysis_of(d: Deliberation) -> AnalysisView:
    """The round's analysis with texts and names in place of ids (three small queries besides
    the cache's, or the votes' when it is recomputed)."""
    texts = dict(
        await Statement.filter(deliberation_id=d.id, status=StatementStatus.APPROVED).values_list(
            "id", "body"
        )
    )
    result = await compute(d, list(texts))
    names = dict(await Area.all().values_list("id", "name"))
    ground = [
        GroundRow(
            texts.get(row["statement"], ""),
            row["score"],
            sorted(
                (
                    AreaCount(names.get(a["area"]) if a["area"] is not None else None, **_n(a))
                    for a in row["areas"]
                ),
                key=lambda c: (c.name is None, c.name or ""),
            ),
        )
        for row in result.get("common_ground", [])[:COMMON_GROUND_SHOWN]
    ]
    groups = [
        Group(
            group_label(g["group"]),
            g["size"],
            [
                GroupStatement(texts.get(s["statement"], ""), s["agree"], s["others_agree"])
                for s in g["statements"][:GROUP_STATEMENTS_SHOWN]
            ],
        )
        for g in result.get("groups", [])
    ]
    divisive = [
        DivisiveRow(
            texts.get(row["statement"], ""),
            group_label(row["agree_group"]),
            row["agree_rate"],
            group_label(row["disagree_group"]),
            row["disagree_rate"],
        )
        for row in result.get("divisive", [])[:DIVISIVE_SHOWN]
    ]
    return AnalysisView(
        voters=result.get("voters", 0),
        k=result.get("k", 0),
        common_ground=ground,
        groups=groups,
        divisive=divisive,
    )


def _n(area: dict[str, Any]) -> dict[str, int]:
    return {"agree": int(area["agree"]), "votes": int(area["votes"])}
