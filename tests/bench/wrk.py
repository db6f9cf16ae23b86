"""The load generator of `make bench`: `wrk` (Debian's package), a compiled program apart from
the benchmark's Python process, driven by Lua scripts written to a temporary directory.

- `get_load`: GET a list of paths in turn, for some seconds, with some connections;
  requests/s, p50/p99 and the responses wrk counts as errors (4xx/5xx) come from wrk's own
  report (`--latency`; wrk corrects its latencies for coordinated omission).
- `post_each`: POST prepared requests, one connection per wrk thread, each thread sending its
  own list in order and recording each request's status by its key (a connection answers in
  the order it is asked, one request at a time). A thread stops when its list is done or its
  deadline passes, after the answer in flight; when every thread has stopped, wrk is told to
  end (SIGINT), so its requests/s count only the time spent. `done()` collects every thread's
  answers (`thread:get`) into a file: key → status, 0 for a request whose answer never came
  (its connection broke).
"""

from __future__ import annotations

import math
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

WRK = "wrk"
INSTALL_HINT = "make bench needs wrk (Debian's package): sudo apt-get install wrk"
TIMEOUT = "10s"  # a request slower than this counts as a timeout (wrk's default: 2 s)


def require_wrk() -> str:
    """wrk's path, or SystemExit with how to install it."""
    path = shutil.which(WRK)
    if path is None:
        raise SystemExit(INSTALL_HINT)
    return path


@dataclass
class Load:
    name: str
    requests: int = 0
    seconds: float = 0.0
    rate: float = 0.0  # requests/s
    p50: float = math.nan  # ms
    p99: float = math.nan  # ms
    errors: int = 0  # answers 4xx/5xx (wrk: "Non-2xx or 3xx responses")
    socket_errors: str = ""  # wrk's "Socket errors" line, if any
    answers: dict[str, int] = field(default_factory=dict)  # post_each: key → status (0: none)
    cpu: float = math.nan  # CPU seconds the server's processes used meanwhile (the bench's)
    db_cpu: float = math.nan  # idem, PostgreSQL's processes serving the bench's database
    gen_cpu: float = math.nan  # idem, the load generator's (wrk's) processes
    output: str = ""  # wrk's report

    @property
    def clean(self) -> bool:
        return self.requests > 0 and self.errors == 0 and not self.socket_errors


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text).groups()
    return float(value) * _UNITS[unit]


def parse_report(name: str, output: str) -> Load:
    """wrk's text report → Load."""
    load = Load(name, output=output)
    if m := re.search(r"^\s*(\d+) requests in ([\d.]+(?:us|ms|s|m|h))", output, re.M):
        load.requests = int(m.group(1))
        load.seconds = _ms(m.group(2)) / 1000
    if m := re.search(r"^Requests/sec:\s*([\d.]+)", output, re.M):
        load.rate = float(m.group(1))
    for pct, attr in (("50", "p50"), ("99", "p99")):
        if m := re.search(rf"^\s*{pct}(?:\.0+)?%\s+([\d.]+(?:us|ms|s|m|h))", output, re.M):
            setattr(load, attr, _ms(m.group(1)))
    if m := re.search(r"Non-2xx or 3xx responses:\s*(\d+)", output):
        load.errors = int(m.group(1))
    if m := re.search(r"Socket errors:\s*(.+)", output):
        load.socket_errors = m.group(1).strip()
    return load


def _wrk(base_url: str, script: Path, threads: int, connections: int, duration: str,
         headers: dict[str, str]) -> list[str]:  # fmt: skip
    cmd = [WRK, "-t", str(threads), "-c", str(connections), "-d", duration]
    cmd += ["--timeout", TIMEOUT, "--latency", "-s", str(script)]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    return [*cmd, base_url]


# --- GET: a list of paths in turn ---------------------------------------------------------------

