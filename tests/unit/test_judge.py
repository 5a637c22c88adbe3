"""Verdicts from baseline and current statistics: regressions only beyond threshold and noise.

The rule: the pooled p95 rose by more than the threshold and its confidence interval (between
runs; paired in A/B mode) lies above zero; a rise beyond the threshold within noise, or an
interval too wide to tell, is inconclusive; against a committed baseline, a shift shared by a
target's handlers is taken out.

The judge (:mod:`perfgate.judge`) through the judging path (:func:`perfgate.assess.assess`),
with the machine checks off: what is decided before the judge (new, missing, insufficient,
include/exclude, thresholds) and the judge's own rule.
"""

import random
import re

import pytest

from perfgate.assess import Look, Provenance, assess, pair_handlers
from perfgate.config import Config, Target
from perfgate.judge import Rule, judge
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


def check(
    base,
    cur,
    target=TARGET,
    alpha=0.05,
    mode=Mode.BASELINE,
    machine_shift="adjust",
    drift=0,
    look=None,
):
    """The judging path on two sides, the machine checks (busy, bystanders) off."""
    config = Config(
        targets=[target],
        alpha=alpha,
        machine_shift=machine_shift,
        machine_check="ignore",
        drift=drift,
    )
    return assess([sides(base, cur, target)], mode, config, Provenance(created=""), look or Look())


def judged(base, cur, target=TARGET, alpha=0.05, **kw) -> dict:
    return {r.name: r for r in check(base, cur, target, alpha, **kw).report.handlers}


def test_unchanged_passes():
    base = {"GET /a": runs(50, seed=1), "GET /b": runs(80, seed=2)}
    cur = {"GET /a": runs(50, seed=3), "GET /b": runs(80, seed=4)}
    out = judged(base, cur)
    assert {r.verdict for r in out.values()} == {Verdict.PASS}
    assert all(r.note.startswith("within ±15%") for r in out.values())


def test_one_handler_slower_by_a_third_regresses_alone():
    base = {"GET /a": runs(50, seed=1), "GET /b": runs(80, seed=2)}
    cur = {"GET /a": runs(66, seed=3), "GET /b": runs(80, seed=4)}
    out = judged(base, cur)
    a = out["GET /a"]
    assert a.verdict == Verdict.REGRESSED
    assert a.delta_pct > 15
    assert a.p_value < 0.05
    assert "run p95 median" in a.note and "beyond noise" in a.note
    lo, hi = a.delta_ci_pct
    assert 0 < lo < a.delta_pct < hi  # the interval the verdict rests on, around the change
    assert out["GET /b"].verdict == Verdict.PASS


def test_every_judged_handler_carries_its_interval():
    base = {"GET /a": runs(50, seed=1), "GET /b": runs(80, seed=2)}
    cur = {"GET /a": runs(52, seed=3), "GET /b": runs(60, seed=4)}
    for r in judged(base, cur).values():
        lo, hi = r.delta_ci_pct
        assert lo < r.delta_pct < hi


def test_a_rise_from_one_disturbed_run_is_inconclusive_never_a_regression_or_a_pass():
    rng = random.Random(7)
    base_runs = [[int(50_000 * rng.uniform(0.3, 1.05)) for _ in range(200)] for _ in range(10)]
    cur_runs = [[int(50_000 * rng.uniform(0.3, 1.05)) for _ in range(200)] for _ in range(10)]
    cur_runs[3] = [x * 4 for x in cur_runs[3]]  # one run on a disturbed machine
    out = judged({"GET /a": handler_stats(base_runs)}, {"GET /a": handler_stats(cur_runs)})
    r = out["GET /a"]
    assert r.delta_pct > 15
    assert r.delta_ci_pct[0] < 0  # the interval says: could be nothing
    assert r.verdict == Verdict.INCONCLUSIVE
    assert "within run-to-run noise" in r.note


def test_too_few_runs_cannot_regress():
    base = {"GET /a": runs(50, n_runs=2, seed=1)}
    cur = {"GET /a": runs(58, n_runs=2, seed=2)}
    r = judged(base, cur)["GET /a"]
    assert r.verdict == Verdict.INCONCLUSIVE  # two runs a side: far too wide to tell


def test_an_interval_too_wide_to_see_a_threshold_sized_rise_says_so():
    """Unchanged on average, but runs that disagree by ±60%: the gate cannot have seen a 15%
    rise. It passes (nothing says slower) but not silently: the note and a warning say so, and
    how many runs would tell."""
    base = {"GET /a": runs(50, n_runs=6, spread=0.6, seed=1)}
    cur = {"GET /a": runs(50, n_runs=6, spread=0.6, seed=2)}
    checked = check(base, cur, TARGET, 0.05)
    r = checked.report.handlers[0]
    assert abs(r.delta_pct) < 15
    assert r.verdict == Verdict.PASS
    assert "too noisy to tell a 15% rise from none" in r.note
    need = int(r.note.split("about ")[1].split()[0])
    assert need > 6  # more runs than it had
    assert any("too noisy" in w and "GET /a" in w for w in checked.report.warnings)


