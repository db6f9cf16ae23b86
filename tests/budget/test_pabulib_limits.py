"""Hostile and oversized Pabulib files: numbers bounded before they are made exact, amounts
beyond the columns, caps on projects and voters, the reading worker's time and memory limits,
and the import job's page — a bad file is refused with a message, nothing is written, and the
server keeps answering meanwhile."""

from __future__ import annotations

import pytest

from budget.models import Ballot, ImportJob, ImportPhase, Proposal, Round
from budget.pabulib import NumberOutOfRange, PabulibError, parse_number, parse_pb
from budget.services import pabulib_jobs, pabulib_plan, pabulib_worker
from budget.services.pabulib_import import import_pabulib
from budget.services.pabulib_plan import parse_upload
from core.errors import ValidationError
from core.models import Role
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.helpers import login, make_user, page_text, post_form
from tests.test_pages import audit_html

IMPORT = "/budget/studies/import"


def pb(budget: str = "1000", cost: str = "300", vote_type: str = "approval", extra="") -> str:
    points = ";points" if vote_type == "cumulative" else ""
    one = ";5" if vote_type == "cumulative" else ""
    return (
        f"META\nkey;value\nbudget;{budget}\nvote_type;{vote_type}\n{extra}"
        f"PROJECTS\nproject_id;cost\np1;{cost}\np2;200\n"
        f"VOTES\nvoter_id;vote{points}\nv1;p1{one}\nv2;p2{one}\n"
    )


async def nothing_saved() -> bool:
    return (
        await Round.all().count() == 0
        and await Proposal.all().count() == 0
        and await Ballot.all().count() == 0
    )


@pytest.mark.parametrize(
    "text", ["1e7000000", "1E-7000000", "1" * 41, "0.000000000000000000000000000000001"]
)
def test_numbers_beyond_the_bounds_are_refused_before_being_made_exact(text):
    with pytest.raises(NumberOutOfRange):
        parse_number(text)


def test_numbers_within_the_bounds_are_exact():
    assert parse_number("1e30") == 10**30
    assert parse_number("12,5") * 2 == 25
    assert parse_number("0e999999") == 0


def test_the_parser_names_the_line_of_a_huge_exponent():
    with pytest.raises(PabulibError) as refused:
        parse_pb(pb(budget="1e7000000"))
    assert refused.value.line == 3 and "out of range" in refused.value.message
    with pytest.raises(PabulibError) as refused:
        parse_pb(pb(cost="9e999999"))
    assert refused.value.line == 7 and "out of range" in refused.value.message


async def test_a_50_byte_file_with_a_huge_exponent_is_refused_with_its_line(db):
    evil = b"META\nkey;value\nbudget;1e7000000\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
    with pytest.raises(ValidationError) as refused:
        await import_pabulib(None, "evil.pb", evil)
    assert "Line 3: budget: number out of range" in refused.value.message
    assert await nothing_saved()


@pytest.mark.parametrize(
    ("file", "line"),
    [
        (pb(budget="99999999999999999999"), 3),
        (pb(budget="1e30"), 3),
        (pb(cost="99999999999999999999"), 7),
        (pb(cost="1e30"), 7),
    ],
)
def test_amounts_beyond_what_a_column_holds_are_refused_with_the_line(file, line):
    with pytest.raises(ValidationError) as refused:
        parse_upload("big.pb", file.encode())
    assert refused.value.message.startswith(f"Line {line}: the amount ")
    assert "is larger than yishi accepts (at most 1,000,000,000,000 yuan)" in (
        refused.value.message
    )


def test_points_and_counts_beyond_a_column():
    huge_points = pb(vote_type="cumulative").replace("v1;p1;5", "v1;p1;99999999999")
    with pytest.raises(ValidationError) as refused:
        parse_upload("points.pb", huge_points.encode())
    assert refused.value.message == "Line 11: the points of voter v1 add up to too much."
    # a META count out of range is not used (the file's own count of votes is)
    _pb, plan = parse_upload("n.pb", pb(extra="num_votes;1e25\nmax_length;1e20\n").encode())
    assert plan.voters == 2 and plan.max_choices is None


