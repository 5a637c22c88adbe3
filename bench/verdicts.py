#!/usr/bin/env python3
"""How far can perfgate's verdicts be trusted? Replay the real judging path on recorded runs.

    python bench/verdicts.py /work/data/zoo-B.jsonl.gz --half held_out --mode against
    python bench/verdicts.py zoo-B.jsonl.gz zoo-C.jsonl.gz --half tuning --mode baseline

The input is what ``bench/zoo/collect.py collect`` records: every run of every zoo service,
unchanged and with one handler slowed (``variant``), in interleaved rounds; several files are
several *sessions* (collected at different times). Each simulated check goes through perfgate's
own code — :func:`perfgate.gate.measure_and_judge` with its stages, :mod:`perfgate.assess`, the
judge, the bystander rule — with recorded runs in place of live ones:

* ``--mode baseline``: a committed baseline of ``--baseline-runs`` unchanged runs from one
  session, checked by runs from *another* session (one file: its first and second half), so the
  drift between sessions counts against perfgate, as it does for real;
* ``--mode against``: pairs of runs from the same round (A/B): an unchanged run against the
  other unchanged run of its round (false alarms), or against the slowed run (detection).

It prints, per service of the chosen half, the false alarms and inconclusive checks on unchanged
code, and per slowdown variant (its realised p95 change in that session) how often the slowed
handler was flagged, how often the check ended inconclusive, how often another handler was
flagged (innocent), and the median runs used; then totals by kind and size.
"""

from __future__ import annotations

import argparse
import gzip
import json
import multiprocessing
import random
import statistics
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tabulate import tabulate

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from perfgate.assess import Provenance  # noqa: E402
from perfgate.baseline import Machine, build_baseline  # noqa: E402
from perfgate.config import Config, Target  # noqa: E402
from perfgate.gate import measure_and_judge  # noqa: E402
from perfgate.report import Mode, Verdict  # noqa: E402
from perfgate.samples import Measurement, RunSamples  # noqa: E402
from perfgate.sides import against, committed  # noqa: E402
from perfgate.stats import nearest_rank  # noqa: E402

HERE = Machine(go_version="go1.26", goos="linux", goarch="amd64", cpu="replay", gomaxprocs=2)
PROVENANCE = Provenance(created="2026-01-01T00:00:00+00:00", perfgate_version="replay")


def read_records(paths: list[str]) -> Iterator[tuple[str, dict]]:
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            try:
                for line in fh:
                    if line.strip():
                        yield Path(path).name, json.loads(line)
            except (EOFError, gzip.BadGzipFile, json.JSONDecodeError):
                pass  # a collection still running: its last run is cut off


def _run(rec: dict) -> RunSamples:
    return RunSamples(
        durations=rec["durations"],
        incomplete=0,
        seconds=rec.get("seconds", 0.0),
        foreign_cpu_seconds=rec.get("foreign_cpu_seconds"),
        cpus=rec.get("ncpu") or 0,
    )


INNOCENT_PCT = 5.0  # a handler whose realised p95 change stays below this was not moved
MAX_LOAD = [1.0]  # --max-neighbour-load: runs perfgate would have measured again are left out


def _quiet(rec: dict) -> bool:
    run = _run(rec)
    return run.neighbour_load is None or run.neighbour_load <= MAX_LOAD[0]


