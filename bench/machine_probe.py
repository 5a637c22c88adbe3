#!/usr/bin/env python3
"""Can a fixed probe workload tell which state a shared machine is in?

    python bench/machine_probe.py --service search --sessions 14 --runs 6

Builds a zoo service's perf test once (``bench/zoo``), then for each session makes ``--runs``
runs of it under the tracer, timing two fixed workloads before and after each run: a
pure-Python CPU loop and a 32 MB memory copy (4 times). Prints, per session, the medians of
both probes and of each handler's per-run p95. If the probes moved with the handlers from one
session to the next, a committed-baseline check could tell "this machine is slower than when
the baseline was measured" from a regression. Measures time: run it alone.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from checks import scratch_repo  # noqa: E402

from perfgate.interval import nearest_rank  # noqa: E402
from perfgate.samples import samples_from_trace  # noqa: E402
from perfgate.trace import read_trace  # noqa: E402

BUF = bytearray(32 << 20)


def cpu_probe_ms() -> float:
    t = time.perf_counter_ns()
    x = 0
    for i in range(300_000):
        x += i * i % 7
    return (time.perf_counter_ns() - t) / 1e6


def mem_probe_ms() -> float:
    t = time.perf_counter_ns()
    for _ in range(4):
        bytes(BUF)
    return (time.perf_counter_ns() - t) / 1e6


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--service", default="search")
    ap.add_argument("--sessions", type=int, default=14)
    ap.add_argument("--runs", type=int, default=6)
    args = ap.parse_args()
    test = "TestPerf" + args.service.capitalize()
    root = scratch_repo(args.service, test)
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    with tempfile.TemporaryDirectory() as tmp:
        binary, trace = Path(tmp) / "perf.test", Path(tmp) / "run.trace"
        build = ["go", "test", "-c", "-o", str(binary), f"./{args.service}"]
        subprocess.run(build, cwd=root, env=env, check=True)
        names: list[str] = []
        for session in range(args.sessions):
            rows = []
            for _ in range(args.runs):
                before = cpu_probe_ms(), mem_probe_ms()
                run = [str(binary), "-test.run", f"^{test}$", "-test.count=1"]
                subprocess.run(
                    [*run, "-test.trace", str(trace)],
                    cwd=root / args.service,
                    env=env,
                    capture_output=True,
                    check=True,
                )
                after = cpu_probe_ms(), mem_probe_ms()
                durations = samples_from_trace(read_trace(str(trace))).durations
                names = names or sorted(durations)
                p95s = [nearest_rank(sorted(durations[n]), 0.95) / 1e3 for n in names]
                rows.append([(before[0] + after[0]) / 2, (before[1] + after[1]) / 2, *p95s])
            med = [statistics.median(col) for col in zip(*rows, strict=True)]
            handlers = "  ".join(f"{n} {v:.1f}µs" for n, v in zip(names, med[2:], strict=True))
            print(f"session {session}: cpu {med[0]:.1f} ms  memory {med[1]:.1f} ms | {handlers}")


if __name__ == "__main__":
    main()
