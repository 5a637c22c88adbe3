#!/usr/bin/env python3
"""Is another per-record statistic steadier from record to record than the pooled p95?

For each handler of the recorded services (as ``bench/history.py``: the unchanged runs, a
record = N consecutive runs, 200 records drawn at random), the commit-to-commit noise the
history analysis sees (:func:`perfgate.history.analysis.noise_of` after the shared-shift
correction) of: the pooled p95 (what ``perfgate history record`` stores and the analysis uses),
the median of the runs' own p95s, their geometric mean, 10% and 20% trimmed means of their
logarithms, and — not a p95, for scale — the pooled p90. Prints each statistic's noise as a
ratio to the pooled p95's, per handler (median and quartiles), and how many handlers fall in
each noise class of ``bench/history.py``.

    python bench/history_statistics.py /work/data/zoo-A.jsonl.gz /work/data/ex-A.jsonl.gz --runs 15
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import history as bench

from perfgate.history.analysis import corrected_values, noise_of
from perfgate.stats import nearest_rank


def run_p95s(runs, h):
    return [nearest_rank(sorted(r[h]), 0.95) for r in runs]


def trimmed_log_mean(values, cut):
    logs = sorted(math.log(v) for v in values)
    k = int(len(logs) * cut)
    kept = logs[k : len(logs) - k] or logs
    return math.exp(sum(kept) / len(kept))


STATISTICS = {
    "pooled p95": lambda rs, h: nearest_rank(sorted(x for r in rs for x in r[h]), 0.95),
    "median of run p95s": lambda rs, h: sorted(run_p95s(rs, h))[len(rs) // 2],
    "geometric mean of run p95s": lambda rs, h: trimmed_log_mean(run_p95s(rs, h), 0),
    "10% trimmed (log) mean of run p95s": lambda rs, h: trimmed_log_mean(run_p95s(rs, h), 0.1),
    "20% trimmed (log) mean of run p95s": lambda rs, h: trimmed_log_mean(run_p95s(rs, h), 0.2),
    "pooled p90 (not a p95)": lambda rs, h: nearest_rank(sorted(x for r in rs for x in r[h]), 0.9),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", type=Path, nargs="+")
    parser.add_argument("--runs", type=int, default=15, help="runs per record")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    noise: dict[str, list[float]] = {name: [] for name in STATISTICS}
    classes: dict[str, Counter] = {name: Counter() for name in STATISTICS}
    for svc, runs in sorted(bench.load_runs(args.data).items()):
        handlers = sorted(set.intersection(*(set(r) for r in runs)))
        windows = [runs[s : s + args.runs] for s in range(len(runs) - args.runs + 1)]
        rng = random.Random(f"{args.seed}:{svc}:{args.runs}")
        picks = [rng.randrange(len(windows)) for _ in range(bench.UNCHANGED)]
        for name, statistic in STATISTICS.items():
            records = [
                {h: max(1, round(statistic(windows[i], h))) for h in handlers} for i in picks
            ]
            for values in corrected_values(bench.history_of(svc, records)).values():
                noise[name].append(noise_of(values))
                classes[name][bench.noise_class(noise[name][-1])] += 1
    order = [name for _, name in bench.CLASSES]
    print(f"| statistic ({args.runs} runs/record) | noise ÷ pooled p95's, per handler: median "
          f"[quartiles] | handlers at {' / '.join(order)} noise |")  # fmt: skip
    print("|---|---|---|")
    for name in STATISTICS:
        r = sorted(a / b for a, b in zip(noise[name], noise["pooled p95"], strict=True))
        med, lo, hi = (r[int(f * (len(r) - 1))] for f in (0.5, 0.25, 0.75))
        counts = " / ".join(str(classes[name][c]) for c in order)
        print(f"| {name} | {med:.2f} [{lo:.2f}, {hi:.2f}] | {counts} |")


if __name__ == "__main__":
    main()
