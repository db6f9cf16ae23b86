"""The ballot a voter fills in: the envelopes on it (their area's and the district-wide one)
with their feasible projects, read fresh on every call; checking a ballot against the round's
rules, with each problem in words; and the choices of a submitted form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from tortoise.expressions import Q

from budget.models import BallotType, Envelope, Proposal, ProposalStatus, Round
from budget.rules import ballots as rules
from core.forms import int_param
from core.i18n import _, format_money
from core.models import Area
from core.page_stamps import STAMP_TABLE
from core.prepared import Prepared

DISTRICT = "district"  # the key of the district-wide envelope (area null)
MAX_POINTS = 1_000_000


@dataclass
class BallotEnvelope:
    key: str  # DISTRICT or str(area id)
    area: Area | None
    budget_fen: int
    projects: list[BallotProject]

    @property
    def name(self) -> str:
        return self.area.name if self.area is not None else _("District-wide")

    @property
    def spec(self) -> rules.EnvelopeSpec:
        return rules.EnvelopeSpec(
            key=self.key,
            budget_fen=self.budget_fen,
            costs={p.id: p.effective_cost_fen for p in self.projects},
        )


def envelope_key(area_id: int | None) -> str:
    return DISTRICT if area_id is None else str(area_id)


# What a ballot shows of a project (and what checking a ballot needs).
BALLOT_FIELDS = ("id", "title", "area_id", "cost_fen", "revised_cost_fen")

# What a voter's ballot shows is read anew on every call (a few small indexed queries): an
# area renamed or a project's cost revised shows at once, in every worker process.
_VOTER_ENVELOPES = Prepared(
    lambda rid, aid: (
        Envelope.filter(Q(area_id=aid) | Q(area_id__isnull=True), round_id=rid)
        .select_related("area")
        .limit(2)
    )
)
_DISTRICT_ENVELOPE = Prepared(
    lambda rid: Envelope.filter(round_id=rid, area_id__isnull=True).select_related("area").limit(1)
)
_VOTER_PROJECTS = Prepared(
    lambda rid, aid: (
        Proposal.filter(
            Q(area_id=aid) | Q(area_id__isnull=True), round_id=rid, status=ProposalStatus.FEASIBLE
        )
        .order_by("title", "id")
        .only(*BALLOT_FIELDS)
    )
)
_DISTRICT_PROJECTS = Prepared(
    lambda rid: (
        Proposal.filter(round_id=rid, area_id__isnull=True, status=ProposalStatus.FEASIBLE)
        .order_by("title", "id")
        .only(*BALLOT_FIELDS)
    )
)
# The projects a ballot chose, by id: one shape per number of ids, rounded up to a power of
# two (the list is padded with its last id), so that a few shapes serve every ballot.
_CHOSEN_PROJECTS = Prepared(
    lambda shape, rid, *ids: (
        Proposal.filter(round_id=rid, status=ProposalStatus.FEASIBLE, id__in=ids)
        .order_by("title", "id")
        .only(*BALLOT_FIELDS)
    )
)


@dataclass(frozen=True, slots=True)
class BallotProject:
    """A project as a ballot shows it (read as a bare row: a ballot lists hundreds)."""

    id: int
    title: str
    area_id: int | None
    effective_cost_fen: int

    @classmethod
    def from_row(cls, row: Any) -> BallotProject:
        revised = row["revised_cost_fen"]
        cost = revised if revised is not None else row["cost_fen"]
        return cls(row["id"], row["title"], row["area_id"], cost)


def _padded(ids: list[int]) -> list[int]:
    size = 1 << (len(ids) - 1).bit_length()
    return ids + [ids[-1]] * (size - len(ids))


async def ballot_envelopes(
    rnd: Round, area_id: int | None, using_db: Any = None, *, only: Iterable[int] | None = None
) -> list[BallotEnvelope]:
    """The envelopes on the ballot of a voter of `area_id` (their area first, then the
    district-wide one), each with its feasible projects in ballot order (title, id).

    `only`: keep just these projects (what a ballot chose) — enough to validate it or to
    show its running total, and only those are read."""
    if area_id is None:
        envelopes = await _DISTRICT_ENVELOPE.all(rnd.id, using_db=using_db)
    else:
        envelopes = await _VOTER_ENVELOPES.all(rnd.id, area_id, using_db=using_db)
    if only is not None:
        wanted = sorted({int(pid) for pid in only})
        rows = []
        if wanted:
            ids = _padded(wanted)
            rows = await _CHOSEN_PROJECTS.rows(rnd.id, *ids, shape=len(ids), using_db=using_db)
    elif area_id is None:
        rows = await _DISTRICT_PROJECTS.rows(rnd.id, using_db=using_db)
    else:
        rows = await _VOTER_PROJECTS.rows(rnd.id, area_id, using_db=using_db)
    by_area: dict[int | None, list[BallotProject]] = {}
    for row in rows:
        project = BallotProject.from_row(row)
        by_area.setdefault(project.area_id, []).append(project)
    result = [
        BallotEnvelope(envelope_key(e.area_id), e.area, e.budget_fen, by_area.get(e.area_id, []))
        for e in envelopes
    ]
    result.sort(key=lambda b: b.area is None)
    return result


async def chosen_specs(
    rnd: Round, area_id: int | None, choices: Iterable[int], using_db: Any
) -> list[rules.EnvelopeSpec]:
    """The envelopes of a voter of `area_id` as checking their ballot sees them (their area's
    first), with only the chosen projects: what `ballot_envelopes(…, only=choices)` reads in
    two queries, in one (`round_with_specs`; PostgreSQL only), without what only the page
    shows (names, titles)."""
    found = await round_with_specs(rnd.id, area_id, choices, using_db)
    return found[1] if found is not None else []


def _round_sql(projects: str, stamp: bool = False) -> str:
    """The round's row whole (r.*) with, as JSON columns, the envelopes of a voter of area $2
    and the feasible ($3) projects of the round that `projects` (an SQL condition on p)
    selects; with `stamp`, the page stamp too. One query, so one snapshot. The row becomes a
    model as Tortoise makes one from a row (`_init_from_db`; tortoise-orm is pinned and
    tests/budget/test_voting_services.py compares the result with `Round.get`)."""
    stamp_column = (
        f'(SELECT "version" FROM "{STAMP_TABLE}" WHERE "id" = 1) AS "_stamp",' if stamp else ""
    )
    return f"""
