#!/usr/bin/env python3
"""perfgate's native trace reader against `go tool trace -d=parsed FILE >/dev/null`, side by side.

For each trace it times, in this run, each in a fresh process (so peaks do not mix):
  - `go tool trace -d=parsed` (the current Go's tool, which reads every trace version),
  - `read_trace(path)`: annotations only, with the C extension,
  - `read_trace(path, states=True)`: goroutine states too (what `perfgate check` reads),
  - both with the pure-Python fallback (PERFGATE_PURE_PYTHON=1),
  - the whole `perfgate report --states --json FILE` command,
and prints the speed ratios against the tool and each process's peak RSS (ru_maxrss) next to
the budget of 2 x trace size + 50 MB. Sizes and memory are both in MB of 10^6 bytes (ru_maxrss
is in KiB: converted, not mixed; in MiB throughout the budget would be a little looser).

The traces (cached in the temp dir; --size-mb sets their size) are written by the fixture
program (scripts/fixture_program): an HTTP load test (a task, two regions and a log per
request, on a loopback server) with every Go toolchain given by --go (the current one first;
add an old one with --go /path/to/go1.22/bin/go), and an annotation-dense load (TestLoad:
~23 tasks per KB, little else) with the current Go.

Usage: python bench/bench_reader.py [--size-mb 13] [--go go] [--go OLD_GO] [--repeat 3]
       [--trace FILE ...] [--no-pure] [--no-dense]
Take `flock /work/coord/bench.lock` (or your machine's equivalent) around it: it measures time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "scripts" / "fixture_program"
WARM = ROOT / "tests" / "fixtures" / "traces" / "go1.26-startstop.trace"
MB_PER_SECOND = {"http": 10.0, "dense": 10.0}  # rough trace rates on a small machine

_READ = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from perfgate.trace import read_trace
t = time.perf_counter()
d = read_trace({path!r}, reader="native", states={states!r})
el = time.perf_counter() - t
a = d.annotations
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6  # KiB -> MB
print(json.dumps({{"seconds": el, "maxrss_mb": rss, "tasks": len(a.tasks),
                  "regions": len(a.regions), "logs": len(a.logs),
                  "generations": d.generations, "version": d.version}}))
"""

_REPORT = """
import resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run([sys.executable, "-m", "perfgate", "report", "--states", "--json", {path!r}],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd={root!r})
el = time.perf_counter() - t
if p.returncode:
    sys.exit(p.stderr.decode())
print(el, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e6)  # KiB -> MB
"""


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if k != "PERFGATE_PURE_PYTHON"}
    return {**base, "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod", **extra}


def go_version(go: str) -> str:
    out = subprocess.run([go, "env", "GOVERSION"], capture_output=True, text=True, env=env())
    return out.stdout.strip() or go


def make_trace(go: str, kind: str, size_mb: float, out: Path) -> None:
    """Write a trace of size_mb to 1.25 x size_mb megabytes (the load's duration adjusted)."""
    test, knob = {
        "http": ("TestHTTPLoad", "FIXTURE_HTTP_SECONDS"),
        "dense": ("TestLoad", "FIXTURE_LOAD_SECONDS"),
    }[kind]
    secs = size_mb / MB_PER_SECOND[kind]
    got = 0.0
    for _ in range(6):
        with tempfile.TemporaryDirectory() as tmp:
            binary = str(Path(tmp) / "load.test")
            subprocess.run(
                [go, "test", "-run", f"^{test}$", "-count=1", f"-trace={out}", "-o", binary, "."],
                cwd=PROGRAM,
                env={**env(), knob: f"{secs:.2f}"},
                check=True,
                stdout=subprocess.DEVNULL,
            )
        got = out.stat().st_size / 1e6
        if size_mb <= got <= 1.25 * size_mb:
            return
        secs *= size_mb / max(got, 0.1) * 1.1
    if got < size_mb:
        raise SystemExit(f"could not produce a {size_mb} MB trace with {go} (got {got:.1f} MB)")


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


def read(trace: Path, states: bool, pure: bool = False) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", _READ.format(root=str(ROOT), path=str(trace), states=states)],
        capture_output=True,
        text=True,
        check=True,
        env=env(**({"PERFGATE_PURE_PYTHON": "1"} if pure else {})),
    )
    return json.loads(out.stdout)


def report(trace: Path) -> tuple[float, float]:
    """`perfgate report --states --json`: wall time and the peak RSS of that process."""
    out = subprocess.run(
        [sys.executable, "-c", _REPORT.format(root=str(ROOT), path=str(trace))],
        capture_output=True,
        text=True,
        check=True,
        env=env(),
    )
    seconds, rss = out.stdout.split()
    return float(seconds), float(rss)


@dataclass
class Row:
    """One trace's figures: best times (s) and the highest peak RSS (MB) of each reader."""

    label: str
    trace: Path
    size_mb: float = 0.0
    tool: float = 0.0
    times: dict[str, float] = field(default_factory=dict)
    rss: dict[str, float] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def add(self, what: str, seconds: float, rss: float) -> None:
        self.times[what] = min(self.times.get(what, float("inf")), seconds)
        self.rss[what] = max(self.rss.get(what, 0.0), rss)


