"""Nearest-rank percentiles, per-run statistics, the rank test and Holm's adjustment."""

import math
import random

import pytest

from perfgate.stats import (
    handler_stats,
    nearest_rank,
    sketch,
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
