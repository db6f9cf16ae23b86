"""The contract between core.prepared and the ORM it reaches into: every module-level `Prepared`
query of the code gives what its plain queryset gives, on a database with rows.

`Prepared` builds a queryset's SQL once with stand-in ids and makes the rows into model
instances through Tortoise's executor, using private parts of tortoise-orm and pypika-tortoise
(see the pins in pyproject.toml). After a new version of either, these tests say whether the
prepared queries still return the same rows: the same model instances (every attribute: fields,
related objects of select_related, annotations) for `.all`/`.first`, the same raw rows for
`.rows`, the same value for `.scalar`.

The queries are found by importing every module of core, budget and consult and collecting the
`Prepared` instances in their globals, so a new one is covered without editing this file. One
with fixed integer arguments runs with every combination of the ids in the test data (and an
unknown id); one that takes a `shape` needs its shapes listed in SHAPED below.
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import pkgutil
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from tortoise.models import Model
from tortoise.queryset import QuerySet

from budget.models import Ballot, Category, Channel, Proposal, ProposalPhoto, ProposalStatus
from budget.services import proposals as proposals_svc
from consult.models import Need, NeedCategory, NeedState
from core.models import AuditEntry, Role
from core.prepared import Prepared
from tests.helpers import make_area, make_round, make_user

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core", "budget", "consult")
MISSING_ID = 987_654  # an id no row has


def _modules():
    for package in PACKAGES:
        yield importlib.import_module(package)
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, f"{package}."):
            if ".migrations" not in info.name:
                yield importlib.import_module(info.name)


def prepared_queries() -> dict[str, Prepared]:
    """Every module-level Prepared of our packages, by `module.NAME` (where it is defined, if
    another module imports it too)."""
    names: dict[int, tuple[bool, str]] = {}
    found: dict[int, Prepared] = {}
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, Prepared):
                home = getattr(value.build, "__module__", None) == module.__name__
                key = id(value)
                if key not in names or (home and not names[key][0]):
                    names[key] = (home, f"{module.__name__}.{name}")
                found[key] = value
    return {names[key][1]: found[key] for key in found}


PREPARED = prepared_queries()


# --- the test data --------------------------------------------------------------------------


@dataclass
class Data:
    rounds: list[int]
    areas: list[int]
    users: list[int]  # active with an area, active without one, inactive
    proposals: list[int]  # a sample: with photos, merged into another or from others, history
    ballots: list[int]
    feasible: list[int]  # a sample of feasible proposals, of both rounds and every area

    def ids(self) -> list[int]:
        return sorted({*self.rounds, *self.areas, *self.users, *self.proposals, *self.ballots})


async def make_data() -> Data:
    east = await make_area("East Gate")
    west = await make_area("West Lake")
    wang = await make_user("wang", area=east)
    li = await make_user("li", role=Role.COUNCIL)
    zhao = await make_user("zhao", area=west)
    zhao.is_active = False
    await zhao.save()
    rnd = await make_round()
    other = await make_round(title="2025 micro-projects")
    # A proposal for each combination of what the list filters on, with ties in each sort key
    # (support, cost, title) so that the tie-breaking order counts too.
    grid = itertools.product(
        [rnd, other], list(Category), list(ProposalStatus), [None, east, west], [wang, li]
    )
    await Proposal.bulk_create(
        [
            Proposal(
                round=r,
                author=author,
                title=f"Project {i % 17:02d}",
                description="A description",
                category=category,
                status=status,
                area=area,
                cost_fen=(i * 7919) % 13 * 1_000_00 + 100,
                revised_cost_fen=5_000_00 if i % 5 == 0 else None,
                support_count=i % 4,
                beneficiaries=i,
            )
            for i, (r, category, status, area, author) in enumerate(grid)
        ]
    )
    ids = await Proposal.all().order_by("id").values_list("id", flat=True)
    survivor, merged_a, merged_b, with_photos, plain = ids[3], ids[10], ids[11], ids[20], ids[-1]
    await Proposal.filter(id__in=[merged_a, merged_b]).update(
        merged_into_id=survivor, status=ProposalStatus.MERGED
    )
    for n, pid in enumerate([with_photos, with_photos, survivor]):
        await ProposalPhoto.create(
            proposal_id=pid, stored_name=f"photo{n}.jpg", content_type="image/jpeg", size=100 + n
        )
    table = Proposal._meta.db_table
    for n, (pid, actor, public) in enumerate(
        [
            (survivor, wang, True),
            (survivor, None, True),
            (survivor, li, False),
            (merged_a, li, True),
            (with_photos, wang, True),
        ]
    ):
        await AuditEntry.create(
            actor=actor,
            action=f"action {n}",
            subject_type=table,
            subject_id=pid,
            public=public,
            detail={"n": n, "note": "x"},
        )
    ballots = []
    for n, (r, voter) in enumerate([(rnd, wang), (rnd, zhao), (other, li)]):
        ballot = await Ballot.create(
            round=r, voter=voter, area_id=voter.area_id, channel=Channel.ONLINE, receipt=f"R{n}"
        )
        ballots.append(ballot.id)
    # Needs a proposal came from (consult.services.need_answers._NEEDS_OF_PROPOSAL)
    for n, (pid, resident) in enumerate([(survivor, wang), (survivor, None), (plain, zhao)]):
        await Need.create(
            number=f"XQ-TEST-{n:04d}",
            resident=resident,
            entered_by=li if resident is None else None,
            area=east,
            category=NeedCategory.ROADS,
            title=f"Need {n}",
            body="A street light is out.",
            state=NeedState.PROPOSED,
            proposal_id=pid,
            created_at=datetime(2026, 3, 1 + n, 8, 0, tzinfo=UTC),
        )
    feasible = await Proposal.filter(status=ProposalStatus.FEASIBLE).order_by("id")
    return Data(
        rounds=[rnd.id, other.id],
        areas=[east.id, west.id],
        users=[wang.id, li.id, zhao.id],
        proposals=[survivor, merged_a, merged_b, with_photos, plain],
        ballots=ballots,
        feasible=[p.id for p in feasible[::5]],
    )


# --- the shapes of the queries that take one -------------------------------------------------


def list_filters(data: Data) -> list[proposals_svc.ProposalFilters]:
    """Filters of the proposal list, one per shape of a representative set: every combination
    of what changes the SQL's structure (a round or not, all / district-wide / one area, an
    author or not, each sort: 60), with the category and status (constants in the SQL's values:
    4 × 8) going round so that each pair of them comes up. The whole set (1920 shapes) would take
    a minute for what these already cover."""
    categories = ["", *Category]
    statuses = ["", *ProposalStatus]
    structure = itertools.product(
        [False, True], ["", proposals_svc.DISTRICT, "id"], [False, True], list(proposals_svc.SORTS)
    )
    filters = []
    for i, (has_round, area, has_author, sort) in enumerate(structure):
        filters.append(
            proposals_svc.ProposalFilters(
                round_id=data.rounds[i % 2] if has_round else None,
                category=categories[i % 4],
                area=str(data.areas[i % 2]) if area == "id" else area,
                status=statuses[(i // 4) % 8],
                author_id=data.users[i % 2] if has_author else None,
                sort=sort,
            )
        )
    assert {(f.category, f.status) for f in filters} == set(itertools.product(categories, statuses))
    return filters


def list_count_cases(data: Data):
    for filters in list_filters(data):
        shape = proposals_svc._list_shape(filters)
        assert shape is not None
        yield shape, proposals_svc._list_ids(filters)


def list_page_cases(data: Data):
    for shape, ids in list_count_cases(data):
        for limit, offset in [(5, 0), (5, 4), (500, 0)]:
            yield shape, [*ids, limit, offset]


def chosen_project_cases(data: Data):
    """A ballot's chosen projects: 1, 2 and 4 ids (padded as the service pads them), some
    unknown or of the other round."""
    pool = [*data.feasible, data.proposals[0], MISSING_ID]
    for rid in [*data.rounds, MISSING_ID]:
        for n in (1, 2, 4):
            for start in range(len(pool)):
                ids = [pool[(start + k) % len(pool)] for k in range(n)]
                yield n, [rid, *ids]


# `module.NAME` of a Prepared taking a shape → its (shape, arguments) for the test data.
SHAPED = {
    "budget.services.ballot_form._CHOSEN_PROJECTS": chosen_project_cases,
    "budget.services.proposals._LIST_COUNT": list_count_cases,
    "budget.services.proposals._LIST_PAGE": list_page_cases,
}


def cases(name: str, prepared: Prepared, data: Data) -> list[tuple[Any, list[int]]]:
    if name in SHAPED:
        return list(SHAPED[name](data))
    parameters = list(inspect.signature(prepared.build).parameters.values())
    if (parameters and parameters[0].name == "shape") or any(
        p.kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD for p in parameters
    ):
        pytest.fail(f"{name} takes a shape or a varying number of ids: list its cases in SHAPED")
    pool = [*data.ids(), MISSING_ID]
    return [(None, list(args)) for args in itertools.product(pool, repeat=len(parameters))]


# --- the comparison --------------------------------------------------------------------------


def snapshot(value: Any) -> Any:
    """A model instance as its type and every attribute (fields, flags such as _partial,
    related objects of select_related, annotations), recursively."""
    if isinstance(value, Model):
        attributes = {key: snapshot(item) for key, item in vars(value).items()}
        return type(value).__name__, value.pk, attributes
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    return value


def raw(rows: list) -> list:
    return [(list(row.keys()), tuple(row)) for row in rows]


async def queryset_rows(queryset: Any) -> list:
    """The raw rows of the queryset's own SQL, with its own values."""
    queryset.sql()  # chooses the database and builds the query
    db = queryset._db
    _count, rows = await db.execute_query(*queryset.query.get_parameterized_sql())
    return list(rows)


