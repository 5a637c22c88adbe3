"""Change points in a series: E-Divisive means with a permutation test, in pure Python.

The method of Matteson and James ("A Nonparametric Approach for Multiple Change Point Analysis
of Multivariate Data", 2014), as Apache Otava (formerly Hunter, MongoDB's performance CI)
implements it in ``otava.change_point_divisive``:

* For a stretch of the series ``z[s:e]`` and every split ``s < τ < κ ≤ e`` take
  ``X = z[s:τ]``, ``Y = z[τ:κ]`` (``n`` and ``m`` values) and their energy statistic

      Q(τ, κ) = 2/(m+n) Σ|X_i − Y_j| − 2m/((m+n)(n−1)) Σ_{i<k}|X_i − X_k|
                − 2n/((m+n)(m−1)) Σ_{j<k}|Y_j − Y_k|

  (a within-term is 0 when its sample has one value). The candidate is the ``τ`` of the
  largest ``Q`` over all ``(τ, κ)``: the split where the values before and after differ most,
  in level or in shape, with no assumption about the noise's distribution.
* The series is cut recursively: the stretches between the change points found so far each
  offer their best candidate, and the one with the largest ``Q`` is tested.
* The test: shuffle the values within each stretch (what "no further change" would allow),
  find the largest ``Q`` again, ``permutations`` times; the p-value is the share of shuffles
  that reach the candidate's ``Q``, ``(1 + #{Q* ≥ Q}) / (permutations + 1)``. A candidate with
  p ≤ ``alpha`` is a change point and the search goes on; the first that is not ends it.

Two differences from Otava, both switchable: ``min_size`` (Otava: 1) keeps a stretch from being
cut into pieces shorter than that — one slow record, a busy runner's, is not a change point of
its own — and the p-value counts the observed arrangement as one of the permutations (Otava's
``#{Q* ≥ Q} / (permutations + 1)`` can be 0). Shuffles stop early once the candidate can no
longer reach ``alpha`` (Besag and Clifford's sequential p-value), which makes the last, failing
test cheap. The shuffles come from a :class:`random.Random` seeded by the caller, so the same
series gives the same change points every time.

Pure: lists of floats in, :class:`ChangePoint` out; ``tests/unit/test_changepoints_otava.py``
checks the statistic and the change points against Otava's own code.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

DEFAULT_PERMUTATIONS = 199
DEFAULT_ALPHA = 0.05
DEFAULT_MIN_SIZE = 2


@dataclass(frozen=True)
class Candidate:
    """The best split of one stretch: the first index after the change, and its ``Q``."""

    index: int
    qhat: float


@dataclass(frozen=True)
class ChangePoint:
    """A change at ``index`` (the first value after it), its ``Q`` and permutation p-value."""

    index: int
    qhat: float
    p_value: float


def _within_sums(z: Sequence[float]) -> list[list[float]]:
    """``w[a][b]`` = Σ_{a ≤ i < k < b} |z_i − z_k| for every 0 ≤ a < b ≤ len(z), in O(n²).

    Column by column: ``w[a][b] = w[a][b-1] + Σ_{a ≤ i < b-1} |z_i − z_{b-1}|``, the inner sum
    growing by one term as ``a`` falls.
    """
    n = len(z)
    w = [[0.0] * (n + 1) for _ in range(n + 1)]
    for b in range(2, n + 1):
        last = z[b - 1]
        col = 0.0
        for a in range(b - 2, -1, -1):
            col += abs(z[a] - last)
            w[a][b] = w[a][b - 1] + col
    return w


def best_candidate(z: Sequence[float], min_size: int = 1) -> Candidate | None:
    """The ``(τ, κ)`` split of ``z`` with the largest ``Q`` (see the module docstring); both
    parts hold at least ``min_size`` values. None when ``z`` is too short to split so."""
    n = len(z)
    size = max(min_size, 1)
    if n < 2 * size:
        return None
    w = _within_sums(z)
    w0 = w[0]
    # 1/(m-1) for the second part's within-term (0 for one value: that term is 0)
    inv_less = [0.0, 0.0] + [1.0 / (m - 1) for m in range(2, n + 1)]
    best_q, best_tau = float("-inf"), -1
    for tau in range(size, n - size + 1):
        within_x = w0[tau]
        wt = w[tau]
        x_term = 2.0 * within_x / (tau - 1) if tau > 1 else 0.0  # times m: the X within-term
        two_tau = 2.0 * tau
        # Q·κ = 2·cross − m·x_term − 2τ·W_Y/(m−1), with cross = W(0,κ) − W_X − W_Y, κ = τ + m
        first = tau + size
        qs = [
            (2.0 * (a - within_x - b) - m * x_term - two_tau * b * inv) / k
            for a, b, m, inv, k in zip(
                w0[first:],
                wt[first:],
                range(size, n - tau + 1),
                inv_less[size : n - tau + 1],
                range(first, n + 1),
                strict=True,
            )
        ]
        q = max(qs)
        if q > best_q:
            best_q, best_tau = q, tau
    if best_tau < 0:
        return None
    return Candidate(best_tau, best_q)


def _ranks(values: Sequence[float]) -> list[float]:
    """Each value's rank among ``values``, from 0 (ties: their mean rank)."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in order[i : j + 1]:
            out[k] = (i + j) / 2
        i = j + 1
    return out


