#!/usr/bin/env python3
"""Can a fixed probe workload tell which state a shared machine is in?

    python bench/machine_probe.py --service search --sessions 14 --runs 6
    python bench/machine_probe.py --service search --sessions 300 --runs 3   # ~15 minutes

Builds a zoo service's perf test once (``bench/zoo``), then for each session makes ``--runs``
runs of it under the tracer, timing fixed workloads before and after each run: a pure-Python
CPU loop, a 32 MB memory copy (4 times), and — where gcc can build ``bench/wake_probe.c`` — the
machine's cross-CPU wake-up latency (a thread parked on CPU 1 woken from CPU 0, 300 times:
the median, in µs). Prints, per session, the medians of the probes and of each handler's
per-run p95, and at the end each probe's correlation with each handler's p95 over the
sessions and the per-minute medians. If a probe moves with the handlers, a committed-baseline
check could tell "this machine is slower than when the baseline was measured" from a
regression. Measures time: run it alone.
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

WAKE_SOURCE = REPO / "bench" / "wake_probe.c"

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


def build_wake_probe(tmp: str) -> Path | None:
    """bench/wake_probe.c compiled into ``tmp``, or None (no gcc, not Linux)."""
    exe = Path(tmp) / "wake_probe"
    cmd = ["gcc", "-O2", "-pthread", str(WAKE_SOURCE), "-o", str(exe)]
    try:
        subprocess.run(cmd, check=True, capture_output=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return exe


def wake_probe_us(exe: Path | None) -> float:
    if exe is None:
        return float("nan")
    out = subprocess.run([str(exe), "300"], capture_output=True, text=True, check=True).stdout
    return float(out.split()[0])


def correlation(x: list[float], y: list[float]) -> float:
    mx, my = statistics.fmean(x), statistics.fmean(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y, strict=True))
    sx = sum((a - mx) ** 2 for a in x) ** 0.5
    sy = sum((b - my) ** 2 for b in y) ** 0.5
    return sxy / (sx * sy) if sx and sy else float("nan")


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
        wake = build_wake_probe(tmp)
        names: list[str] = []
        sessions: list[tuple[float, list[float]]] = []  # (start time, medians)
        start = time.monotonic()
        for session in range(args.sessions):
            rows = []
            began = time.monotonic() - start
            for _ in range(args.runs):
                before = cpu_probe_ms(), mem_probe_ms(), wake_probe_us(wake)
                run = [str(binary), "-test.run", f"^{test}$", "-test.count=1"]
                subprocess.run(
                    [*run, "-test.trace", str(trace)],
                    cwd=root / args.service,
                    env=env,
                    capture_output=True,
                    check=True,
                )
                after = cpu_probe_ms(), mem_probe_ms(), wake_probe_us(wake)
                durations = samples_from_trace(read_trace(str(trace))).durations
                names = names or sorted(durations)
                p95s = [nearest_rank(sorted(durations[n]), 0.95) / 1e3 for n in names]
                rows.append([(b + a) / 2 for b, a in zip(before, after, strict=True)] + p95s)
            med = [statistics.median(col) for col in zip(*rows, strict=True)]
            sessions.append((began, med))
            handlers = "  ".join(f"{n} {v:.1f}µs" for n, v in zip(names, med[3:], strict=True))
            print(
                f"session {session}: cpu {med[0]:.1f} ms  memory {med[1]:.1f} ms  "
                f"wake {med[2]:.1f} µs | {handlers}",
                flush=True,
            )
        print("\ncorrelation of each probe with each handler's p95 over the sessions")
        probes = ("cpu", "memory", "wake")
        for k, probe in enumerate(probes):
            xs = [m[k] for _, m in sessions]
            cells = "  ".join(
                f"{n} r={correlation(xs, [m[3 + j] for _, m in sessions]):+.2f}"
                for j, n in enumerate(names)
            )
            print(f"  {probe:>6}: {cells}")
        print("\nper minute: medians over its sessions")
        minutes: dict[int, list[list[float]]] = {}
        for began, m in sessions:
            minutes.setdefault(int(began // 60), []).append(m)
        for minute, ms in sorted(minutes.items()):
            med = [statistics.median(col) for col in zip(*ms, strict=True)]
            cells = "  ".join(f"{n} {v:.1f}µs" for n, v in zip(names, med[3:], strict=True))
            print(f"  minute {minute:>2}: wake {med[2]:.1f} µs | {cells}")


if __name__ == "__main__":
    main()
