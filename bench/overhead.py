#!/usr/bin/env python3
"""What does perfgate cost on top of the go test runs it makes? Ratios at several loads, side by
side in one run, and perfgate's peak memory.

    flock /work/coord/bench.lock python /work/coord/quietly.py \\
        python bench/overhead.py --loads 1 10 30 --runs 5 --rounds 2 --memory-runs 5 15

For each load L, a copy of this repository's Go module is made in a temporary git repository,
with example_service's ``perfRequestsPerRoute`` multiplied by L (L = 10 writes about 6.5 MB of
trace per run), and a ``perfgate.toml`` that makes a check do exactly ``--runs`` runs: ``looks =
1`` (no early stop), ``retries = 0`` (no second measurement when inconclusive) and
``max_neighbour_load = 1`` (no run measured again because the machine was busy). Its baseline is
measured first (``perfgate baseline update``, not timed). Then each round times, back to back and
in alternating order:

  plain:    ``go test -count=1 -run RE -trace=F ./example_service``, ``--runs`` times (what a
            team would script by hand; each call re-checks the build cache and links),
  perfgate: ``perfgate check --runs N --no-comment`` in committed-baseline mode (builds once with
            ``go test -c``, runs the binary N times, reads every trace with goroutine states,
            judges, explains, renders).

It prints a table: per load, the median wall times and their ratio perfgate/plain (goal ≤ 1.15),
and the peak RSS of the perfgate process itself (its own ``ru_maxrss``: the Go test binary it
runs and the go tool are other processes). ``--memory-runs A B`` then runs the largest load's
check with A and with B runs (untimed) and prints both peaks: the memory a check needs should
not grow with its number of runs.

``--service NAME`` does the same with a zoo service (``bench/zoo``, e.g. catalog or sessions)
instead of example_service: the zoo's module is copied and its perf test's ``zoo.Load``
``PerRoute`` multiplied — a service the gate was not tuned on.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))},
    "GOTOOLCHAIN": "local",
}
REQUESTS = re.compile(r"^(\s*perfRequestsPerRoute\s*=\s*)(\d+)", re.M)
ZOO_REQUESTS = re.compile(r"^(\s*PerRoute:\s*)(\d+)", re.M)  # a zoo service's zoo.Load
ZOO = REPO / "bench" / "zoo"


@dataclass(frozen=True)
class Service:
    """The service whose perf test is scaled: example_service or one of the zoo's."""

    name: str

    @property
    def zoo(self) -> bool:
        return self.name != "example_service"

    @property
    def package(self) -> str:
        return f"./{self.name}"

    @property
    def run(self) -> str:
        if self.zoo:
            return f"^TestPerf{self.name.capitalize()}$"
        return "^TestPerfExampleService$"


# perfgate run in-process under a wrapper that writes the process's own peak RSS (KB) at exit.
PEAK_WRAPPER = (
    "import atexit, resource, runpy, sys\n"
    "out = sys.argv.pop(1)\n"
    "atexit.register(lambda: open(out, 'w').write("
    "str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)))\n"
    "sys.argv[0] = 'perfgate'\n"
    "runpy.run_module('perfgate', run_name='__main__', alter_sys=True)\n"
)


def scaled_module(dest: Path, svc: Service, load: int, runs: int) -> tuple[Path, int]:
    """A git repository under ``dest`` holding ``svc``'s module with ``load`` × the requests
    per route, and a perfgate.toml for an exact ``runs``-run check. Returns it and the requests
    per route."""
    if svc.zoo:
        shutil.copytree(ZOO, dest, ignore=shutil.ignore_patterns("*.py", "*.json", "__pycache__"))
        pattern = ZOO_REQUESTS
    else:
        dest.mkdir(parents=True)
        shutil.copy2(REPO / "go.mod", dest / "go.mod")
        for d in ("example_service", "perftest"):
            shutil.copytree(REPO / d, dest / d)
        (dest / "example_service" / "routes_baseline_test.go").unlink()  # needs baselines/*.json
        pattern = REQUESTS
    perf_test = dest / svc.name / "perf_test.go"
    text = perf_test.read_text()
    base = int(pattern.search(text).group(2))  # type: ignore[union-attr]
    perf_test.write_text(pattern.sub(lambda m: f"{m.group(1)}{base * load}", text, count=1))
    (dest / "perfgate.toml").write_text(
        "# bench/overhead.py: a check makes exactly --runs runs\n"
        "looks = 1\nretries = 0\nmax_neighbour_load = 1\n\n"
        f'[[targets]]\nname = "{svc.name}"\npackage = "{svc.package}"\nrun = "{svc.run}"\n'
        f"baseline_runs = {runs}\n"
    )
    for args in (
        ["init", "-q"],
        ["add", "-A"],
        ["-c", "user.name=bench", "-c", "user.email=bench@example.com", "commit", "-qm", "bench"],
    ):
        subprocess.run(["git", *args], cwd=dest, check=True, env=ENV)
    return dest, base * load


def perfgate_cmd(peak_file: Path, *args: str) -> list[str]:
    return [sys.executable, "-c", PEAK_WRAPPER, str(peak_file), *args]


