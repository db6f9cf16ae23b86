"""Sign-in that cannot be abused: password checks off the event loop, unknown usernames checked
as slowly as known ones, guesses throttled per (account, address) and per address with growing
delays, and the counts exact under 60 simultaneous attempts."""

from __future__ import annotations

import asyncio
import re
import threading
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from core.errors import ValidationError
from core.models import LoginThrottle, Role
from core.services import auth, throttle
from core.services.throttle import SIGN_IN, SIGN_IN_ADDRESS, Throttled
from tests.helpers import PASSWORD, csrf_token, make_user, page_text, post_form


@pytest.fixture
def checks(monkeypatch):
    """Every password check, as (thread, password); argon2 replaced by a plain comparison so
    that many attempts stay quick."""
    seen: list[tuple[threading.Thread, str]] = []

    def fake_check(password_hash: str, password: str) -> bool:
        seen.append((threading.current_thread(), password))
        return password == PASSWORD

    monkeypatch.setattr(auth, "check_password", fake_check)
    return seen


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, moved by hand."""
    now = [datetime(2026, 5, 1, 8, 0, tzinfo=UTC)]
    monkeypatch.setattr(throttle, "_now", lambda: now[0])

    def advance(seconds: float) -> None:
        now[0] += timedelta(seconds=seconds)

    return advance


async def _wrong(username: str, client: str) -> str:
    """One wrong sign-in: 'checked' (answered 'wrong password') or the throttle's message."""
    try:
        await auth.authenticate(username, "wrong-password", client)
    except Throttled as exc:
        return exc.message
    except ValidationError as exc:
        assert exc.message == "Wrong username or password."
        return "checked"
    raise AssertionError("a wrong password was accepted")


async def test_password_checks_run_in_a_worker_thread(db, monkeypatch):
    await make_user("li")
    threads: list[threading.Thread] = []
    real = auth.check_password

    def recording(password_hash: str, password: str) -> bool:
        threads.append(threading.current_thread())
        return real(password_hash, password)

    monkeypatch.setattr(auth, "check_password", recording)
    user = await auth.authenticate("li", PASSWORD, "10.0.0.1")
    assert user.username == "li"
    with pytest.raises(ValidationError):
        await auth.authenticate("li", "wrong-password", "10.0.0.1")
    assert len(threads) == 2
    assert threading.main_thread() not in threads


async def test_an_unknown_username_is_checked_like_a_known_one(db, checks):
    await make_user("li")
    assert await _wrong("nobody", "10.0.0.1") == "checked"
    assert await _wrong("li", "10.0.0.1") == "checked"
    # both answers cost one password check (against a stand-in hash for the unknown name)
    assert [password for _thread, password in checks] == ["wrong-password"] * 2


