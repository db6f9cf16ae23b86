"""`make bench-rules`: our outcome rules against pabutools on every Pabulib file.

    python -m tests.bench.bench_rules [--files STEM ...] [--rules RULE ...] [--limit SECONDS]

Every (file, rule, implementation) runs in its own child process, so that its peak memory
(ru_maxrss of that child, parsing included) is its own and a slow pabutools run can be killed
at the time limit (default 120 s, or $BENCH_LIMIT). Seconds are those of the rule alone,
parsing excluded. Outcomes are compared with pabutools' live result or, when pabutools hit the
limit, with its checked-in outcome (tests/fixtures/pabutools), marked "fixture".
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from tests.fixtures.regen_pabutools import REPO, fixture_path, pabulib_dir

RULES = ("greedy", "mes", "mes-add1", "equal-shares")


def child(impl: str, path: str, rule: str) -> None:
    """Run one rule once and print {seconds, selected, maxrss_mb} as JSON."""
    if impl == "ours":
        from budget.pabulib import election_from_pb, parse_pb
        from budget.rules import compute_outcome

        election = election_from_pb(parse_pb(Path(path).read_text(encoding="utf-8-sig")))
        start = time.perf_counter()
        selected = compute_outcome(rule, election).selected
        seconds = time.perf_counter() - start
    else:
        from pabutools.election import parse_pabulib

        from tests.fixtures.regen_pabutools import run_pabutools

        instance, profile = parse_pabulib(path)
        points = instance.meta["vote_type"] in ("cumulative", "scoring")
        start = time.perf_counter()
        selected = run_pabutools(instance, profile, rule, points)
        seconds = time.perf_counter() - start
    maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB
    print(json.dumps({"seconds": seconds, "selected": sorted(selected), "maxrss_mb": maxrss_mb}))


def measure(impl: str, path: Path, rule: str, limit: float) -> dict | None:
    """None if the child did not finish within `limit` seconds of wall time."""
    cmd = [sys.executable, "-m", "tests.bench.bench_rules", "--child", impl, str(path), rule]
    try:
        done = subprocess.run(
            cmd, cwd=REPO, capture_output=True, text=True, timeout=limit, check=True
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the outcome rules.")
    parser.add_argument("--files", nargs="*", help="file stems (default: all)")
    parser.add_argument("--rules", nargs="*", default=list(RULES), choices=RULES)
    parser.add_argument(
        "--limit",
        type=float,
        default=float(os.environ.get("BENCH_LIMIT", 120)),
        help="seconds per pabutools run (wall time, parsing included)",
    )
    parser.add_argument("--no-pabutools", action="store_true", help="time ours only")
    parser.add_argument(
        "--child", nargs=3, metavar=("IMPL", "FILE", "RULE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    paths = sorted(pabulib_dir().glob("*.pb"))
    if args.files:
        paths = [p for p in paths if p.stem in args.files]
    if not paths:
        print(f"no .pb files in {pabulib_dir()}", file=sys.stderr)
        return 1
    header = (
        f"{'file':<40} {'rule':<13} {'ours s':>8} {'pabutools s':>12} {'ratio':>8} "
        f"{'ours MB':>8} {'pabu MB':>8}  agree"
    )
    print(header)
    print("-" * len(header), flush=True)
    disagreements = 0
    for path in paths:
        for rule in args.rules:
            ours = measure("ours", path, rule, 600)
            assert ours is not None, f"our {rule} on {path.name} took over 600 s"
            theirs = None if args.no_pabutools else measure("pabutools", path, rule, args.limit)
            if theirs is not None:
                their_s = f"{theirs['seconds']:.3f}"
                ratio = f"{theirs['seconds'] / max(ours['seconds'], 1e-6):.0f}x"
                their_mb = f"{theirs['maxrss_mb']:.0f}"
                agree = "yes" if theirs["selected"] == ours["selected"] else "NO"
            else:
                their_s = "-" if args.no_pabutools else f"> {args.limit:.0f}"
                ratio = "-" if args.no_pabutools else f"> {args.limit / ours['seconds']:.0f}x"
                their_mb = "-"
                fixture = fixture_path(path.stem, rule)
                if fixture.exists():
                    expected = json.loads(fixture.read_text())["selected"]
                    agree = ("yes" if expected == ours["selected"] else "NO") + " (fixture)"
                else:
                    agree = "?"
            disagreements += agree.startswith("NO")
            print(
                f"{path.stem[:40]:<40} {rule:<13} {ours['seconds']:>8.3f} {their_s:>12} "
                f"{ratio:>8} {ours['maxrss_mb']:>8.0f} {their_mb:>8}  {agree}",
                flush=True,
            )
    return 1 if disagreements else 0


if __name__ == "__main__":
    sys.exit(main())
