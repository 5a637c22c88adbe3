#!/usr/bin/env python3
"""Collect latency data from the zoo: every service, unchanged and slowed, in interleaved rounds.

Three subcommands (see bench/zoo/README.md):

    python bench/zoo/collect.py calibrate --out bench/zoo/variants.json
    python bench/zoo/collect.py collect --rounds 40 --out /work/data/zoo-A.jsonl.gz
    python bench/zoo/collect.py summary /work/data/zoo-A.jsonl.gz

``collect`` builds each service's test binary once (``go test -c``), then runs rounds: in each
round, every (service, variant) once (``unchanged`` ``--unchanged`` times), in a shuffled order,
one process per run with ``-test.trace`` and the variant's ``ZOO_SLOW``. Each run is appended as
one gzip member holding one JSON line, so an interrupted collection keeps every finished run and
``--out`` on an existing file extends it (round numbers continue).

``calibrate`` finds, per (service, handler, kind) of PLAN, the knob magnitude that raises that
handler's pooled p95 by each target percentage, from a short interleaved pilot, and writes
variants.json. ``summary`` prints, per (service, variant, handler), the pooled p95 and its
change against ``unchanged``.

Only perfgate's stable edges are used (trace reading, the Go toolchain helpers); none of its
statistics or verdict code.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

ZOO = Path(__file__).resolve().parent
ROOT = ZOO.parent.parent
sys.path.insert(0, str(ROOT))

from perfgate.errors import PerfgateError  # noqa: E402
from perfgate.toolchain import build_test_binary, find_go, run_test_binary  # noqa: E402
from perfgate.trace import read_trace  # noqa: E402

ENV_VAR = "ZOO_SLOW"
UNCHANGED = "unchanged"
TAIL_N = 8  # tail knobs: one request in TAIL_N takes the slow path; calibration sizes its duration
RUN_TIMEOUT_S = 120.0

# What calibrate slows: per service one or two handlers, every kind on at least two services
# of each half of split.json. prop sits on CPU-bound phases: on an I/O-bound handler (gateway)
# even +45% of its CPU phase did not move p95 beyond noise. block sits on handlers that already
# wait or take milliseconds: on a microsecond handler any park/wake-up, however short the wait,
# raised p95 by +400% or more on a busy machine (pricing, blog), so no size could reach +10%.
PLAN: list[tuple[str, str, str]] = [
    ("catalog", "GET /items/{id}", "const"),
    ("catalog", "GET /items/{id}", "lock"),
    ("catalog", "GET /items", "tail"),
    ("reports", "GET /reports/{id}", "const"),
    ("reports", "GET /reports/{id}", "prop"),
    ("reports", "GET /reports/{id}", "block"),
    ("reports", "POST /reports/{id}/export", "alloc"),
    ("gateway", "GET /quotes/{sym}", "tail"),
    ("gateway", "GET /quotes/{sym}", "lock"),
    ("gateway", "GET /portfolio/{id}", "block"),
    ("pricing", "POST /quotes", "prop"),
    ("pricing", "GET /prices/{sku}", "alloc"),
    ("pricing", "GET /prices/{sku}", "lock"),
    ("sessions", "GET /sessions/{id}", "const"),
    ("sessions", "POST /sessions/{id}/touch", "lock"),
    ("sessions", "POST /sessions/{id}/touch", "alloc"),
    ("search", "GET /search", "prop"),
    ("search", "GET /search", "block"),
    ("search", "GET /docs/{id}", "tail"),
    ("ingest", "POST /events", "alloc"),
    ("ingest", "POST /events", "prop"),
    ("ingest", "POST /events", "block"),
    ("ingest", "GET /rollups/{name}", "lock"),
    ("blog", "GET /posts/{slug}", "tail"),
    ("blog", "GET /feed", "const"),
]

# Pilot grid per kind: durations as multiples of the handler's unchanged p95, prop in percent
# of the phase's own time, alloc in bytes per ns of the handler's unchanged median (its cost
# scales with the handler's own work, not with its tail). Calibration interpolates between them.
GRID: dict[str, tuple[float, ...]] = {
    "const": (0.15, 0.4),
    "tail": (0.4, 1.0),
    "lock": (0.06, 0.2),
    "block": (0.15, 0.4),
    "prop": (15.0, 45.0),
    "alloc": (0.7, 2.5),
}
MAX_ALLOC = 16 << 20  # bytes per request: beyond this a run takes minutes


# ---------------------------------------------------------------- services and variants


def services() -> list[str]:
    """Every service of the zoo, tuning half first (split.json)."""
    split = json.loads((ZOO / "split.json").read_text())
    return [*split["tuning"], *split["held_out"]]


def test_name(service: str) -> str:
    return "TestPerf" + service[:1].upper() + service[1:]


@dataclass(frozen=True)
class Variant:
    """One way to run a service: unchanged, or with one knob on one handler."""

    service: str
    name: str  # "unchanged", "const+15"
    slow: str = ""  # the ZOO_SLOW value
    handler: str | None = None
    kind: str | None = None
    target_pct: float | None = None


def knob_text(handler: str, kind: str, magnitude: float) -> str:
    """The ZOO_SLOW entry for a knob of this magnitude (ns for durations, % for prop, bytes).

    Durations are written in whole nanoseconds ("8310ns"): microsecond handlers need knobs
    finer than a microsecond."""
    if kind == "prop":
        return f"{handler}=prop:{magnitude:.1f}"
    if kind == "alloc":
        return f"{handler}=alloc:{round(magnitude)}"
    dur = f"{max(1, round(magnitude))}ns"
    if kind == "tail":
        return f"{handler}=tail:{TAIL_N}:{dur}"
    return f"{handler}={kind}:{dur}"


def load_variants(path: Path, targets: set[float] | None = None) -> list[Variant]:
    """The slowdown variants of variants.json (optionally only some target sizes)."""
    data = json.loads(path.read_text())
    out = []
    for v in data["variants"]:
        if targets is not None and float(v["target_pct"]) not in targets:
            continue
        out.append(
            Variant(
                service=v["service"],
                name=v["name"],
                slow=v["knob"],
                handler=v["handler"],
                kind=v["kind"],
                target_pct=float(v["target_pct"]),
            )
        )
    return out


# ---------------------------------------------------------------- running


def machine_busy_seconds() -> float | None:
    """CPU seconds the whole machine spent busy (every CPU, every process, steal included), from
    /proc/stat; None where there is none."""
    try:
        with open("/proc/stat") as fh:
            fields = [int(x) for x in fh.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class Runner:
    """Builds the services' test binaries once and runs them, one process per run."""

    def __init__(self, workdir: Path, wanted: Iterable[str]):
        self.go = find_go()
        self.workdir = workdir
        self.binaries: dict[str, Path] = {}
        env = {"GOTOOLCHAIN": "local"}
        for svc in wanted:
            out = workdir / f"{svc}.test"
            build_test_binary(self.go, ZOO, f"./{svc}", out, [], env)
            self.binaries[svc] = out

    def run(self, variant: Variant, round_no: int, rep: int = 0) -> dict:
        """One run of the service's perf test with the variant's knobs; its record."""
        svc = variant.service
        trace = self.workdir / f"{svc}-{round_no}-{rep}.trace"
        load1 = os.getloadavg()[0]
        busy0 = machine_busy_seconds()
        self_cpu0 = sum(os.times()[:2])
        start = time.time()
        result = run_test_binary(
            self.binaries[svc],
            ZOO / svc,
            f"^{test_name(svc)}$",
            trace,
            {ENV_VAR: variant.slow, "GOTOOLCHAIN": "local"},
            RUN_TIMEOUT_S,
        )
        busy1 = machine_busy_seconds()
        self_cpu1 = sum(os.times()[:2])
        foreign = None
        if busy0 is not None and busy1 is not None:
            foreign = busy1 - busy0 - result.cpu_seconds - (self_cpu1 - self_cpu0)
        data = read_trace(trace)
        trace.unlink()
        durations: dict[str, list[int]] = defaultdict(list)
        for task in data.tasks:
            if task.complete:
                durations[task.name].append(task.duration_ns)  # type: ignore[arg-type]
        return {
            "service": svc,
            "variant": variant.name,
            "round": round_no,
            "rep": rep,
            "slow": variant.slow,
            "handler": variant.handler,
            "kind": variant.kind,
            "target_pct": variant.target_pct,
            "start": round(start, 3),
            "seconds": round(result.seconds, 4),
            "cpu_seconds": round(result.cpu_seconds, 4),
            "load1": load1,
            "foreign_cpu_seconds": None if foreign is None else round(foreign, 3),
            "ncpu": os.cpu_count(),
            "go": self.go.version,
            "incomplete": data.incomplete_tasks,
            "durations": dict(durations),
        }