def test_a_narrow_pass_carries_no_noise_warning():
    checked = check({"GET /a": runs(50, seed=1)}, {"GET /a": runs(50, seed=3)}, TARGET, 0.05)
    assert checked.report.handlers[0].verdict == Verdict.PASS
    assert not any("too noisy" in w for w in checked.report.warnings)


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


def test_more_handlers_judged_make_each_harder_to_flag():
    """The false-alarm rate is for the whole check: each handler's bound is taken at alpha/k."""
    one = judged({"GET /0": runs(50, seed=1)}, {"GET /0": runs(54, seed=11)})["GET /0"]
    base = {f"GET /{i}": runs(50, seed=1 + i) for i in range(8)}
    cur = {f"GET /{i}": runs(50 + 4 * (i == 0), seed=11 + i) for i in range(8)}
    many = judged(base, cur)["GET /0"]
    assert many.p_value == pytest.approx(min(1.0, one.p_value * 8), rel=1e-6)
    assert many.delta_ci_pct[0] < one.delta_ci_pct[0]


def test_before_the_last_look_an_unclear_handler_is_undecided_and_a_clear_one_decided():
    base = {"GET /a": runs(50, seed=1), "GET /b": runs(80, seed=2), "GET /c": runs(30, seed=5)}
    cur = {"GET /a": runs(90, seed=3), "GET /b": runs(80, seed=4), "GET /c": runs(34, seed=6)}
    checked = check(base, cur, alpha=0.01, look=Look(1, 3))
    verdicts = {r.name: r.verdict for r in checked.report.handlers}
    assert verdicts["GET /a"] == Verdict.REGRESSED  # +80%: clear at the first look
    assert verdicts["GET /b"] == Verdict.PASS  # unchanged and tight: clear too
    assert checked.undecided == ["svc: GET /c"]  # +13% against a 15% threshold: measure more
    # The early pass says what it was decided by: its 95% upper bound, below the threshold.
    b = next(r for r in checked.report.handlers if r.name == "GET /b")
    bound = re.search(r"decided early: a rise of at most ([+-]\d+)% \(95% upper bound; ", b.note)
    assert bound is not None and int(bound.group(1)) < 15, b.note
    final = check(base, cur, alpha=0.01, look=Look(3, 3))
    assert final.undecided == []
    assert all("decided early" not in r.note for r in final.report.handlers)


def test_a_shift_shared_by_every_handler_is_taken_out():
    """A slower machine moves every handler alike: each is judged beyond the shared shift, and
    a warning says so."""
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 1.3, seed=10 + i) for i in range(4)}
    checked = check(base, cur)
    assert {r.verdict for r in checked.report.handlers} == {Verdict.PASS}
    assert all(r.shift_pct == pytest.approx(30, abs=5) for r in checked.report.handlers)
    assert "most handlers are slower" in checked.report.warnings[0]
    faster = {f"GET /{i}": runs((50 + 10 * i) * 0.75, seed=20 + i) for i in range(4)}
    checked = check(base, faster)  # in both directions
    assert {r.verdict for r in checked.report.handlers} == {Verdict.PASS}
    assert "most handlers are faster" in checked.report.warnings[0]


def test_a_regression_on_top_of_a_machine_shift_still_fails():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 1.2, seed=10 + i) for i in range(4)}
    cur["GET /0"] = runs(50 * 1.2 * 1.4, seed=30)  # +40% beyond the shared +20%
    out = judged(base, cur)
    assert out["GET /0"].verdict == Verdict.REGRESSED
    assert "beyond the +20% all handlers share" in out["GET /0"].note
    assert {out[f"GET /{i}"].verdict for i in (1, 2, 3)} == {Verdict.PASS}


def test_a_regression_hidden_by_a_faster_machine_is_found():
    """Every other handler 10% faster, one 'unchanged' at +9%: beyond the shift it rose ~20%."""
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 0.9, seed=10 + i) for i in range(4)}
    cur["GET /3"] = runs(80 * 1.09, seed=33)
    out = judged(base, cur)
    assert out["GET /3"].delta_pct < 15
    assert out["GET /3"].verdict == Verdict.REGRESSED


def test_same_machine_mode_and_ignore_never_take_out_a_shared_shift():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs((50 + 10 * i) * 1.3, seed=10 + i) for i in range(4)}
    results = check(base, cur, mode=Mode.AGAINST).report.handlers
    assert {r.verdict for r in results} == {Verdict.REGRESSED}
    results = check(base, cur, machine_shift="ignore").report.handlers
    assert {r.verdict for r in results} == {Verdict.REGRESSED}


