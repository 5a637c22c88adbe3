#!/usr/bin/env python3
"""The retry after an inconclusive check, judged both ways on the same runs.

    python bench/retry.py --services catalog blog --checks 40
    python bench/retry.py --shop --checks 200
    python bench/retry.py --services catalog --knob "GET /items/{id}=const:1500ns" --checks 40
    python bench/retry.py --services blog --knob "GET /feed=const:21415ns" --against --checks 30

For each check: a fresh `perfgate baseline update` of the unchanged code (the real CLI), then,
in this process, the check's first measurement in committed-baseline mode (with ``--against``:
A/B, the working tree against HEAD in pairs of runs, no baseline)
(:func:`perfgate.gate.measure_and_judge`, its staged looks and all). When that comes out
``inconclusive`` within run-to-run noise (not a busy machine), the check's runs are made once
more and the outcome is judged two ways:

* **from scratch** — the new runs alone, with the same staged looks (what ``retries`` does
  against a committed baseline: the last measurement decides, :func:`perfgate.gate.check`);
* **pooled** — every run of both measurements together, judged once at the last look's level
  (:func:`perfgate.gate.measure_more_and_judge`, here in either mode: what ``retries`` does
  in A/B mode).

Services: zoo services (``bench/zoo``, a scratch copy each; ``--knob`` slows one handler, see
``bench/zoo/variants.json``), ``--shop``, the three-route service of
``tests/e2e/test_new_service.py`` (``--shop-slow-ns`` adds a busy wait to ``GET /items/{id}``),
and ``--example``, this repository's example_service (a copy).
Prints, per service, how the checks ended with no retry, with the retry from scratch and with
the pooled retry; ``--out FILE`` keeps one JSON line per check. Measures time: run it alone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from checks import scratch_repo, slow_file  # noqa: E402
from tabulate import tabulate  # noqa: E402

from perfgate import gate  # noqa: E402
from perfgate.assess import Checked, Provenance  # noqa: E402
from perfgate.config import load_config  # noqa: E402
from perfgate.git import worktree_at  # noqa: E402
from perfgate.measure import scratch_dir  # noqa: E402
from perfgate.report import ReportVerdict  # noqa: E402
from perfgate.samples import Measurement  # noqa: E402
from perfgate.toolchain import find_go  # noqa: E402

PROVENANCE = Provenance(created="2026-12-01T00:00:00+00:00")


class Replay:
    """A runner that serves runs already made, from ``start`` on (for the from-scratch
    judgment of the second measurement's runs alone, with the staged looks)."""

    def __init__(self, full: gate.Runner, start: int) -> None:
        self.full, self.start, self.n = full, start, 0

    def extend(self, rounds: int, most: int | None = None, progress=None) -> None:
        self.n = rounds

    @property
    def measurements(self) -> list[Measurement]:
        return [
            Measurement(label=m.label, runs=m.runs[self.start : self.start + self.n])
            for m in self.full.measurements
        ]


def shop(slow_ns: int) -> tuple[Path, Path, dict[str, str]]:
    """The e2e shop service: (baseline tree, checked tree, environment)."""
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    sys.path.insert(0, str(REPO / "tests"))
    from test_new_service import OFFLINE, new_service

    root = new_service(Path(tempfile.mkdtemp(prefix="perfgate-retry-")) / "shop")
    checked = root
    if slow_ns:
        checked = root.parent / "slow"
        shutil.copytree(root, checked)
        go_file = checked / "shop" / "shop.go"
        wait = f"for t := time.Now(); time.Since(t) < {slow_ns}*time.Nanosecond; {{}}"
        go_file.write_text(go_file.read_text().replace("// SLOW", wait))
    return root, checked, {**os.environ, **OFFLINE, "GOTOOLCHAIN": "local"}


def outcome(c: Checked) -> dict:
    return {
        "verdict": c.report.verdict.value,
        "handlers": {
            h.name: [h.verdict.value, round(h.delta_pct or 0, 1)] for h in c.report.handlers
        },
    }


def one_against(root: Path, env: dict[str, str]) -> dict:
    """A/B: the check of ``root``'s working tree against ``HEAD`` (what ``slow_file`` left
    uncommitted is the change), in pairs of runs."""
    config, croot = load_config(None, root)
    with scratch_dir() as tmp, worktree_at(croot, "HEAD") as tree:
        source = gate.AgainstRef(croot, config.targets, find_go(env), env, Path(tmp), tree, "HEAD")
        return judged(source, config)


def judged(source, config) -> dict:
    """The first measurement; after an inconclusive one within noise, both retries."""
    runners = gate.start_runners(source, config)
    first = gate.measure_and_judge(source, config, PROVENANCE, None, runners)
    rec = {"first": outcome(first), "busy": any(h.busy_machine for h in first.report.handlers)}
    if first.report.verdict == ReportVerdict.INCONCLUSIVE and not rec["busy"]:
        made = {name: r.rounds for name, r in runners.items()}
        rec["pooled"] = outcome(gate.measure_more_and_judge(source, config, PROVENANCE, runners))
        again = {name: Replay(r, made[name]) for name, r in runners.items()}
        rec["scratch"] = outcome(gate.measure_and_judge(source, config, PROVENANCE, None, again))
    return rec


def one(root: Path, checked_root: Path, env: dict[str, str]) -> dict:
    """A baseline update of ``root`` and the check of ``checked_root`` against it."""
    pg = [sys.executable, "-m", "perfgate"]
    r = subprocess.run([*pg, "baseline", "update"], cwd=root, env=env, capture_output=True)
    if r.returncode:
        sys.exit(f"baseline update exited {r.returncode}: {r.stderr.decode()[-2000:]}")
    if checked_root != root:
        for f in (root / "baselines").iterdir():
            (checked_root / "baselines").mkdir(exist_ok=True)
            shutil.copy(f, checked_root / "baselines" / f.name)
    config, croot = load_config(None, checked_root)
    with scratch_dir() as tmp:
        source = gate.CommittedBaseline(croot, config.targets, find_go(env), env, Path(tmp))
        return judged(source, config)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--services", nargs="*", default=[], help="zoo services")
    ap.add_argument("--shop", action="store_true", help="the e2e shop service too")
    ap.add_argument("--shop-slow-ns", type=int, default=0)
    ap.add_argument("--example", action="store_true", help="this repository's example_service")
    ap.add_argument("--knob", help="ZOO_SLOW for the checked tree of the zoo services")
    ap.add_argument("--checks", type=int, default=40)
    ap.add_argument(
        "--against",
        action="store_true",
        help="zoo services: A/B against HEAD (the knob uncommitted) instead of a baseline",
    )
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()

    trees = []
    for service in args.services:
        root = scratch_repo(service, "TestPerf" + service.capitalize())
        checked = root
        if args.against:
            if args.knob:
                slow_file(root, service, args.knob)
        elif args.knob:
            checked = Path(tempfile.mkdtemp(prefix="perfgate-retry-slow-")) / service
            shutil.copytree(root, checked)
            slow_file(checked, service, args.knob)
        env = {**os.environ, "PYTHONPATH": str(REPO), "GOTOOLCHAIN": "local"}
        trees.append((service, root, checked, env))
    if args.shop:
        trees.append(("shop", *shop(args.shop_slow_ns)))
    if args.example:
        sys.path.insert(0, str(REPO / "tests" / "e2e"))
        from e2e_support import copy_module

        root = copy_module(Path(tempfile.mkdtemp(prefix="perfgate-retry-")) / "example")
        trees.append(("example_service", root, root, {**os.environ, "GOTOOLCHAIN": "local"}))
    out = args.out.open("a") if args.out else None
    rows = []
    for name, root, checked, env in trees:
        ends: dict[str, Counter] = {k: Counter() for k in ("no retry", "from scratch", "pooled")}
        for i in range(args.checks):
            made = one_against(root, env) if args.against else one(root, checked, env)
            rec = {"service": name, **made}
            if out:
                out.write(json.dumps(rec) + "\n")
                out.flush()
            first = rec["first"]["verdict"]
            ends["no retry"][first] += 1
            for way, key in (("from scratch", "scratch"), ("pooled", "pooled")):
                ends[way][rec[key]["verdict"] if key in rec else first] += 1
            print(
                f"{name} {i + 1}/{args.checks}: {first}"
                + (f" -> scratch {rec['scratch']['verdict']}, pooled {rec['pooled']['verdict']}"
                   if "pooled" in rec else ""),
                file=sys.stderr,
                flush=True,
            )  # fmt: skip
        retried = ends["no retry"]["inconclusive"]  # busy ones too (neither way retries those)
        for way, c in ends.items():
            shown = retried if way != "no retry" else ""
            rows.append([name, way, c["pass"], c["fail"], c["inconclusive"], shown])
    print(
        tabulate(
            rows,
            headers=[
                "service",
                "retry",
                "pass",
                "fail (exit 1)",
                "inconclusive (exit 3)",
                "retried",
            ],
        )
    )


if __name__ == "__main__":
    main()
