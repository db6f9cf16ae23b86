"""Browser tests: the app served by uvicorn on loopback against the test database, driven by
Playwright in Debian's Chromium (no browser download). Skipped where Chromium is missing.
Every test under tests/e2e/ is marked `e2e` by tests/conftest.py (`-m "not e2e"` leaves them
out): a `pytestmark` here would mark nothing."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = (
    os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def upload_dir(tmp_path_factory) -> Path:
    """The served app's UPLOAD_DIR (a test that loads the demo puts its files there)."""
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="session")
def server(database_url, upload_dir):
    """uvicorn serving the app on the session's test database. Its ticker (core.ticker) runs
    on that database every minute for the rest of the session, beside every later test: test
    data must already be in the state the ticker would leave it in (an opened questionnaire
    announced)."""
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "e2e-secret",
        "LOG_LEVEL": "warning",
        "UPLOAD_DIR": str(upload_dir),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(base + "/login", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    else:
        proc.kill()
        pytest.fail("the app did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=10)


@pytest_asyncio.fixture(scope="session")
async def browser():
    if not CHROMIUM:
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        await b.close()


@pytest_asyncio.fixture(params=[True, False], ids=["js-on", "js-off"])
async def page(request, browser, server, db):
    """A fresh browser context per test, with JavaScript on and off; console errors
    (such as Content-Security-Policy violations) fail the test."""
    context = await browser.new_context(
        java_script_enabled=request.param, base_url=server, locale="zh-CN"
    )
    context.set_default_timeout(10_000)
    pg = await context.new_page()
    errors: list[str] = []

    def on_console(message) -> None:
        # A 422 answer to a bad form is expected; anything else (a CSP violation, a script
        # error, a missing file) is a defect.
        if message.type == "error" and "status of 422" not in message.text:
            errors.append(message.text)

    pg.on("console", on_console)
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.js_enabled = request.param
    yield pg
    await context.close()
    assert not errors, f"browser console errors: {errors}"