def append_record(path: Path, record: dict) -> None:
    """Append one run as its own gzip member: a cut-off collection loses at most that run."""
    with gzip.open(path, "at", encoding="utf-8") as fh:
        fh.write(json.dumps(record, separators=(",", ":")) + "\n")


def read_records(paths: Iterable[Path]) -> Iterator[dict]:
    """Every run stored in these files, in order; a cut-off last member is skipped."""
    for path in paths:
        if not path.exists():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            try:
                for line in fh:
                    if line.strip():
                        yield json.loads(line)
            except (EOFError, gzip.BadGzipFile, json.JSONDecodeError):
                print(f"collect: {path}: the last run is cut off; skipped", file=sys.stderr)


def round_plan(variants: list[Variant], unchanged: int, seed: int) -> list[tuple[Variant, int]]:
    """One round: every variant once and every service's unchanged `unchanged` times, shuffled."""
    items: list[tuple[Variant, int]] = []
    for svc in sorted({v.service for v in variants}):
        items += [(Variant(svc, UNCHANGED), rep) for rep in range(unchanged)]
    items += [(v, 0) for v in variants if v.name != UNCHANGED]
    random.Random(seed).shuffle(items)
    return items


def run_rounds(
    runner: Runner,
    variants: list[Variant],
    rounds: int,
    first_round: int,
    unchanged: int,
    out: Path,
    seed: int,
) -> list[dict]:
    """Run `rounds` interleaved rounds, appending every run to `out`; returns the records."""
    records = []
    t0 = time.time()
    for r in range(first_round, first_round + rounds):
        plan = round_plan(variants, unchanged, seed * 100_003 + r)
        for variant, rep in plan:
            rec = runner.run(variant, r, rep)
            append_record(out, rec)
            records.append(rec)
        done = r - first_round + 1
        elapsed = time.time() - t0
        eta = elapsed / done * (rounds - done)
        print(
            f"round {r} done ({len(plan)} runs): {elapsed / 60:.1f} min so far, "
            f"~{eta / 60:.1f} min to go",
            file=sys.stderr,
            flush=True,
        )
    return records


