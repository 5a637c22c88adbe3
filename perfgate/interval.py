"""How sure is a p95 change? A confidence interval for the ratio of two pooled p95s.

Each side's p95 is the nearest-rank p95 of every request of every run pooled — the number the
gate shows. Its uncertainty comes from the runs, not the requests: requests within one run share
the machine's state (CPU frequency, other tenants, GC timing), so the run is the unit of
replication. The variance used here is the *linearisation* (Taylor, or influence-function)
variance of a quantile under cluster sampling, as survey statistics computes it for samples
drawn in clusters (Woodruff 1952; Francisco & Fuller 1991): with Q the pooled p95 of N requests,
run r with n_r requests of which m_r are at or below Q, and g the pooled density per unit of log
latency at Q,

    influence of run r on log Q:   ψ_r = −(m_r − p̂·n_r) / (N·g),      p̂ = Σm_r / N
    Var(log Q)                  ≈  R/(R−1) · Σ ψ_r²                     (R runs)

A run whose requests sit mostly above the pooled p95 (a disturbed run) has a large ψ_r; runs
that agree have small ones, however many requests they hold. Every request counts (m_r and n_r
are counts over all of them), and the run stays the unit. For two sides:

* unpaired (a committed baseline, measured in another session): the variances add, with
  Welch–Satterthwaite degrees of freedom;
* paired (``--against``: run i of each side made back to back): the variance of the per-pair
  difference ψ_head,i − ψ_base,i, with R−1 degrees of freedom — what the two runs of a pair share
  (the machine's drift) cancels.

Intervals use Student's t. A known extra variance (drift between sessions, which no run of
either side can show) can be added. Pure functions; no I/O.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass

P95 = 0.95


def _betacf(a: float, b: float, x: float) -> float:
    """The continued fraction of the regularised incomplete beta function (Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 300):
        m2 = 2 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + aa / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 3e-16:
            break
    return h


def _betainc(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1) / (a + b + 2):
        return front * _betacf(a, b, x) / a
    return 1.0 - front * _betacf(b, a, 1 - x) / b


def t_sf(t: float, dof: float) -> float:
    """P(T > t) for Student's t with ``dof`` degrees of freedom (``dof`` may be fractional)."""
    if math.isinf(dof):
        return 0.5 * math.erfc(t / math.sqrt(2))
    tail = 0.5 * _betainc(dof / 2, 0.5, dof / (dof + t * t))
    return tail if t >= 0 else 1.0 - tail


def t_ppf(q: float, dof: float) -> float:
    """The q-quantile of Student's t (0 < q < 1), by bisection on :func:`t_sf`."""
    if q == 0.5:
        return 0.0
    if q < 0.5:
        return -t_ppf(1 - q, dof)
    lo, hi = 0.0, 1.0
    while t_sf(hi, dof) > 1 - q:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        if t_sf(mid, dof) > 1 - q:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-12 * hi:
            break
    return (lo + hi) / 2


def nearest_rank(sorted_values: Sequence[int], p: float) -> int:
    """The nearest-rank p-quantile: the ⌈p·n⌉-th smallest value (1-based).

    ``p`` is a fraction in (0, 1]; ``sorted_values`` must be sorted and non-empty.
    """
    n = len(sorted_values)
    if n == 0:
        raise ValueError("no samples")
    # Round p·n before the ceiling so that e.g. 0.95·100 = 95.00000000000001 gives rank 95.
    rank = math.ceil(round(p * n, 9))
    return sorted_values[min(max(rank, 1), n) - 1]


def density_bandwidth(n: int) -> float:
    """The half-width (in probability) of the quantile difference that estimates the density
    at the p95: about n^(-1/3), the usual order for a quantile's density (Hall & Sheather)."""
    return min(0.04, max(0.5 * n ** (-1 / 3), 5 / n))


def log_density(pooled: Sequence[int], p: float = P95) -> float | None:
    """Share of the requests per unit of log latency at the pooled p-quantile (sorted input):
    2h / (log Q(p+h) − log Q(p−h)). None where the distribution is flat there (every request
    in that stretch took the same time: no run can move the quantile by changing its share)."""
    n = len(pooled)
    h = density_bandwidth(n)
    lo = nearest_rank(pooled, max(p - h, 1 / n))
    hi = nearest_rank(pooled, min(p + h, 1.0))
    if lo <= 0 or hi <= lo:
        return None
    return 2 * h / (math.log(hi) - math.log(lo))


def at_or_below(runs: Sequence[Sequence[int]], q: int) -> list[int]:
    """How many requests of each run (each sorted) took at most ``q``."""
    return [bisect.bisect_right(r, q) for r in runs]


