"""What a city's IT team relies on: security headers on every response (error pages and
server errors included, HSTS behind HTTPS), no-store on pages with a person's secrets, a
request id on every response and error page, JSON request logs without personal content,
same-origin HX-Redirect targets, and files readable by the service user only."""

from __future__ import annotations

import json
import logging
import os
import stat
from dataclasses import replace

import httpx
import pytest
from starlette.routing import Route

from app import create_app
from budget.models import Phase
from core.models import Role
from core.settings import Settings, prepare_files
from core.web.logs import LOGGER, JsonFormatter
from core.web.render import same_origin_target
from core.web.security import CSP, HSTS
from core.web.urls import safe_next
from tests.helpers import (
    app_client,
    bare_request,
    login,
    make_area,
    make_round,
    make_user,
    page_text,
    post_form,
)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter())
        self.lines: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


@pytest.fixture
def request_log():
    handler = _Lines()
    logger = logging.getLogger(LOGGER)
    level = logger.level
    logger.setLevel(logging.INFO)  # whatever LOG_LEVEL an earlier app of this session had
    logger.addHandler(handler)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(level)


def _failing_app(settings: Settings):
    app = create_app(settings)

    async def boom(request):
        raise RuntimeError("the receipt code ABCD-1234 must not reach the page")

    app.router.routes.insert(0, Route("/boom/{code}", boom, name="boom"))
    return app


async def test_a_server_error_is_a_page_with_the_headers_and_a_reference(settings, db, request_log):
    app = _failing_app(settings)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
    ) as client:
        response = await client.get("/boom/SECRET-CODE?q=also-secret")
    assert response.status_code == 500
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["x-frame-options"] == "DENY"
    reference = response.headers["x-request-id"]
    text = page_text(response.text)
    assert "Something went wrong" in text and f"Reference: {reference}" in text
    assert "ABCD-1234" not in response.text
    line = request_log[-1]
    assert line["status"] == 500 and line["request_id"] == reference
    assert line["route"] == "/boom/{code}" and line["level"] == "error"
    assert "SECRET-CODE" not in json.dumps({k: v for k, v in line.items() if k != "exception"})
    assert "also-secret" not in json.dumps(line)


async def test_a_value_longer_than_its_column_is_refused_not_a_server_error(
    settings, db, request_log
):
    from core.models import User

    app = create_app(settings)

    async def look_up(request):
        await User.filter(username=request.query_params["name"]).first()

    app.router.routes.insert(0, Route("/look-up", look_up, name="look_up"))
    async with app_client(app) as client:
        response = await client.get("/look-up", params={"name": "secret-" + "x" * 200})
    assert response.status_code == 422
    assert "too long or not valid" in page_text(response.text)
    assert response.headers["content-security-policy"] == CSP
    warning = next(line for line in request_log if line["message"] == "value refused by the model")
    assert warning["field"] == "username"
    assert "secret-" not in json.dumps(request_log)  # what was typed is never logged


async def test_not_found_pages_carry_the_headers_and_their_reference(app, db):
    async with app_client(app) as client:
        response = await client.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["content-security-policy"] == CSP
    assert f"Reference: {response.headers['x-request-id']}" in page_text(response.text)
    assert "strict-transport-security" not in response.headers


async def test_https_only_adds_hsts_everywhere(settings, db):
    app = create_app(replace(settings, https_only=True))
    async with app_client(app) as client:
        page = await client.get("/budget/")
        missing = await client.get("/no/such/page")
    assert page.status_code == 200 and page.headers["strict-transport-security"] == HSTS
    assert missing.headers["strict-transport-security"] == HSTS


async def test_a_log_line_per_request_names_the_route_the_user_and_the_status(app, db, request_log):
    area = await make_area()
    ana = await make_user("ana", area=area)
    async with app_client(app) as client:
        await login(client, "ana")
        await client.get("/budget/", headers={"X-Request-ID": "proxy-id-12345"})
    line = request_log[-1]
    assert line["request_id"] == "proxy-id-12345"
    assert line["route"] == "/budget/" and line["method"] == "GET"
    assert line["status"] == 200 and line["user_id"] == ana.id
    login_line = next(entry for entry in request_log if entry["route"] == "/login")
    assert "password" not in json.dumps(login_line)


async def test_ballot_and_account_pages_are_never_stored_even_with_an_error(app, db):
    area = await make_area()
    await make_user("ana", area=area)
    await make_user("chair", role=Role.COUNCIL)
    rnd = await make_round(phase=Phase.VOTING)
    async with app_client(app) as client:
        await login(client, "ana")
        ballot = await client.get(f"/budget/rounds/{rnd.id}/ballot")
        refused = await post_form(client, f"/budget/rounds/{rnd.id}/ballot", {"proposal": "999999"})
        rounds = await client.get("/budget/")
    assert ballot.status_code == 200 and ballot.headers["cache-control"] == "no-store"
    assert refused.status_code >= 400 and refused.headers["cache-control"] == "no-store"
    assert rounds.status_code == 200 and "cache-control" not in rounds.headers
    async with app_client(app) as client:
        login_page = await client.get("/login")
        await login(client, "chair")
        accounts = await client.get("/accounts")
    assert login_page.headers["cache-control"] == "no-store"
    assert accounts.headers["cache-control"] == "no-store"


def test_hx_redirect_targets_stay_on_the_site_and_are_quoted(app):
    request = bare_request(app)
    assert same_origin_target(request, "http://testserver/budget/rounds/3?x=1#p") == (
        "/budget/rounds/3?x=1#p"
    )
    assert same_origin_target(request, "https://evil.example/steal") == "/"
    assert same_origin_target(request, "//evil.example/steal") == "/"
    assert same_origin_target(request, "javascript:alert(1)") == "/"
    assert same_origin_target(request, "/提案?q=东门") == (
        "/%E6%8F%90%E6%A1%88?q=%E4%B8%9C%E9%97%A8"
    )


def test_the_database_file_and_uploads_are_the_service_users_only(tmp_path):
    settings = Settings(
        database_url=f"sqlite://{tmp_path / 'data' / 'yishi.sqlite3'}",
        secret_key="k",
        upload_dir=tmp_path / "uploads",
    )
    prepare_files(settings)
    assert stat.S_IMODE(os.stat(tmp_path / "data" / "yishi.sqlite3").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "uploads").st_mode) == 0o700


@pytest.mark.parametrize(
    "target",
    ["/\\evil.example", "/\\\\evil.example/x", "/ok\r\nSet-Cookie: x=1", "//evil", "https://e"],
)
def test_next_targets_that_browsers_read_as_another_site_are_refused(target):
    assert safe_next(target, "/home") == "/home"


def test_a_local_next_target_is_kept():
    assert safe_next("/budget/proposals?page=2", "/home") == "/budget/proposals?page=2"