def test_caps_on_projects_voters_and_choices(monkeypatch):
    monkeypatch.setattr(pabulib_plan, "MAX_PROJECTS", 1)
    with pytest.raises(ValidationError) as refused:
        parse_upload("many.pb", pb().encode())
    assert refused.value.message == (
        "Line 8: the file has more than 1 projects. yishi imports elections up to that size."
    )
    monkeypatch.setattr(pabulib_plan, "MAX_PROJECTS", 10)
    monkeypatch.setattr(pabulib_plan, "MAX_VOTERS", 1)
    with pytest.raises(ValidationError) as refused:
        parse_upload("many.pb", pb().encode())
    assert refused.value.message.startswith("Line 12: the file has more than 1 voters.")
    monkeypatch.setattr(pabulib_plan, "MAX_VOTERS", 10)
    monkeypatch.setattr(pabulib_plan, "MAX_CHOICES", 1)
    with pytest.raises(ValidationError) as refused:
        parse_upload("many.pb", pb().encode())
    assert refused.value.message.startswith("Line 12: the votes name more than 1 projects")


def test_the_caps_admit_every_shared_real_file():
    """The largest real files are well within the caps (Łódź 2022: 90,494 voters)."""
    from tests.fixtures.pabulib_files import pabulib_dir

    files = sorted(pabulib_dir().glob("*.pb"))
    if not files:
        pytest.skip("no Pabulib files here")
    for path in files:
        data = path.read_bytes()
        assert len(data) <= pabulib_plan.MAX_FILE_BYTES
        head = data[:4000].decode("utf-8-sig")
        meta = dict(
            line.split(";", 1) for line in head.split("PROJECTS")[0].splitlines()[2:] if ";" in line
        )
        assert int(meta["num_projects"]) <= pabulib_plan.MAX_PROJECTS, path.name
        assert int(meta["num_votes"]) <= pabulib_plan.MAX_VOTERS, path.name


async def test_a_file_beyond_the_project_cap_is_refused_by_the_worker(db):
    """The real cap, through the reading worker: 2,001 projects."""
    rows = "".join(f"p{i};10\n" for i in range(pabulib_plan.MAX_PROJECTS + 1))
    text = f"META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\n{rows}"
    with pytest.raises(ValidationError) as refused:
        await import_pabulib(None, "many.pb", text.encode())
    assert refused.value.message == (
        "Line 2007: the file has more than 2,000 projects. yishi imports elections up to that size."
    )
    assert await nothing_saved()


async def test_a_worker_out_of_time_is_killed_and_the_file_refused(db, monkeypatch):
    monkeypatch.setattr(pabulib_worker, "TIME_LIMIT", 0.01)  # less than starting Python takes
    with pytest.raises(ValidationError) as refused:
        await import_pabulib(None, "slow.pb", SMALL_FILE.encode())
    assert refused.value.message.startswith("The file could not be read within the limits")
    assert await nothing_saved()


async def test_a_worker_out_of_memory_is_stopped_and_the_file_refused(db, monkeypatch):
    """The worker limits its own address space: a file that needs more is refused."""
    monkeypatch.setattr(pabulib_worker, "MEMORY_LIMIT", 200 * 1024 * 1024)
    votes = "".join(f"v{i};p1,p2\n" for i in range(300_000))
    text = pb().split("VOTES")[0] + "VOTES\nvoter_id;vote\n" + votes
    with pytest.raises(ValidationError) as refused:
        await import_pabulib(None, "big.pb", text.encode())
    assert "200 MB of memory" in refused.value.message
    assert await nothing_saved()


async def test_the_worker_reads_the_same_plan_as_reading_in_process(db):
    _pb, expected = parse_upload("tiny.pb", SMALL_FILE.encode())
    got = await pabulib_worker.plan_in_worker("tiny.pb", SMALL_FILE.encode())
    assert [[tuple(c) for c in b] for b in got.ballots] == expected.ballots
    got.ballots = expected.ballots
    assert got == expected


