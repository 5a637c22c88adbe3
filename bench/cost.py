#!/usr/bin/env python3
"""What does the pull-request gate's A/B mode cost next to a committed-baseline check?

    python bench/cost.py [--services example_service sessions blog catalog] [--rounds 2]

A/B (``perfgate check --against``) measures both sides, so it makes about twice the runs of a
check against the committed baseline; sequential stopping (``looks``) is meant to win part of
that back on clear outcomes. This prints, side by side in one run, the wall time of both with
their default settings on two clear outcomes per service — the code unchanged, and one handler
made about 50% slower — and their ratio.

Each service gets a scratch git repository (a copy of this repository's Go module for
example_service, of ``bench/zoo`` for the zoo's services) and ``perfgate baseline update``
(not timed). Then, per outcome and round, in alternating order:
  baseline: the change in the working tree, ``perfgate check`` (committed mode);
  base:     the change committed, ``perfgate check --against HEAD~1`` (what the Action runs
            on a pull request with ``compare: base``).
The slowdown is the zoo's ``const`` variant sized for +50% (``bench/zoo/variants.json``), and
for example_service a 150 µs busy wait in ``priceCart`` (POST /checkout, p95 ≈ 250 µs quiet).
Both sides' exit codes and runs made are printed: a ratio means little when one side came out
inconclusive and measured again.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checks import git

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "bench" / "zoo"
ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))},
    "GOTOOLCHAIN": "local",
    "PYTHONPATH": str(REPO),
}


class Service:
    """A scratch repository with one target, and how to make one handler slower in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.root = Path(tempfile.mkdtemp(prefix=f"perfgate-cost-{name}-"))
        if name == "example_service":
            for f in ("go.mod", "perfgate.toml"):
                shutil.copy2(REPO / f, self.root / f)
            for d in ("example_service", "perftest", "baselines"):
                shutil.copytree(REPO / d, self.root / d)
            self.handler = "POST /checkout"
        else:
            shutil.copytree(
                ZOO, self.root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "*.json")
            )
            (self.root / "perfgate.toml").write_text(
                f'[[targets]]\nname = "{name}"\npackage = "./{name}"\n'
                f'run = "^TestPerf{name.capitalize()}$"\n',
                encoding="utf-8",
            )
            variants = json.loads((ZOO / "variants.json").read_text())["variants"]
            self.variant = next(
                v
                for v in variants
                if v["service"] == name and v["kind"] == "const" and v["target_pct"] == 50
            )
            self.handler = self.variant["handler"]
        git(self.root, "init", "-q", "-b", "main")
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", "service")

    def slow_down(self) -> None:
        if self.name == "example_service":
            go = self.root / "example_service" / "checkout.go"
            pattern = re.compile(r"^(func (?:\([^)]*\) )?priceCart\([^\n]*\{)$", re.M)
            text, n = pattern.subn(
                r"\1\n\tfor t0 := time.Now(); time.Since(t0) < 150*time.Microsecond; {}",
                go.read_text(),
            )
            assert n == 1
            go.write_text(text)
            return
        pkg = (self.root / self.name / "perf_test.go").read_text().split("\n", 1)[0]
        knob = json.dumps(self.variant["knob"])
        (self.root / self.name / "zz_slow_test.go").write_text(
            f'{pkg}\n\nimport "os"\n\nfunc init() {{ os.Setenv("ZOO_SLOW", {knob}) }}\n',
            encoding="utf-8",
        )

    def perfgate(self, *args: str) -> tuple[int, float, dict]:
        out = self.root.parent / f"{self.root.name}-report.json"
        out.unlink(missing_ok=True)
        report = ["--no-comment", "--json-out", str(out)] if args[0] == "check" else []
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "perfgate", *args, *report],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=ENV,
        )
        seconds = time.perf_counter() - start
        if proc.returncode == 2:
            sys.exit(f"{self.name}: perfgate {' '.join(args)} exited 2:\n{proc.stderr[-3000:]}")
        return proc.returncode, seconds, json.loads(out.read_text()) if report else {}

    def check(self, mode: str, slowed: bool) -> tuple[int, float, dict]:
        if slowed:
            self.slow_down()
        try:
            if mode == "baseline":
                return self.perfgate("check")
            git(self.root, "add", "-A")
            git(self.root, "commit", "-q", "--allow-empty", "-m", "change")
            try:
                return self.perfgate("check", "--against", "HEAD~1")
            finally:
                git(self.root, "reset", "-q", "--hard", "HEAD~1")
        finally:
            git(self.root, "checkout", "-q", "--", ".")
            git(self.root, "clean", "-qfd")


def runs_made(report: dict) -> int:
    return sum(t["runs"] for t in report["targets"])


def verdict_of(report: dict, handler: str) -> str:
    return next((h["verdict"] for h in report["handlers"] if h["name"] == handler), "?")


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--services", nargs="*", default=["example_service", "sessions", "blog", "catalog"]
    )
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()

    rows, ratios = [], []
    for name in args.services:
        service = Service(name)
        try:
            code, seconds, _ = service.perfgate("baseline", "update")
            git(service.root, "add", "-A")
            git(service.root, "commit", "-q", "-m", "baseline")
            print(f"{name}: baseline update {seconds:.0f}s (not timed below)", flush=True)
            for slowed in (False, True):
                times: dict[str, list[float]] = {"baseline": [], "base": []}
                notes: dict[str, list[str]] = {"baseline": [], "base": []}
                for r in range(args.rounds):
                    order = ("baseline", "base") if r % 2 == 0 else ("base", "baseline")
                    for mode in order:
                        code, seconds, report = service.check(mode, slowed)
                        times[mode].append(seconds)
                        retried = any("measured 2 times" in w for w in report["warnings"])
                        others = [
                            h["name"]
                            for h in report["handlers"]
                            if h["verdict"] == "regressed" and h["name"] != service.handler
                        ]
                        notes[mode].append(
                            f"exit {code} {verdict_of(report, service.handler)} "
                            f"{runs_made(report)}r{' retried' if retried else ''}"
                            + (f" (also regressed: {', '.join(others)})" if others else "")
                        )
                        print(f"  {name} {'slowed' if slowed else 'unchanged'} {mode}: "
                              f"{seconds:.1f}s {notes[mode][-1]}", flush=True)  # fmt: skip
                committed = statistics.median(times["baseline"])
                ab = statistics.median(times["base"])
                ratios.append(ab / committed)
                rows.append(
                    [
                        name,
                        f"{service.handler} +50%" if slowed else "unchanged",
                        f"{committed:.1f}s",
                        "; ".join(notes["baseline"]),
                        f"{ab:.1f}s",
                        "; ".join(notes["base"]),
                        f"{ab / committed:.2f}",
                    ]
                )
        finally:
            shutil.rmtree(service.root, ignore_errors=True)
    print()
    print(
        tabulate(
            rows,
            headers=[
                "service",
                "change",
                "committed check",
                "exit, slowed handler, runs",
                "A/B check",
                "exit, slowed handler, runs (head side)",
                "A/B / committed",
            ],
        )
    )
    print(f"median ratio A/B / committed: {statistics.median(ratios):.2f} (goal ≤ 1.3)")


if __name__ == "__main__":
    main()