# ---------------------------------------------------------------- statistics


def nearest_rank(sorted_values: list[int], q: float) -> int:
    """The ⌈q·n⌉-th smallest value (nearest-rank percentile) of a sorted, non-empty list."""
    return sorted_values[max(0, math.ceil(q * len(sorted_values)) - 1)]


def pooled_p95(runs: list[dict], handler: str, q: float = 0.95) -> float | None:
    """The nearest-rank `q` quantile (p95 by default) of every request of these runs."""
    values = sorted(d for r in runs for d in r["durations"].get(handler, []))
    return float(nearest_rank(values, q)) if values else None


def run_p95s(runs: list[dict], handler: str) -> list[float]:
    return [
        float(nearest_rank(sorted(r["durations"][handler]), 0.95))
        for r in runs
        if r["durations"].get(handler)
    ]


def interpolate(points: list[tuple[float, float]], target: float) -> float:
    """The magnitude at which the measured change reaches `target`.

    `points` are (magnitude, measured change %) from the pilot, (0, 0) implied. The measured
    changes are made monotone first (a running maximum: noise must not make a larger knob look
    smaller); beyond the largest, the change is extrapolated in proportion to the magnitude
    from the largest measured point, at most 4× its magnitude.
    """
    pts = sorted([(0.0, 0.0), *points])
    mono: list[tuple[float, float]] = []
    best = 0.0
    for m, c in pts:
        best = max(best, c)
        mono.append((m, best))
    for (m0, c0), (m1, c1) in itertools.pairwise(mono):
        if c0 < target <= c1:
            return m0 + (m1 - m0) * (target - c0) / (c1 - c0)
    m_max, c_max = mono[-1]
    if c_max <= 0:
        return m_max * 4
    return min(m_max * target / c_max, m_max * 4)


# ---------------------------------------------------------------- calibrate


