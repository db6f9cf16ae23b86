"""The proposal list's prepared queries and cached filter choices: the same proposals, counts
and pages as the plain queryset for every shape, and a new or changed round or area shows at
once."""

from __future__ import annotations

import itertools

import pytest

from budget.models import Category, Phase, ProposalStatus, Round
from budget.services import proposals as svc
from core.models import Area
from core.prepared import Prepared
from tests.helpers import make_area, make_proposal, make_round, make_user

CARD = svc.CARD_FIELDS


async def district():
    east = await make_area("East Gate")
    west = await make_area("West Lake")
    rnd = await make_round()
    other = await make_round(title="2025 micro-projects")
    wang = await make_user("wang", area=east)
    li = await make_user("li", area=west)
    statuses = [ProposalStatus.SUBMITTED, ProposalStatus.FEASIBLE, ProposalStatus.INFEASIBLE]
    categories = list(Category)
    for i in range(30):
        await make_proposal(
            rnd if i % 4 else other,
            wang if i % 3 else li,
            title=f"Project {i:02d} <b>&",
            cost_fen=(i * 7919) % 50_000 * 100 + 100,
            area=[None, east, west][i % 3],
            status=statuses[i % 3],
            category=categories[i % len(categories)],
            revised_cost_fen=1_000_00 if i % 5 == 0 else None,
        )
    # an imported election's projects are never in the list, whatever the filters
    study = await make_round(title="Imported", is_study=True, source="x.pb")
    for i, status in enumerate([ProposalStatus.FUNDED, ProposalStatus.FEASIBLE] * 3):
        await make_proposal(study, None, f"Project {i:02d} imported", area=east, status=status)
    return rnd, other, east, west, wang


def as_tuple(p):
    return (
        p.id,
        p.round_id,
        p.area_id,
        p.author_id,
        p.title,
        p.category,
        p.status,
        p.cost_fen,
        p.revised_cost_fen,
        p.support_count,
        p.review_reason,
        p.effective_cost_fen,
        p.round.title,
        p.area.name if p.area else None,
    )