async def upload(client, filename: str, data: bytes) -> str:
    started = await post_form(client, IMPORT, files={"file": (filename, data, "text/plain")})
    assert started.status_code == 303, started.text[:300]
    return started.headers["location"]


def job_id(location: str) -> int:
    return int(location.rstrip("/").rsplit("/", 1)[1])


async def test_the_import_page_of_a_hostile_file(client, db):
    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    evil = b"META\nkey;value\nbudget;1e7000000\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
    page = await upload(client, "evil.pb", evil)
    await pabulib_jobs.wait(job_id(page))
    refused = await client.get(page)
    assert refused.status_code == 422
    assert "Line 3: budget: number out of range" in page_text(refused.text)
    assert await nothing_saved()
    job = await ImportJob.get(id=job_id(page))
    assert job.phase == ImportPhase.FAILED


async def test_other_pages_answer_while_a_large_file_is_read(client, db):
    """The file is read in a worker process: while it is, the server answers other requests
    (the import's own page among them, showing its progress)."""
    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    votes = "".join(f"v{i};p1,p2\n" for i in range(100_000))
    text = pb().split("VOTES")[0] + "VOTES\nvoter_id;vote\n" + votes
    page = await upload(client, "large.pb", text.encode())
    running = pabulib_jobs._tasks[job_id(page)]
    other = await client.get("/budget/studies")
    progress = await client.get(page)
    assert other.status_code == 200 and progress.status_code == 200
    assert not running.done()  # both answered while the file was still being read
    shown = page_text(progress.text)
    assert "Reading the file: line" in shown and f"of {text.count(chr(10)):,}" in shown
    assert "Refresh" in shown
    assert 'hx-trigger="every 1s"' in progress.text and not audit_html(progress.text)
    polled = await client.get(page, headers={"HX-Request": "true"})
    assert polled.text.lstrip().startswith('<div id="import-progress"')
    await pabulib_jobs.wait(job_id(page))
    done = await client.get(page)
    assert done.status_code == 303
    rnd = await Round.get(source="large.pb")
    assert done.headers["location"].endswith(f"/budget/studies/{rnd.id}")
    assert await Ballot.filter(round_id=rnd.id).count() == 100_000
    # htmx polling a finished job is sent on with a full navigation
    await client.get(page)
    polled = await client.get(page, headers={"HX-Request": "true"})
    assert polled.headers["HX-Redirect"].endswith(f"/budget/studies/{rnd.id}")


async def test_an_import_job_is_its_owners_and_a_stale_one_says_so(client, db):
    from datetime import UTC, datetime, timedelta

    owner = await make_user("council", role=Role.COUNCIL)
    await make_user("other", role=Role.COUNCIL)
    job = await ImportJob.create(created_by=owner, filename="x.pb", lines_total=10)
    await login(client, "other")
    assert (await client.get(f"/budget/studies/imports/{job.id}")).status_code == 404
    assert (await client.get("/budget/studies/imports/99999999999")).status_code == 404
    await login(client, "council")
    assert (await client.get(f"/budget/studies/imports/{job.id}")).status_code == 200
    old = datetime.now(UTC) - pabulib_jobs.STALE_AFTER - timedelta(minutes=1)
    await ImportJob.filter(id=job.id).update(updated_at=old)
    stale = await client.get(f"/budget/studies/imports/{job.id}")
    assert stale.status_code == 422
    assert "The import was interrupted. Nothing was saved." in page_text(stale.text)


async def test_too_large_a_file_is_refused_at_once(client, db, monkeypatch):
    from budget.routes import pabulib as routes

    await make_user("council", role=Role.COUNCIL)
    await login(client, "council")
    monkeypatch.setattr(routes, "MAX_FILE_BYTES", 100)
    response = await post_form(
        client, IMPORT, files={"file": ("big.pb", SMALL_FILE.encode(), "text/plain")}
    )
    assert response.status_code == 422
    assert "The file is larger than" in page_text(response.text)
    assert await ImportJob.all().count() == 0