SELECT r.*, {stamp_column}
    (SELECT json_agg(json_build_array(e."area_id", e."budget_fen"))
     FROM "{Envelope._meta.db_table}" e
     WHERE e."round_id" = r."id" AND (e."area_id" = $2 OR e."area_id" IS NULL)) AS "_envelopes",
    (SELECT json_agg(json_build_array(p."id", p."area_id",
                                      COALESCE(p."revised_cost_fen", p."cost_fen")))
     FROM "{Proposal._meta.db_table}" p
     WHERE p."round_id" = r."id" AND p."status" = $3 AND {projects}) AS "_projects"
FROM "{Round._meta.db_table}" r
WHERE r."id" = $1
"""


# The round and what checking a ballot naming projects $4 needs (`chosen_specs`): a cast
# costs one round trip less.
_ROUND_WITH_SPECS_SQL = _round_sql('p."id" = ANY($4::int[])')
# The round with the whole ballot of a voter of an area (every feasible project of their area
# and of the district) and the page stamp (core.page_stamps): what a process keeps to check
# ballots with (budget.services.first_ballots).
_ROUND_BALLOT_SQL = _round_sql('(p."area_id" = $2 OR p."area_id" IS NULL)', stamp=True)


def form_project_ids(form: Mapping[str, Any] | Any) -> list[int]:
    """Every project id a ballot form names, whatever the round's ballot type (checkboxes
    `project`, number inputs `points-<id>`): what to read before the round is known."""
    ids = {int_param(raw) for raw in form.getlist("project") if isinstance(raw, str)}
    ids |= {
        int_param(key.removeprefix("points-")) for key in form.keys() if key.startswith("points-")
    }
    ids.discard(None)
    return sorted(ids)


async def round_with_specs(
    round_id: int, area_id: int | None, project_ids: Iterable[int], using_db: Any
) -> tuple[Round, list[rules.EnvelopeSpec]] | None:
    """The round and the envelopes of a voter of `area_id` with the named projects that are
    feasible in it (`chosen_specs`), in one query (PostgreSQL); None when there is no such
    round."""
    _count, rows = await using_db.execute_query(
        _ROUND_WITH_SPECS_SQL,
        [round_id, area_id, ProposalStatus.FEASIBLE.value, sorted({int(p) for p in project_ids})],
    )
    if not rows:
        return None
    row = dict(rows[0])
    specs = _specs_of(row)
    return Round._init_from_db(**row), specs


async def round_ballot(
    round_id: int, area_id: int, using_db: Any
) -> tuple[Round, list[rules.EnvelopeSpec], int] | None:
    """The round, the whole ballot of a voter of `area_id` (as `chosen_specs` gives it, with
    every feasible project) and the page stamp they were read at, in one query (PostgreSQL);
    None when there is no such round."""
    _count, rows = await using_db.execute_query(
        _ROUND_BALLOT_SQL, [round_id, area_id, ProposalStatus.FEASIBLE.value]
    )
    if not rows:
        return None
    row = dict(rows[0])
    stamp = row.pop("_stamp")
    specs = _specs_of(row)
    return Round._init_from_db(**row), specs, stamp


def _specs_of(row: dict[str, Any]) -> list[rules.EnvelopeSpec]:
    """The specs in a row of the queries above (their JSON columns taken out of the row)."""
    envelopes = json.loads(row.pop("_envelopes") or "[]")
    projects = json.loads(row.pop("_projects") or "[]")
    budgets = {area: budget for area, budget in envelopes}
    costs: dict[int | None, dict[int, int]] = {}
    for pid, area, cost in projects:
        costs.setdefault(area, {})[pid] = cost
    return _specs(budgets, costs)


def _specs(
    budgets: dict[int | None, int], costs: dict[int | None, dict[int, int]]
) -> list[rules.EnvelopeSpec]:
    """Envelope specs in ballot order: the voter's area first, then the district-wide one."""
    ordered = sorted(budgets, key=lambda area: area is None)
    return [
        rules.EnvelopeSpec(envelope_key(area), budgets[area], costs.get(area, {}))
        for area in ordered
    ]