def calibrate(args: argparse.Namespace) -> None:
    targets = sorted(float(t) for t in args.targets)
    plan = [p for p in PLAN if not args.services or p[0] in args.services]
    svcs = sorted({p[0] for p in plan})
    pilot_out = Path(args.pilot_out)
    pilot_out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="zoo-") as tmp:
        runner = Runner(Path(tmp), svcs)
        print(f"calibrate: {len(plan)} knobs on {len(svcs)} services", file=sys.stderr)

        # 1. The handlers' unchanged p95, to size the grid.
        base_runs = run_rounds(
            runner, [Variant(s, UNCHANGED) for s in svcs], args.base_rounds, 0, 1, pilot_out, 1
        )
        base = {
            (svc, h): pooled_p95([r for r in base_runs if r["service"] == svc], h)
            for svc, h, _ in plan
        }
        median = {
            (svc, h): pooled_p95([r for r in base_runs if r["service"] == svc], h, 0.5)
            for svc, h, _ in plan
        }

        # 2. The grid, interleaved with unchanged runs.
        grid: list[Variant] = []
        for svc, handler, kind in plan:
            p95 = base[svc, handler]
            if p95 is None:
                raise PerfgateError(f"{svc}: no task named {handler!r} in the trace")
            for f in GRID[kind]:
                if kind == "prop":
                    mag = f
                elif kind == "alloc":
                    mag = min(f * (median[svc, handler] or p95), MAX_ALLOC)
                else:
                    mag = f * p95
                grid.append(
                    Variant(
                        svc, f"pilot-{kind}-{mag:.0f}", knob_text(handler, kind, mag), handler, kind
                    )
                )
        grid_runs = run_rounds(runner, grid, args.grid_rounds, 100, 1, pilot_out, 2)
        chosen = choose(plan, grid, grid_runs, targets)

        # 3. Verify (and once correct) the chosen magnitudes.
        verify(runner, chosen, args.pilot_rounds, 200, pilot_out, args.refine)
    write_variants(Path(args.out), chosen, runner, args)


def verify(
    runner: Runner, chosen: list[dict], rounds: int, first_round: int, pilot_out: Path, refine: int
) -> None:
    """Measure each chosen knob against unchanged runs (pilot_pct); rescale off-target knobs
    and measure them again, `refine` times."""
    for attempt in range(1 + refine):
        verify_vs = [
            Variant(c["service"], c["name"], c["knob"], c["handler"], c["kind"], c["target_pct"])
            for c in chosen
            if c.get("pilot_pct") is None or c.get("retry")
        ]
        if not verify_vs:
            break
        runs = run_rounds(runner, verify_vs, rounds, first_round + 10 * attempt, 1, pilot_out, 3)
        for c in chosen:
            mine = [r for r in runs if r["service"] == c["service"]]
            base_p = pooled_p95([r for r in mine if r["variant"] == UNCHANGED], c["handler"])
            slow_p = pooled_p95([r for r in mine if r["variant"] == c["name"]], c["handler"])
            if base_p is None or slow_p is None:
                continue
            measured = 100 * (slow_p / base_p - 1)
            c["pilot_pct"] = round(measured, 1)
            off = abs(measured - c["target_pct"]) > max(4.0, 0.3 * c["target_pct"])
            c["retry"] = off and attempt < refine
            if c["retry"]:
                scale = min(c["target_pct"] / measured, 4.0) if measured > 1 else 2.0
                c["magnitude"] = capped(c["kind"], c["magnitude"] * scale)
                c["knob"] = knob_text(c["handler"], c["kind"], c["magnitude"])


def write_variants(out: Path, chosen: list[dict], runner: Runner, args: argparse.Namespace) -> None:
    """Write variants.json: the chosen knobs, how they were found, and on what machine."""
    for c in chosen:
        c.pop("retry", None)
    doc = {
        "comment": "Written by bench/zoo/collect.py calibrate/refit: knob magnitudes that raised "
        "each handler's pooled p95 by about target_pct in short interleaved pilots on this "
        "machine; pilot_pct is what the last pilot measured with that knob (3 runs a side: "
        "noisy); the realised changes of a full collection are what `summary` prints.",
        "machine": {"cpus": os.cpu_count(), "go": runner.go.version},
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pilot_rounds": args.pilot_rounds,
        "variants": chosen,
    }
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"calibrate: wrote {len(chosen)} variants to {out}", file=sys.stderr)


