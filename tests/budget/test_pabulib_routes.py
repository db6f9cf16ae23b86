"""Pabulib import page, .pb download and the rule comparison page, through the app."""

from __future__ import annotations

from budget.models import Ballot, Envelope, Phase, Proposal, Round
from budget.pabulib import parse_pb
from budget.services import pabulib_jobs
from budget.services import results as svc
from core.models import Role
from tests.budget.test_pabulib_io import SMALL_FILE, polarised_round, real_file
from tests.budget.test_results_services import counted_round
from tests.helpers import login, make_area, make_round, make_user, page_text, post_form
from tests.querycount import count_queries

IMPORT = "/budget/studies/import"


async def upload(client, filename: str, data: bytes):
    """Post a file to the import form, wait for its job and open the job's page (where a
    browser goes next)."""
    started = await post_form(client, IMPORT, files={"file": (filename, data, "text/plain")})
    assert started.status_code == 303, started.text[:500]
    job_page = started.headers["location"]
    assert "/budget/studies/imports/" in job_page
    await pabulib_jobs.wait(int(job_page.rstrip("/").rsplit("/", 1)[1]))
    return await client.get(job_page)


async def test_import_form_and_a_good_file(client, db):
    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    studies = await client.get("/budget/studies")
    assert IMPORT in studies.text
    form = await client.get(IMPORT)
    assert form.status_code == 200
    assert 'type="file"' in form.text and 'enctype="multipart/form-data"' in form.text
    assert '<label for="file">' in form.text and 'name="csrf_token"' in form.text

    data = real_file("Netherlands_Assen_2024")
    response = await upload(client, "Netherlands_Assen_2024.pb", data)
    assert response.status_code == 303, response.text[:500]
    rnd = await Round.get(source="Netherlands_Assen_2024.pb")
    assert response.headers["location"].endswith(f"/budget/studies/{rnd.id}")
    page = await client.get(f"/budget/studies/{rnd.id}")
    text = page_text(page.text)
    assert "Only council members see it: compare the rules" in text
    assert "Private: only council members can see this imported election." in text
    assert "Rule: Method of Equal Shares" in text and "Ties:" in text
    assert "Each voter's share" in text
    assert "Funded in step 1 of equal shares: its 43 supporters paid ¥167.44 each." in text
    assert "Compare greedy and equal shares" in text
    assert "Voters (the file's count) 84 Ballots imported 84" in text  # turnout: the file's


async def test_a_bad_file_comes_back_with_the_line_and_nothing_is_saved(client, db):
    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    bad = SMALL_FILE.replace("v3;p3", "v3;p9").encode()
    response = await upload(client, "bad.pb", bad)
    assert response.status_code == 422
    text = page_text(response.text)
    assert "Line 18: vote of 'v3' names unknown project 'p9'" in text
    assert 'id="file-error"' in response.text and "error-summary" in response.text
    assert await Round.all().count() == 0 and await Ballot.all().count() == 0

    missing = await post_form(client, IMPORT, data={})
    assert missing.status_code == 422
    assert "Choose a .pb file" in page_text(missing.text)


async def test_residents_may_not_import(client, db):
    area = await make_area()
    await make_user("resident", area=area)
    await login(client, "resident")
    assert (await client.get(IMPORT)).status_code == 403
    response = await post_form(
        client, IMPORT, files={"file": ("t.pb", SMALL_FILE.encode(), "text/plain")}
    )
    assert response.status_code == 403
    assert await Round.all().count() == 0
    studies = await client.get("/budget/studies")
    assert IMPORT not in studies.text


async def test_export_download_headers_and_links(client, db):
    rnd, council, p, (east, west) = await counted_round()
    await login(client, "council")
    detail = await client.get(f"/budget/rounds/{rnd.id}")
    envelopes = await Envelope.filter(round_id=rnd.id)
    for envelope in envelopes:
        assert f"/budget/rounds/{rnd.id}/export.pb?envelope={envelope.id}" in detail.text
    response = await client.get(f"/budget/rounds/{rnd.id}/export.pb")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="yishi_round_{rnd.id}.pb"'
    )
    pb = parse_pb(response.text)
    assert pb.meta["num_votes"] == "5"
    east_env = next(e for e in envelopes if e.area_id == east.id)
    east = await client.get(f"/budget/rounds/{rnd.id}/export.pb?envelope={east_env.id}")
    assert east.status_code == 200 and "_area_" in east.headers["content-disposition"]
    assert (await client.get(f"/budget/rounds/{rnd.id}/export.pb?envelope=x")).status_code == 404


async def test_export_is_refused_during_voting_and_before_publishing(client, db):
    rnd, council, p, _areas = await counted_round()
    anonymous = await client.get(f"/budget/rounds/{rnd.id}/export.pb")
    assert anonymous.status_code == 403
    detail = await client.get(f"/budget/rounds/{rnd.id}")
    assert "export.pb" not in detail.text
    voting_round = await make_round(title="Voting now", phase=Phase.VOTING)
    await login(client, "council")
    refused = await client.get(f"/budget/rounds/{voting_round.id}/export.pb")
    assert refused.status_code == 403
    assert "secret until voting closes" in page_text(refused.text)

    await svc.compute_results(council, rnd.id)
    await svc.publish_results(council, rnd.id)
    client.cookies.clear()
    public = await client.get(f"/budget/rounds/{rnd.id}/export.pb")
    assert public.status_code == 200 and public.text.startswith("META")


async def test_compare_page(client, db):
    rnd, council, p = await polarised_round()
    await login(client, "council")
    with count_queries() as queries:  # counted, and kept
        first = await client.get(f"/budget/rounds/{rnd.id}/results/compare")
    assert first.status_code == 200
    assert len(queries) <= 11, queries
    with count_queries() as queries:  # the kept counts
        response = await client.get(f"/budget/rounds/{rnd.id}/results/compare")
    assert response.status_code == 200
    assert len(queries) <= 10, queries
    text = page_text(response.text)
    assert "Greedy by votes" in text and "Method of Equal Shares" in text
    assert "Projects that change between the rules: 2" in text
    assert 'class="changed"' in response.text
    assert "A2 (changes)" in text and "C (changes)" in text and "A1 (changes)" not in text
    assert "of 10) 6 (60.0%) 10 (100.0%)" in text
    assert "West Bank 4 0 (0.0%) 4 (100.0%)" in text
    assert "Whole district 10 6 (60.0%) 10 (100.0%)" in text


async def test_compare_page_is_for_staff_after_voting(client, db):
    rnd, council, p = await polarised_round()
    await make_user("reader", area=None)
    await login(client, "reader")
    assert (await client.get(f"/budget/rounds/{rnd.id}/results/compare")).status_code == 403
    rnd.phase = Phase.VOTING
    await rnd.save()
    client.cookies.clear()
    await login(client, "council")
    assert (await client.get(f"/budget/rounds/{rnd.id}/results/compare")).status_code == 403
    assert await Proposal.filter(round_id=rnd.id).count() == 3
