"""E-Divisive means with a permutation test (perfgate.history.changepoints), on series whose
answer is known."""

from __future__ import annotations

import random

import pytest

from perfgate.history.changepoints import best_candidate, e_divisive


def noisy(levels: list[tuple[int, float]], sd: float, seed: int) -> list[float]:
    """``levels``: (count, level) pieces, each value the level plus Gaussian noise."""
    rng = random.Random(seed)
    return [level + rng.gauss(0, sd) for count, level in levels for _ in range(count)]


def q_by_definition(z: list[float], tau: int, kappa: int) -> float:
    """Q(τ, κ) straight from the module docstring's formula (O(n²) per split)."""
    x, y = z[:tau], z[tau:kappa]
    n, m = len(x), len(y)
    cross = sum(abs(a - b) for a in x for b in y)
    wx = sum(abs(x[i] - x[k]) for i in range(n) for k in range(i + 1, n))
    wy = sum(abs(y[j] - y[k]) for j in range(m) for k in range(j + 1, m))
    q = 2 * cross / (m + n)
    if n > 1:
        q -= 2 * m * wx / ((m + n) * (n - 1))
    if m > 1:
        q -= 2 * n * wy / ((m + n) * (m - 1))
    return q


@pytest.mark.parametrize("seed", range(5))
def test_best_candidate_maximises_q_over_every_split(seed):
    rng = random.Random(seed)
    z = [rng.gauss(0, 1) + (1.5 if i > 9 else 0) for i in range(rng.randrange(4, 24))]
    splits = [(t, k) for t in range(1, len(z)) for k in range(t + 1, len(z) + 1)]
    best = max(splits, key=lambda s: q_by_definition(z, *s))
    found = best_candidate(z)
    assert found is not None
    assert found.index == best[0]
    assert found.qhat == pytest.approx(q_by_definition(z, *best), rel=1e-12)


def test_min_size_keeps_both_sides_that_long():
    z = [0.0] * 10 + [5.0]  # one odd value at the end
    assert best_candidate(z, min_size=1).index == 10
    assert best_candidate(z, min_size=2).index <= 9
    assert best_candidate([1.0, 2.0, 3.0], min_size=2) is None


@pytest.mark.parametrize("seed", range(4))
def test_one_step_is_found_where_it_is(seed):
    z = noisy([(20, 0.0), (10, 0.2)], sd=0.03, seed=seed)
    (cp,) = e_divisive(z, alpha=0.01)  # at 0.05, one series in twenty gets a false one too
    assert cp.index == 20
    assert cp.p_value == pytest.approx(1 / 200)  # no shuffle reached it: (1 + 0) / (199 + 1)


def test_two_steps_both_found():
    z = noisy([(15, 0.0), (12, 0.25), (15, -0.1)], sd=0.03, seed=2)
    assert [c.index for c in e_divisive(z, alpha=0.01)] == [15, 27]


@pytest.mark.parametrize("seed", range(8))
def test_noise_alone_rarely_has_a_change_point(seed):
    # at alpha 0.01 a false change point in 8 series would be a 1-in-12 event
    z = noisy([(60, 0.0)], sd=0.05, seed=100 + seed)
    assert e_divisive(z, alpha=0.01) == []


def test_constant_series_has_none():
    assert e_divisive([1.0] * 30) == []
    assert e_divisive([]) == []
    assert e_divisive([1.0, 2.0, 3.0]) == []


def test_same_seed_same_answer():
    z = noisy([(12, 0.0), (6, 0.08)], sd=0.04, seed=3)
    assert e_divisive(z, seed=7) == e_divisive(z, seed=7)


def test_the_p_value_respects_the_number_of_arrangements():
    # 5 + 5 perfectly separated values: of the 252 ways to choose which five come first, only
    # this one and its mirror image reach this Q, so p cannot be much below 2/252.
    z = [0.0, 0.01, 0.02, 0.0, 0.01, 1.0, 1.01, 1.02, 1.0, 1.01]
    (cp,) = e_divisive(z, permutations=999)
    assert cp.index == 5
    assert 0.003 < cp.p_value < 0.03


def test_early_stop_still_reports_a_p_value_above_alpha():
    z = noisy([(30, 0.0)], sd=0.05, seed=5)
    assert e_divisive(z, alpha=0.05, max_points=None) == []


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"min_size": 0}, "min_size"), ({"alpha": 1.5}, "alpha")]
)
def test_bad_settings_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        e_divisive([0.0, 1.0], **kwargs)