@dataclass
class Service:
    """One service's recorded runs: unchanged by (session, round, rep), slowed by variant."""

    name: str
    unchanged: dict[tuple[str, int], dict[int, RunSamples]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    variants: dict[str, dict[tuple[str, int], RunSamples]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    meta: dict[str, tuple[str, str]] = field(default_factory=dict)  # variant -> (handler, kind)

    def add(self, session: str, rec: dict) -> None:
        if not _quiet(rec):
            return
        key = (session, rec["round"])
        if rec["variant"] == "unchanged":
            self.unchanged[key][rec.get("rep", 0)] = _run(rec)
        else:
            self.variants[rec["variant"]][key] = _run(rec)
            self.meta[rec["variant"]] = (rec["handler"], rec["kind"])

    def handlers(self) -> list[str]:
        return sorted(
            {h for reps in self.unchanged.values() for r in reps.values() for h in r.durations}
        )

    def realised_pct(self, variant: str, session: str, handler: str | None = None) -> float | None:
        """The slowed handler's (or ``handler``'s) pooled p95 change in ``session``: all its runs
        vs the unchanged runs of the same rounds."""
        handler = handler or self.meta[variant][0]
        keys = [k for k in self.variants[variant] if k[0] == session]
        slow = sorted(x for k in keys for x in self.variants[variant][k].durations[handler])
        base = sorted(
            x
            for k in keys
            for r in self.unchanged.get(k, {}).values()
            for x in r.durations[handler]
        )
        if not slow or not base:
            return None
        return (nearest_rank(slow, 0.95) / nearest_rank(base, 0.95) - 1) * 100


class ReplaySubject:
    """Stands in for :class:`perfgate.measure.Subject`: hands out recorded runs in order."""

    def __init__(self, target: Target, label: str, runs: list[RunSamples]) -> None:
        self.target, self.label, self._runs = target, label, runs

    def run_once(self, index: int) -> RunSamples:
        return self._runs[index]


class ReplaySource:
    """Stands in for gate.CommittedBaseline / gate.AgainstRef with recorded runs."""

    def __init__(self, target, mode, subjects, baseline=None) -> None:
        self.targets = [target]
        self.mode = mode
        self.against_ref = None
        self._subjects = subjects
        self._baseline = baseline

    def subjects(self, target):
        return self._subjects

    def sides(self, target, runner):
        if self.mode == Mode.BASELINE:
            return committed(target, self._baseline, runner.measurements[0], HERE)
        base, head = runner.measurements
        return against(target, base, head, None, HERE)


def simulate(target, config, mode, base_runs, head_runs):
    """One check on recorded runs; (verdicts by handler, runs used, report verdict)."""
    if mode == Mode.BASELINE:
        m = Measurement(label="baseline", runs=base_runs)
        baseline = build_baseline(target, m, HERE, "", "", PROVENANCE.created)
        source = ReplaySource(target, mode, [ReplaySubject(target, "current", head_runs)], baseline)
    else:
        source = ReplaySource(
            target,
            mode,
            [ReplaySubject(target, "base", base_runs), ReplaySubject(target, "head", head_runs)],
        )
    checked = measure_and_judge(source, config, PROVENANCE)
    report = checked.report
    runs = report.targets[0].runs
    return {h.name: h.verdict for h in report.handlers}, runs, report


def _draw_against(svc: Service, rng: random.Random, n: int, variant: str | None):
    if variant is None:
        keys = [k for k, reps in svc.unchanged.items() if 0 in reps and 1 in reps]
        pick = rng.sample(keys, min(n, len(keys)))
        pairs = [(svc.unchanged[k][0], svc.unchanged[k][1]) for k in pick]
    else:
        keys = [k for k in svc.variants[variant] if svc.unchanged.get(k)]
        pick = rng.sample(keys, min(n, len(keys)))
        pairs = [
            (svc.unchanged[k][rng.choice(sorted(svc.unchanged[k]))], svc.variants[variant][k])
            for k in pick
        ]
    # Which of the pair ran first alternates in perfgate; here either order is one draw.
    return [a for a, _ in pairs], [b for _, b in pairs]


def _draw_baseline(
    svc: Service, rng: random.Random, nb: int, n: int, variant: str | None, detect_session: str
):
    sessions = sorted({k[0] for k in svc.unchanged})
    if len(sessions) >= 2:
        head_session = detect_session if variant else rng.choice(sessions)
        base_session = rng.choice([s for s in sessions if s != head_session])
        early = [k for k in svc.unchanged if k[0] == base_session]

        def late(keys):
            return [k for k in keys if k[0] == head_session]
    else:
        rounds = sorted(k[1] for k in svc.unchanged)
        cut = rounds[len(rounds) // 2]
        early = [k for k in svc.unchanged if k[1] < cut]

        def late(keys):
            return [k for k in keys if k[1] >= cut]

    pool = [r for k in early for r in svc.unchanged[k].values()]
    base = rng.sample(pool, min(nb, len(pool)))
    if variant is None:
        keys = late(list(svc.unchanged))
        head = [
            svc.unchanged[k][rng.choice(sorted(svc.unchanged[k]))]
            for k in rng.sample(keys, min(n, len(keys)))
        ]
    else:
        keys = late(list(svc.variants[variant]))
        head = [svc.variants[variant][k] for k in rng.sample(keys, min(n, len(keys)))]
    return base, head


@dataclass
class Job:
    service: Service
    config: Config
    mode: Mode
    draws: int
    seed: int
    baseline_runs: int
    detect_session: str
    variants: list[str]
    moved: dict[tuple[str, str], float | None] = field(default_factory=dict)


def run_job(job: Job) -> list[dict]:
    """Every draw for one service: A/A, then each variant."""
    svc, config, mode = job.service, job.config, job.mode
    rng = random.Random(job.seed)
    target = config.targets[0]
    most = target.runs_for(mode == Mode.AGAINST)
    out = []
    for variant in [None, *job.variants]:
        handler = svc.meta[variant][0] if variant else None
        for _ in range(job.draws):
            if mode == Mode.AGAINST:
                base, head = _draw_against(svc, rng, most, variant)
            else:
                base, head = _draw_baseline(
                    svc, rng, job.baseline_runs, most, variant, job.detect_session
                )
            verdicts, runs, report = simulate(target, config, mode, base, head)
            out.append(
                {
                    "service": svc.name,
                    "variant": variant or "unchanged",
                    "handler": handler,
                    "flagged": verdicts.get(handler) == Verdict.REGRESSED if handler else None,
                    "alarm": any(v == Verdict.REGRESSED for v in verdicts.values()),
                    # A handler flagged that the variant did not move: one that calls the
                    # slowed one (gateway's fan-out) really is slower, and is not counted.
                    "innocent": any(
                        v == Verdict.REGRESSED
                        and h != handler
                        and (job.moved.get((variant, h)) or 0.0) < INNOCENT_PCT
                        for h, v in verdicts.items()
                    ),
                    "inconclusive": report.verdict.value == "inconclusive",
                    "regressed": sorted(h for h, v in verdicts.items() if v == Verdict.REGRESSED),
                    "changes": {
                        h.name: [round(h.delta_pct or 0, 1), h.delta_ci_pct, h.verdict.value]
                        for h in report.handlers
                    },
                    "slowed_verdict": verdicts.get(handler).value if handler else None,
                    "runs": runs,
                }
            )
    return out


def load(paths: list[str]) -> dict[str, Service]:
    services: dict[str, Service] = {}
    for session, rec in read_records(paths):
        services.setdefault(rec["service"], Service(rec["service"])).add(session, rec)
    return services


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("data", nargs="+", help="zoo collections (gzip JSON lines), one per session")
    ap.add_argument("--half", choices=["tuning", "held_out", "all"], default="tuning")
    ap.add_argument("--services", nargs="*", help="only these services")
    ap.add_argument("--mode", choices=["baseline", "against"], default="against")
    ap.add_argument("--draws", type=int, default=100)
    ap.add_argument("--runs", type=int, help="most runs per check (default: the mode's)")
    ap.add_argument("--baseline-runs", type=int, default=30)
    ap.add_argument("--threshold", type=float, help="percent (default: the mode's)")
    ap.add_argument("--alpha", type=float)
    ap.add_argument("--looks", type=int)
    ap.add_argument("--drift", type=float, help="committed mode: drift allowance, percent")
    ap.add_argument("--min-pct", type=float, default=-100, help="only variants realising more")
    ap.add_argument("--max-pct", type=float, default=1e9, help="only variants realising less")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--tablefmt", default="simple")
    ap.add_argument("--json-out", help="write every simulated check here (JSON lines)")
    ap.add_argument(
        "--max-neighbour-load",
        type=float,
        default=0.15,
        help="leave out runs during which other processes used more of the CPU (perfgate "
        "measures those again); 1: keep every run",
    )
    args = ap.parse_args()

    MAX_LOAD[0] = args.max_neighbour_load
    split = json.loads((REPO / "bench" / "zoo" / "split.json").read_text())
    services = load(args.data)
    wanted = (
        args.services
        if args.services
        else sorted(services)
        if args.half == "all"
        else split[args.half]
    )
    mode = Mode(args.mode)
    detect_session = Path(args.data[0]).name
    tconf: dict = {"name": "svc", "package": ".", "run": "x"}
    if args.runs:
        tconf["runs"] = args.runs
    if args.threshold:
        tconf["threshold"] = args.threshold
    cconf: dict = {"targets": [tconf]}
    if args.alpha:
        cconf["alpha"] = args.alpha
    if args.looks:
        cconf["looks"] = args.looks
    if args.drift is not None:
        cconf["drift"] = args.drift
    cconf["retries"] = 0
    config = Config.model_validate(cconf)

    jobs, realised = [], {}
    for i, name in enumerate(wanted):
        svc = services[name]
        keep = []
        for v in sorted(svc.variants):
            pct = svc.realised_pct(v, detect_session)
            if pct is not None and args.min_pct <= pct < args.max_pct:
                keep.append(v)
                realised[name, v] = pct
        jobs.append(
            Job(
                svc,
                config,
                mode,
                args.draws,
                args.seed * 1000 + i,
                args.baseline_runs,
                detect_session,
                keep,
                {
                    (v, h): svc.realised_pct(v, detect_session, h)
                    for v in keep
                    for h in svc.handlers()
                },
            )
        )
    with multiprocessing.Pool(args.jobs) as pool:
        results = [r for rs in pool.map(run_job, jobs) for r in rs]
    if args.json_out:
        with open(args.json_out, "w") as fh:
            for r in results:
                fh.write(json.dumps(r) + "\n")
    report(results, services, realised, args)


def _pct(k: int, n: int) -> str:
    return f"{100 * k / n:.0f}%" if n else "—"


def report(results: list[dict], services, realised, args) -> None:
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in results:
        groups[r["service"], r["variant"]].append(r)
    rows = []
    for (name, variant), rs in sorted(groups.items()):
        n = len(rs)
        med_runs = statistics.median(r["runs"] for r in rs)
        if variant == "unchanged":
            alarms = sum(r["alarm"] for r in rs)
            rows.append(
                [
                    name,
                    "A/A",
                    "",
                    "",
                    f"{alarms}/{n}",
                    _pct(sum(r["inconclusive"] for r in rs), n),
                    "",
                    med_runs,
                ]
            )
        else:
            handler, kind = services[name].meta[variant]
            rows.append(
                [
                    name,
                    f"{handler} {variant}",
                    kind,
                    f"{realised[name, variant]:+.0f}%",
                    _pct(sum(r["flagged"] for r in rs), n),
                    _pct(sum(r["inconclusive"] for r in rs), n),
                    sum(r["innocent"] for r in rs),
                    med_runs,
                ]
            )
    print(
        tabulate(
            rows,
            headers=[
                "service",
                "variant",
                "kind",
                "realised Δp95",
                "flagged",
                "exit 3",
                "innocent",
                "runs",
            ],
            tablefmt=args.tablefmt,
            disable_numparse=True,
        )
    )
    # Totals by realised size.
    bins = [(-100, 5), (5, 10), (10, 15), (15, 20), (20, 30), (30, 50), (50, 1e9)]
    aa = groups_aa = [r for r in results if r["variant"] == "unchanged"]
    print()
    print(
        f"unchanged code: {sum(r['alarm'] for r in aa)}/{len(aa)} checks raised a false alarm, "
        f"{sum(r['inconclusive'] for r in aa)}/{len(aa)} ended inconclusive; median runs "
        f"{statistics.median(r['runs'] for r in groups_aa) if aa else '—'}"
    )
    brows = []
    for lo, hi in bins:
        rs = [
            r
            for r in results
            if r["variant"] != "unchanged" and lo <= realised[r["service"], r["variant"]] < hi
        ]
        if not rs:
            continue
        brows.append(
            [
                f"{lo:+.0f}% … {hi:+.0f}%" if hi < 1e8 else f"≥ {lo:+.0f}%",
                len({(r["service"], r["variant"]) for r in rs}),
                _pct(sum(r["flagged"] for r in rs), len(rs)),
                _pct(sum(r["inconclusive"] for r in rs), len(rs)),
                _pct(sum(1 for r in rs if r["slowed_verdict"] == "pass"), len(rs)),
                sum(r["innocent"] for r in rs),
                statistics.median(r["runs"] for r in rs),
            ]
        )
    print(
        tabulate(
            brows,
            headers=[
                "realised Δp95",
                "variants",
                "flagged",
                "exit 3",
                "passed",
                "innocent",
                "runs",
            ],
            tablefmt=args.tablefmt,
            disable_numparse=True,
        )
    )
    kinds = defaultdict(list)
    for r in results:
        if r["variant"] != "unchanged" and realised[r["service"], r["variant"]] >= 15:
            kinds[services[r["service"]].meta[r["variant"]][1]].append(r)
    krows = [
        [
            k,
            len(rs),
            _pct(sum(r["flagged"] for r in rs), len(rs)),
            _pct(sum(r["inconclusive"] for r in rs), len(rs)),
            sum(r["innocent"] for r in rs),
        ]
        for k, rs in sorted(kinds.items())
    ]
    print()
    print("slowdowns realising ≥ +15%, by kind:")
    print(
        tabulate(
            krows,
            headers=["kind", "checks", "flagged", "exit 3", "innocent"],
            tablefmt=args.tablefmt,
            disable_numparse=True,
        )
    )


if __name__ == "__main__":
    main()