READERS = ("annotations", "states", "pure annotations", "pure states", "report --states")
GOALS = {"annotations": 30.0, "states": 15.0, "pure states": 3.0, "report --states": 15.0}
DENSE_GOALS = {"annotations": 10.0, "states": 10.0}


def measure(row: Row, go: str, repeat: int, pure: bool) -> None:
    row.size_mb = row.trace.stat().st_size / 1e6
    for i in range(repeat):
        row.tool = min(row.tool or float("inf"), time_go(go, row.trace))
        for states, what in ((False, "annotations"), (True, "states")):
            r = read(row.trace, states)
            row.add(what, r["seconds"], r["maxrss_mb"])
            row.info = r
        seconds, rss = report(row.trace)
        row.add("report --states", seconds, rss)
        if pure and i == 0:  # slow: once
            for states, what in ((False, "pure annotations"), (True, "pure states")):
                r = read(row.trace, states, pure=True)
                row.add(what, r["seconds"], r["maxrss_mb"])


def show(rows: list[Row], tool: str) -> None:
    print()
    print(f"go tool trace -d=parsed ({tool}) against perfgate, best runs; ratio tool/perfgate")
    print(f"{'trace':<34} {'size':>7} {'tool':>7}  " + "  ".join(f"{w:>22}" for w in READERS))
    for r in rows:
        goals = DENSE_GOALS if r.label.startswith("dense") else GOALS
        cells = []
        for w in READERS:
            if w not in r.times:
                cells.append(f"{'-':>22}")
                continue
            ratio = r.tool / r.times[w]
            goal = goals.get(w)
            mark = "" if goal is None else (" ok" if ratio >= goal else " LOW")
            cells.append(f"{r.times[w]:6.2f}s {ratio:5.1f}x{mark:>4}".rjust(22))
        print(f"{r.label:<34} {r.size_mb:5.1f}MB {r.tool:6.2f}s  " + "  ".join(cells))
    print()
    print("peak RSS of each process (ru_maxrss) against the budget 2 x size + 50 MB")
    print(f"{'trace':<34} {'budget':>8}  " + "  ".join(f"{w:>18}" for w in READERS))
    for r in rows:
        budget = 2 * r.size_mb + 50
        cells = []
        for w in READERS:
            if w not in r.rss:
                cells.append(f"{'-':>18}")
                continue
            mark = "within" if r.rss[w] <= budget else "OVER"
            cells.append(f"{r.rss[w]:6.1f} MB {mark:>6}".rjust(18))
        print(f"{r.label:<34} {budget:6.1f}MB  " + "  ".join(cells))
    print()
    goals = ", ".join(f"{w} >= {g:g}x" for w, g in GOALS.items())
    print(
        f"goals: {goals}; the dense trace >= 10x. 'pure ...' is the pure-Python fallback (its "
        "annotations-only read, no goal, shows the floor under the read with states)."
    )
    for r in rows:
        i = r.info
        print(
            f"  {r.label}: Go {i['version']} wire format, {i['tasks']} tasks, {i['regions']} "
            f"regions, {i['logs']} logs, {i['generations']} generations"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mb", type=float, default=13.0)
    ap.add_argument(
        "--go",
        action="append",
        help="Go toolchain(s) writing the HTTP traces; the first one's tool is the reference "
        "(default: $PERFGATE_GO or go)",
    )
    ap.add_argument("--trace", action="append", type=Path, help="read these traces instead")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-pure", action="store_true", help="skip the pure-Python fallback")
    ap.add_argument("--no-dense", action="store_true", help="skip the annotation-dense trace")
    args = ap.parse_args()
    gos = args.go or [os.environ.get("PERFGATE_GO", "go")]
    tool = gos[0]
    tmp = Path(tempfile.gettempdir())
    rows: list[Row] = []
    if args.trace:
        rows = [Row(t.name, t) for t in args.trace]
    else:
        wanted = [("http", go) for go in gos] + ([] if args.no_dense else [("dense", tool)])
        for kind, go in wanted:
            version = go_version(go)
            trace = tmp / f"perfgate-bench-{kind}-{version}-{args.size_mb:g}mb.trace"
            size = trace.stat().st_size / 1e6 if trace.exists() else 0.0
            if not args.size_mb <= size <= 1.25 * args.size_mb:
                print(f"writing a >= {args.size_mb:g} MB {kind} trace ({version}) ...", flush=True)
                make_trace(go, kind, args.size_mb, trace)
            rows.append(Row(f"{kind} ({version})", trace))
    print(f"warming {tool} tool trace ...", flush=True)
    time_go(tool, WARM)
    for row in rows:
        print(f"measuring {row.label}: {row.trace} ...", flush=True)
        measure(row, tool, args.repeat, not args.no_pure)
    show(rows, go_version(tool))


if __name__ == "__main__":
    main()
