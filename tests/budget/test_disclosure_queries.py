"""The public money pages run a fixed number of queries, whatever the number of procurements,
payments and ratings."""

from __future__ import annotations

from budget.models import Envelope, ProposalStatus, Rating
from budget.services import procurements
from core.models import Role
from tests.budget.disclosure_setup import move, stages_round
from tests.budget.money import contract, pay
from tests.helpers import login, make_proposal, make_user
from tests.querycount import count_queries


async def _count(client, url: str) -> int:
    with count_queries() as queries:
        response = await client.get(url)
    assert response.status_code == 200
    return len(queries)


async def test_spending_page_queries_do_not_grow(client, db):
    st = await stages_round()
    fr = st.fr
    url = f"/budget/rounds/{fr.round.id}/spending"
    few = await _count(client, url)

    # 80 more procurements (more than a page), some contracted, paid, delivered and rated
    await Envelope.filter(round_id=fr.round.id, area_id=None).update(budget_fen=10**12)
    fr.round.fund_fen = 10**12
    await fr.round.save()
    for i in range(80):
        await make_proposal(
            fr.round, fr.resident, f"More {i}", 100_00, None, ProposalStatus.FUNDED, "service"
        )
    created = await procurements.convert_round(fr.finance, fr.round.id)
    raters = [await make_user(f"rater{i}", Role.RESIDENT, area=fr.east) for i in range(3)]
    for p in created[:12]:
        await contract(fr, p, 50_00)
        await pay(fr, p, 20_00)
        await move(fr, p, "in_progress")
        await move(fr, p, "delivered", delivered_on="2026-11-01")
        for i, user in enumerate(raters):
            await Rating.create(procurement=p, user=user, score=3 + i)

    many = await _count(client, url)
    assert many == few, (few, many)
    assert many <= 6
    assert await _count(client, url + "?page=2") == many

    # signed in: one more for the user, still fixed
    await login(client, "resident")
    assert await _count(client, url) <= many + 2


async def test_procurement_page_queries_do_not_grow_with_payments_and_ratings(client, db):
    st = await stages_round()
    fr = st.fr
    url = f"/budget/procurements/{st.closed.id}"
    before = await _count(client, url)
    lamps = st.running
    for _ in range(10):
        await pay(fr, lamps, 100_00)
    users = [await make_user(f"rater{i}", Role.RESIDENT, area=fr.east) for i in range(10)]
    for user in users:
        await Rating.create(procurement=st.closed, user=user, score=4)
    assert await _count(client, url) == before
    assert await _count(client, f"/budget/procurements/{lamps.id}") == before
