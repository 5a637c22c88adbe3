"""perfgate's E-Divisive against Apache Otava's (``apache-otava``, a test-only dependency), on the
same series: the energy statistic and its best split must agree to rounding, and the change
points found must be the same.

Otava's ``compute_change_points_orig`` is the same algorithm (E-Divisive means, permutation
test); its ``compute_change_points`` is Hunter's variant (sliding windows, a t-test, a merge
step), what Otava reports by default. perfgate is run with Otava's settings here
(``min_size=1``); its own default keeps two commits on each side of a change.
"""

from __future__ import annotations

import math
import random

import pytest

from perfgate.history.changepoints import best_candidate, e_divisive

np = pytest.importorskip("numpy")
pytest.importorskip("otava", reason="apache-otava is in the 'test' extra")
from otava.analysis import compute_change_points, compute_change_points_orig  # noqa: E402
from otava.change_point_divisive.calculator import PairDistanceCalculator  # noqa: E402


def series(pieces: list[tuple[int, float]], sd: float, seed: int, tail: float = 0.0) -> list[float]:
    """log p95 per commit: pieces of (commits, relative level), Gaussian noise of ``sd`` and,
    with ``tail``, that share of commits hit by a busy machine (+5 sd)."""
    rng = random.Random(seed)
    out = []
    for count, level in pieces:
        for _ in range(count):
            busy = 5 * sd if rng.random() < tail else 0.0
            out.append(math.log(level) + rng.gauss(0, sd) + busy)
    return out


@pytest.mark.parametrize("seed", range(40))
def test_the_statistic_and_best_split_equal_otavas(seed):
    rng = random.Random(seed)
    n = rng.randrange(3, 90)
    z = series([(n // 2, 1.0), (n - n // 2, rng.choice([1.0, 1.1, 1.3]))], 0.05, seed)
    theirs = PairDistanceCalculator(np.array(z)).get_candidate_change_point(slice(None, None))
    ours = best_candidate(z)
    assert ours is not None
    assert ours.index == theirs.index
    assert ours.qhat == pytest.approx(float(theirs.qhat), rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(10))
def test_within_a_stretch_too(seed):
    """The recursive search asks for the best split of a stretch z[a:b] of a longer series."""
    rng = random.Random(seed)
    z = series([(20, 1.0), (15, 1.2), (20, 0.9)], 0.04, seed)
    a = rng.randrange(0, len(z) - 3)
    b = rng.randrange(a + 3, len(z) + 1)
    calc = PairDistanceCalculator(np.array(z))
    theirs = calc.get_candidate_change_point(slice(a, b))
    ours = best_candidate(z[a:b])
    assert ours is not None
    assert ours.index + a == theirs.index
    assert ours.qhat == pytest.approx(float(theirs.qhat), rel=1e-9, abs=1e-12)


SIMULATED = {
    "one step up": ([(30, 1.0), (10, 1.15)], 0.03, 0.0),
    "one step down": ([(25, 1.0), (15, 0.85)], 0.03, 0.0),
    "two steps": ([(20, 1.0), (15, 1.2), (20, 1.05)], 0.03, 0.0),
    "step with busy commits": ([(30, 1.0), (15, 1.25)], 0.03, 0.05),
    "large step, noisier": ([(20, 1.0), (20, 1.5)], 0.08, 0.0),
    "unchanged": ([(50, 1.0)], 0.03, 0.0),
    "unchanged, busy commits": ([(50, 1.0)], 0.03, 0.05),
}


@pytest.mark.parametrize("name", sorted(SIMULATED))
@pytest.mark.parametrize("seed", range(3))
def test_the_same_change_points_as_otava(name, seed):
    pieces, sd, tail = SIMULATED[name]
    z = series(pieces, sd, seed, tail)
    ours = [c.index for c in e_divisive(z, alpha=0.01, min_size=1, permutations=199, seed=seed)]
    orig, _ = compute_change_points_orig(z, max_pvalue=0.01, seed=seed)
    hunter, _ = compute_change_points(z, window_len=50, max_pvalue=0.001)
    assert ours == sorted(int(c.index) for c in orig)
    steps = [sum(c for c, _ in pieces[: i + 1]) for i in range(len(pieces) - 1)]
    assert len(ours) == len(steps)
    assert all(abs(o - s) <= 1 for o, s in zip(ours, steps, strict=True))
    theirs = sorted(int(c.index) for c in hunter)  # a t-test may place one a commit away
    assert len(theirs) == len(ours)
    assert all(abs(t - o) <= 1 for t, o in zip(theirs, ours, strict=True))
