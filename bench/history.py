#!/usr/bin/env python3
"""How well ``perfgate history`` finds change points, on series simulated from recorded runs.

Each simulated "commit" is what ``perfgate history record`` would store: the pooled p95 of N
runs of a service's perf test. The runs come from real recordings — the zoo
(``bench/zoo/collect.py``; its runs with variant ``unchanged``) or example_service runs recorded
here — and a commit's N runs are N *consecutive* runs of the recording (in the order they ran),
so they share the machine's state of that moment as the runs of one real record do; which
consecutive runs is drawn at random for each commit. A change is applied by scaling: a handler
made 10% slower has every duration, so its p95, multiplied by 1.10. Every series goes through
the same code as ``perfgate history`` (:func:`perfgate.history.analyse`).

    python bench/history.py record --out /work/data/history-ex.jsonl.gz   # example_service runs
    python bench/history.py evaluate /work/data/zoo-A.jsonl.gz           # prints the table

Scenarios, per handler of each service (the others unchanged in the same series):

* **step**: 30 commits, then every later commit 10% slower; analysed after each of the next
  five commits. Found: a change point of that handler within one commit of the step.
* **drift**: 30 commits, then eight commits each 3% slower than the one before (+27% in all);
  analysed after the eighth. Reported: a change point of that handler inside the drift (in
  parentheses: a trend note for it, what a pull request's comment would show).
* **unchanged**: 200 commits, analysed once at the end (what ``perfgate history`` shows) and,
  for the notes a pull request would get, after each commit on its last 40 commits; every
  change point (every distinct note) is a false one.

A measurement of noise, not a test: the numbers depend on the machine the runs were made on.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import math
import os
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


# --- recording example_service runs ----------------------------------------------------------


def record(args: argparse.Namespace) -> None:
    """Runs of example_service, unchanged and with POST /checkout slowed, alternating, as
    JSON lines in the zoo's format (service, variant, round, rep, start, durations)."""
    sys.path.insert(0, str(REPO / "tests" / "e2e"))
    from e2e_support import copy_module, slow_down

    from perfgate.config import Target
    from perfgate.measure import Subject
    from perfgate.toolchain import find_go

    target = Target(
        name="example_service", package="./example_service", run="^TestPerfExampleService$"
    )
    go = find_go()
    env = {**os.environ, "GOTOOLCHAIN": "local"}
    with tempfile.TemporaryDirectory(prefix="perfgate-history-bench-") as tmp:
        work = Path(tmp)
        base_root = copy_module(work / "base")
        slow_root = copy_module(work / "slow")
        slow_down(slow_root / "example_service" / "checkout.go", "priceCart", args.slow_us)
        subjects = {
            "unchanged": Subject(go, base_root, target, work, "base", env),
            f"POST /checkout+{args.slow_us}us": Subject(go, slow_root, target, work, "slow", env),
        }
        with gzip.open(args.out, "wt") as out:
            for rnd in range(args.rounds):
                order = list(subjects.items())
                if rnd % 2:
                    order.reverse()
                for variant, subject in order:
                    start = time.time()
                    run = subject.run_once(rnd)
                    line = {
                        "service": "example",
                        "variant": variant,
                        "round": rnd,
                        "rep": 0,
                        "start": round(start, 3),
                        "cpu_share": run.cpu_share,
                        "durations": {k: list(v) for k, v in run.durations.items()},
                    }
                    out.write(json.dumps(line) + "\n")
                print(f"round {rnd + 1}/{args.rounds}", file=sys.stderr)


# --- simulating series ----------------------------------------------------------------------


def load_runs(paths: list[Path]) -> dict[str, list[dict[str, list[int]]]]:
    """The unchanged runs of each service, in the order they ran: per run, per handler its
    request durations (ns)."""
    runs: dict[str, list[tuple[float, dict[str, list[int]]]]] = {}
    for path in paths:
        with gzip.open(path, "rt") as fh:
            for line in fh:
                r = json.loads(line)
                if r["variant"] == "unchanged":
                    start = r.get("start", r["round"] * 100 + r.get("rep", 0))
                    runs.setdefault(r["service"], []).append((start, r["durations"]))
    return {svc: [d for _, d in sorted(rs, key=lambda x: x[0])] for svc, rs in runs.items()}


def commit_pool(runs: list[dict[str, list[int]]], n: int) -> list[dict[str, tuple[int, int]]]:
    """Every commit a record of ``n`` runs could store: the pooled p95 and p50 per handler of
    each ``n`` consecutive runs."""
    from perfgate.stats import nearest_rank

    def p95_p50(durations: list[int]) -> tuple[int, int]:
        ordered = sorted(durations)
        return nearest_rank(ordered, 0.95), nearest_rank(ordered, 0.50)

    handlers = sorted(set.intersection(*(set(r) for r in runs)))
    return [
        {h: p95_p50([x for r in runs[s : s + n] for x in r[h]]) for h in handlers}
        for s in range(len(runs) - n + 1)
    ]


