#!/usr/bin/env python3
"""Record the raw inputs of the pipeline golden tests from real measurements of example_service.

Measures two copies of example_service the way ``perfgate check --against`` does — pairs of
runs made back to back, alternating which side goes first — the "base" copy unchanged and the
"head" copy with POST /checkout slowed (a busy wait at the top of priceCart). On a shared
machine some pairs run while other processes have the CPUs (their CPU share is low, see
perfgate/busy.py); the goldens want ordinary runs, so it measures a few pairs more than it
keeps and keeps the pairs whose lower CPU share is highest, in the order they ran. Of each kept
run it keeps a random sample of requests (the same requests in every column), and writes
tests/pipeline/recorded/{base,head}.json. The golden outputs then need regenerating:

    flock /work/coord/bench.lock python scripts/record_runs.py     # or without flock
    PERFGATE_UPDATE_GOLDENS=1 pytest tests/pipeline

A timing measurement: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
sys.path.insert(0, str(REPO / "tests" / "pipeline"))

from e2e_support import copy_module, slow_down  # noqa: E402
from recorded import dumps, trim  # noqa: E402

from perfgate.busy import median_share  # noqa: E402
from perfgate.config import Target  # noqa: E402
from perfgate.measure import Subject, measure  # noqa: E402
from perfgate.samples import Measurement  # noqa: E402
from perfgate.toolchain import find_go  # noqa: E402

QUIET_SHARE = 0.9  # a quiet machine gives its test about 1 (busy.py)
TARGET = Target(name="example_service", package="./example_service", run="^TestPerfExampleService$")


def quietest_pairs(sides: list[Measurement], keep: int) -> list[Measurement]:
    """The ``keep`` pairs of runs whose lower CPU share is highest, in the order they ran."""
    pairs = list(zip(*(m.runs for m in sides), strict=True))
    quiet = sorted(
        range(len(pairs)),
        key=lambda i: -min(run.cpu_share or 0.0 for run in pairs[i]),
    )[:keep]
    return [Measurement(m.label, [m.runs[i] for i in sorted(quiet)]) for m in sides]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="pairs of runs kept (default 10)")
    parser.add_argument("--extra", type=int, default=4, help="pairs measured beyond those kept")
    parser.add_argument("--keep", type=int, default=40, help="requests kept per handler per run")
    parser.add_argument("--slow-us", type=int, default=150, help="busy wait added to priceCart")
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "pipeline" / "recorded")
    parser.add_argument(
        "--allow-busy", action="store_true", help="write even when the machine was busy"
    )
    args = parser.parse_args()
    go = find_go()
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    with tempfile.TemporaryDirectory(prefix="perfgate-record-") as tmp:
        work = Path(tmp)
        base_root = copy_module(work / "base")
        head_root = copy_module(work / "head")
        slow_down(head_root / "example_service" / "checkout.go", "priceCart", args.slow_us)
        subjects = [
            Subject(go, base_root, TARGET, work, "base", env),
            Subject(go, head_root, TARGET, work, "head", env),
        ]
        measured = measure(subjects, args.runs + args.extra, lambda m: print(m, file=sys.stderr))
    measured = quietest_pairs(measured, args.runs)
    shares = {m.label: median_share(m.cpu_shares()) for m in measured}
    print(f"median CPU share per side: {shares}", file=sys.stderr)
    lowest = min((r.cpu_share or 0.0) for m in measured for r in m.runs)
    print(f"lowest CPU share of a kept run: {lowest:.2f}", file=sys.stderr)
    if not args.allow_busy and lowest < QUIET_SHARE:
        sys.exit(
            f"the machine was busy (a kept run's CPU share is below {QUIET_SHARE}): nothing "
            "written; record again when it is quieter, measure more --extra pairs, or pass "
            "--allow-busy"
        )
    rng = random.Random(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for m in measured:
        kept = Measurement(m.label, [trim(run, args.keep, rng) for run in m.runs])
        path = args.out / f"{m.label}.json"
        path.write_text(dumps(kept), encoding="utf-8")
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)


if __name__ == "__main__":
    main()