def test_one_regressed_handler_is_not_mistaken_for_a_machine_shift():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(3)}
    cur = {f"GET /{i}": runs(50 + 10 * i, seed=10 + i) for i in range(3)}
    cur["GET /1"] = runs(60 * 1.33, seed=40)
    out = judged(base, cur)
    assert out["GET /1"].verdict == Verdict.REGRESSED
    assert out["GET /1"].shift_pct is None


def test_two_regressed_handlers_of_four_are_not_a_machine_shift():
    base = {f"GET /{i}": runs(50 + 10 * i, seed=i) for i in range(4)}
    cur = {f"GET /{i}": runs(50 + 10 * i, seed=10 + i) for i in range(4)}
    cur["GET /1"] = runs(60 * 1.5, seed=41)
    cur["GET /2"] = runs(70 * 1.4, seed=42)
    checked = check(base, cur)
    out = {r.name: r for r in checked.report.handlers}
    assert out["GET /1"].verdict == Verdict.REGRESSED
    assert out["GET /2"].verdict == Verdict.REGRESSED
    assert checked.report.warnings == []


def test_drift_between_sessions_widens_the_committed_interval():
    base = {"GET /a": runs(50, seed=1)}
    cur = {"GET /a": runs(58, seed=3)}
    tight = judged(base, cur)["GET /a"]
    loose = judged(base, cur, drift="10%")["GET /a"]
    assert loose.delta_ci_pct[0] < tight.delta_ci_pct[0] - 5
    assert loose.delta_ci_pct[1] > tight.delta_ci_pct[1] + 5


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
    swamped when the runs are taken as two independent samples, but clear pair by pair."""
    target = Target(name="svc", package=".", run="^TestPerf$", threshold="10%")
    base = {"GET /a": drifting(50, seed=1)}
    cur = {"GET /a": drifting(50, factor=1.15, seed=2)}
    questions = [p.question for p in pair_handlers(sides(base, cur, target), True) if p.question]
    unpaired = judge(questions, Rule(0.001, paired=False))
    paired = check(base, cur, target, 0.001, mode=Mode.AGAINST).report.handlers
    assert unpaired[0].verdict != Verdict.REGRESSED  # the drift swamps it
    assert paired[0].verdict == Verdict.REGRESSED
    assert paired[0].delta_ci_pct[0] > 5
    assert 13.5 <= paired[0].run_delta_pct <= 16.5  # the median pair: +15%, ±1% jitter


def test_ab_unchanged_pairs_under_drift_pass():
    target = Target(name="svc", package=".", run="^TestPerf$", threshold="10%")
    base = {"GET /a": drifting(50, seed=1), "GET /b": drifting(80, seed=3)}
    cur = {"GET /a": drifting(50, seed=2), "GET /b": drifting(80, seed=4)}
    results = check(base, cur, target, 0.001, mode=Mode.AGAINST).report.handlers
    assert {r.verdict for r in results} == {Verdict.PASS}


def _cliff_run(rng, tail_share, n=400):
    """A run whose p95 sits at the edge of a long tail: most requests 9–11 µs, a share of them
    40–100 µs."""
    return [
        int(1000 * (rng.uniform(9, 11) if rng.random() > tail_share else rng.uniform(40, 100)))
        for _ in range(n)
    ]


def test_a_few_runs_tails_past_a_cliff_are_not_a_regression_of_the_typical_run():
    """Committed mode: three runs of fifteen whose tails reach past the p95's cliff move the
    pooled p95 fourfold while every other run is unchanged (seen on real checks of unchanged
    µs handlers): beyond noise by the interval, but not a regression — inconclusive, and the
    note says why."""
    rng = random.Random(7)
    base = handler_stats([_cliff_run(rng, 0.04) for _ in range(30)])
    cur = handler_stats([_cliff_run(rng, 0.3 if i < 3 else 0.04) for i in range(15)])
    out = judged({"GET /a": base}, {"GET /a": cur})["GET /a"]
    assert out.delta_pct > 100 and out.delta_ci_pct[0] > 0  # the interval alone would fail it
    assert abs(out.run_delta_pct) < 2
    assert out.verdict == Verdict.INCONCLUSIVE
    assert "the typical run's p95 moved +0%: a few runs' tails made the change" in out.note


def test_a_tail_that_grew_in_every_run_is_a_regression():
    rng = random.Random(7)
    base = handler_stats([_cliff_run(rng, 0.04) for _ in range(30)])
    cur = handler_stats([_cliff_run(rng, 0.08) for _ in range(15)])
    out = judged({"GET /a": base}, {"GET /a": cur})["GET /a"]
    assert out.run_delta_pct > 100
    assert out.verdict == Verdict.REGRESSED