def build(prepared: Prepared, shape: Any, args: list[int]) -> Any:
    return prepared.build(*args) if shape is None else prepared.build(shape, *args)


@pytest.mark.parametrize("name", sorted(PREPARED))
async def test_prepared_query_gives_what_its_queryset_gives(db, name):
    prepared = PREPARED[name]
    data = await make_data()
    checked = 0
    for shape, args in cases(name, prepared, data):
        where = f"{name} shape={shape!r} args={args}"
        expected = await build(prepared, shape, args)
        rows = await prepared.rows(*args, shape=shape)
        assert raw(rows) == raw(await queryset_rows(build(prepared, shape, args))), where
        if isinstance(build(prepared, shape, args), QuerySet):
            got = await prepared.all(*args, shape=shape)
            assert snapshot(got) == snapshot(expected), where
            first = await prepared.first(*args, shape=shape)
            assert snapshot(first) == snapshot(expected[0] if expected else None), where
            checked += bool(expected)
        else:  # a count
            assert await prepared.scalar(*args, shape=shape) == expected, where
            checked += bool(expected)
    assert checked, f"{name} found no rows in the test data for any of its cases"


def test_the_known_prepared_queries_are_found():
    """The collection works (a renamed module would otherwise leave these tests with nothing)."""
    assert {
        "budget.services.proposals._LIST_COUNT",
        "budget.services.proposals._LIST_PAGE",
        "budget.services.proposals._PROPOSAL",
        "budget.services.voting._ROUND",
        "core.web.users._ACTIVE_USER",
    } <= set(PREPARED)