@dataclass(frozen=True)
class SideQuantile:
    """A side's pooled p95 (its logarithm) and each run's linearised influence on it."""

    log_q: float
    influence: tuple[float, ...]


def side_quantile(
    q_ns: int, counts: Sequence[int], at_or_below_q: Sequence[int], density: float | None
) -> SideQuantile:
    """A side from its pooled p95 ``q_ns``, each run's request count and how many of them took
    at most ``q_ns``, and the pooled log density at ``q_ns`` (see the module docstring)."""
    total = sum(counts)
    if total == 0 or q_ns <= 0:
        raise ValueError("a side needs requests and a positive p95")
    if density is None or not math.isfinite(density) or density <= 0:
        return SideQuantile(math.log(q_ns), tuple(0.0 for _ in counts))
    p_hat = sum(at_or_below_q) / total
    return SideQuantile(
        math.log(q_ns),
        tuple(
            -(m - p_hat * n) / (total * density) for m, n in zip(at_or_below_q, counts, strict=True)
        ),
    )


# The largest log ratio an upper bound reports: e^60 ≈ 1e26 (a +1e28% change), inside the report's
# range for percentages (1e30) and far beyond any threshold, so no decision changes.
MAX_LOG_RATIO = 60.0


@dataclass(frozen=True)
class Change:
    """The change of log p95 from the base side to the head side, with its standard error and
    degrees of freedom: ``ratio − 1`` is the change in the gate's terms (0.12 = +12%)."""

    log_ratio: float
    se: float
    dof: float

    @property
    def ratio(self) -> float:
        return math.exp(self.log_ratio)

    def _t(self, alpha: float) -> float:
        return t_ppf(1 - alpha, self.dof) if self.se > 0 else 0.0

    def lower(self, alpha: float) -> float:
        """One-sided lower confidence bound of the ratio − 1 at level 1 − alpha."""
        return math.expm1(self.log_ratio - self._t(alpha) * self.se)

    def upper(self, alpha: float) -> float:
        """One-sided upper confidence bound of the ratio − 1 at level 1 − alpha, at most
        e^MAX_LOG_RATIO − 1: with one or two runs, t's quantile is astronomical and the bound
        would overflow (or leave the report's range); capped, it still says "too wide"."""
        return math.expm1(min(self.log_ratio + self._t(alpha) * self.se, MAX_LOG_RATIO))

    def p_greater(self) -> float:
        """One-sided p-value that the p95 rose (ratio > 1)."""
        if self.se <= 0:
            return 0.0 if self.log_ratio > 0 else 1.0
        return t_sf(self.log_ratio / self.se, self.dof)

    def p_less(self) -> float:
        """One-sided p-value that the p95 fell."""
        if self.se <= 0:
            return 0.0 if self.log_ratio < 0 else 1.0
        return t_sf(-self.log_ratio / self.se, self.dof)

    def shifted(self, log_shift: float, extra_var: float = 0.0) -> Change:
        """The change beyond ``log_shift`` (a shift shared with other handlers), with
        ``extra_var`` (log scale) added to its variance; that part counts as known exactly, so
        the degrees of freedom grow with it (Welch–Satterthwaite with an infinite term)."""
        var = self.se**2
        total = var + extra_var
        dof = self.dof * (total / var) ** 2 if var > 0 else math.inf
        return Change(self.log_ratio - log_shift, math.sqrt(total), dof)


def _cluster_var(values: Sequence[float]) -> float:
    k = len(values)
    mean = sum(values) / k
    return k / (k - 1) * sum((v - mean) ** 2 for v in values)


def change(base: SideQuantile, head: SideQuantile, paired: bool) -> Change:
    """The change of the pooled p95 from ``base`` to ``head`` (see the module docstring).

    ``paired``: run i of each side was made back to back; used when both sides have the same
    number of runs (two or more), else the sides are treated as independent.
    """
    d = head.log_q - base.log_q
    nb, nh = len(base.influence), len(head.influence)
    if nb < 2 or nh < 2:
        raise ValueError("a change needs at least two runs on each side")
    if paired and nb == nh:
        diffs = [h - b for b, h in zip(base.influence, head.influence, strict=True)]
        return Change(d, math.sqrt(_cluster_var(diffs)), float(nb - 1))
    vb, vh = _cluster_var(base.influence), _cluster_var(head.influence)
    var = vb + vh
    denom = vb**2 / (nb - 1) + vh**2 / (nh - 1)
    dof = var**2 / denom if denom > 0 else float(nb + nh - 2)
    return Change(d, math.sqrt(var), dof)
