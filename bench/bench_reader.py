#!/usr/bin/env python3
"""Time perfgate's native trace reader against `go tool trace -d=parsed FILE >/dev/null`.

Generates a trace of at least --size-mb MB (default 13) by running the fixture program's
HTTP load test (scripts/fixture_program, TestHTTPLoad: a loopback HTTP server whose handlers
carry a task, two regions and a log each, like a perfgate-instrumented service) under the system
Go with -trace, unless --trace gives one. Warms `go tool trace` first (from Go 1.25 the first
run compiles the tool), then times both readers in this run, each in its own process, and
prints the speed ratio and perfgate's peak memory (ru_maxrss of the reading process).

Usage: python bench/bench_reader.py [--trace FILE] [--size-mb 13] [--go go] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "scripts" / "fixture_program"
WARM = ROOT / "tests" / "fixtures" / "traces" / "go1.26-startstop.trace"
MB_PER_SECOND = 7.0  # rough trace rate of TestHTTPLoad on a small machine; adjusted as we go

_READ = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from perfgate.trace import read_trace
t = time.perf_counter()
d = read_trace({path!r}, reader="native", states={states!r})
el = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"seconds": el, "maxrss_mb": rss, "tasks": len(d.tasks),
                  "regions": len(d.regions), "logs": len(d.logs), "generations": d.generations}}))
"""


def env() -> dict[str, str]:
    return {**os.environ, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}


def make_trace(go: str, size_mb: float, out: Path) -> None:
    secs = size_mb / MB_PER_SECOND
    for _ in range(5):
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [
                    go,
                    "test",
                    "-run",
                    "^TestHTTPLoad$",
                    "-count=1",
                    f"-trace={out}",
                    "-o",
                    str(Path(tmp) / "load.test"),
                    ".",
                ],
                cwd=PROGRAM,
                env={**env(), "FIXTURE_HTTP_SECONDS": f"{secs:.2f}"},
                check=True,
                stdout=subprocess.DEVNULL,
            )
        got = out.stat().st_size / 1e6
        if got >= size_mb:
            return
        secs *= size_mb / max(got, 0.1) * 1.05
    raise SystemExit(f"could not produce a {size_mb} MB trace (got {got:.1f} MB)")


def time_go(go: str, trace: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        [go, "tool", "trace", "-d=parsed", str(trace)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env(),
        check=True,
    )
    return time.perf_counter() - t


def time_native(trace: Path, states: bool = False) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _READ.format(root=str(ROOT), path=str(trace), states=states)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trace", type=Path)
    ap.add_argument("--size-mb", type=float, default=13.0)
    ap.add_argument("--go", default=os.environ.get("PERFGATE_GO", "go"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    trace = args.trace
    if trace is None:
        trace = Path(tempfile.gettempdir()) / f"perfgate-bench-{args.size_mb:g}mb.trace"
        if not trace.exists() or trace.stat().st_size < args.size_mb * 1e6:
            print(f"generating a >= {args.size_mb} MB trace with {args.go} ...", flush=True)
            make_trace(args.go, args.size_mb, trace)
    size = trace.stat().st_size
    print(f"trace: {trace} ({size / 1e6:.1f} MB)")
    print("warming go tool trace ...", flush=True)
    time_go(args.go, WARM)
    go_times = [time_go(args.go, trace) for _ in range(args.repeat)]
    runs = [time_native(trace) for _ in range(args.repeat)]
    with_states = [time_native(trace, states=True) for _ in range(args.repeat)]
    go_best = min(go_times)
    native_best = min(r["seconds"] for r in runs)
    peak = max(r["maxrss_mb"] for r in runs)
    r = runs[0]
    print(
        f"annotations: {r['tasks']:.0f} tasks, {r['regions']:.0f} regions, {r['logs']:.0f} logs, "
        f"{r['generations']:.0f} generations"
    )
    print(f"go tool trace -d=parsed >/dev/null: best {go_best:.2f} s of {args.repeat}")
    print(f"perfgate native reader:             best {native_best:.2f} s of {args.repeat}")
    ratio = go_best / native_best
    print(f"speed ratio: {ratio:.1f}x ({'meets' if ratio >= 10 else 'BELOW'} the 10x target)")
    states_best = min(r["seconds"] for r in with_states)
    states_ratio = go_best / states_best
    print(f"perfgate native reader, states=True: best {states_best:.2f} s of {args.repeat}")
    print(
        f"speed ratio with goroutine states: {states_ratio:.1f}x "
        f"({'meets' if states_ratio >= 5 else 'BELOW'} the 5x target); "
        f"peak memory {max(r['maxrss_mb'] for r in with_states):.0f} MB"
    )
    budget = 2 * size / 1e6 + 50
    print(
        f"perfgate peak memory (ru_maxrss): {peak:.0f} MB "
        f"(budget 2 x size + 50 MB = {budget:.0f} MB: {'within' if peak < budget else 'OVER'})"
    )


if __name__ == "__main__":
    main()
