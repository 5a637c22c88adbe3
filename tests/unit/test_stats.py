"""Nearest-rank percentiles, per-run statistics, the rank test and Holm's adjustment."""

import itertools
import math
import random

import pytest

from perfgate.stats import (
    handler_stats,
    holm,
    mann_whitney_greater,
    nearest_rank,
    sketch,
    wilcoxon_signed_rank_greater,
)


@pytest.mark.parametrize(
    ("n", "p", "rank"),
    [(100, 0.95, 95), (20, 0.95, 19), (1, 0.95, 1), (59, 0.95, 57), (600, 0.99, 594), (3, 0.5, 2)],
)
def test_nearest_rank_is_the_ceil_p_n_th_smallest(n, p, rank):
    values = list(range(1, n + 1))
    assert nearest_rank(values, p) == rank
    assert rank == math.ceil(p * n - 1e-9)


def test_nearest_rank_rejects_empty():
    with pytest.raises(ValueError):
        nearest_rank([], 0.5)


def test_handler_stats_pools_runs_and_keeps_each_runs_p95():
    runs = [list(range(1, 101)), list(range(101, 201)), []]
    s = handler_stats(runs)
    assert s.count == 200
    assert s.p50_ns == 100
    assert s.p95_ns == 190
    assert s.max_ns == 200
    assert s.mean_ns == 100  # 100.5 rounds to even
    assert s.run_p95_ns == [95, 195]
    assert s.run_counts == [100, 100]


def test_sketch_has_101_monotone_points():
    values = sorted(random.Random(1).randrange(10**6) for _ in range(1000))
    sk = sketch(values)
    assert len(sk) == 101
    assert sk[0] == values[0] and sk[-1] == values[-1]
    assert sk == sorted(sk)


def _exact_by_enumeration(x, y):
    pooled = [*x, *y]
    m = len(x)

    def u(xs, ys):
        return sum(1 for a in xs for b in ys if a > b)

    observed = u(x, y)
    hits = total = 0
    for idx in itertools.combinations(range(len(pooled)), m):
        xs = [pooled[i] for i in idx]
        ys = [pooled[i] for i in range(len(pooled)) if i not in idx]
        total += 1
        hits += u(xs, ys) >= observed
    return hits / total


@pytest.mark.parametrize("seed", range(6))
def test_mann_whitney_exact_matches_enumeration(seed):
    rng = random.Random(seed)
    x = [rng.random() + 0.3 for _ in range(5)]
    y = [rng.random() for _ in range(4)]
    assert mann_whitney_greater(x, y) == pytest.approx(_exact_by_enumeration(x, y))


def test_mann_whitney_complete_separation_5_vs_5():
    assert mann_whitney_greater([6, 7, 8, 9, 10], [1, 2, 3, 4, 5]) == pytest.approx(1 / 252)
    assert mann_whitney_greater([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]) == pytest.approx(1.0)


def test_mann_whitney_with_ties_uses_the_normal_approximation():
    p = mann_whitney_greater([5, 5, 6, 7], [5, 5, 1, 2])
    assert 0 < p < 0.2
    assert mann_whitney_greater([1, 1, 1], [1, 1, 1]) > 0.5
    assert mann_whitney_greater([], [1]) == 1.0


def test_holm_adjusts_and_keeps_order():
    assert holm([0.01, 0.04, 0.03, 0.5]) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def _signed_rank_brute(d):
    nz = [x for x in d if x != 0]
    mags = sorted(abs(x) for x in nz)

    def rank(v):
        idx = [i for i, x in enumerate(mags) if x == v]
        return (idx[0] + idx[-1] + 2) / 2

    observed = sum(rank(abs(x)) for x in nz if x > 0)
    hits = 0
    for signs in itertools.product((0, 1), repeat=len(nz)):
        w = sum(rank(abs(x)) for x, s in zip(nz, signs, strict=True) if s)
        hits += w >= observed - 1e-9
    return hits / 2 ** len(nz)


def test_wilcoxon_signed_rank_is_exact_with_ties_and_zeros():
    rng = random.Random(5)
    for _ in range(300):
        d = [rng.choice([-3, -2, -1, 0, 1, 1.5, 2, 3]) for _ in range(rng.randint(1, 11))]
        assert wilcoxon_signed_rank_greater(d) == pytest.approx(_signed_rank_brute(d), abs=1e-12)
    assert wilcoxon_signed_rank_greater([0.1] * 15) == 2**-15  # every pair up
    assert wilcoxon_signed_rank_greater([-0.1] * 15) == 1.0
    assert wilcoxon_signed_rank_greater([0, 0]) == 1.0


def test_wilcoxon_normal_approximation_agrees_with_the_exact_tail_near_60():
    rng = random.Random(9)
    d = [rng.gauss(0.2, 1) for _ in range(61)]  # 61 pairs: the normal approximation
    exact = wilcoxon_signed_rank_greater(d[:60])
    approx = wilcoxon_signed_rank_greater(d)
    assert 0 < approx < 1 and abs(math.log(approx) - math.log(exact)) < 1.0
