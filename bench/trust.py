#!/usr/bin/env python3
"""How far can perfgate's verdicts be trusted on this machine? Collect runs, then score rules.

    python bench/trust.py collect --rounds 40 --out /tmp/runs.json.gz
    python bench/trust.py evaluate /tmp/runs.json.gz
    python bench/trust.py real --checks 5 --handler "POST /checkout" --pct 33

``collect`` copies this repository's Go module to temp dirs: one unchanged, and one per
(handler, slowdown) with a busy wait at the top of the handler's cost function sized to raise
its p95 by that fraction. It builds each once and runs them interleaved (round robin, one
process per run, exactly like ``perfgate check``), storing every run's task durations.

``evaluate`` replays perfgate's own verdict code (perfgate.judge) on random draws from those
runs: committed-baseline mode takes the baseline from the first half of the rounds and the check
from the second half (so drift between the two counts against perfgate); A/B mode pairs runs
made back to back, as ``--against`` does: the unchanged run of round 2k with that of round 2k+1
(false alarms), and the unchanged run of a round with the slowed copy's run of the same round
(detection). Each slowed draw also goes through the bystander rule (perfgate.busy, without
runtime lists here: the ns rule only; ``--no-collateral`` leaves it out). It prints false alarms
on unchanged code, detection rate per slowdown, and innocent handlers flagged, for several
settings side by side.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))

from e2e_support import copy_module, slow_down  # noqa: E402

from perfgate.assess import Provenance, assess  # noqa: E402
from perfgate.config import Config, Target  # noqa: E402
from perfgate.measure import Subject  # noqa: E402
from perfgate.report import HandlerSummary, Mode, TargetInfo, Verdict  # noqa: E402
from perfgate.samples import Measurement, RunSamples  # noqa: E402
from perfgate.sides import Side, TargetSides  # noqa: E402
from perfgate.stats import nearest_rank  # noqa: E402
from perfgate.toolchain import find_go  # noqa: E402

COLLATERAL = True  # apply the bystander rule, as perfgate check does

COST_FUNCTION = {
    "POST /checkout": ("checkout.go", "priceCart"),
    "GET /products": ("products.go", "renderProducts"),
    "GET /orders/{id}": ("orders.go", "renderOrder"),
    "GET /healthz": ("health.go", "checkHealth"),
}
TARGET = Target(name="example_service", package="./example_service", run="^TestPerfExampleService$")


def _p95_per_handler(subject: Subject, runs: int) -> dict[str, int]:
    pooled: dict[str, list[int]] = {}
    for i in range(runs):
        for name, values in subject.run_once(i).durations.items():
            pooled.setdefault(name, []).extend(values)
    return {name: nearest_rank(sorted(v), 0.95) for name, v in pooled.items()}


def collect(args: argparse.Namespace) -> None:
    go = find_go()
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    work = Path(tempfile.mkdtemp(prefix="perfgate-trust-"))
    base_root = copy_module(work / "unchanged")
    base = Subject(go, base_root, TARGET, work, "unchanged", env)
    p95 = _p95_per_handler(base, 3)
    print(f"p95 before slowdowns: {p95}", file=sys.stderr)
    subjects = {"unchanged": base}
    for handler in args.handlers:
        for pct in args.slowdowns:
            label = f"{handler}|+{pct}%"
            root = copy_module(work / f"v{len(subjects)}")
            file, func = COST_FUNCTION[handler]
            slow_down(
                root / "example_service" / file,
                func,
                max(1, round(p95[handler] * pct / 100 / 1000)),
            )
            subjects[label] = Subject(go, root, TARGET, work, f"v{len(subjects)}", env)
    runs: dict[str, list[dict[str, list[int]]]] = {k: [] for k in subjects}
    start = time.time()
    for r in range(args.rounds):
        for label, subject in subjects.items():
            runs[label].append(subject.run_once(r).durations)
        print(f"round {r + 1}/{args.rounds} ({time.time() - start:.0f}s)", file=sys.stderr)
    meta = {"rounds": args.rounds, "p95_before": p95, "date": time.strftime("%Y-%m-%d %H:%M")}
    with gzip.open(args.out, "wt") as fh:
        json.dump({"meta": meta, "runs": runs}, fh)
    print(f"wrote {args.out}", file=sys.stderr)


def _verdicts(
    base_runs, cur_runs, target: Target, alpha: float, same_machine: bool
) -> dict[str, Verdict]:
    """Each handler's verdict from the judging path `perfgate check` takes (perfgate.assess),
    the judge seeing the recorded runs as it sees a check's. No breakdowns here: the bystander
    rule uses its ns criterion only; COLLATERAL off turns it (and the busy check) off."""
    sides = TargetSides(
        target, TargetInfo(name=target.name), _side(base_runs, target), _side(cur_runs, target)
    )
    config = Config(
        targets=[target], alpha=alpha, machine_check="inconclusive" if COLLATERAL else "ignore"
    )
    mode = Mode.AGAINST if same_machine else Mode.BASELINE
    report = assess([sides], mode, config, Provenance(created="")).report
    return {r.name: r.verdict for r in report.handlers}


def _side(runs: list[dict[str, list[int]]], target: Target) -> Side:
    m = Measurement("recorded", [RunSamples(durations=r, incomplete=0, seconds=0.0) for r in runs])
    stats = m.handler_stats()
    return Side(
        {n: HandlerSummary(**s.model_dump()) for n, s in stats.items() if target.wants(n)}, m
    )


def _draw(
    rng: random.Random,
    mode: str,
    rounds: int,
    n: int,
    baseline_runs: int | None = None,
    split: int | None = None,
) -> tuple[list[int], list[int], list[int]]:
    """Run indices of one simulated gate: the baseline side, the check side of an unchanged
    comparison, and the check side of a slowed one (indices into the variant's runs).
    Baseline mode: ``baseline_runs`` (default n) from the rounds before ``split`` (default
    half), n from those after."""
    if mode == "baseline":  # baseline measured earlier, check later: drift counts
        cut = split or rounds // 2
        base = rng.sample(range(cut), baseline_runs or n)
        check = rng.sample(range(cut, rounds), n)
        return base, check, check
    # A/B, as `--against` measures: pairs of runs made back to back. Unchanged vs unchanged
    # pairs rounds 2k and 2k+1; unchanged vs slowed pairs the two runs of one round.
    starts = rng.sample(range(0, rounds - 1, 2), n)
    return starts, [r + 1 for r in starts], starts


def evaluate(args: argparse.Namespace) -> None:
    with gzip.open(args.data, "rt") as fh:
        data = json.load(fh)
    runs = data["runs"]
    rounds = data["meta"]["rounds"]
    variants = [k for k in runs if k != "unchanged"]
    rng = random.Random(args.seed)
    print(f"data: {args.data}: {rounds} rounds, collected {data['meta']['date']}")
    rows = []
    for mode in args.modes:
        for n in args.runs:
            cut = args.split or rounds // 2
            if mode == "baseline" and (n > rounds - cut or (args.baseline_runs or n) > cut):
                continue
            if mode == "against" and n > rounds // 2:
                continue
            for thr in args.thresholds:
                target = TARGET.model_copy(update={"threshold": float(thr), "runs": n})
                alarms = innocent = 0
                detected = dict.fromkeys(variants, 0)
                for _ in range(args.draws):
                    bi, ci, vi = _draw(rng, mode, rounds, n, args.baseline_runs, args.split)
                    base_runs = [runs["unchanged"][i] for i in bi]
                    unchanged = [runs["unchanged"][i] for i in ci]
                    v = _verdicts(base_runs, unchanged, target, args.alpha, mode == "against")
                    alarms += any(x.fails for x in v.values())
                    for label in variants:
                        handler = label.split("|")[0]
                        slowed = [runs[label][i] for i in vi]
                        v = _verdicts(base_runs, slowed, target, args.alpha, mode == "against")
                        detected[label] += v.get(handler) == Verdict.REGRESSED
                        innocent += any(x.fails for h, x in v.items() if h != handler)
                rows.append(
                    [mode, n, f"{thr}%", f"{alarms}/{args.draws}"]
                    + [f"{100 * detected[k] / args.draws:.0f}%" for k in variants]
                    + [innocent]
                )
    headers = (
        ["mode", "runs", "threshold", "A/A alarms"]
        + [k.replace("|", " ") for k in variants]
        + ["innocent flagged"]
    )
    print(tabulate(rows, headers=headers, disable_numparse=True, tablefmt=args.tablefmt))


def _cli(root: Path, *args: str) -> tuple[int, dict]:
    """Run the real `perfgate` CLI on a copy of the module; (exit code, JSON report)."""
    out = root / "report.json"
    out.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", *args, "--json-out", str(out)],
        cwd=root,
        env={**env, "GOTOOLCHAIN": "local"},
        capture_output=True,
        text=True,
    )
    return proc.returncode, json.loads(out.read_text()) if out.exists() else {}


def real(args: argparse.Namespace) -> None:
    """The acceptance check, for real: baseline update, then K unchanged and K slowed checks."""
    work = Path(tempfile.mkdtemp(prefix="perfgate-real-"))
    same = copy_module(work / "same")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    subprocess.run(
        [sys.executable, "-m", "perfgate", "baseline", "update"],
        cwd=same,
        env={**env, "GOTOOLCHAIN": "local"},
        check=True,
        capture_output=True,
    )
    baseline = json.loads((same / "baselines" / "example_service.json").read_text())
    slow = copy_module(work / "slow")
    (slow / "baselines" / "example_service.json").write_text(
        (same / "baselines" / "example_service.json").read_text()
    )
    file, func = COST_FUNCTION[args.handler]
    micros = max(1, round(baseline["handlers"][args.handler]["p95_ns"] * args.pct / 100 / 1000))
    check = ["check"]
    if args.against:  # A/B: the unchanged code committed, the slowdown in the working tree
        for root in (same, slow):
            for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "unchanged"]):
                subprocess.run(
                    ["git", "-c", "user.name=bench", "-c", "user.email=bench@localhost", *cmd],
                    cwd=root,
                    check=True,
                    capture_output=True,
                )
        check += ["--against", "HEAD"]
    slow_down(slow / "example_service" / file, func, micros)
    rows = []
    for k in range(args.checks):
        for label, root in (("unchanged", same), (f"{args.handler} +{args.pct}%", slow)):
            code, rep = _cli(root, *check)
            flagged = sorted(
                h["name"] for h in rep.get("handlers", []) if h["verdict"] == "regressed"
            )
            mine = next((h for h in rep.get("handlers", []) if h["name"] == args.handler), {})
            evidence = (
                f"{mine.get('verdict')} {mine.get('delta_pct') or 0:+.0f}%: {mine.get('note')}"
            )
            info = (rep.get("targets") or [{}])[0]
            share = f"{info.get('cpu_share') or 0:.2f} / {info.get('baseline_cpu_share') or 0:.2f}"
            rows.append([k + 1, label, code, ", ".join(flagged) or "—", share, evidence])
            print(f"check {k + 1} {label}: exit {code}, regressed: {flagged}", file=sys.stderr)
    print(f"busy wait {micros} µs in {func} (+{args.pct}% of the baseline p95 of {args.handler})")
    print(
        tabulate(
            rows,
            headers=[
                "check",
                "code",
                "exit",
                "regressed",
                "CPU share / base",
                f"evidence for {args.handler}",
            ],
            disable_numparse=True,
        )
    )
    same_alarms = sum(1 for r in rows if r[1] == "unchanged" and r[2] != 0)
    caught = sum(1 for r in rows if r[1] != "unchanged" and r[2] == 1 and r[3] == args.handler)
    print(
        f"unchanged: {same_alarms}/{args.checks} alarms; slowed: {caught}/{args.checks} caught "
        f"(exit 1 flagging only {args.handler})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("collect")
    c.add_argument("--rounds", type=int, default=40)
    c.add_argument("--handlers", nargs="+", default=["POST /checkout", "GET /products"])
    c.add_argument("--slowdowns", nargs="+", type=int, default=[10, 20, 30, 50])
    c.add_argument("--out", default="trust-runs.json.gz")
    e = sub.add_parser("evaluate")
    e.add_argument("data")
    e.add_argument("--runs", nargs="+", type=int, default=[5, 10])
    e.add_argument("--thresholds", nargs="+", type=int, default=[10, 15, 20])
    e.add_argument("--alpha", type=float, default=0.05)
    e.add_argument("--draws", type=int, default=100)
    e.add_argument("--baseline-runs", type=int, help="baseline mode: runs of the baseline side")
    e.add_argument("--split", type=int, help="baseline mode: first round of the check side")
    e.add_argument(
        "--modes", nargs="+", choices=["baseline", "against"], default=["baseline", "against"]
    )
    e.add_argument("--seed", type=int, default=1)
    e.add_argument("--tablefmt", default="simple", help="tabulate format, e.g. github")
    e.add_argument(
        "--no-collateral",
        action="store_true",
        help="judge without the bystander rule (perfgate.busy.bystanders), as before it",
    )
    r = sub.add_parser("real", help="real perfgate runs: baseline update, then checks")
    r.add_argument("--checks", type=int, default=5)
    r.add_argument("--handler", default="POST /checkout")
    r.add_argument("--pct", type=int, default=33)
    r.add_argument("--against", action="store_true", help="A/B checks (--against HEAD)")
    args = parser.parse_args()
    global COLLATERAL
    COLLATERAL = not getattr(args, "no_collateral", False)
    {"collect": collect, "evaluate": evaluate, "real": real}[args.cmd](args)


if __name__ == "__main__":
    main()