async def test_list_page_matches_the_plain_queryset_for_every_shape(db):
    rnd, _other, east, _west, wang = await district()
    choices = await svc.list_choices()
    combos = itertools.product(
        [None, rnd.id],
        ["", "service"],
        ["", svc.DISTRICT, str(east.id)],
        ["", "feasible"],
        [None, wang.id],
        list(svc.SORTS),
    )
    for round_id, category, area, status, author_id, sort in combos:
        filters = svc.ProposalFilters(
            round_id=round_id,
            category=category,
            area=area,
            status=status,
            author_id=author_id,
            sort=sort,
        )
        queryset = svc.filtered_proposals(filters).only(*CARD)
        total = await queryset.count()
        if filters == svc.ProposalFilters(sort=sort):
            assert total == 30
        for number in (1, 2, 99):
            items, got_number, got_total = await svc.list_page(filters, number, 4, choices)
            assert got_total == total
            pages = max(1, -(-total // 4))
            assert got_number == min(number, pages)
            expected = await queryset.offset((got_number - 1) * 4).limit(4)
            svc.attach_rounds_and_areas(expected, choices.rounds, choices.areas)
            assert [as_tuple(p) for p in items] == [as_tuple(p) for p in expected], filters
            assert all(isinstance(p.status, ProposalStatus) for p in items)


async def test_text_search_takes_the_plain_path(db):
    await district()
    choices = await svc.list_choices()
    items, number, total = await svc.list_page(
        svc.ProposalFilters(q="project 1", sort="title"), 1, 20, choices
    )
    assert total == 10 and number == 1
    assert [p.title[:10] for p in items] == [f"Project {i}" for i in range(10, 20)]
    assert all(p.round is not None for p in items)


async def test_new_and_changed_rounds_and_areas_show_at_once(db):
    rnd, *_ = await district()
    first = await svc.list_choices()
    assert await svc.list_choices() is first  # nothing changed: the same objects
    north = await make_area("North Hill")
    second = await svc.list_choices()
    assert north.id in second.areas_by_id and [a.name for a in second.areas][0] == "East Gate"
    await Area.filter(id=north.id).update(name="Amber Hill")  # no save(), no timestamp
    third = await svc.list_choices()
    assert third.areas[0].name == "Amber Hill"
    await Round.filter(id=rnd.id).update(phase=Phase.VOTING, title="Renamed")
    fourth = await svc.list_choices()
    assert fourth.rounds_by_id[rnd.id].title == "Renamed"
    assert fourth.rounds_by_id[rnd.id].phase == Phase.VOTING
    new = await make_round(title="2027 micro-projects")
    fifth = await svc.list_choices()
    assert fifth.rounds[0].id == new.id
    study = await make_round(title="Imported", is_study=True, source="x.pb")
    assert study.id not in (await svc.list_choices()).rounds_by_id
    await Area.filter(id=north.id).delete()
    assert north.id not in (await svc.list_choices()).areas_by_id


async def test_prepared_shapes_and_scalars(db):
    rnd, other, *_ = await district()
    count = Prepared(
        lambda shape, rid: svc._shaped((True, shape, "", "", False, "newest"), rid).count()
    )
    for category in ("", "service", "equipment"):
        for round_id in (rnd.id, other.id):
            expected = await svc.filtered_proposals(
                svc.ProposalFilters(round_id=round_id, category=category)
            ).count()
            assert await count.scalar(round_id, shape=category) == expected
    rows = await Prepared(lambda rid: Round.filter(id=rid).only("id", "title")).rows(rnd.id)
    assert [tuple(r) for r in rows] == [(rnd.id, rnd.title)]


async def test_prepared_refuses_parameters_that_do_not_reach_the_sql(db):
    await district()
    bad = Prepared(lambda shape, n: Round.filter(title=f"x{n}"))
    with pytest.raises(ValueError):
        await bad.rows(1, shape="a")


async def test_choices_are_in_the_order_of_the_plain_queries(db):
    for name in ["zeta", "Alpha", "beta", "Гамма", "东门", "西湖", "_under", "Beta 2"]:
        await make_area(name)
    for title in ["B round", "a round", "C round"]:
        await make_round(title=title)
    await make_round(title="Imported", is_study=True, source="x.pb")  # never a choice
    choices = await svc.list_choices()
    rounds = (
        await Round.filter(is_study=False)
        .only("id", "title", "phase", "is_study")
        .order_by("-created_at", "-id")
    )
    assert [r.title for r in rounds] == ["C round", "a round", "B round"]
    areas = await Area.all().only("id", "name")
    assert [(r.id, r.title, r.phase) for r in choices.rounds] == [
        (r.id, r.title, r.phase) for r in rounds
    ]
    assert [(a.id, a.name) for a in choices.areas] == [(a.id, a.name) for a in areas]
    assert choices.area_options == [(str(a.id), a.name) for a in areas]


@pytest.mark.parametrize("host", [b"example.org:8080", b"testserver", None])
async def test_detail_url_around_an_id_is_url_for(app, host):
    from starlette.requests import Request

    from core.web import route_url, route_url_around

    headers = [(b"host", host)] if host else []
    scope = {
        "type": "http",
        "app": app,
        "router": app.router,
        "method": "GET",
        "path": "/",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "scheme": "https",
        "server": ("10.0.0.1", 8443),
    }
    before, after = route_url_around(Request(scope), "budget:proposal_detail", "proposal_id")
    for proposal_id in (0, 7, 123456):
        expected = str(
            Request(dict(scope)).url_for("budget:proposal_detail", proposal_id=proposal_id)
        )
        assert f"{before}{proposal_id}{after}" == expected
        assert (
            str(route_url(Request(dict(scope)), "budget:proposal_detail", proposal_id=proposal_id))
            == expected
        )
    with pytest.raises(ValueError):
        route_url_around(Request(scope), "budget:proposal_list", "proposal_id")
