#!/usr/bin/env python3
"""Noisy neighbours: what a bursty process next to the perf test does to it, and what perfgate sees.

    python bench/neighbours.py --rounds 8
    python bench/neighbours.py run --procs 1 --busy 150 --period 200   # just be a neighbour

For each condition — quiet, then one or two processes busy ``busy`` ms of every 200 ms — the
same built perf test (example_service) is run once per round, conditions interleaved round by
round, and each run's evidence is printed side by side: the neighbour load perfgate measures
(the share of the machine's CPU time other processes used during the run, from /proc/stat), the
CPU share (CPU time the test received per second of goroutine running time, from the trace), and
each handler's p95 against the quiet runs'.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from e2e_support import copy_module  # noqa: E402

from perfgate.config import Target  # noqa: E402
from perfgate.measure import Subject  # noqa: E402
from perfgate.stats import nearest_rank  # noqa: E402
from perfgate.toolchain import find_go  # noqa: E402

TARGET = Target(name="example_service", package="./example_service", run="^TestPerfExampleService$")
PERIOD_MS = 200.0


def _burst(busy_s: float, period_s: float, phase: float, until: float) -> None:
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    t0 = time.monotonic() + phase * period_s
    k = 0
    while time.monotonic() < until:
        start = t0 + k * period_s
        time.sleep(max(0.0, start - time.monotonic()))
        while time.monotonic() < start + busy_s:
            pass
        k += 1


def start_neighbours(procs: int, busy_ms: float, period_ms: float = PERIOD_MS, seconds=3600.0):
    """``procs`` processes, each busy ``busy_ms`` of every ``period_ms`` (phases staggered)."""
    until = time.monotonic() + seconds
    out = []
    for i in range(procs):
        p = mp.Process(
            target=_burst, args=(busy_ms / 1000, period_ms / 1000, i / max(procs, 1), until)
        )
        p.daemon = True
        p.start()
        out.append(p)
    return out


def stop_neighbours(procs) -> None:
    for p in procs:
        p.terminate()
    for p in procs:
        p.join()


CONDITIONS = [
    ("quiet", 0, 0),
    ("1 × 25%", 1, 50),
    ("1 × 50%", 1, 100),
    ("1 × 75%", 1, 150),
    ("2 × 75%", 2, 150),
    ("3 × 100%", 3, 200),
]


def measure(args: argparse.Namespace) -> None:
    go = find_go()
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    work = Path(tempfile.mkdtemp(prefix="perfgate-neighbours-"))
    subject = Subject(go, copy_module(work / "m"), TARGET, work, "m", env)
    runs: dict[str, list] = {name: [] for name, _, _ in CONDITIONS}
    for r in range(args.rounds):
        for name, procs, busy in CONDITIONS:
            ns = start_neighbours(procs, busy) if procs else []
            time.sleep(0.3 if procs else 0.0)
            try:
                runs[name].append(subject.run_once(r))
            finally:
                stop_neighbours(ns)
        print(f"round {r + 1}/{args.rounds}", file=sys.stderr)
    quiet = runs["quiet"]
    handlers = sorted({h for run in quiet for h in run.durations})

    def pooled_p95(rs, h):
        return nearest_rank(sorted(x for run in rs for x in run.durations.get(h, [])), 0.95)

    rows = []
    for name, _, _ in CONDITIONS:
        rs = runs[name]
        loads = [x.neighbour_load for x in rs if x.neighbour_load is not None]
        shares = [x.cpu_share for x in rs if x.cpu_share is not None]
        row = [
            name,
            f"{statistics.median(loads):.2f} ({min(loads):.2f}–{max(loads):.2f})" if loads else "—",
            f"{statistics.median(shares):.2f} ({min(shares):.2f}–{max(shares):.2f})"
            if shares
            else "—",
        ]
        row += [f"{pooled_p95(rs, h) / pooled_p95(quiet, h):.2f}×" for h in handlers]
        rows.append(row)
    print(
        tabulate(
            rows,
            headers=["neighbours", "neighbour load", "CPU share", *handlers],
            disable_numparse=True,
        )
    )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = ap.add_subparsers(dest="cmd")
    m = sub.add_parser("measure")
    m.add_argument("--rounds", type=int, default=8)
    r = sub.add_parser("run", help="be a bursty neighbour until killed")
    r.add_argument("--procs", type=int, default=1)
    r.add_argument("--busy", type=float, default=150, help="ms busy in every period")
    r.add_argument("--period", type=float, default=PERIOD_MS)
    r.add_argument("--seconds", type=float, default=3600)
    ap.set_defaults(cmd="measure", rounds=8)
    args = ap.parse_args()
    if args.cmd == "run":
        ps = start_neighbours(args.procs, args.busy, args.period, args.seconds)
        signal.signal(signal.SIGTERM, lambda *_: (stop_neighbours(ps), sys.exit(0)))
        for p in ps:
            p.join()
    else:
        measure(args)


if __name__ == "__main__":
    main()
