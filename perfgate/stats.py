"""Latency statistics: nearest-rank percentiles, per-run p95s, and the rank test on runs.

``nearest_rank`` lives in :mod:`perfgate.interval` and is re-exported here.

Pure functions on lists of integers (nanoseconds); no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

__all__ = ["handler_stats", "median", "nearest_rank", "sketch"]

from perfgate.interval import at_or_below, log_density, nearest_rank
from perfgate.report import HandlerStats

SKETCH_POINTS = 101  # quantiles at 0%, 1%, …, 100%: the baseline's sketch of the distribution


def handler_stats(runs: Sequence[Sequence[int]]) -> HandlerStats:
    """Pooled statistics over all runs, plus each run's own p95 and request count.

    Runs with no samples are left out of the per-run lists (the handler was not hit in that run).
    ``run_le_p95`` and ``p95_log_density`` are what the p95's confidence interval is made of
    (:mod:`perfgate.interval`).
    """
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


@lru_cache(maxsize=256)
def _u_distribution(m: int, n: int) -> tuple[int, ...]:
    """Counts of each U value (0 … m·n) over all C(m+n, m) arrangements without ties."""
    # f[i][j][u]: arrangements of i x's and j y's with U = u; built one dimension at a time.
    prev = [[1] for _ in range(n + 1)]  # i = 0: U is 0 for any j
    for i in range(1, m + 1):
        cur = [[1]]  # j = 0: U is 0
        for j in range(1, n + 1):
            # last element is an x (adds j to U) or a y (adds nothing)
            a = prev[j]  # x last: U(i-1, j) + j
            b = cur[j - 1]  # y last: U(i, j-1)
            size = i * j + 1
            row = [0] * size
            for u, c in enumerate(a):
                row[u + j] += c
            for u, c in enumerate(b):
                row[u] += c
            cur.append(row)
        prev = cur
    return tuple(prev[n])


def mann_whitney_greater(x: Sequence[float], y: Sequence[float]) -> float:
    """One-sided Mann-Whitney p-value that ``x`` tends to be larger than ``y``.

    Exact for small samples without ties; otherwise the normal approximation with tie and
    continuity corrections. Returns 1.0 when either side is empty.
    """
    m, n = len(x), len(y)
    if m == 0 or n == 0:
        return 1.0
    # U = number of pairs with x > y, ties counting one half.
    u = 0.0
    for a in x:
        for b in y:
            u += 1.0 if a > b else 0.5 if a == b else 0.0
    ties = len(set(x) | set(y)) < m + n
    if not ties and m * n <= 2500:
        dist = _u_distribution(m, n)
        total = sum(dist)
        return sum(dist[int(u) :]) / total
    # Normal approximation with tie correction.
    values = sorted([*x, *y])
    tie_term = 0
    i = 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        t = j - i
        tie_term += t**3 - t
        i = j
    big_n = m + n
    var = m * n / 12 * ((big_n + 1) - tie_term / (big_n * (big_n - 1)))
    if var <= 0:
        return 1.0
    z = (u - m * n / 2 - 0.5) / math.sqrt(var)
    return 0.5 * math.erfc(z / math.sqrt(2))


def wilcoxon_signed_rank_greater(d: Sequence[float]) -> float:
    """One-sided Wilcoxon signed-rank p-value that the paired differences ``d`` are centred
    above zero.

    Zeros are dropped; tied magnitudes get average ranks. Exact (all 2^n sign patterns, by
    dynamic programming over doubled ranks, so half ranks stay integers) up to 60 pairs, the
    normal approximation beyond. Returns 1.0 without non-zero differences.
    """
    nz = [x for x in d if x != 0]
    n = len(nz)
    if n == 0:
        return 1.0
    order = sorted(range(n), key=lambda i: abs(nz[i]))
    ranks2 = [0] * n  # doubled average ranks
    i = 0
    while i < n:
        j = i
        while j < n and abs(nz[order[j]]) == abs(nz[order[i]]):
            j += 1
        for k in range(i, j):
            ranks2[order[k]] = i + j + 1  # 2 × average of ranks i+1 … j
        i = j
    w2 = sum(r for r, x in zip(ranks2, nz, strict=True) if x > 0)
    if n <= 60:
        counts = [0] * (sum(ranks2) + 1)
        counts[0] = 1
        top = 0
        for r in ranks2:
            for s in range(top, -1, -1):
                if counts[s]:
                    counts[s + r] += counts[s]
            top += r
        return sum(counts[w2:]) / 2**n
    mean2 = sum(ranks2) / 2
    var2 = sum(r * r for r in ranks2) / 4
    z = (w2 - mean2 - 1) / math.sqrt(var2)  # continuity correction (1 in doubled units)
    return 0.5 * math.erfc(z / math.sqrt(2))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (same order as given): family-wise error control."""
    k = len(p_values)
    order = sorted(range(k), key=lambda i: p_values[i])
    adjusted = [1.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted


def median(values: Sequence[float]) -> float:
    s = sorted(values)
    n = len(s)
    if n == 0:
        raise ValueError("no values")
    mid = n // 2
    return float(s[mid]) if n % 2 else (s[mid - 1] + s[mid]) / 2