def check_specs(
    rnd: Round, specs: list[rules.EnvelopeSpec], choices: Mapping[int, int]
) -> rules.BallotCheck:
    return rules.validate_ballot(
        str(rnd.ballot_type),
        specs,
        choices,
        max_choices=rnd.max_choices,
        points_total=rnd.points_total,
        require_choice=True,
    )


def check_ballot(
    rnd: Round,
    envelopes: list[BallotEnvelope],
    choices: Mapping[int, int],
    *,
    require_choice: bool = True,
) -> rules.BallotCheck:
    return rules.validate_ballot(
        str(rnd.ballot_type),
        [e.spec for e in envelopes],
        choices,
        max_choices=rnd.max_choices,
        points_total=rnd.points_total,
        require_choice=require_choice,
    )


def problem_message(problem: rules.Problem) -> str:
    """A ballot problem in words, in the request's language."""
    p = problem.params
    match problem.code:
        case rules.EMPTY:
            return _("Choose at least one project.")
        case rules.UNKNOWN_PROJECT:
            return _(
                "One of your choices is not on this ballot any more (it may have been "
                "withdrawn, or it belongs to another area). Please check your choices."
            )
        case rules.BAD_POINTS:
            return _("Give each project a whole number of points (0 leaves it out).")
        case rules.OVER_BUDGET:
            if p["count"] == 1:
                return _(
                    "You chose 1 project costing {cost}; this envelope has {budget}.",
                    cost=format_money(p["cost"]),
                    budget=format_money(p["budget"]),
                )
            return _(
                "You chose {count} projects costing {cost}; this envelope has {budget}.",
                count=p["count"],
                cost=format_money(p["cost"]),
                budget=format_money(p["budget"]),
            )
        case rules.TOO_MANY:
            return _(
                "You chose {count} projects; choose at most {max} in this envelope.",
                count=p["count"],
                max=p["max"],
            )
        case rules.TOO_MANY_POINTS:
            return _(
                "You gave {used} points of {total}; take some back in this envelope.",
                used=p["used"],
                total=p["total"],
            )
    return _("This ballot is not valid.")


def error_messages(check: rules.BallotCheck) -> dict[str, list[str]]:
    """Messages per envelope key (and rules.BALLOT for the whole ballot)."""
    return {key: [problem_message(p) for p in problems] for key, problems in check.errors().items()}


def parse_choices(
    rnd: Round, form: Mapping[str, Any] | Any
) -> tuple[dict[int, int], dict[str, str]]:
    """The choices of a ballot form: checkboxes named `project` (approval types) or number
    inputs `points-<id>` (points). Returns (project id → points, field errors)."""
    choices: dict[int, int] = {}
    errors: dict[str, str] = {}
    if str(rnd.ballot_type) == BallotType.POINTS:
        for key in form.keys():
            if not key.startswith("points-"):
                continue
            pid = int_param(key.removeprefix("points-"))
            if pid is None:  # not an id a project can have (nor a 500 on a huge one)
                continue
            raw = str(form.get(key) or "").strip()
            if not raw:
                continue
            try:
                points = int(raw)
            except ValueError:
                errors[key] = _("Enter a whole number of points.")
                continue
            if points < 0 or points > MAX_POINTS:
                errors[key] = _("Enter a number of points of 0 or more.")
                continue
            if points:
                choices[pid] = points
    else:
        for raw in form.getlist("project"):
            pid = int_param(raw if isinstance(raw, str) else None)
            if pid is not None:
                choices[pid] = 1
    return choices, errors