def baseline(root: Path) -> None:
    proc = subprocess.run(
        perfgate_cmd(root.with_suffix(".peak"), "baseline", "update"),
        cwd=root,
        env=ENV,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        sys.exit(f"perfgate baseline update failed:\n{proc.stderr}")


def go_test_trace(root: Path, svc: Service) -> Path:
    """One plain `go test -trace` run of the perf test; the trace it wrote."""
    trace = root.with_suffix(".trace")
    subprocess.run(
        ["go", "test", "-count=1", f"-run={svc.run}", f"-trace={trace}", svc.package],
        cwd=root,
        env=ENV,
        check=True,
        capture_output=True,
    )
    return trace


def plain(root: Path, svc: Service, runs: int) -> float:
    start = time.perf_counter()
    for _ in range(runs):
        trace = go_test_trace(root, svc)
    elapsed = time.perf_counter() - start
    trace.unlink(missing_ok=True)
    return elapsed


def check(root: Path, runs: int) -> tuple[float, float, int]:
    """Wall time (s) of ``perfgate check --runs N``, the perfgate process's peak RSS (MB) and
    the tasks in its last run."""
    peak_file = root.with_suffix(".peak")  # outside the repository: the tree stays clean
    peak_file.unlink(missing_ok=True)
    cmd = perfgate_cmd(peak_file, "check", "--runs", str(runs), "--no-comment")
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=root, env=ENV, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 1, 3):  # pass, fail, inconclusive: all a finished check
        sys.exit(f"perfgate check failed ({proc.returncode}):\n{proc.stderr}")
    made = proc.stderr.count(": run ")
    if made != runs:
        sys.exit(f"perfgate check made {made} runs, not {runs}:\n{proc.stderr}")
    tasks = int(re.findall(r", (\d+) tasks", proc.stderr)[-1])
    return elapsed, int(peak_file.read_text()) * 1024 / 1e6, tasks  # ru_maxrss KiB -> MB


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--loads", type=int, nargs="+", default=[1, 10, 30])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--service",
        default="example_service",
        help="example_service, or a zoo service (bench/zoo: catalog, sessions, ...) whose "
        "zoo.Load PerRoute is scaled",
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument(
        "--memory-runs",
        type=int,
        nargs=2,
        default=None,
        metavar=("A", "B"),
        help="also run the largest load's check with A and B runs and print both peaks",
    )
    args = parser.parse_args()
    svc = Service(args.service)
    rows = []
    with tempfile.TemporaryDirectory(prefix="perfgate-overhead-") as tmp:
        roots = {}
        for load in args.loads:
            root, _ = scaled_module(Path(tmp) / f"x{load}", svc, load, args.runs)
            plain(root, svc, 1)  # warm the build cache for both sides
            baseline(root)
            trace_mb = trace_size(root, svc)
            roots[load] = root
            times: dict[str, list[float]] = {"plain": [], "perfgate": []}
            peaks = []
            for r in range(args.rounds):
                order = ("plain", "perfgate") if r % 2 == 0 else ("perfgate", "plain")
                for side in order:
                    if side == "plain":
                        times["plain"].append(plain(root, svc, args.runs))
                    else:
                        g, peak, tasks = check(root, args.runs)
                        times["perfgate"].append(g)
                        peaks.append(peak)
                p, g = times["plain"][-1], times["perfgate"][-1]
                print(
                    f"{load:>3}x round {r + 1}: plain {p:6.2f}s  perfgate {g:6.2f}s  "
                    f"ratio {g / p:.2f}",
                    flush=True,
                )
            p, g = statistics.median(times["plain"]), statistics.median(times["perfgate"])
            rows.append((load, tasks, trace_mb, p, g, max(peaks)))
        print()
        print(
            f"perfgate check --runs {args.runs} against {args.runs} plain go test -trace runs, "
            f"median of {args.rounds} round(s)"
        )
        print(
            f"{'load':>5} {'tasks/run':>10} {'trace/run':>10} {'plain':>9} {'perfgate':>9} "
            f"{'ratio':>6} {'peak RSS':>9}"
        )
        for load, tasks, trace_mb, p, g, peak in rows:
            ok = "ok" if g / p <= 1.15 else "OVER"
            print(
                f"{load:>4}x {tasks:>10} {trace_mb:>8.1f}MB {p:>8.2f}s {g:>8.2f}s "
                f"{g / p:>6.2f} {peak:>6.0f} MB  {ok}"
            )
        print("goal: ratio <= 1.15 at each load")
        if args.memory_runs:
            load = max(args.loads)
            mem = {n: check(roots[load], n)[1] for n in args.memory_runs}
            a, b = args.memory_runs
            print(
                f"\npeak RSS of perfgate check at {load}x: --runs {a}: {mem[a]:.0f} MB, "
                f"--runs {b}: {mem[b]:.0f} MB ({mem[b] - mem[a]:+.0f} MB)"
            )


def trace_size(root: Path, svc: Service) -> float:
    """MB of trace one plain run writes."""
    trace = go_test_trace(root, svc)
    size = trace.stat().st_size / 1e6
    trace.unlink()
    return size


if __name__ == "__main__":
    main()