def spread(pool: list[dict[str, int]], rng: random.Random) -> dict[str, float]:
    """Each handler's commit-to-commit noise as the analysis sees it: the noise
    (:func:`perfgate.history.analysis.noise_of`, about the standard deviation) of its log p95
    over 200 commits drawn from ``pool``, corrected for the shift the other handlers share."""
    from perfgate.history.analysis import corrected_values, noise_of

    history = history_of("svc", [rng.choice(pool) for _ in range(UNCHANGED)])
    return {h: noise_of(v) for h, v in corrected_values(history).items()}


def history_of(target: str, commits: list[dict[str, tuple[int, int]]]):
    """A History of simulated commits (per handler its p95 and p50), oldest first."""
    from datetime import datetime, timedelta, timezone

    from perfgate.history.model import History, HistoryPoint

    t0 = datetime(2025, 1, 1, tzinfo=timezone.utc)
    points = [
        HistoryPoint(
            f"{i:040x}",
            t0 + timedelta(hours=i),
            f"commit {i}",
            "",
            {h: v[0] for h, v in c.items()},
            p50_ns={h: v[1] for h, v in c.items()},
        )
        for i, c in enumerate(commits)
    ]
    return History(target, points, target=target, source="store")


def scaled(commits, handler: str, factors: list[float]) -> list[dict[str, tuple[int, int]]]:
    """``handler`` slower by ``factors`` (one per commit): its whole distribution, p95 and p50."""
    return [
        {h: (round(v[0] * f), round(v[1] * f)) if h == handler else v for h, v in c.items()}
        for c, f in zip(commits, factors, strict=True)
    ]


def found_at(history, handler: str, index: int, slack: int = 1) -> bool:
    """A change point of ``handler`` within ``slack`` commits of ``index``."""
    position = {p.commit: i for i, p in enumerate(history.points)}
    return any(
        cp.handler == handler and abs(position[cp.commit] - index) <= slack
        for cp in history.change_points
    )


STEP = 1.10
DRIFT = 1.03
BEFORE = 30  # commits before the change
AFTER = 5  # a step must be found within this many commits after it
DRIFT_COMMITS = 8
UNCHANGED = 200
NOTE_WINDOW = 40  # commits perfgate check analyses for its notes (perfgate.history.trends)
ACCEPTANCE = (10, 5, 1.25)  # the check: 10 commits, the last 5 a quarter slower
CLASSES = ((0.03, "≤ 3%"), (0.06, "3–6%"), (0.12, "6–12%"), (math.inf, "> 12%"))
SPLIT = json.loads((REPO / "bench" / "zoo" / "split.json").read_text())


def noise_class(sd: float) -> str:
    return next(name for top, name in CLASSES if sd <= top)


def half(service: str) -> str:
    if service in SPLIT["tuning"]:
        return "tuning"
    return "held-out" if service in SPLIT["held_out"] else service


# --- the methods compared -------------------------------------------------------------------


def perfgate_method(**settings):
    from perfgate.history.analysis import Settings, analyse

    def run(history, max_points: int | None = None):
        s = (
            Settings(**settings)
            if max_points is None
            else Settings(**settings, max_points=max_points)
        )
        return analyse(history, s)

    return run


def unattributed(method):
    """``method`` with every handler's change points its own: what ``alongside`` holds put
    back among the change points (as perfgate reported them before it grouped a commit's)."""

    def run(history, max_points: int | None = None):
        found = method(history, max_points)
        return dataclasses.replace(found, change_points=found.every_change_point)

    return run


