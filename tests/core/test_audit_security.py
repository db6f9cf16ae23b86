"""The audit log's security entries: every failed sign-in (the username tried, never the
password; the client address, as the reverse proxy names it; why), the moment guesses are
held back, and exports of what is not public — shown by name, in both languages, with the
address, on the audit page. Open-data exports that anyone downloads are not logged."""

from __future__ import annotations

import json

import httpx
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from budget.services.pabulib_import import import_pabulib
from budget.services.studies import set_study_public
from core.models import AuditEntry, Role
from core.services.throttle import SIGN_IN
from tests.budget.test_pabulib_io import SMALL_FILE
from tests.consult.questionnaire_setup import world
from tests.helpers import PASSWORD, login, make_user, page_text, post_form

SECRET = "hunter2-not-the-password"


async def _entries(action: str) -> list[AuditEntry]:
    return await AuditEntry.filter(action=action).order_by("id")


async def test_failed_sign_ins_are_logged_with_the_username_address_and_reason(client, db):
    li = await make_user("li")
    gone = await make_user("zhou")
    gone.is_active = False
    await gone.save()
    for username in ("li", "Nobody", "zhou"):
        response = await post_form(client, "/login", {"username": username, "password": SECRET})
        assert response.status_code == 422 and "Wrong username or password." in response.text
    failed = await _entries("login.failed")
    assert [(e.detail["username"], e.detail["reason"]) for e in failed] == [
        ("li", "wrong_password"),
        ("nobody", "unknown_account"),
        ("zhou", "inactive_account"),
    ]
    assert [e.subject_id for e in failed] == [li.id, None, gone.id]
    assert all(e.actor_id is None and e.client_address == "127.0.0.1" for e in failed)
    assert all(SECRET not in json.dumps(e.detail) for e in await AuditEntry.all())

    await login(client, "li")
    (signed_in,) = await _entries("login")
    assert signed_in.actor_id == li.id and signed_in.client_address == "127.0.0.1"


async def test_the_failure_that_holds_guesses_back_is_logged_once(client, db):
    await make_user("li")
    for _ in range(SIGN_IN.free + 2):  # 5 checked, then refused while waiting
        await post_form(client, "/login", {"username": "li", "password": SECRET})
    assert len(await _entries("login.failed")) == SIGN_IN.free  # refused ones check nothing
    (locked,) = await _entries("login.locked")
    assert locked.detail == {"username": "li", "scope": "account", "wait_seconds": 30}
    assert locked.client_address == "127.0.0.1"


async def test_behind_the_proxy_the_address_it_names_is_logged(app, db):
    """uvicorn --proxy-headers: X-Forwarded-For is believed from FORWARDED_ALLOW_IPS only."""
    await make_user("li")
    proxied = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    for peer, expected in (("127.0.0.1", "203.0.113.7"), ("198.51.100.2", "198.51.100.2")):
        transport = httpx.ASGITransport(app=proxied, client=(peer, 4000))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver",
            headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http"},
        ) as c:
            await post_form(c, "/login", {"username": "li", "password": SECRET})
        assert (await _entries("login.failed"))[-1].client_address == expected


async def test_the_audit_page_names_the_entries_and_shows_the_address(client, db):
    await make_user("admin", role=Role.ADMIN)
    await make_user("li")
    await post_form(client, "/login", {"username": "li", "password": SECRET})
    await login(client, "admin")
    text = page_text((await client.get("/audit?action=login.failed")).text)
    assert "Failed sign-in" in text and "wrong password" in text
    assert "127.0.0.1" in text and "li" in text
    await client.get("/language?to=zh_CN&next=/audit")
    text = page_text((await client.get("/audit")).text)
    assert "登录失败" in text and "密码错误" in text and "客户端地址" in text
    assert SECRET not in text


async def test_staff_exports_are_logged_and_open_data_downloads_are_not(client, db):
    await make_user("fin", role=Role.FINANCE)
    w = await world()
    study = await import_pabulib(None, "tiny.pb", SMALL_FILE.encode())  # private until published

    await login(client, "fin")
    for path in ("/budget/ledger.csv?round=1", "/budget/ledger.xlsx"):
        assert (await client.get(path)).status_code == 200
    csv_entry, xlsx_entry = await _entries("export.ledger")
    assert csv_entry.detail["format"] == "csv" and csv_entry.detail["filters"] == "round=1"
    assert xlsx_entry.detail["format"] == "xlsx"
    assert csv_entry.client_address == "127.0.0.1"

    await login(client, "council")
    base = f"/consult/questionnaires/{w.q.id}"
    for tail in ("/responses.csv", "/summary.csv"):
        assert (await client.get(base + tail)).status_code == 200
    assert [e.detail["table"] for e in await _entries("export.questionnaire")] == [
        "responses",
        "summary",
    ]
    assert (await client.get(f"/budget/rounds/{study.id}/export.pb")).status_code == 200
    (pb,) = await _entries("export.pabulib")
    assert (pb.subject_type, pb.subject_id, pb.actor_id) == ("round", study.id, w.council.id)

    # public now: the same download, and the open data anyone takes, are not logged
    await set_study_public(w.council, study.id, True, confirmed=True)
    before = await AuditEntry.filter(action__startswith="export.").count()
    client.cookies.clear()
    for path in (f"/budget/rounds/{study.id}/export.pb", "/meetings.ics", "/needs/stats.csv"):
        assert (await client.get(path)).status_code == 200, path
    assert await AuditEntry.filter(action__startswith="export.").count() == before
    assert PASSWORD not in json.dumps([e.detail for e in await AuditEntry.all()])
