"""`make bench`'s load generator (tests/bench/wrk.py) against a small echo server: every POST
of every wrk thread comes back under its own key, with the headers and body it was sent with,
and wrk's report is read. Skipped where wrk is not installed (`apt-get install wrk`)."""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.bench.bench_app import (
    Pass,
    cpu_bound,
    cpu_seconds,
    load_generator_cpu_seconds,
    print_cpu_bounds,
    server,
)
from tests.bench.wrk import Load, Post, get_load, parse_report, post_each

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


async def _home(request):
    return PlainTextResponse("ok")


async def _echo(request):
    """201 for an even n, 202 for an odd one, when the path, the cookie and the form agree
    (400 if not); answers take a few random milliseconds, so threads overtake each other."""
    n = request.path_params["n"]
    form = await request.form()
    await asyncio.sleep(random.random() / 200)
    if form.get("n") != str(n) or request.cookies.get("who") != str(n):
        return Response(status_code=400)
    return Response(status_code=201 if n % 2 == 0 else 202)


async def _pid(request):
    """Which process answered (after a pause, so that connections overlap)."""
    await asyncio.sleep(0.05)
    return PlainTextResponse(str(os.getpid()))


echo_app = Starlette(
    routes=[
        Route("/", _home),
        Route("/echo/{n:int}", _echo, methods=["POST"]),
        Route("/pid", _pid),
    ]
)


@needs_wrk
def test_each_post_is_answered_under_its_own_key(tmp_path):
    sizes = [40, 1, 0, 25, 7]  # one thread with nothing to send
    lists, n = [], 0
    for size in sizes:
        posts = []
        for _ in range(size):
            posts.append(Post(str(n), f"/echo/{n}", f"who={n}", f"n={n}&x=%C3%A9"))
            n += 1
        lists.append(posts)
    with server("tests.test_bench_wrk:echo_app", {}) as base:
        load = post_each(base, "echo", lists, tmp=tmp_path, seconds=30)
        pages = get_load(base, "pages", ["/", "/nowhere"], tmp=tmp_path, connections=2, seconds=1)
    assert load.answers == {str(i): 201 if i % 2 == 0 else 202 for i in range(n)}
    assert load.requests == n and load.rate > 0 and load.p50 <= load.p99
    assert pages.requests > 0 and 0 < pages.errors < pages.requests  # /nowhere: 404


def test_wrk_report_read():
    report = """\
Running 6s test @ http://127.0.0.1:40123
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  512.00us  20.31ms   91.20%
    Req/Sec     3.70k   210.11     4.10k    70.00%
  Latency Distribution
     50%  636.00us
     75%    1.02ms
     90%    2.00ms
     99%    1.20s
  44236 requests in 6.01s, 6.12MB read
  Socket errors: connect 0, read 2, write 0, timeout 0
  Non-2xx or 3xx responses: 17
Requests/sec:   7360.40
Transfer/sec:      1.02MB
"""
    load = parse_report("trivial", report)
    assert (load.requests, load.seconds, load.rate) == (44236, 6.01, 7360.40)
    assert (load.p50, load.p99) == (0.636, 1200.0)
    assert load.errors == 17 and load.socket_errors == "connect 0, read 2, write 0, timeout 0"
    assert not load.clean


def test_the_bench_server_runs_worker_processes():
    """`server(..., workers=2)` (make bench's WORKERS): two processes, neither this one, share
    the port; concurrent connections reach both."""

    def pid(_i: int) -> str:
        return httpx.get(base + "/pid", timeout=10).text  # a connection of its own

    seen: set[str] = set()
    with server("tests.test_bench_wrk:echo_app", {}, workers=2) as base:
        with ThreadPoolExecutor(16) as pool:
            for _round in range(20):
                seen |= set(pool.map(pid, range(16)))
                if len(seen) > 1:
                    break
    assert len(seen) == 2 and str(os.getpid()) not in seen


BUSY_CHILD = """
import time
start = time.process_time()
while time.process_time() - start < 0.4:
    pass
print("done", flush=True)
time.sleep(60)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc")
def test_server_cpu_counts_its_child_processes():
    """The bench's srv CPU: a process's CPU time with its children's (uvicorn's workers)."""
    child = subprocess.Popen([sys.executable, "-c", BUSY_CHILD], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "done"
        own = time.process_time()
        assert cpu_seconds(os.getpid()) - own >= 0.3
    finally:
        child.kill()
        child.wait()


def test_the_load_generators_cpu_is_its_finished_childrens():
    before = load_generator_cpu_seconds()
    subprocess.run([sys.executable, "-c", BUSY_CHILD.replace("time.sleep(60)", "")], check=True,
                   stdout=subprocess.DEVNULL)  # fmt: skip
    assert load_generator_cpu_seconds() - before >= 0.3


def test_the_cpu_bound_adds_what_one_request_costs_every_process(capsys):
    """1,000 requests costing the server 0.6 s, PostgreSQL 0.3 s and wrk 0.1 s: 1 ms each, so
    2 CPUs serve at most 2,000/s; at 1,500/s on one worker, 1.33x."""
    load = Load("ballot casting", requests=1000, rate=1500.0, cpu=0.6, db_cpu=0.3, gen_cpu=0.1)
    server_ms, db_ms, gen_ms, most = cpu_bound(load, 2)
    assert (round(server_ms, 6), round(db_ms, 6), round(gen_ms, 6)) == (0.6, 0.3, 0.1)
    assert round(most) == 2000
    assert cpu_bound(Load("x", requests=1000, rate=1.0, gen_cpu=0.1), 2) is None  # no srv CPU
    one = Pass(workers=1, load=0.0, casting=load)
    print_cpu_bounds(one, [("ballot casting", lambda p: p.casting, False)])
    out = capsys.readouterr().out
    cpus = os.cpu_count()
    assert "0.600 + 0.300 + 0.100 ms = 1.000 ms" in out
    assert f"at most {cpus * 1000:,}/s, {cpus * 1000 / 1500:.2f}x one worker's 1,500/s" in out
