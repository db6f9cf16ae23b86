"""The results page through the app: public before/after publishing, compute, publish."""

from __future__ import annotations

from budget.models import Outcome, Round
from budget.services import results as svc
from tests.budget.test_results_services import counted_round
from tests.helpers import login, page_text, post_form
from tests.querycount import count_queries


async def test_public_sees_not_yet_published(client, db):
    rnd, council, p, _areas = await counted_round()
    response = await client.get(f"/budget/rounds/{rnd.id}/results")
    assert response.status_code == 200
    text = page_text(response.text)
    assert "not yet published" in text
    assert "Turnout" not in text and "Did not fit" not in text


async def test_compute_preview_publish_then_read_only(client, db):
    rnd, council, p, (east, west) = await counted_round()
    await login(client, "council")
    page = await client.get(f"/budget/rounds/{rnd.id}/results")
    assert "Count the ballots" in page_text(page.text)

    response = await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")
    assert response.status_code == 303
    page = await client.get(f"/budget/rounds/{rnd.id}/results")
    text = page_text(page.text)
    assert "Preview — not published." in text
    assert "Did not fit: ¥40,000 left, it costs ¥50,000." in text
    assert "Funded as number 1 by votes: ¥100,000 was left, it costs ¥60,000." in text
    assert "Greedy by votes" in text and "Ties:" in text
    assert "Count the ballots again" in text

    # a re-run replaces
    await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")
    assert await Outcome.filter(round_id=rnd.id).count() == 3

    # publishing needs the confirmation
    confirm = await client.get(f"/budget/rounds/{rnd.id}/results/publish")
    assert confirm.status_code == 200 and 'name="confirm"' in confirm.text
    assert 'data-confirm="' not in confirm.text  # one step: the page and its box
    refused = await post_form(client, f"/budget/rounds/{rnd.id}/results/publish")
    assert refused.status_code == 422
    assert (await Round.get(id=rnd.id)).results_published_at is None
    done = await post_form(client, f"/budget/rounds/{rnd.id}/results/publish", {"confirm": "1"})
    assert done.status_code == 303
    assert (await Round.get(id=rnd.id)).results_published_at is not None

    again = await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")
    assert again.status_code == 403
    page = await client.get(f"/budget/rounds/{rnd.id}/results")
    assert "Count the ballots" not in page_text(page.text)

    # the public now sees everything
    client.cookies.clear()
    public = await client.get(f"/budget/rounds/{rnd.id}/results")
    text = page_text(public.text)
    assert "Published on" in text
    assert "Did not fit: ¥40,000 left, it costs ¥50,000." in text
    assert "East Gate 4 4 3 1 100.0%" in text  # eligible, ballots, online, paper, turnout
    assert "Whole district 6 5 4 1 83.3%" in text


async def test_residents_cannot_compute_or_publish(client, db):
    rnd, council, p, _areas = await counted_round()
    await login(client, "east0")
    assert (await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")).status_code == 403
    assert (await client.get(f"/budget/rounds/{rnd.id}/results/publish")).status_code == 403
    assert await Outcome.all().count() == 0


async def test_results_page_query_count_is_flat(client, db):
    rnd, council, p, _areas = await counted_round()
    await login(client, "council")
    await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")
    with count_queries() as queries:
        response = await client.get(f"/budget/rounds/{rnd.id}/results")
    assert response.status_code == 200
    assert len(queries) <= 8, queries


async def test_equal_shares_results_page_explains_in_words(client, db):
    rnd, council, p, _areas = await counted_round(rule="equal-shares")
    await login(client, "council")
    await post_form(client, f"/budget/rounds/{rnd.id}/results/compute")
    page = await client.get(f"/budget/rounds/{rnd.id}/results")
    text = page_text(page.text)
    assert "Method of Equal Shares" in text
    # bought by equal shares, then the money left given out greedily by votes
    assert (
        "A 3 ¥60,000 Funded Funded in step 1 of equal shares: its 3 supporters paid ¥20,000 each."
        in text
    )
    assert (
        "C 1 ¥30,000 Funded Funded with the money left after equal shares, as number 2 by votes: "
        "¥40,000 was left, it costs ¥30,000." in text
    )
    assert (
        "D 4 ¥20,000 Funded Funded in step 1 of equal shares: its 4 supporters paid ¥5,000 each."
        in text
    )


async def test_a_count_changes_nothing_public_until_it_is_published(client, db):
    """The council's count is a preview: the public and residents see no project funded or not
    funded anywhere (cards, proposal pages, the round's counts, the status filter) until the
    results are published; staff see the preview, marked as one."""
    rnd, council, p, _areas = await counted_round()
    await svc.compute_results(council, rnd.id)
    pages = [
        "/budget/",
        f"/budget/rounds/{rnd.id}",
        f"/budget/proposals?round={rnd.id}",
        "/budget/proposals?sort=support",
        *(f"/budget/proposals/{p[name].id}" for name in "ABCWD"),
    ]
    filters = [f"/budget/proposals?round={rnd.id}&status={s}" for s in ("funded", "not_funded")]
    for who in (None, "east0", "council"):
        client.cookies.clear()
        if who:
            await login(client, who)
        for url in pages + filters:
            response = await client.get(url)
            assert response.status_code == 200, url
            assert 'class="badge funded"' not in response.text, (who, url)
            assert 'class="badge not_funded"' not in response.text, (who, url)
        for url in filters:
            assert "0 proposals found." in page_text((await client.get(url)).text), (who, url)
        text = page_text((await client.get(f"/budget/rounds/{rnd.id}/results")).text)
        if who == "council":
            assert "Preview — not published." in text and "Did not fit" in text
        else:
            assert "not yet published" in text and "Did not fit" not in text
            assert "Preview" not in text

    await svc.publish_results(council, rnd.id)
    client.cookies.clear()
    detail = await client.get(f"/budget/proposals/{p['A'].id}")
    assert 'class="badge funded"' in detail.text and "Funded" in page_text(detail.text)
    detail = await client.get(f"/budget/proposals/{p['B'].id}")
    assert "Not funded" in page_text(detail.text)
    funded = page_text((await client.get(filters[0])).text)
    assert "4 proposals found." in funded
    assert all(p[name].title in funded for name in "ACWD")
    round_page = page_text((await client.get(f"/budget/rounds/{rnd.id}")).text)
    assert "Funded 4" in round_page and "Not funded 1" in round_page
    results = page_text((await client.get(f"/budget/rounds/{rnd.id}/results")).text)
    assert "Published on" in results and "Preview" not in results