# --- the pinned versions ---------------------------------------------------------------------


PINNED = ("tortoise-orm", "pypika-tortoise", "starlette-babel")


def locked_versions() -> dict[str, str]:
    text = (ROOT / "requirements-test.lock").read_text()
    return {
        re.sub(r"[-_.]+", "-", name).lower(): ver
        for name, ver in re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", text, re.M)
    }


@pytest.mark.parametrize("package", PINNED)
def test_installed_version_is_the_locked_one(package):
    locked = locked_versions()[package]
    installed = version(package)
    assert installed == locked, (
        f"{package} {installed} is installed but requirements-test.lock pins {locked}. The code "
        f"uses its internals (see pyproject.toml): `make install-test` installs the pinned one; "
        f"to move to {installed}, run tests/core/test_prepared_contract.py and the whole suite "
        f"with it, then update the pin in pyproject.toml and run `make lock`."
    )


# --- a page of raw rows with a capped count (core.prepared.page_of_rows) ----------------------


@pytest.mark.parametrize("number", [1, 2, 3, 9])
async def test_page_of_rows_gives_the_querysets_page_and_a_capped_count(db, number):
    from core.models import Area
    from core.prepared import page_of_rows

    for i in range(13):
        await make_area(f"Page {i:02d}")
    await make_area("Elsewhere")
    queryset = Area.filter(name__startswith="Page").order_by("-name", "id")
    rows, total, got_number = await page_of_rows(
        queryset, ("id", "name"), size=4, number=number, cap=10
    )
    assert total == 11  # 13 match: counted up to the cap + 1
    assert got_number == min(number, 3)  # 10 counted rows make 3 pages of 4
    expected = queryset.offset((got_number - 1) * 4).limit(4).values_list("id", "name")
    assert [tuple(row) for row in rows] == [tuple(row) for row in await expected]
    assert [row[1] for row in rows][:1] == [f"Page {12 - (got_number - 1) * 4:02d}"]
    few, total, _n = await page_of_rows(
        Area.filter(name="Elsewhere"), ("id", "name"), size=4, number=1, cap=10
    )
    assert total == 1 and [row[1] for row in few] == ["Elsewhere"]