def measured_points(
    records: list[dict],
) -> dict[tuple[str, str, str], list[tuple[float, float, int]]]:
    """Every (magnitude, p95 change %, weight) a pilot measured, per (service, handler, kind).

    Runs are compared with the unchanged runs of the same stage (rounds r // 10 alike, same
    file) — the stage's own interleaved control; the weight is the smaller run count.
    """
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for r in records:
        stage = (r.get("_file", ""), r["round"] // 10, r["service"])
        groups[(*stage, r["slow"])].append(r)
    out: dict[tuple[str, str, str], list[tuple[float, float, int]]] = defaultdict(list)
    for (file, stage, svc, slow), runs in groups.items():
        if not slow:
            continue
        first = runs[0]
        base = groups.get((file, stage, svc, ""), [])
        b = pooled_p95(base, first["handler"])
        p = pooled_p95(runs, first["handler"])
        if b and p:
            mag = magnitude_of(slow, first["kind"])
            out[svc, first["handler"], first["kind"]].append(
                (mag, 100 * (p / b - 1), min(len(runs), len(base)))
            )
    return out


def isotonic(points: list[tuple[float, float, int]]) -> list[tuple[float, float]]:
    """Weighted isotonic (non-decreasing) fit of change on magnitude, through (0, 0): pool
    adjacent violators. Returns (magnitude, fitted change) per distinct magnitude."""
    pts = sorted([(0.0, 0.0, 1_000), *points])
    blocks: list[list[float]] = []  # [sum of w*c, sum of w, first index, last index]
    for i, (_, c, w) in enumerate(pts):
        blocks.append([w * c, w, i, i])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            top = blocks.pop()
            blocks[-1] = [blocks[-1][0] + top[0], blocks[-1][1] + top[1], blocks[-1][2], top[3]]
    fitted = [0.0] * len(pts)
    for wc, w, lo, hi in blocks:
        for i in range(int(lo), int(hi) + 1):
            fitted[i] = wc / w
    by_mag: dict[float, float] = {}
    for (m, _, _), f in zip(pts, fitted, strict=True):
        by_mag[m] = f
    return sorted(by_mag.items())


def origin_slope(points: list[tuple[float, float, int]], lo: float = -50, hi: float = 200) -> float:
    """Weighted least-squares slope of p95 change on magnitude through (0, 0), from the points
    whose change lies in (lo, hi) %: the pilots are too noisy for a curve (an isotonic fit
    turned into steps), and changes beyond +200% are no longer in the linear range."""
    use = [(m, c, w) for m, c, w in points if lo < c < hi and m > 0]
    den = sum(w * m * m for m, _, w in use)
    return sum(w * m * c for m, c, w in use) / den if den else 0.0


def refit(args: argparse.Namespace) -> None:
    """Choose magnitudes again from every pilot measurement so far (a straight line through
    the origin, see origin_slope), then verify them."""
    targets = sorted(float(t) for t in args.targets)
    records = []
    for path in args.pilot:
        for r in read_records([Path(path)]):
            r["_file"] = path
            records.append(r)
    points = measured_points(records)
    plan = [p for p in PLAN if not args.services or p[0] in args.services]
    chosen = []
    for svc, handler, kind in plan:
        mine = points.get((svc, handler, kind), [])
        slope = origin_slope(mine)
        print(
            f"refit: {svc} {handler} {kind}: {len(mine)} points, {slope:.3g} %/unit",
            file=sys.stderr,
        )
        for t in targets:
            mag = capped(kind, t / slope) if slope > 0 else capped(kind, max(m for m, _, _ in mine))
            chosen.append(
                {
                    "service": svc,
                    "handler": handler,
                    "kind": kind,
                    "name": f"{kind}+{t:g}",
                    "target_pct": t,
                    "magnitude": mag,
                    "knob": knob_text(handler, kind, mag),
                    "pilot_pct": None,
                    "pilot_points": [
                        [round(m, 1), round(c, 1), w]
                        for m, c, w in sorted(points.get((svc, handler, kind), []))
                    ],
                }
            )
    svcs = sorted({p[0] for p in plan})
    pilot_out = Path(args.pilot_out)
    with tempfile.TemporaryDirectory(prefix="zoo-") as tmp:
        runner = Runner(Path(tmp), svcs)
        verify(runner, chosen, args.pilot_rounds, 300, pilot_out, 0)
    write_variants(Path(args.out), chosen, runner, args)


def choose(
    plan: list[tuple[str, str, str]],
    grid: list[Variant],
    runs: list[dict],
    targets: list[float],
) -> list[dict]:
    """Per knob and target, the interpolated magnitude (pilot_pct still to be measured)."""
    chosen = []
    for svc, handler, kind in plan:
        mine = [r for r in runs if r["service"] == svc]
        base_p = pooled_p95([r for r in mine if r["variant"] == UNCHANGED], handler)
        points = []
        for v in grid:
            if v.service == svc and v.handler == handler and v.kind == kind:
                slow_p = pooled_p95([r for r in mine if r["variant"] == v.name], handler)
                if base_p and slow_p:
                    points.append((magnitude_of(v.slow, kind), 100 * (slow_p / base_p - 1)))
        print(
            f"calibrate: {svc} {handler} {kind}: "
            + ", ".join(f"{m:.0f}→{c:+.1f}%" for m, c in points),
            file=sys.stderr,
        )
        for t in targets:
            mag = capped(kind, interpolate(points, t))
            chosen.append(
                {
                    "service": svc,
                    "handler": handler,
                    "kind": kind,
                    "name": f"{kind}+{t:g}",
                    "target_pct": t,
                    "magnitude": mag,
                    "knob": knob_text(handler, kind, mag),
                    "pilot_pct": None,
                    "grid": [[round(m, 1), round(c, 1)] for m, c in points],
                }
            )
    return chosen


def capped(kind: str, magnitude: float) -> float:
    """Keep alloc knobs below MAX_ALLOC bytes a request."""
    return min(magnitude, MAX_ALLOC) if kind == "alloc" else magnitude


def magnitude_of(knob: str, kind: str) -> float:
    """The magnitude of a knob_text entry, in knob_text's units."""
    arg = knob.rsplit("=", 1)[1].split(":")[-1]
    if kind in ("prop", "alloc"):
        return float(arg)
    return float(arg.removesuffix("ns"))


# ---------------------------------------------------------------- collect and summary


def collect(args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    targets = {float(t) for t in args.targets} if args.targets else None
    every = load_variants(Path(args.variants))
    variants = load_variants(Path(args.variants), targets)
    svcs = [s for s in services() if not args.services or s in args.services]
    variants = [v for v in variants if v.service in svcs]
    if args.variant:
        variants = [v for v in variants if v.name in args.variant]
    for extra in args.also or []:
        svc, _, name = extra.partition(":")
        found = [v for v in every if v.service == svc and v.name == name]
        if not found:
            raise PerfgateError(
                f"--also {extra}: no variant {name!r} of {svc!r} in {args.variants}"
            )
        variants += [v for v in found if v not in variants]
    variants += [Variant(s, UNCHANGED) for s in svcs]
    existing = [r["round"] for r in read_records([out])]
    first = max(existing) + 1 if existing else 0
    per_round = len(round_plan(variants, args.unchanged, 0))
    print(
        f"collect: {len(svcs)} services, {per_round} runs a round, rounds {first}–"
        f"{first + args.rounds - 1} → {out}",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(prefix="zoo-") as tmp:
        runner = Runner(Path(tmp), svcs)
        run_rounds(runner, variants, args.rounds, first, args.unchanged, out, args.seed)


def resize(args: argparse.Namespace) -> None:
    """Add re-sized variants to variants.json from a collection's realised changes.

    For each (service, handler, kind) none of whose collected variants came within
    max(4 points, 35%) of a target, a line through the origin over its realised pooled-p95
    changes (each from every run of the collection) gives the magnitude for that target; the
    new variant is named like the old with an "r" ("tail+25r").
    """
    records = list(read_records(Path(p) for p in args.files))
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[r["service"], r["variant"]].append(r)
    realised: dict[tuple[str, str, str], list[tuple[float, float, int]]] = defaultdict(list)
    for (svc, variant), runs in groups.items():
        first = runs[0]
        if variant == UNCHANGED or variant.endswith("r"):
            continue
        c = pooled_change(runs, control(groups, svc, runs), first["handler"], 0.95)
        if c is not None:
            key = (svc, first["handler"], first["kind"])
            realised[key].append((magnitude_of(first["slow"], first["kind"]), c, len(runs)))
    path = Path(args.variants)
    doc = json.loads(path.read_text())
    names = {(v["service"], v["name"]) for v in doc["variants"]}
    added = 0
    for (svc, handler, kind), pts in sorted(realised.items()):
        slope = origin_slope(pts)
        for t in sorted(float(t) for t in args.targets):
            name = f"{kind}+{t:g}r"
            near = any(abs(c - t) <= max(4.0, 0.35 * t) for _, c, _ in pts)
            if near or slope <= 0 or (svc, name) in names:
                continue
            mag = capped(kind, t / slope)
            doc["variants"].append(
                {
                    "service": svc,
                    "handler": handler,
                    "kind": kind,
                    "name": name,
                    "target_pct": t,
                    "magnitude": mag,
                    "knob": knob_text(handler, kind, mag),
                    "pilot_pct": None,
                    "resized_from": [[round(m, 1), round(c, 1), n] for m, c, n in sorted(pts)],
                }
            )
            added += 1
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"resize: added {added} variants to {path}", file=sys.stderr)


def summary_rows(records: list[dict]) -> list[list[str]]:
    """Per (service, variant, handler): runs, pooled p95, change vs unchanged, per-run p95s."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[r["service"], r["variant"]].append(r)
    rows = []
    for (svc, variant), runs in sorted(
        groups.items(), key=lambda kv: (kv[0][0], kv[0][1] != UNCHANGED, kv[0][1])
    ):
        handlers = sorted({h for r in runs for h in r["durations"]})
        base_runs = control(groups, svc, runs)
        for h in handlers:
            p = pooled_p95(runs, h)
            b = pooled_p95(base_runs, h)
            per = run_p95s(runs, h)
            slowed = "*" if runs[0].get("handler") == h else ""
            change = f"{100 * (p / b - 1):+.1f}%" if p and b and variant != UNCHANGED else ""
            spread = "—"
            if per:
                lo, mid, hi = min(per), statistics.median(per), max(per)
                spread = f"{lo / 1000:.1f} / {mid / 1000:.1f} / {hi / 1000:.1f}"
            rows.append(
                [
                    svc,
                    variant,
                    slowed + h,
                    str(len(runs)),
                    f"{p / 1000:.1f}" if p else "—",
                    change,
                    spread,
                ]
            )
    return rows


def control(groups: dict[tuple[str, str], list[dict]], svc: str, runs: list[dict]) -> list[dict]:
    """The service's unchanged runs from the rounds these runs were in: their interleaved
    control (a file extended later with other variants holds other rounds' unchanged runs)."""
    rounds = {r["round"] for r in runs}
    return [r for r in groups.get((svc, UNCHANGED), []) if r["round"] in rounds]


def pooled_change(runs: list[dict], base: list[dict], handler: str, q: float) -> float | None:
    """The % change of a handler's pooled quantile `q` from `base` runs to `runs`."""
    p, b = pooled_p95(runs, handler, q), pooled_p95(base, handler, q)
    return 100 * (p / b - 1) if p and b else None


def variant_rows(records: list[dict]) -> list[list[str]]:
    """One row per slowdown variant: its knob, the slowed handler's pooled p95 and p50 change
    against unchanged, and the largest pooled-p95 change of the service's other handlers."""
    groups: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for r in records:
        groups[r["service"], r["variant"]].append(r)
    rows = []
    for (svc, variant), runs in sorted(groups.items()):
        if variant == UNCHANGED:
            continue
        base = control(groups, svc, runs)
        h = runs[0]["handler"]

        others = [pooled_change(runs, base, o, 0.95) for o in runs[0]["durations"] if o != h]
        worst = max((c for c in others if c is not None), key=abs, default=None)
        d95, d50 = pooled_change(runs, base, h, 0.95), pooled_change(runs, base, h, 0.5)
        rows.append(
            [
                svc,
                variant,
                runs[0]["slow"],
                str(len(runs)),
                f"{d95:+.1f}%" if d95 is not None else "—",
                f"{d50:+.1f}%" if d50 is not None else "—",
                f"{worst:+.1f}%" if worst is not None else "—",
            ]
        )
    return rows


def summary(args: argparse.Namespace) -> None:
    from tabulate import tabulate

    records = list(read_records(Path(p) for p in args.files))
    if not records:
        raise PerfgateError(f"no runs in {' '.join(args.files)}")
    if args.variants:
        print(
            tabulate(
                variant_rows(records),
                headers=[
                    "service",
                    "variant",
                    "ZOO_SLOW",
                    "runs",
                    "Δ p95",
                    "Δ p50",
                    "others' largest Δ p95",
                ],
            )
        )
        return
    rows = summary_rows(records)
    if not args.all:
        rows = [r for r in rows if r[1] == UNCHANGED or r[2].startswith("*")]
    print(
        tabulate(
            rows,
            headers=[
                "service",
                "variant",
                "handler (*slowed)",
                "runs",
                "pooled p95 µs",
                "Δ p95",
                "per-run p95 µs min/med/max",
            ],
        )
    )
    starts = [r["start"] for r in records]
    secs = [r["seconds"] for r in records]
    print(
        f"\n{len(records)} runs, {len({r['round'] for r in records})} rounds, "
        f"{time.strftime('%Y-%m-%d %H:%M', time.gmtime(min(starts)))} – "
        f"{time.strftime('%H:%M UTC', time.gmtime(max(starts)))}; "
        f"run time median {statistics.median(secs):.2f} s"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    c = sub.add_parser("collect", help="interleaved rounds of every (service, variant)")
    c.add_argument("--out", required=True, help="gzip JSON lines file; appended to")
    c.add_argument("--rounds", type=int, default=40, help="rounds to add")
    c.add_argument("--variants", default=str(ZOO / "variants.json"))
    c.add_argument("--services", nargs="*", help="only these services")
    c.add_argument("--variant", nargs="*", help="only these variant names (e.g. const+15)")
    c.add_argument("--targets", nargs="*", help="only these target sizes (e.g. 15 25)")
    c.add_argument("--also", nargs="*", help="and these, as SERVICE:VARIANT (catalog:const+50)")
    c.add_argument("--unchanged", type=int, default=2, help="unchanged runs per service a round")
    c.add_argument("--seed", type=int, default=1)

    k = sub.add_parser("calibrate", help="size the knobs for target p95 changes")
    k.add_argument("--out", default=str(ZOO / "variants.json"))
    k.add_argument("--pilot-out", default="/work/data/zoo-pilot.jsonl.gz")
    k.add_argument("--targets", nargs="*", default=["10", "15", "25", "50"])
    k.add_argument("--services", nargs="*")
    k.add_argument("--base-rounds", type=int, default=3)
    k.add_argument("--grid-rounds", type=int, default=8, help="rounds of the two-point grid")
    k.add_argument("--pilot-rounds", type=int, default=3, help="rounds verifying the knobs")
    k.add_argument("--refine", type=int, default=0, help="correction passes for knobs off target")

    f = sub.add_parser("refit", help="choose knob sizes from all pilot runs so far, verify them")
    f.add_argument("pilot", nargs="+", help="pilot files (calibrate's --pilot-out)")
    f.add_argument("--out", default=str(ZOO / "variants.json"))
    f.add_argument("--pilot-out", default="/work/data/zoo-pilot.jsonl.gz")
    f.add_argument("--targets", nargs="*", default=["10", "15", "25", "50"])
    f.add_argument("--services", nargs="*")
    f.add_argument("--pilot-rounds", type=int, default=3, help="rounds verifying the knobs")

    z = sub.add_parser("resize", help="add variants re-sized from a collection's realised changes")
    z.add_argument("files", nargs="+")
    z.add_argument("--variants", default=str(ZOO / "variants.json"))
    z.add_argument("--targets", nargs="*", default=["15", "25"])

    s = sub.add_parser("summary", help="per (service, variant, handler) pooled p95 and change")
    s.add_argument("files", nargs="+")
    s.add_argument("--all", action="store_true", help="every handler, not only the slowed one")
    s.add_argument("--variants", action="store_true", help="one line per slowdown variant")

    args = ap.parse_args(argv)
    try:
        {
            "collect": collect,
            "calibrate": calibrate,
            "refit": refit,
            "resize": resize,
            "summary": summary,
        }[args.cmd](args)
    except PerfgateError as e:
        print(f"collect: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