GET_SCRIPT = """\
-- written by tests/bench/wrk.py: GET the paths of PATHS in turn, each thread from its own place
local paths_file = %(paths)s
local threads = 0

function setup(thread)
   thread:set("offset", threads * 7919)
   threads = threads + 1
end

function init(args)
   reqs = {}
   for path in io.lines(paths_file) do
      reqs[#reqs + 1] = wrk.format("GET", path)
   end
   n = offset
end

function request()
   n = n + 1
   return reqs[n %% #reqs + 1]
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def get_load(
    base_url: str,
    name: str,
    paths: list[str],
    *,
    tmp: Path,
    connections: int,
    seconds: float,
    threads: int | None = None,
    headers: dict[str, str] | None = None,
) -> Load:
    """GET `paths` in turn for `seconds` with `connections` open (on `threads` wrk threads:
    at most 2, the machine's load generator must not crowd out the server)."""
    threads = threads or min(2, connections)
    work = Path(tmpdir(tmp, "get"))
    (work / "paths.txt").write_text("\n".join(paths) + "\n")
    script = work / "get.lua"
    script.write_text(GET_SCRIPT % {"paths": _lua_string(str(work / "paths.txt"))})
    cmd = _wrk(base_url, script, threads, connections, f"{max(1, round(seconds))}s", headers or {})
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return parse_report(name, done.stdout)


def tmpdir(tmp: Path, prefix: str) -> str:
    return tempfile.mkdtemp(prefix=f"wrk-{prefix}-", dir=tmp)


# --- POST: each thread its own list of requests, answers by key -------------------------------

POST_SCRIPT = """\
-- written by tests/bench/wrk.py: each thread (one connection) POSTs the requests of its own
-- file in order and keeps every answer's status under the request's key; done() writes them.
local dir = %(dir)s
local deadline = %(deadline)d  -- seconds since the epoch: no new request after it
local threads = {}

function setup(thread)
   thread:set("id", #threads)
   threads[#threads + 1] = thread
end

function init(args)
   keys, reqs = {}, {}
   for line in io.lines(dir .. "/requests-" .. id .. ".tsv") do
      local key, path, cookie, body = line:match("^([^\\t]*)\\t([^\\t]*)\\t([^\\t]*)\\t(.*)$")
      keys[#keys + 1] = key
      reqs[#reqs + 1] = wrk.format("POST", path, {
         ["Cookie"] = cookie,
         ["Content-Type"] = "application/x-www-form-urlencoded",
      }, body)
   end
   idle = wrk.format("GET", "/")  -- never sent once the thread has stopped
   n, pending, finished = 0, nil, false
   answered, unanswered = {}, {}
   -- wrk builds one request of the first thread before it starts, to check it: not sent
   checked = id ~= 0
end

local function finish()
   if not finished then
      finished = true
      io.open(dir .. "/finished-" .. id, "w"):close()
   end
   wrk.thread:stop()
end

function request()
   if not checked then
      checked = true
      return reqs[1] or idle
   end
   if pending then  -- its connection broke before the answer came
      unanswered[#unanswered + 1] = pending
      pending = nil
   end
   if n >= #reqs then
      return idle
   end
   n = n + 1
   pending = keys[n]
   return reqs[n]
end

function response(status)
   if pending then
      answered[#answered + 1] = pending
      answered[#answered + 1] = status
      pending = nil
   end
   if n >= #reqs or os.time() >= deadline then
      finish()
   end
end

function done(summary, latency, requests)
   local out = io.open(dir .. "/answers.tsv", "w")
   for _, thread in ipairs(threads) do
      local a = thread:get("answered")
      for i = 1, #a, 2 do
         out:write(a[i], "\\t", a[i + 1], "\\n")
      end
      for _, key in ipairs(thread:get("unanswered")) do
         out:write(key, "\\t0\\n")
      end
      local p = thread:get("pending")
      if p then
         out:write(p, "\\t0\\n")
      end
   end
   out:close()
end
"""


@dataclass
class Post:
    key: str  # how its answer is found again (no tab or newline)
    path: str
    cookie: str  # the Cookie header's value
    body: str  # application/x-www-form-urlencoded


def post_each(
    base_url: str, name: str, lists: list[list[Post]], *, tmp: Path, seconds: float
) -> Load:
    """One wrk thread and connection per list (but empty ones), each POSTing its list in
    order until it is done or `seconds` have passed; Load.answers has every request's status
    by key (0: no answer)."""
    work = Path(tmpdir(tmp, "post"))
    lists = [posts for posts in lists if posts]  # a thread with nothing to send: none
    for i, posts in enumerate(lists):
        with open(work / f"requests-{i}.tsv", "w") as f:
            for post in posts:
                f.write(f"{post.key}\t{post.path}\t{post.cookie}\t{post.body}\n")
    deadline = math.ceil(time.time() + seconds)
    script = work / "post.lua"
    script.write_text(POST_SCRIPT % {"dir": _lua_string(str(work)), "deadline": deadline})
    n = len(lists)
    cmd = _wrk(base_url, script, n, n, f"{math.ceil(seconds) + 120}s", {})
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    give_up = time.time() + seconds + 60  # a thread waiting for an answer that never comes
    last_signal = 0.0
    while proc.poll() is None:
        finished = sum(1 for _ in work.glob("finished-*"))
        now = time.time()
        if (finished == n or now > give_up) and now - last_signal > 0.5:
            proc.send_signal(signal.SIGINT)  # wrk prints its report and runs done()
            last_signal = now
        time.sleep(0.02)
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err or out}")
    load = parse_report(name, out)
    for line in (work / "answers.tsv").read_text().splitlines():
        key, status = line.split("\t")
        load.answers[key] = int(float(status))
    return load
