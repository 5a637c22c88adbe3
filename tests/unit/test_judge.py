"""Verdicts from baseline and current statistics: regressions only beyond threshold and noise.

The judge (:mod:`perfgate.judge`) through the judging path (:func:`perfgate.assess.assess`),
with the machine checks off: what is decided before the judge (new, missing, insufficient,
include/exclude, thresholds) and the judge's own rule.
"""

import random

import pytest

from perfgate.assess import Provenance, assess, pair_handlers
from perfgate.config import Config, Target
from perfgate.judge import Rule, common_shift_warning, judge
from perfgate.report import HandlerSummary, Mode, TargetInfo, Verdict
from perfgate.sides import Side, TargetSides
from perfgate.stats import handler_stats

TARGET = Target(name="svc", package=".", run="^TestPerf$", threshold="15%")


def runs(median_p95_us, n_runs=10, per_run=200, spread=0.05, seed=0):
    """Synthetic runs whose p95 sits near ``median_p95_us`` with run-to-run jitter."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_runs):
        scale = median_p95_us * 1000 * (1 + rng.uniform(-spread, spread))
        out.append([int(scale * rng.uniform(0.3, 1.05)) for _ in range(per_run)])
    return handler_stats(out)


def sides(base, cur, target=TARGET) -> TargetSides:
    """Two sides made of statistics alone (no breakdowns, no per-run samples)."""

    def summaries(stats):
        return {name: HandlerSummary(**s.model_dump()) for name, s in stats.items()}

    info = TargetInfo(name=target.name)
    return TargetSides(target, info, Side(summaries(base)), Side(summaries(cur)))


def check(base, cur, target=TARGET, alpha=0.05, mode=Mode.BASELINE, machine_shift="inconclusive"):
    """The judging path on two sides, the machine checks (busy, bystanders) off."""
    config = Config(
        targets=[target], alpha=alpha, machine_shift=machine_shift, machine_check="ignore"
    )
    return assess([sides(base, cur, target)], mode, config, Provenance(created="")).report


def judged(base, cur, target=TARGET, alpha=0.05) -> dict:
    return {r.name: r for r in check(base, cur, target, alpha).handlers}


def shift_warning(base, cur, target=TARGET, alpha=0.05) -> str | None:
    questions = [p.question for p in pair_handlers(sides(base, cur, target), False) if p.question]
    return common_shift_warning(list(zip(questions, judge(questions, Rule(alpha)), strict=True)))


def test_unchanged_passes():
    base = {"GET /a": runs(50, seed=1), "GET /b": runs(80, seed=2)}
    cur = {"GET /a": runs(50, seed=3), "GET /b": runs(80, seed=4)}
    out = judged(base, cur)
    assert {r.verdict for r in out.values()} == {Verdict.PASS}


def test_one_handler_slower_by_a_third_regresses_alone():
    base = {"GET /a": runs(50, seed=1), "GET /b": runs(80, seed=2)}
    cur = {"GET /a": runs(66, seed=3), "GET /b": runs(80, seed=4)}
    out = judged(base, cur)
    assert out["GET /a"].verdict == Verdict.REGRESSED
    assert out["GET /a"].delta_pct > 15
    assert out["GET /a"].p_value < 0.05
    assert "run p95 median" in out["GET /a"].note
    assert out["GET /b"].verdict == Verdict.PASS


def test_big_rise_from_one_disturbed_run_is_noise_not_regression():
    rng = random.Random(7)
    base_runs = [[int(50_000 * rng.uniform(0.3, 1.05)) for _ in range(200)] for _ in range(10)]
    cur_runs = [[int(50_000 * rng.uniform(0.3, 1.05)) for _ in range(200)] for _ in range(10)]
    cur_runs[3] = [x * 4 for x in cur_runs[3]]  # one run on a disturbed machine
    out = judged({"GET /a": handler_stats(base_runs)}, {"GET /a": handler_stats(cur_runs)})
    assert out["GET /a"].delta_pct > 15
    assert out["GET /a"].verdict == Verdict.PASS
    assert "noise" in out["GET /a"].note


def test_too_few_runs_cannot_regress():
    base = {"GET /a": runs(50, n_runs=2, seed=1)}
    cur = {"GET /a": runs(100, n_runs=2, seed=2)}
    out = judged(base, cur)
    assert out["GET /a"].verdict == Verdict.PASS
    assert "too few runs" in out["GET /a"].note


def test_faster_is_improved():
    out = judged({"GET /a": runs(80, seed=1)}, {"GET /a": runs(40, seed=2)})
    assert out["GET /a"].verdict == Verdict.IMPROVED


def test_new_missing_insufficient():
    base = {"GET /old": runs(50, seed=1), "GET /few": runs(50, seed=2)}
    cur = {"GET /new": runs(50, seed=3), "GET /few": runs(50, n_runs=2, per_run=20, seed=4)}
    out = judged(base, cur)
    assert out["GET /new"].verdict == Verdict.NEW
    assert out["GET /old"].verdict == Verdict.MISSING
    assert out["GET /few"].verdict == Verdict.INSUFFICIENT
    assert "40 < 59" in out["GET /few"].note
    assert Verdict.MISSING.fails and not Verdict.NEW.fails and not Verdict.INSUFFICIENT.fails


def test_include_exclude_and_per_handler_threshold():
    target = Target(
        name="svc",
        package=".",
        run="x",
        exclude=["GET /healthz"],
        handler_thresholds={"GET /a*": "60%"},
    )
    base = {"GET /a": runs(50, seed=1), "GET /healthz": runs(5, seed=2)}
    cur = {"GET /a": runs(66, seed=3), "GET /healthz": runs(50, seed=4)}
    out = judged(base, cur, target)
    assert "GET /healthz" not in out
    assert out["GET /a"].threshold_pct == 60
    assert out["GET /a"].verdict == Verdict.PASS


def test_holm_makes_many_handlers_harder_to_flag():
    # With 3 runs a side the best one-sided p is 0.05: never below alpha, whatever the change.
    base = {f"GET /{i}": runs(50, n_runs=3, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs(100, n_runs=3, seed=10 + i) for i in range(4)}
    out = judged(base, cur)
    assert all(r.verdict == Verdict.PASS for r in out.values())
    assert all(r.p_value == pytest.approx(0.2) for r in out.values())


def test_common_shift_warning_when_every_handler_moves_alike():
    base = {f"GET /{i}": runs(50, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs(60, seed=10 + i) for i in range(4)}
    assert "most handlers are slower" in shift_warning(base, cur)
    assert "most handlers are slower" in check(base, cur).warnings[0]
    cur_same = {f"GET /{i}": runs(50, seed=20 + i) for i in range(4)}
    assert shift_warning(base, cur_same) is None


def test_pooled_rise_from_a_few_slow_runs_with_a_small_real_shift_is_not_a_regression():
    """Every run 5% slower (significant, but small) plus two disturbed runs that push the
    pooled p95 far above the threshold: the typical run did not move by the threshold."""
    rng = random.Random(11)
    base_runs = [[int(50_000 * rng.uniform(0.3, 1.0)) for _ in range(200)] for _ in range(10)]
    cur_runs = [[int(52_500 * rng.uniform(0.3, 1.0)) for _ in range(200)] for _ in range(10)]
    for i in (2, 7):
        cur_runs[i] = [x * 3 for x in cur_runs[i]]
    out = judged({"GET /a": handler_stats(base_runs)}, {"GET /a": handler_stats(cur_runs)})
    r = out["GET /a"]
    assert r.delta_pct > 30 and r.p_value < 0.05
    assert r.run_delta_pct < 15
    assert r.verdict == Verdict.PASS
    assert "median run moved" in r.note


def test_a_shift_shared_by_every_handler_is_inconclusive_not_regressed():
    """A slower machine moves every handler alike: nothing fails, every mover is flagged."""
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 1.3, seed=10 + i) for i in range(4)}
    out = judged(base, cur)
    assert {r.verdict for r in out.values()} == {Verdict.INCONCLUSIVE}
    assert all("moved with every handler" in r.note for r in out.values())
    assert not any(r.verdict.fails for r in out.values())


def test_a_regression_on_top_of_a_machine_shift_still_fails():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 1.2, seed=10 + i) for i in range(4)}
    cur["GET /0"] = runs(50 * 1.2 * 1.4, seed=30)  # +40% beyond the shared +20%
    out = judged(base, cur)
    assert out["GET /0"].verdict == Verdict.REGRESSED
    assert "beyond the" in out["GET /0"].note
    assert {out[f"GET /{i}"].verdict for i in (1, 2, 3)} == {Verdict.INCONCLUSIVE}


def test_same_machine_mode_never_discounts_a_shared_shift():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 1.3, seed=10 + i) for i in range(4)}
    results = check(base, cur, mode=Mode.AGAINST).handlers
    assert {r.verdict for r in results} == {Verdict.REGRESSED}
    results = check(base, cur, machine_shift="ignore").handlers
    assert {r.verdict for r in results} == {Verdict.REGRESSED}


def test_one_regressed_handler_is_not_mistaken_for_a_machine_shift():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(3)}
    cur = {f"GET /{i}": runs(50 + 10 * i, seed=10 + i) for i in range(3)}
    cur["GET /1"] = runs(60 * 1.33, seed=40)
    out = judged(base, cur)
    assert out["GET /1"].verdict == Verdict.REGRESSED


def test_two_regressed_handlers_of_four_are_not_a_machine_shift():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs(50 + 10 * i, seed=10 + i) for i in range(4)}
    cur["GET /1"] = runs(60 * 1.5, seed=41)
    cur["GET /2"] = runs(70 * 1.4, seed=42)
    out = judged(base, cur)
    assert out["GET /1"].verdict == Verdict.REGRESSED
    assert out["GET /2"].verdict == Verdict.REGRESSED
    assert shift_warning(base, cur) is None


def drifting(start_us, n_runs=15, drift=0.04, factor=1.0, per_run=200, seed=0):
    """Runs whose p95 drifts up by ``drift`` per run (a machine warming up), times ``factor``."""
    rng = random.Random(seed)
    out = []
    for i in range(n_runs):
        scale = start_us * 1000 * (1 + drift * i) * factor * (1 + rng.uniform(-0.01, 0.01))
        out.append([int(scale * rng.uniform(0.3, 1.05)) for _ in range(per_run)])
    return handler_stats(out)


def test_ab_pairs_take_the_drift_out_of_the_comparison():
    """A/B runs are made in pairs; a steady +15% per pair under a drift of 4% per run is
    overlapped as two samples (Mann-Whitney alone cannot see it) but clear pair by pair."""
    target = Target(name="svc", package=".", run="^TestPerf$", threshold="10%")
    base = {"GET /a": drifting(50, seed=1)}
    cur = {"GET /a": drifting(50, factor=1.15, seed=2)}
    questions = [p.question for p in pair_handlers(sides(base, cur, target), True) if p.question]
    unpaired = judge(questions, Rule(0.001, paired=False))
    paired = check(base, cur, target, 0.001, mode=Mode.AGAINST).handlers
    assert unpaired[0].p_value > 0.01  # the drift swamps it
    assert paired[0].p_value == 2**-15  # every pair moved
    assert paired[0].verdict == Verdict.REGRESSED
    assert "median pair +1" in paired[0].note  # +14–16%: the jitter of ±1% a run


def test_ab_unchanged_pairs_under_drift_pass():
    target = Target(name="svc", package=".", run="^TestPerf$", threshold="10%")
    base = {"GET /a": drifting(50, seed=1), "GET /b": drifting(80, seed=3)}
    cur = {"GET /a": drifting(50, seed=2), "GET /b": drifting(80, seed=4)}
    results = check(base, cur, target, 0.001, mode=Mode.AGAINST).handlers
    assert {r.verdict for r in results} == {Verdict.PASS}