def _stretches(n: int, cuts: Sequence[int]) -> list[tuple[int, int]]:
    bounds = [0, *sorted(cuts), n]
    return [(a, b) for a, b in pairwise(bounds) if b > a]


def _next_candidate(
    z: Sequence[float], stretches: Sequence[tuple[int, int]], min_size: int
) -> Candidate | None:
    """The stretch candidate with the largest ``Q``, as an index into the whole series."""
    best: Candidate | None = None
    for a, b in stretches:
        c = best_candidate(z[a:b], min_size)
        if c is not None and (best is None or c.qhat > best.qhat):
            best = Candidate(c.index + a, c.qhat)
    return best


def _p_value(
    z: Sequence[float],
    stretches: Sequence[tuple[int, int]],
    qhat: float,
    min_size: int,
    alpha: float,
    permutations: int,
    rng: random.Random,
) -> float:
    """Share of within-stretch shuffles whose best ``Q`` reaches ``qhat`` (the observed
    arrangement counted as one of them). Stops once the answer can no longer be ≤ ``alpha``."""
    give_up = int(alpha * (permutations + 1))  # this many exceedances: p > alpha whatever follows
    exceed = 0
    values = list(z)
    for done in range(1, permutations + 1):
        for a, b in stretches:
            part = values[a:b]
            rng.shuffle(part)
            values[a:b] = part
        c = _next_candidate(values, stretches, min_size)
        if c is not None and c.qhat >= qhat * (1 - 1e-12):
            exceed += 1
            if exceed >= give_up:
                return (1 + exceed) / (done + 1)
    return (1 + exceed) / (permutations + 1)


def e_divisive(
    series: Sequence[float],
    *,
    alpha: float = DEFAULT_ALPHA,
    permutations: int = DEFAULT_PERMUTATIONS,
    min_size: int = DEFAULT_MIN_SIZE,
    seed: int = 0,
    max_points: int | None = None,
    rank_test: bool = False,
) -> list[ChangePoint]:
    """The change points of ``series``, sorted by index (see the module docstring).

    ``max_points`` caps how many change points are looked for (None: until the test fails).
    ``rank_test``: where a change point is comes from the values as ever, whether it is one
    from the same search and permutation test on the values' ranks — one odd value in a short
    series then weighs no more than any other, and the test stays exact (off: as Otava).
    """
    if min_size < 1:
        raise ValueError("min_size must be at least 1")
    if not 0 < alpha < 1:
        raise ValueError("alpha must be between 0 and 1")
    z = [float(v) for v in series]
    ranked = _ranks(z) if rank_test else z
    rng = random.Random(seed)
    found: list[ChangePoint] = []
    while max_points is None or len(found) < max_points:
        stretches = _stretches(len(z), [c.index for c in found])
        cand = _next_candidate(z, stretches, min_size)
        if cand is None:
            break
        tested = _next_candidate(ranked, stretches, min_size) if rank_test else cand
        assert tested is not None  # the same stretches have a candidate
        p = _p_value(ranked, stretches, tested.qhat, min_size, alpha, permutations, rng)
        if p > alpha:
            break
        found.append(ChangePoint(cand.index, cand.qhat, p))
    return sorted(found, key=lambda c: c.index)