def otava_method(history, max_points: int | None = None):
    """Apache Otava's default analysis (Hunter: E-Divisive candidates in windows of 50, a
    t-test at p < 0.001, the merge step) on each handler's log p95, as its users run it."""
    import dataclasses

    from otava.analysis import compute_change_points

    from perfgate.history.model import ChangePointResult

    points = history.points[-max_points:] if max_points else history.points
    out = []
    for h in history.handlers:
        values = [math.log(p.p95_ns[h]) for p in points]
        found, _ = compute_change_points(values, window_len=50, max_pvalue=0.001)
        bounds = [0, *(int(c.index) for c in found), len(values)]
        for i in range(len(found)):
            before = sorted(p.p95_ns[h] for p in points[bounds[i] : bounds[i + 1]])
            after = sorted(p.p95_ns[h] for p in points[bounds[i + 1] : bounds[i + 2]])
            b, a = before[len(before) // 2], after[len(after) // 2]
            out.append(
                ChangePointResult(
                    target=history.target,
                    handler=h,
                    commit=points[bounds[i + 1]].commit,
                    before_p95_ns=b,
                    after_p95_ns=a,
                    delta_pct=round((a / b - 1) * 100, 1),
                    p_value=float(found[i].stats.pvalue),
                )
            )
    return dataclasses.replace(history, change_points=out, trends=[])


METHODS = {
    "perfgate": perfgate_method(),
    "perfgate, each handler's own (no alongside)": unattributed(perfgate_method()),
    "perfgate, no shared-shift correction": perfgate_method(shared_shift=False),
    "perfgate, permutation test on values": perfgate_method(rank_test=False),
    "perfgate, no min_t": perfgate_method(min_t=0),
    "perfgate, min_t on the medians' gap": perfgate_method(gap="medians"),
    "perfgate, alpha 0.2": perfgate_method(alpha=0.2),
    "perfgate, shared shift from 2 handlers": perfgate_method(min_shared=2),
    "perfgate, min_t 2.5": perfgate_method(min_t=2.5),
    "perfgate, min_t 2": perfgate_method(min_t=2.0),
    "perfgate, loading at most 1.5": perfgate_method(max_loading=1.5),
    "perfgate, named by p95 alone": perfgate_method(naming="p95"),
    "perfgate, loading by the median difference": perfgate_method(loading_fit="mad"),
    "perfgate, loading at most 1": perfgate_method(max_loading=1.0),
    "perfgate, no noise floor or minimum change": perfgate_method(
        min_noise_pct=0, min_change_pct=0
    ),
    "perfgate, noise floor only": perfgate_method(min_change_pct=0),
    "perfgate, minimum change only": perfgate_method(min_noise_pct=0),
    "perfgate, minimum change 3%": perfgate_method(min_change_pct=3),
    "perfgate, minimum change 4%": perfgate_method(min_change_pct=4),
    "Apache Otava 0.8.0 (defaults)": otava_method,
}


# --- scenarios ------------------------------------------------------------------------------


def simulate(pool, handlers, rng, method, counts, monitor: bool) -> None:
    """One series of each scenario per handler; adds to ``counts[handler]``. Every method sees
    the same series (the caller seeds ``rng`` alike)."""
    for h in handlers:
        c = counts[h]
        base = [rng.choice(pool) for _ in range(BEFORE + AFTER)]
        commits = scaled(base, h, [1.0] * BEFORE + [STEP] * AFTER)
        c["step"] += 1
        for k in range(1, AFTER + 1):
            hist = method(history_of("svc", commits[: BEFORE + k]))
            if found_at(hist, h, BEFORE):
                c["step_found"] += 1
                c["step_delay"] += k
                break
        if k < AFTER:
            hist = method(history_of("svc", commits))
        c["others"] += len(handlers) - 1
        c["others_false"] += sum(1 for cp in hist.change_points if cp.handler != h)

        base = [rng.choice(pool) for _ in range(BEFORE + DRIFT_COMMITS)]
        ramp = [1.0] * BEFORE + [DRIFT**j for j in range(1, DRIFT_COMMITS + 1)]
        hist = method(history_of("svc", scaled(base, h, ramp)))
        position = {p.commit: i for i, p in enumerate(hist.points)}
        c["drift"] += 1
        c["drift_found"] += any(
            cp.handler == h and position[cp.commit] >= BEFORE and cp.delta_pct > 0
            for cp in hist.change_points
        )
        c["drift_noted"] += any(t.handler == h and t.delta_pct > 0 for t in hist.trends)

        n, slow_from, factor = ACCEPTANCE
        base = [rng.choice(pool) for _ in range(n)]
        hist = method(
            history_of("svc", scaled(base, h, [1.0] * slow_from + [factor] * (n - slow_from)))
        )
        c["accept"] += 1
        c["accept_found"] += found_at(hist, h, slow_from)
        c["accept_clean"] += found_at(hist, h, slow_from) and all(
            cp.handler == h for cp in hist.change_points
        )

    base = [rng.choice(pool) for _ in range(UNCHANGED)]
    hist = method(history_of("svc", base), max_points=UNCHANGED)
    for h in handlers:
        counts[h]["unchanged"] += UNCHANGED
        counts[h]["false"] += sum(1 for cp in hist.change_points if cp.handler == h)
    if monitor:
        notes: set[tuple[str, str]] = set()
        for end in range(NOTE_WINDOW, UNCHANGED + 1):
            window = method(history_of("svc", base[end - NOTE_WINDOW : end]))
            notes |= {(t.handler, t.since_commit) for t in window.trends}
        for h in handlers:
            counts[h]["monitored"] += UNCHANGED - NOTE_WINDOW
            counts[h]["false_notes"] += sum(1 for n in notes if n[0] == h)


def evaluate(args: argparse.Namespace) -> None:
    from collections import Counter, defaultdict

    runs = load_runs(args.data)
    methods = {name: METHODS[name] for name in args.methods} if args.methods else METHODS
    table: dict[tuple[str, int, str, str], Counter] = defaultdict(Counter)
    for n in args.runs:
        for svc, svc_runs in sorted(runs.items()):
            if args.services and svc not in args.services:
                continue
            pool = commit_pool(svc_runs, n)
            if args.handlers:  # a service with fewer routes: its first N by name
                keep = sorted(pool[0])[: args.handlers]
                pool = [{h: c[h] for h in keep} for c in pool]
            noise = spread(pool, random.Random(f"{args.seed}:{svc}:{n}:noise"))
            handlers = sorted(noise)
            for name, method in methods.items():
                counts: dict[str, Counter] = defaultdict(Counter)
                rng = random.Random(f"{args.seed}:{svc}:{n}")  # the same series for every method
                t0 = time.time()
                for _ in range(args.series):
                    simulate(
                        pool, handlers, rng, method, counts, args.monitor and name == "perfgate"
                    )
                for h in handlers:
                    for group in (half(svc), "all"):
                        for cls in (noise_class(noise[h]), "all"):
                            row = table[(name, n, group, cls)]
                            row += counts[h]
                            row["handlers"] += 1
                    if args.verbose:
                        print(f"{name:40} {n:>3} {svc:9} {h:32} noise {noise[h] * 100:5.1f}% "
                              f"{dict(counts[h])}", file=sys.stderr)  # fmt: skip
                print(f"{name}: {n} runs: {svc} in {time.time() - t0:.0f}s", file=sys.stderr)
    print_table(table, args.monitor)


def _pct(part: int, whole: int) -> str:
    return f"{part / whole:.0%} ({part}/{whole})" if whole else "—"


def print_table(table, monitor: bool) -> None:
    head = [
        "method", "runs/commit", "services", "noise (sd of log p95)", "handlers",
        f"+10% step found ≤ {AFTER} commits after", "mean delay (commits)",
        "false change points / 200 commits", "false, other handlers / series",
        f"+3%/commit drift found after {DRIFT_COMMITS} (PR note)",
        "acceptance: +25% at 6 of 10 found, none else",
    ]  # fmt: skip
    if monitor:
        head.append("false PR notes / 200 commits")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    order = [name for _, name in CLASSES] + ["all"]
    groups = ["tuning", "held-out", "all"]

    def key(item):
        (name, n, group, cls), _ = item
        rank = groups.index(group) if group in groups else -1
        return (list(METHODS).index(name), -n, rank, order.index(cls))

    for (name, n, group, cls), c in sorted(table.items(), key=key):
        row = [
            name, str(n), group, cls, str(c["handlers"]),
            _pct(c["step_found"], c["step"]),
            f"{c['step_delay'] / c['step_found']:.1f}" if c["step_found"] else "—",
            f"{c['false'] / c['unchanged'] * 200:.2f}",
            f"{c['others_false'] / c['others']:.3f}" if c["others"] else "—",
            f"{_pct(c['drift_found'], c['drift'])} ({c['drift_noted'] / c['drift']:.0%})",
            _pct(c["accept_clean"], c["accept"]),
        ]  # fmt: skip
        if monitor:
            row.append(f"{c['false_notes'] / c['monitored'] * 200:.2f}" if c["monitored"] else "—")
        print("| " + " | ".join(row) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record", help="record example_service runs (take the bench lock)")
    rec.add_argument("--rounds", type=int, default=60)
    rec.add_argument("--slow-us", type=int, default=70, help="busy wait added to priceCart")
    rec.add_argument("--out", type=Path, required=True)
    ev = sub.add_parser("evaluate", help="simulate series and print the table")
    ev.add_argument("data", type=Path, nargs="+", help="runs as JSON lines (.gz)")
    ev.add_argument("--runs", type=int, nargs="+", default=[15, 5], help="runs per commit")
    ev.add_argument("--methods", nargs="+", choices=sorted(METHODS), help="default: all")
    ev.add_argument("--services", nargs="+", help="default: every service in the data")
    ev.add_argument("--series", type=int, default=10, help="series per handler and scenario")
    ev.add_argument("--seed", type=int, default=1)
    ev.add_argument(
        "--handlers", type=int, help="keep each service's first N handlers (few-route services)"
    )
    ev.add_argument("--monitor", action="store_true", help="also count false PR notes (slow)")
    ev.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.command == "record":
        record(args)
    else:
        evaluate(args)


if __name__ == "__main__":
    main()
