"""`make bench-rules`: our outcome rules against pabutools on every Pabulib file.

    python -m tests.bench.bench_rules [--files STEM ...] [--rules RULE ...] [--limit SECONDS]
                                      [--no-pabutools] [--no-synthetic] [--district]

Every (file, rule, implementation) runs in its own child process, so that its peak memory
(ru_maxrss of that child, parsing included) is its own and a slow pabutools run can be killed
at the time limit (default 120 s, or $BENCH_LIMIT). Seconds are those of the rule alone,
parsing excluded. Outcomes are compared with pabutools' live result or, when pabutools hit the
limit, with its checked-in outcome (tests/fixtures/pabutools), marked "fixture".

After the files: the synthetic Budapest-like election (`tests.bench.synthetic.budapest_like`,
about 30,000 approval voters, 175 projects, many add1 increments; ours only, pabutools does not
finish it in an hour), unless --no-synthetic. With --district (or --files district): the
district round of `make bench` (21 envelopes, 60,000 ballots), each envelope counted in turn in
one process, equal shares beside greedy (the sum over envelopes, and the slowest envelope).
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
SYNTHETIC = "synthetic:budapest-like"


def child(impl: str, path: str, rule: str) -> None:
    """Run one rule once and print {seconds, selected, maxrss_mb} as JSON."""
    if impl == "ours":
        from budget.pabulib import election_from_pb, parse_pb
        from budget.rules import compute_outcome

        if path == SYNTHETIC:
            from tests.bench.synthetic import budapest_like

            election = budapest_like()
        else:
            election = election_from_pb(parse_pb(Path(path).read_text(encoding="utf-8-sig")))
        start = time.perf_counter()
        selected = compute_outcome(rule, election).selected
        seconds = time.perf_counter() - start
    elif impl == "district":
        from budget.rules import compute_outcome
        from tests.bench.synthetic import district_round

        seconds = slowest = 0.0
        selected = []
        for name, election in district_round():
            start = time.perf_counter()
            chosen = compute_outcome(rule, election).selected
            took = time.perf_counter() - start
            seconds += took
            slowest = max(slowest, took)
            selected += [f"{name}: {p}" for p in chosen]
        maxrss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            json.dumps(
                {
                    "seconds": seconds,
                    "slowest": slowest,
                    "selected": selected,
                    "maxrss_mb": maxrss_mb,
                }
            )
        )
        return
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


def measure(impl: str, path: Path | str, rule: str, limit: float) -> dict | None:
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
        "--no-synthetic", action="store_true", help="skip the synthetic Budapest-like election"
    )
    parser.add_argument(
        "--district", action="store_true", help="also the district round of `make bench`"
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("IMPL", "FILE", "RULE"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        child(*args.child)
        return 0
    paths: list[Path | str] = list(sorted(pabulib_dir().glob("*.pb")))
    if not args.no_synthetic:
        paths.append(SYNTHETIC)
    district = args.district
    if args.files:
        district = district or "district" in args.files
        paths = [p for p in paths if _stem(p) in args.files]
    if not paths and not district:
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
            if path == SYNTHETIC:  # pabutools does not finish it in an hour
                print(
                    f"{_stem(path)[:40]:<40} {rule:<13} {ours['seconds']:>8.3f} {'-':>12} "
                    f"{'-':>8} {ours['maxrss_mb']:>8.0f} {'-':>8}  -",
                    flush=True,
                )
                continue
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
                f"{_stem(path)[:40]:<40} {rule:<13} {ours['seconds']:>8.3f} {their_s:>12} "
                f"{ratio:>8} {ours['maxrss_mb']:>8.0f} {their_mb:>8}  {agree}",
                flush=True,
            )
    if district:
        print()
        print(f"{'district round (21 envelopes)':<40} {'rule':<13} {'sum s':>8} {'slowest s':>10}")
        for rule in ("greedy", "equal-shares"):
            row = measure("district", "district", rule, 600)
            assert row is not None, f"the district round with {rule} took over 600 s"
            print(
                f"{'district':<40} {rule:<13} {row['seconds']:>8.3f} {row['slowest']:>10.3f}"
                f"  {row['maxrss_mb']:.0f} MB",
                flush=True,
            )
    return 1 if disagreements else 0


def _stem(path: Path | str) -> str:
    return path.stem if isinstance(path, Path) else path


if __name__ == "__main__":
    sys.exit(main())
