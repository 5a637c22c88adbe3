#!/usr/bin/env python3
"""The busy-machine evidence, side by side: CPU share and p95 on a quiet and on a loaded machine.

Builds example_service's perf test once, then runs it ``--runs`` times quiet and ``--runs``
times with ``--hogs`` CPU-bound processes competing (default: one more than the cores),
alternating, and prints per side the median CPU share (CPU time the process received per second
of goroutine running time in the trace; see perfgate.busy), the median wall time of a run, and
each handler's median per-run p95, plus the loaded/quiet ratios.

    python bench/busy.py --runs 8
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tabulate import tabulate  # noqa: E402

from perfgate.config import Target  # noqa: E402
from perfgate.measure import Subject  # noqa: E402
from perfgate.samples import RunSamples  # noqa: E402
from perfgate.stats import nearest_rank  # noqa: E402
from perfgate.toolchain import find_go  # noqa: E402

TARGET = Target(name="example_service", package="./example_service", run="^TestPerf")


def run_side(subject: Subject, index: int, hogs: int) -> RunSamples:
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(hogs)]
    try:
        return subject.run_once(index)
    finally:
        for p in procs:
            p.kill()
            p.wait()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=8)
    ap.add_argument("--hogs", type=int, default=(os.cpu_count() or 2) + 1)
    args = ap.parse_args()
    go = find_go()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "GOTOOLCHAIN": "local"}
        subject = Subject(go, ROOT, TARGET, Path(tmp), "bench", env)
        sides: dict[str, list[RunSamples]] = {"quiet": [], "loaded": []}
        for i in range(args.runs):
            sides["quiet"].append(run_side(subject, 2 * i, 0))
            sides["loaded"].append(run_side(subject, 2 * i + 1, args.hogs))
    names = sorted({n for r in sides["quiet"] for n in r.durations})
    rows = []

    def med(side: str, f: Callable[[RunSamples], float]) -> float:
        return median(f(r) for r in sides[side])

    def p95_us(name: str) -> Callable[[RunSamples], float]:
        return lambda r: nearest_rank(sorted(r.durations[name]), 0.95) / 1000

    metrics: list[tuple[str, Callable[[RunSamples], float], str]] = [
        ("CPU share", lambda r: r.cpu_share or 0.0, "{:.2f}"),
        ("run wall time (s)", lambda r: r.seconds, "{:.2f}"),
    ]
    metrics += [(f"p95 {n} (µs)", p95_us(n), "{:.1f}") for n in names]
    for label, f, fmt in metrics:
        q, lo = med("quiet", f), med("loaded", f)
        rows.append([label, fmt.format(q), fmt.format(lo), f"{lo / q:.2f}" if q else "—"])
    print(
        f"{args.runs} runs a side, alternating; loaded = {args.hogs} CPU-bound processes "
        f"on {os.cpu_count()} cores; medians over runs"
    )
    print(tabulate(rows, headers=["", "quiet", "loaded", "loaded / quiet"], disable_numparse=True))


if __name__ == "__main__":
    main()
