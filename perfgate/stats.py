"""Latency statistics: nearest-rank percentiles, pooled and per-run p95s, the p95 sketch.

``nearest_rank`` lives in :mod:`perfgate.interval` and is re-exported here.

Pure functions on lists of integers (nanoseconds); no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["handler_stats", "median", "nearest_rank", "sketch"]

from perfgate.interval import at_or_below, log_density, nearest_rank
from perfgate.report import HandlerStats

SKETCH_POINTS = 101  # quantiles at 0%, 1%, …, 100%: the baseline's sketch of the distribution


def handler_stats(
    runs: Sequence[Sequence[int]], pooled: Sequence[int] | None = None
) -> HandlerStats:
    """Pooled statistics over all runs, plus each run's own p95 and request count.

    Runs with no samples are left out of the per-run lists (the handler was not hit in that run).
    ``run_le_p95`` and ``p95_log_density`` are what the p95's confidence interval is made of
    (:mod:`perfgate.interval`). ``pooled``: every run's samples together, sorted, when the
    caller has them already.
    """
    if pooled is None:
        pooled = sorted(x for run in runs for x in run)
    if not pooled:
        raise ValueError("no samples")
    hit = [sorted(r) for r in runs if r]
    p95 = nearest_rank(pooled, 0.95)
    density = log_density(pooled)
    return HandlerStats(
        count=len(pooled),
        p50_ns=nearest_rank(pooled, 0.50),
        p90_ns=nearest_rank(pooled, 0.90),
        p95_ns=p95,
        p99_ns=nearest_rank(pooled, 0.99),
        max_ns=pooled[-1],
        mean_ns=round(sum(pooled) / len(pooled)),
        run_p95_ns=[nearest_rank(r, 0.95) for r in hit],
        run_counts=[len(r) for r in hit],
        run_le_p95=at_or_below(hit, p95),
        p95_log_density=None if density is None else round(density, 6),
    )


def sketch(sorted_values: Sequence[int]) -> list[int]:
    """A compact picture of a distribution: the nearest-rank quantiles at 0%, 1%, …, 100%."""
    return [sorted_values[0]] + [
        nearest_rank(sorted_values, i / 100) for i in range(1, SKETCH_POINTS)
    ]


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("no values")
    mid = n // 2
    return float(s[mid]) if n % 2 else (s[mid - 1] + s[mid]) / 2
