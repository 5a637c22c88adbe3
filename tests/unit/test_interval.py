"""The confidence interval of a pooled p95's change (perfgate.interval): Student's t, the
linearised per-run influence, and whether the intervals cover the truth as often as they say."""

import math
import random

import pytest

from perfgate.interval import (
    Change,
    at_or_below,
    change,
    log_density,
    nearest_rank,
    side_quantile,
    t_ppf,
    t_sf,
)

# Student's t quantiles from the standard tables (scipy.stats.t.ppf, to 4 decimals).
T_TABLE = [
    (0.95, 1, 6.3138),
    (0.975, 4, 2.7764),
    (0.99, 9, 2.8214),
    (0.999, 14, 3.7874),
    (0.9975, 29, 3.0380),
    (0.995, 120, 2.6174),
    (0.975, 3.5, 2.9401),
]


@pytest.mark.parametrize(("q", "dof", "expected"), T_TABLE)
def test_t_quantiles_match_the_tables(q, dof, expected):
    assert t_ppf(q, dof) == pytest.approx(expected, abs=2e-4)
    assert t_sf(t_ppf(q, dof), dof) == pytest.approx(1 - q, rel=1e-6)
    assert t_ppf(1 - q, dof) == pytest.approx(-expected, abs=2e-4)


def test_t_with_infinite_dof_is_normal():
    assert t_ppf(0.975, math.inf) == pytest.approx(1.95996, abs=1e-4)


def sorted_side(runs):
    return [sorted(r) for r in runs]


def quantile_side(runs):
    runs = sorted_side(runs)
    pooled = sorted(x for r in runs for x in r)
    q = nearest_rank(pooled, 0.95)
    return side_quantile(q, [len(r) for r in runs], at_or_below(runs, q), log_density(pooled))


def test_identical_runs_have_no_spread_between_them():
    run = list(range(1000, 2000))
    side = quantile_side([run] * 5)
    assert all(abs(x) < 1e-12 for x in side.influence)


def test_a_run_that_sits_above_the_pooled_p95_has_a_large_influence():
    rng = random.Random(1)
    runs = [[rng.lognormvariate(10, 0.4) for _ in range(500)] for _ in range(10)]
    runs[4] = [x * 3 for x in runs[4]]  # a disturbed run
    side = quantile_side(runs)
    biggest = max(range(10), key=lambda i: abs(side.influence[i]))
    assert biggest == 4 and side.influence[4] > 0  # it pulls the p95 up
    assert sum(side.influence) == pytest.approx(0, abs=1e-9)


def simulate(rng, n_runs, factor, run_sd, per_run=400):
    """Runs of log-normal requests, each run scaled by its own machine factor."""
    out = []
    for _ in range(n_runs):
        scale = factor * math.exp(rng.gauss(0, run_sd))
        out.append([int(50_000 * scale * rng.lognormvariate(0, 0.5)) for _ in range(per_run)])
    return out


@pytest.mark.parametrize("paired", [False, True])
def test_the_interval_covers_the_true_change_about_as_often_as_it_claims(paired):
    """Runs differ by a machine factor (sd 8%), shared by the two runs of a pair when paired.
    The true p95 ratio is 1.2; a 90% interval must cover it in roughly 90% of 300 checks."""
    rng = random.Random(7)
    covered = 0
    trials = 300
    for _ in range(trials):
        base = simulate(rng, 12, 1.0, 0.08)
        head = simulate(rng, 12, 1.2, 0.08)
        if paired:  # the pair shares its machine factor: apply the same one to both runs
            shared = [math.exp(rng.gauss(0, 0.08)) for _ in range(12)]
            base = [[int(x * s) for x in r] for r, s in zip(base, shared, strict=True)]
            head = [[int(x * s) for x in r] for r, s in zip(head, shared, strict=True)]
        c = change(quantile_side(base), quantile_side(head), paired)
        lo, hi = c.lower(0.05), c.upper(0.05)
        covered += lo < 0.2 < hi
    assert 0.84 * trials <= covered <= 0.96 * trials, covered


def test_pairing_narrows_the_interval_when_pairs_share_the_machine():
    rng = random.Random(3)
    base = simulate(rng, 15, 1.0, 0.0)
    head = simulate(rng, 15, 1.1, 0.0)
    drift = [1 + 0.04 * i for i in range(15)]  # the machine warms up run after run
    base = [[int(x * d) for x in r] for r, d in zip(base, drift, strict=True)]
    head = [[int(x * d) for x in r] for r, d in zip(head, drift, strict=True)]
    unpaired = change(quantile_side(base), quantile_side(head), paired=False)
    paired = change(quantile_side(base), quantile_side(head), paired=True)
    assert paired.log_ratio == unpaired.log_ratio
    assert paired.se < unpaired.se / 2
    assert paired.lower(0.001) > 0.03  # +10% is clear pair by pair


def test_shifting_a_change_adds_variance_and_moves_it():
    rng = random.Random(5)
    c = change(
        quantile_side(simulate(rng, 10, 1, 0.05)),
        quantile_side(simulate(rng, 10, 1.3, 0.05)),
        False,
    )
    s = c.shifted(math.log(1.1), 0.03**2)
    assert s.log_ratio == pytest.approx(c.log_ratio - math.log(1.1))
    assert s.se == pytest.approx(math.sqrt(c.se**2 + 0.03**2))
    assert s.dof > c.dof


def test_a_change_needs_two_runs_a_side():
    one = quantile_side([list(range(1, 200))])
    two = quantile_side([list(range(1, 200))] * 2)
    with pytest.raises(ValueError, match="two runs"):
        change(one, two, paired=False)


def test_bounds_stay_finite_with_two_runs_and_a_tiny_alpha():
    """Two runs a side: t at 1e-6 with one degree of freedom is about 3e5, so the bounds are
    e^±(thousands); they are capped, never inf or an OverflowError, and stay in the report's
    range (--runs 3 judges first after one or two runs)."""
    base = side_quantile(100_000, [100, 100], [99, 91], 20.0)
    head = side_quantile(101_000, [100, 100], [100, 90], 20.0)
    c = change(base, head, paired=True)
    hi, lo = c.upper(1e-6), c.lower(1e-6)
    assert math.isfinite(hi) and math.isfinite(lo) and hi * 100 <= 1e30
    assert hi == pytest.approx(1e6 - 1) and lo > -1
    wide = Change(log_ratio=0.1, se=5.0, dof=1.0)
    assert wide.upper(1e-6) == pytest.approx(1e6 - 1)
    assert wide.lower(1e-6) == pytest.approx(-1.0, abs=1e-5)
    assert Change(log_ratio=0.1, se=0.01, dof=30.0).upper(0.05) < 0.2  # ordinary bounds: as before
