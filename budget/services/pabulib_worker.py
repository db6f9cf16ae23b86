"""Reading an uploaded `.pb` file in a worker process of its own, with limits: a file is
hostile until read, and reading it is pure CPU (a 3.7 MB city takes about 1.5 s), so it never
runs in the server's event loop. The server starts `python -m budget.services.pabulib_worker`,
hands it the file on stdin and awaits it without blocking; the worker limits its own address
space (RLIMIT_AS) and CPU time (RLIMIT_CPU), and the server kills it after TIME_LIMIT seconds
whatever it is doing. The plan comes back as data (JSON on stdout; progress as lines on
stderr), never as objects: nothing the worker writes is executed.

A file the worker refuses (malformed, beyond the caps of `pabulib_plan`) gives the same
ValidationError, naming the line, as reading it in the server would; a worker that ran out of
time or memory gives a message saying so. Nothing is written to the database here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import resource
import sys
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

from budget.models import BallotType, Category, OutcomeRule
from budget.services.pabulib_plan import ImportPlan, ProjectPlan, parse_upload
from core.errors import ValidationError
from core.i18n import _

# Łódź 2022 (90,494 voters) takes 1.5-4 s and 200 MB; a file at the caps of `pabulib_plan`
# (500,000 voters naming 2,000,000 projects, 12 MB) about 20 s alone and 830 MB (51 s on a
# busy 2-core machine).
TIME_LIMIT = 120  # seconds of wall time for one file
MEMORY_LIMIT = 1536 * 1024 * 1024  # bytes of address space
ROOT = Path(__file__).resolve().parents[2]


def plan_to_data(plan: ImportPlan) -> dict[str, Any]:
    return asdict(plan)


def plan_from_data(data: dict[str, Any]) -> ImportPlan:
    """An ImportPlan from the worker's JSON, checked for shape (the worker is ours, but what
    it read was not)."""
    projects = [
        ProjectPlan(
            str(p["external_id"]),
            str(p["title"]),
            str(p["description"]),
            Category(p["category"]),
            int(p["cost_fen"]),
        )
        for p in data["projects"]
    ]
    return ImportPlan(
        title=str(data["title"]),
        description=str(data["description"]),
        fund_fen=int(data["fund_fen"]),
        ballot_type=BallotType(data["ballot_type"]),
        max_choices=None if data["max_choices"] is None else int(data["max_choices"]),
        points_total=None if data["points_total"] is None else int(data["points_total"]),
        rule=OutcomeRule(data["rule"]),
        projects=projects,
        # [index, points] pairs as the worker wrote them (converting 300,000 of them into
        # tuples would cost more than the rest together)
        ballots=data["ballots"],
        meta={str(k): str(v) for k, v in data["meta"].items()},
        voters=int(data["voters"]),
        digest=str(data["digest"]),
    )


def _limits_message() -> str:
    return _(
        "The file could not be read within the limits of an import ({seconds} seconds, {mb} "
        "MB of memory). Split the election into smaller files, or ask the site's operator.",
        seconds=TIME_LIMIT,
        mb=MEMORY_LIMIT // 1024 // 1024,
    )


async def plan_in_worker(
    filename: str,
    data: bytes,
    locale: str = "en",
    progress: Callable[[int], Awaitable[None]] | None = None,
) -> ImportPlan:
    """Decode, parse and plan an upload in a worker process (see the module's docstring):
    the plan, or a ValidationError naming the line. `progress(line)` is awaited now and then
    with the number of lines read."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "budget.services.pabulib_worker",
        str(MEMORY_LIMIT),
        str(math.ceil(TIME_LIMIT)),
        locale,
        filename,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    stdin, stdout, stderr = proc.stdin, proc.stdout, proc.stderr

    async def feed() -> None:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(data)
            await stdin.drain()
            stdin.close()

    async def follow() -> None:
        async for raw in stderr:
            words = raw.decode(errors="replace").split()
            if len(words) == 2 and words[0] == "progress" and words[1].isdigit():
                if progress is not None:
                    await progress(int(words[1]))

    try:
        async with asyncio.timeout(TIME_LIMIT):
            out, _fed, _followed = await asyncio.gather(stdout.read(), feed(), follow())
            code = await proc.wait()
    except TimeoutError:
        raise ValidationError(_limits_message(), errors={"file": _limits_message()}) from None
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    def read_answer() -> ImportPlan | str | None:
        try:
            answer = json.loads(out) if code == 0 else {}
            if answer.get("refused"):
                return str(answer["refused"])
            return plan_from_data(answer["plan"])
        except (ValueError, KeyError, TypeError):  # killed (memory, CPU) or crashed
            return None

    answer = await asyncio.to_thread(read_answer)  # megabytes of JSON: off the event loop
    if isinstance(answer, ImportPlan):
        return answer
    message = answer or _limits_message()
    raise ValidationError(message, errors={"file": message})


def main(argv: list[str]) -> int:
    """The worker: the file on stdin, `memory-bytes cpu-seconds locale filename` as arguments;
    one JSON object on stdout ({"plan": ...} or {"refused": message}); "progress N" lines on
    stderr. Its limits are set first, before anything is read."""
    memory, seconds = int(argv[0]), int(argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 5))
    locale, filename = argv[2], argv[3]
    from starlette_babel import set_locale

    from core.i18n import load_translations

    load_translations()
    set_locale(locale)
    data = sys.stdin.buffer.read()

    def progress(line: int) -> None:
        sys.stderr.write(f"progress {line}\n")
        sys.stderr.flush()

    try:
        _pb, plan = parse_upload(filename, data, progress)
        answer: dict[str, Any] = {"plan": plan_to_data(plan)}
    except ValidationError as exc:
        answer = {"refused": exc.message}
    except MemoryError:
        os._exit(3)  # nothing more can be done in this process
    sys.stdout.write(json.dumps(answer, ensure_ascii=False))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
