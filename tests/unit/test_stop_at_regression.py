"""A check stops at the look where a handler regressed: the gate fails whatever the others come
to, so it does not make the rest of its runs; handlers not decided by then say so."""

from __future__ import annotations

import random

from perfgate.assess import Provenance
from perfgate.baseline import Machine
from perfgate.config import Config, Target
from perfgate.gate import measure_and_judge
from perfgate.measure import stages
from perfgate.report import Mode, ReportVerdict, Verdict
from perfgate.samples import RunSamples
from perfgate.sides import against

TARGET = Target(name="svc", package=".", run="x", runs=20)
HERE = Machine(cpu="test", gomaxprocs=2)
PAIRS = 20


class Recorded:
    """Stands in for a Subject: runs drawn from fixed per-handler latency models."""

    def __init__(self, label: str, scale: dict[str, float], seed: int) -> None:
        self.target, self.label, self.scale = TARGET, label, scale
        self.rng = random.Random(seed)
        self.made = 0

    def run_once(self, index: int) -> RunSamples:
        self.made += 1
        run_factor = self.rng.lognormvariate(0, 0.15)  # whole runs differ: a noisy handler
        durations = {}
        for name, scale in self.scale.items():
            jitter = run_factor if name == "GET /noisy" else 1.0
            durations[name] = [
                int(scale * jitter * self.rng.lognormvariate(10, 0.3)) for _ in range(400)
            ]
        return RunSamples(durations=durations, incomplete=0, seconds=0.1)


class Source:
    mode = Mode.AGAINST
    against_ref = "main (abc1234)"

    def __init__(self, head_scale: float, seed: int) -> None:
        self.targets = [TARGET]
        self.base = Recorded("base", {"GET /slow": 1.0, "GET /noisy": 1.0}, seed=1)
        self.head = Recorded("head", {"GET /slow": head_scale, "GET /noisy": 1.0}, seed=seed)

    def subjects(self, target):
        return [self.base, self.head]

    def sides(self, target, runner):
        base, head = runner.measurements
        return against(target, base, head, None, HERE)


def check(head_scale: float, seed: int):
    config = Config(targets=[TARGET], looks=3)
    source = Source(head_scale, seed)
    checked = measure_and_judge(source, config, Provenance(created="2026-01-01T00:00:00+00:00"))
    return checked, source


def test_a_clear_regression_stops_the_check_at_the_first_look():
    # (head seed 3: the noisy handler is undecided at the first look, about +1%)
    checked, source = check(1.8, seed=3)
    first = stages(PAIRS, 3)[0]
    assert source.head.made == source.base.made == first < PAIRS
    report = checked.report
    by_name = {h.name: h for h in report.handlers}
    assert by_name["GET /slow"].verdict == Verdict.REGRESSED
    noisy = by_name["GET /noisy"]
    assert noisy.verdict == Verdict.INCONCLUSIVE
    assert noisy.note.startswith("not decided: the check stopped at look 1 of 3 once GET /slow")
    assert report.verdict == ReportVerdict.FAIL
    assert any("stopped at look 1 of 3" in w for w in report.warnings)
    assert checked.undecided == []


def test_an_undecided_handler_past_its_threshold_keeps_the_check_going():
    """It may be the change's real culprit (the regressed one a side effect): measure on."""
    # (head seed 5: the noisy handler is undecided at the first look, about +21%)
    checked, source = check(1.8, seed=5)
    assert source.head.made > stages(PAIRS, 3)[0]
    assert {h.name: h.verdict for h in checked.report.handlers}["GET /slow"] == Verdict.REGRESSED


def test_without_a_regression_the_check_makes_its_runs():
    checked, source = check(1.0, seed=2)
    assert source.head.made == PAIRS  # the noisy handler is decided only at the last look
    assert checked.report.verdict != ReportVerdict.FAIL
    assert not any("stopped at look" in w for w in checked.report.warnings)
