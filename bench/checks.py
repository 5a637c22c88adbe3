#!/usr/bin/env python3
"""Real `perfgate check` runs on the zoo's services: the acceptance check, end to end.

    python bench/checks.py --services sessions search --checks 3
    python bench/checks.py --half held_out --mode against --pct 25 --neighbour 150

Each service of the chosen half gets a scratch git repository holding a copy of the zoo module
and a perfgate.toml with one target. Then, with the real CLI (`python -m perfgate`):

* ``--mode baseline``: ``perfgate baseline update`` once, then ``--checks`` checks of the
  unchanged code and of each slowdown variant (one handler slowed, every kind of
  ``bench/zoo/variants.json`` at ``--pct``) against that committed baseline;
* ``--mode against``: for each, a commit that slows the handler (a ``zz_slow_test.go`` that sets
  ``ZOO_SLOW`` before the test starts) or changes nothing, and ``perfgate check --against
  HEAD~1``.

``--neighbour MS`` runs a bursty neighbour (a process busy MS of every 200 ms,
``bench/neighbours.py run``) during the checks, not during the baseline update. It prints, per
service and variant, the exit codes, what the slowed handler came out as (with its change and
interval) and whether any other handler was flagged.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
ZOO = REPO / "bench" / "zoo"


def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.org", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def scratch_repo(service: str, test: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix=f"perfgate-checks-{service}-"))
    shutil.copytree(ZOO, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.py", "*.json"))
    (root / "perfgate.toml").write_text(
        f'[[targets]]\nname = "{service}"\npackage = "./{service}"\nrun = "^{test}$"\n',
        encoding="utf-8",
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "zoo")
    return root


def slow_file(root: Path, service: str, knob: str | None) -> Path:
    """A test file that sets ZOO_SLOW before the perf test starts (None: a harmless change)."""
    path = root / service / "zz_slow_test.go"
    pkg = next((root / service).glob("perf_test.go")).read_text().split("\n", 1)[0]
    body = f'\nfunc init() {{ os.Setenv("ZOO_SLOW", {json.dumps(knob)}) }}\n' if knob else "\n"
    imports = '\nimport "os"\n' if knob else ""
    path.write_text(f"{pkg}\n{imports}{body}", encoding="utf-8")
    return path


def perfgate(root: Path, *args: str) -> tuple[int, dict]:
    out = root / ".perfgate-report.json"
    out.unlink(missing_ok=True)
    report_args = ["--json-out", str(out)] if args[0] == "check" else []
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", *args, *report_args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO), "GOTOOLCHAIN": "local"},
    )
    report = json.loads(out.read_text()) if out.exists() else {}
    if proc.returncode == 2:
        print(proc.stderr[-2000:], file=sys.stderr)
    return proc.returncode, report


def neighbour(busy_ms: int) -> subprocess.Popen | None:
    if not busy_ms:
        return None
    return subprocess.Popen(
        [sys.executable, str(REPO / "bench" / "neighbours.py"), "run", "--procs", "1",
         "--busy", str(busy_ms), "--period", "200"],
        start_new_session=True,
    )  # fmt: skip


def one_check(root, service, variant, mode, busy_ms, extra):
    knob = variant["knob"] if variant else None
    path = slow_file(root, service, knob)
    if mode == "against":
        git(root, "add", "-A")
        git(root, "commit", "-q", "--allow-empty", "-m", variant["name"] if variant else "noop")
        args = ["check", "--against", "HEAD~1", *extra]
    else:
        args = ["check", *extra]
    n = neighbour(busy_ms)
    try:
        code, report = perfgate(root, *args)
    finally:
        if n is not None:
            os.killpg(n.pid, signal.SIGTERM)
            n.wait()
    if mode == "against":
        git(root, "reset", "-q", "--hard", "HEAD~1")
    else:
        path.unlink()
    return code, report


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--half", choices=["tuning", "held_out"], default="held_out")
    ap.add_argument("--services", nargs="*")
    ap.add_argument("--mode", choices=["baseline", "against"], default="baseline")
    ap.add_argument("--pct", type=float, default=25, help="variants of this target size")
    ap.add_argument("--kinds", nargs="*", help="only these slowdown kinds")
    ap.add_argument("--checks", type=int, default=3, help="checks per variant")
    ap.add_argument("--neighbour", type=int, default=0, help="busy ms of every 200 ms")
    ap.add_argument("--tablefmt", default="simple")
    ap.add_argument("extra", nargs="*", help="more perfgate check arguments (after --)")
    args = ap.parse_args()

    split = json.loads((ZOO / "split.json").read_text())
    services = args.services or split[args.half]
    variants = json.loads((ZOO / "variants.json").read_text())["variants"]
    rows, codes = [], Counter()
    for service in services:
        test = "TestPerf" + service.capitalize()
        root = scratch_repo(service, test)
        try:
            if args.mode == "baseline":
                code, _ = perfgate(root, "baseline", "update")
                if code:
                    sys.exit(f"{service}: baseline update exited {code}")
            chosen = [
                v
                for v in variants
                if v["service"] == service
                and v["target_pct"] == args.pct
                and (not args.kinds or v["kind"] in args.kinds)
                and not v["name"].endswith("r")
            ]
            for variant in [None, *chosen]:
                outcome = Counter()
                notes = []
                for _ in range(args.checks):
                    code, report = one_check(
                        root, service, variant, args.mode, args.neighbour, args.extra
                    )
                    codes[code] += 1
                    hs = {h["name"]: h for h in report.get("handlers", [])}
                    slowed = hs.get(variant["handler"]) if variant else None
                    others = [
                        n
                        for n, h in hs.items()
                        if h["verdict"] == "regressed" and (not variant or n != variant["handler"])
                    ]
                    outcome[f"exit {code}"] += 1
                    if others:
                        outcome["innocent"] += 1
                    if slowed:
                        ci = slowed.get("delta_ci_pct") or [0, 0]
                        notes.append(
                            f"{slowed['verdict']} {slowed['delta_pct']:+.0f}% "
                            f"[{ci[0]:+.0f},{ci[1]:+.0f}] {report['targets'][0]['runs']}r"
                        )
                    else:
                        notes.append(
                            f"{report.get('verdict')} {report.get('targets', [{}])[0].get('runs')}r"
                        )
                rows.append(
                    [
                        service,
                        variant["name"] if variant else "unchanged",
                        variant["handler"] if variant else "",
                        ", ".join(f"{k}: {v}" for k, v in sorted(outcome.items())),
                        "; ".join(notes),
                    ]
                )
                print(tabulate([rows[-1]], tablefmt="plain"), flush=True)
        finally:
            shutil.rmtree(root, ignore_errors=True)
    print()
    print(
        f"mode {args.mode}, variants at +{args.pct:g}%, neighbour "
        f"{args.neighbour or 'none'}{' ms/200 ms' if args.neighbour else ''}"
    )
    print(
        tabulate(
            rows,
            headers=[
                "service",
                "variant",
                "handler",
                "outcomes",
                "slowed handler (Δ [interval], runs)",
            ],
            tablefmt=args.tablefmt,
        )
    )
    print("exit codes:", dict(sorted(codes.items())))


if __name__ == "__main__":
    main()
