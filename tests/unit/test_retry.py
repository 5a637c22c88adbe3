"""How a check measures again after an inconclusive outcome (perfgate.gate.check): in A/B mode
after run-to-run noise, as many pairs again judged with the first; after a busy machine, or
against a committed baseline, from scratch (the new runs alone decide); a decided check is not
measured again; a committed-mode failure says how to confirm it."""

from __future__ import annotations

import random

from perfgate.baseline import Machine, build_baseline
from perfgate.config import Config, Target
from perfgate.gate import check
from perfgate.report import Mode, ReportVerdict
from perfgate.samples import Measurement, RunSamples
from perfgate.sides import against, committed

TARGET = Target(name="svc", package=".", run="x", runs=12)
HERE = Machine(cpu="test", gomaxprocs=2)
PAIRS = 12


class Recorded:
    """Stands in for a Subject: ``GET /noisy`` varies a lot from run to run; ``cpu_share``
    is what every run reports (below the base's: other processes had the CPUs)."""

    def __init__(self, label: str, scale: float, seed: int, cpu_share: float = 1.0) -> None:
        self.target, self.label, self.scale, self.cpu_share = TARGET, label, scale, cpu_share
        self.rng = random.Random(seed)
        self.made = 0

    def run_once(self, index: int) -> RunSamples:
        self.made += 1
        run_factor = self.rng.lognormvariate(0, 0.25)
        durations = {
            "GET /noisy": [
                int(self.scale * run_factor * self.rng.lognormvariate(10, 0.3)) for _ in range(300)
            ]
        }
        return RunSamples(
            durations=durations,
            incomplete=0,
            seconds=0.1,
            cpu_seconds=self.cpu_share,
            running_seconds=1.0,
        )


class Source:
    mode = Mode.AGAINST
    against_ref = "main (abc1234)"

    def __init__(self, seed: int, cpu_share: float = 1.0) -> None:
        self.targets = [TARGET]
        self.base = Recorded("base", 1.0, seed=1)
        self.head = Recorded("head", 1.15, seed=seed, cpu_share=cpu_share)

    def subjects(self, target):
        return [self.base, self.head]

    def sides(self, target, runner):
        base, head = runner.measurements
        return against(target, base, head, None, HERE)


def run(seed: int, retries: int, cpu_share: float = 1.0):
    source = Source(seed, cpu_share)
    config = Config(targets=[TARGET], looks=1, retries=retries)
    return check(source, config, None), source


# A head 15% slower, within this handler's run-to-run noise at 12 pairs: the first
# measurement is inconclusive (checked below, so a change to the stand-in shows).
SEED = 3


def test_ab_after_run_to_run_noise_the_pairs_made_are_kept_and_as_many_added():
    first, _ = run(SEED, retries=0)
    assert first.report.verdict == ReportVerdict.INCONCLUSIVE
    (h,) = first.report.handlers
    assert "within run-to-run noise" in h.note and not h.busy_machine
    assert len(h.current.run_counts) == PAIRS

    checked, source = run(SEED, retries=1)
    assert source.head.made == source.base.made == 2 * PAIRS
    (h,) = checked.report.handlers
    # every pair judged together, the first measurement's too
    assert len(h.current.run_counts) == len(h.baseline.run_counts) == 2 * PAIRS
    assert h.current.count == 2 * PAIRS * 300
    assert any(
        "measured 2 times" in w and "(run-to-run noise)" in w and "every pair since" in w
        for w in checked.report.warnings
    ), checked.report.warnings


def test_committed_after_run_to_run_noise_the_check_measures_again_from_scratch():
    config = Config(targets=[TARGET], looks=1, retries=0)
    first = check(Committed(seed=3), config, None)
    assert first.report.verdict == ReportVerdict.INCONCLUSIVE
    assert "within run-to-run noise" in first.report.handlers[0].note

    source = Committed(seed=3)
    checked = check(source, config.model_copy(update={"retries": 1}), None)
    assert source.head.made == 2 * PAIRS
    (h,) = checked.report.handlers
    # the baseline's runs do not grow: the second measurement alone decides
    assert len(h.current.run_counts) == PAIRS
    assert any(
        "(run-to-run noise)" in w and "the last one decides" in w for w in checked.report.warnings
    ), checked.report.warnings


def test_after_a_busy_machine_the_check_measures_again_from_scratch():
    first, _ = run(SEED, retries=0, cpu_share=0.3)
    assert first.report.verdict == ReportVerdict.INCONCLUSIVE
    assert first.report.handlers[0].busy_machine

    checked, source = run(SEED, retries=1, cpu_share=0.3)
    assert source.head.made == source.base.made == 2 * PAIRS
    (h,) = checked.report.handlers
    assert len(h.current.run_counts) == len(h.baseline.run_counts) == PAIRS
    assert any(
        "(a busy machine)" in w and "the last one decides" in w for w in checked.report.warnings
    ), checked.report.warnings


def test_a_decided_check_is_not_measured_again():
    checked, source = run(2, retries=1)  # seed 2: +49%, beyond noise
    assert checked.report.verdict == ReportVerdict.FAIL
    assert source.head.made == PAIRS
    assert not any("measured" in w for w in checked.report.warnings)


def test_without_retries_nothing_is_measured_again():
    checked, source = run(SEED, retries=0)
    assert checked.report.verdict == ReportVerdict.INCONCLUSIVE
    assert source.head.made == PAIRS
    assert not any("measured" in w for w in checked.report.warnings)


class Committed:
    """Committed-baseline mode: a baseline made from the base's runs at COMMIT, and the head."""

    mode = Mode.BASELINE
    against_ref = None

    def __init__(self, seed: int) -> None:
        self.targets = [TARGET]
        base = Recorded("base", 1.0, seed=1)
        runs = Measurement(label="baseline", runs=[base.run_once(i) for i in range(2 * PAIRS)])
        self.baseline = build_baseline(TARGET, runs, HERE, COMMIT, "main", "2026-01-01T00:00:00Z")
        self.head = Recorded("head", 1.15, seed=seed)

    def subjects(self, target):
        return [self.head]

    def sides(self, target, runner):
        return committed(target, self.baseline, runner.measurements[0], HERE)


COMMIT = "0123456789abcdef0123456789abcdef01234567"


def test_a_failure_against_a_committed_baseline_says_how_to_confirm_it_on_this_machine():
    checked = check(Committed(seed=2), Config(targets=[TARGET], looks=1, retries=0), None)
    assert checked.report.verdict == ReportVerdict.FAIL
    hints = [w for w in checked.report.warnings if "to confirm on this machine" in w]
    assert hints == [hints[0]] and hints[0].endswith("perfgate check --against 0123456789ab")
    # A/B mode measured on this machine already: no such hint
    ab, _ = run(2, retries=0)
    assert ab.report.verdict == ReportVerdict.FAIL
    assert not any("to confirm" in w for w in ab.report.warnings)
