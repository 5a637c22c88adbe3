#!/usr/bin/env python3
"""What does perfgate cost on top of the go test runs it makes? Ratios, side by side.

    python bench/overhead.py [--rounds 3] [--runs 10]

Each round times, back to back and in alternating order:
  plain:    `go test -count=1 -run RE -trace=F PKG` run `--runs` times (what a team would
            script by hand; each call links and checks the build cache),
  perfgate: `perfgate check --runs N` on the same target (builds once with `go test -c`,
            runs the binary N times, decodes every trace, computes verdicts, renders).
It prints each round and the median ratio perfgate/plain, plus perfgate's peak RSS. Uses this
repository's perfgate.toml and baseline (run `perfgate baseline update` first if there is none).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))},
    "GOTOOLCHAIN": "local",
}


def plain(runs: int, package: str, run: str) -> float:
    trace = Path(tempfile.mkdtemp()) / "t.trace"
    start = time.perf_counter()
    for _ in range(runs):
        subprocess.run(
            ["go", "test", "-count=1", f"-run={run}", f"-trace={trace}", package],
            cwd=REPO,
            env=ENV,
            check=True,
            capture_output=True,
        )
    return time.perf_counter() - start


def perfgate(runs: int) -> tuple[float, int]:
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", "check", "--runs", str(runs), "--no-comment"],
        cwd=REPO,
        env=ENV,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        sys.exit(f"perfgate check failed:\n{proc.stderr}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, peak_kb


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--package", default="./example_service")
    parser.add_argument("--run", default="^TestPerfExampleService$")
    args = parser.parse_args()
    plain(1, args.package, args.run)  # warm the build cache for both sides
    ratios = []
    peak = 0
    for r in range(args.rounds):
        if r % 2 == 0:
            p = plain(args.runs, args.package, args.run)
            g, peak = perfgate(args.runs)
        else:
            g, peak = perfgate(args.runs)
            p = plain(args.runs, args.package, args.run)
        ratios.append(g / p)
        print(
            f"round {r + 1}: plain go test -trace x{args.runs} {p:.2f}s, "
            f"perfgate check --runs {args.runs} {g:.2f}s, ratio {g / p:.2f}"
        )
    print(
        f"median ratio perfgate/plain: {statistics.median(ratios):.2f} "
        f"(≤ 1.15 is the goal); peak RSS of a child process: {peak / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