async def test_guesses_elsewhere_do_not_lock_the_chair_out(app, client, db):
    """Five wrong passwords from one address slow that address down for that account; the
    chair signs in from another address at once."""
    await make_user("chair", role=Role.COUNCIL)
    for _ in range(5):
        response = await post_form(client, "/login", {"username": "chair", "password": "nope"})
        assert response.status_code == 422
        assert "Wrong username or password." in page_text(response.text)
    response = await post_form(client, "/login", {"username": "chair", "password": PASSWORD})
    assert response.status_code == 429
    # 30 seconds from the fifth failure: a second or two less on a busy machine
    wait = re.search(r"Please wait (\d+) seconds and try again\.", page_text(response.text))
    assert wait is not None and 25 <= int(wait.group(1)) <= 30
    transport = httpx.ASGITransport(app=app, client=("10.9.9.9", 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
    ) as elsewhere:
        response = await post_form(elsewhere, "/login", {"username": "chair", "password": PASSWORD})
        assert response.status_code == 303


async def test_the_wait_is_in_the_users_language(client, db):
    await make_user("chair", role=Role.COUNCIL)
    for _ in range(6):
        response = await post_form(
            client,
            "/login",
            {"username": "chair", "password": "nope"},
            headers={"Accept-Language": "zh-CN"},
        )
    assert response.status_code == 429
    wait = re.search(r"失败次数太多。请等(\d+)秒钟后再试。", page_text(response.text))
    assert wait is not None and 25 <= int(wait.group(1)) <= 30


async def test_delays_grow_and_a_right_password_starts_afresh(db, checks, clock):
    await make_user("li")
    for _ in range(5):
        assert await _wrong("li", "10.0.0.1") == "checked"
    clock(10)
    assert "Please wait 20 seconds" in await _wrong("li", "10.0.0.1")
    clock(20)  # 30 s after the fifth failure
    assert await _wrong("li", "10.0.0.1") == "checked"
    clock(59)
    assert "Please wait 1 second" in await _wrong("li", "10.0.0.1")
    clock(1)  # 60 s after the sixth
    assert await _wrong("li", "10.0.0.1") == "checked"
    clock(119)
    assert "Please wait 1 second" in await _wrong("li", "10.0.0.1")
    for _ in range(6):  # 7th, 8th … failures: 2, 4, 8, 15 (at most), 15 minutes
        clock(15 * 60)
        assert await _wrong("li", "10.0.0.1") == "checked"
    clock(14 * 60)
    assert "Please wait 1 minute" in await _wrong("li", "10.0.0.1")
    assert len(checks) == 5 + 2 + 6
    # refused attempts were not counted: 13 failures, each one checked
    row = await LoginThrottle.get(key=SIGN_IN.key("li", "10.0.0.1"))
    assert row.failures == 13
    clock(60)
    user = await auth.authenticate("li", PASSWORD, "10.0.0.1")
    assert user.username == "li"
    for _ in range(5):
        assert await _wrong("li", "10.0.0.1") == "checked"


async def test_counts_are_forgotten_a_day_after_the_first_failure(db, checks, clock):
    await make_user("li")
    for _ in range(5):
        assert await _wrong("li", "10.0.0.1") == "checked"
    clock(24 * 3600 + 1)
    for _ in range(5):
        assert await _wrong("li", "10.0.0.1") == "checked"
    assert "Please wait" in await _wrong("li", "10.0.0.1")


async def test_one_address_is_slowed_after_fifty_failures_and_successes_do_not_count(
    db, checks, clock
):
    await make_user("wang")
    for i in range(49):
        assert await _wrong(f"guess{i}", "10.0.0.1") == "checked"
    # a resident at the same address signs in: not a failure
    assert (await auth.authenticate("wang", PASSWORD, "10.0.0.1")).username == "wang"
    assert await _wrong("guess49", "10.0.0.1") == "checked"
    with pytest.raises(Throttled) as exc:
        await auth.authenticate("wang", PASSWORD, "10.0.0.1")
    assert "Please wait 2 seconds" in exc.value.message
    # the wait did not count against wang's own account at that address
    assert (await LoginThrottle.get(key=SIGN_IN.key("wang", "10.0.0.1"))).failures == 0
    assert (await auth.authenticate("wang", PASSWORD, "10.0.0.2")).username == "wang"
    clock(2)
    assert (await auth.authenticate("wang", PASSWORD, "10.0.0.1")).username == "wang"
    row = await LoginThrottle.get(key=SIGN_IN_ADDRESS.key("10.0.0.1"))
    assert row.failures == 50


async def test_sixty_simultaneous_wrong_passwords_are_counted_exactly(app, db, checks):
    """60 wrong passwords for one account from one address, all at once over HTTP: exactly
    five are checked against the hash, 55 are refused, and the counts say five."""
    await make_user("chair", role=Role.COUNCIL)
    transport = httpx.ASGITransport(app=app, client=("10.0.0.7", 4000))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://testserver", headers={"Accept-Language": "en"}
    ) as client:
        token = await csrf_token(client)
        responses = await asyncio.gather(
            *(
                client.post(
                    "/login",
                    data={"username": "chair", "password": f"guess{i}", "csrf_token": token},
                )
                for i in range(60)
            )
        )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [422] * 5 + [429] * 55
    assert len(checks) == 5
    account = await LoginThrottle.get(key=SIGN_IN.key("chair", "10.0.0.7"))
    address = await LoginThrottle.get(key=SIGN_IN_ADDRESS.key("10.0.0.7"))
    assert (account.failures, address.failures) == (5, 5)


async def test_sixty_simultaneous_guesses_at_sixty_accounts_are_counted_exactly(db, checks):
    results = await asyncio.gather(*(_wrong(f"user{i}", "10.0.0.8") for i in range(60)))
    assert results.count("checked") == 50
    assert len(checks) == 50
    assert all("Please wait" in r for r in results if r != "checked")
    address = await LoginThrottle.get(key=SIGN_IN_ADDRESS.key("10.0.0.8"))
    assert address.failures == 50
    # the ten refused attempts were given back to their accounts
    assert await LoginThrottle.filter(key__startswith="login:", failures=1).count() == 50


async def test_rows_past_the_longest_window_are_pruned_by_the_next_attempt(db, checks, clock):
    await make_user("li")
    for address in ("10.0.0.1", "10.0.0.2", "10.0.0.3"):
        assert await _wrong("li", address) == "checked"
    # an account+address row and an address row for each of the three addresses
    assert await LoginThrottle.all().count() == 6
    clock(24 * 3600 + 1)
    assert await _wrong("li", "10.0.0.9") == "checked"
    keys = sorted(await LoginThrottle.all().values_list("key", flat=True))
    assert keys == ["login-addr:10.0.0.9", "login:li|10.0.0.9"]
