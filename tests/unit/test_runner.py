"""measure.Runner: rounds made in alternating order, runs disturbed by other processes measured
again within a budget, and the stages a check looks at its runs after."""

from __future__ import annotations

from perfgate.config import Target
from perfgate.measure import Runner, stages
from perfgate.samples import RunSamples

TARGET = Target(name="svc", package=".", run="x")


class FakeSubject:
    """Hands out runs whose neighbour load comes from a script (one value per call)."""

    def __init__(self, label: str, loads: list[float], calls: list[str]) -> None:
        self.target, self.label, self.loads, self.calls = TARGET, label, list(loads), calls

    def run_once(self, index: int) -> RunSamples:
        self.calls.append(f"{self.label}{index}")
        load = self.loads.pop(0) if self.loads else 0.0
        return RunSamples(
            durations={"GET /": [1000 + index]},
            incomplete=0,
            seconds=1.0,
            foreign_cpu_seconds=load * 2,
            cpus=2,
        )


def test_rounds_alternate_which_side_runs_first():
    calls: list[str] = []
    runner = Runner([FakeSubject("a", [], calls), FakeSubject("b", [], calls)])
    runner.extend(4)
    assert calls == ["a0", "b0", "b1", "a1", "a2", "b2", "b3", "a3"]
    assert runner.rounds == 4 and runner.reruns == 0


def test_a_disturbed_round_is_made_again_within_the_budget():
    calls: list[str] = []
    # b's second run (round 1) had a busy neighbour: the whole round (the pair) is made again.
    a, b = FakeSubject("a", [0, 0, 0], calls), FakeSubject("b", [0, 0.4, 0], calls)
    runner = Runner([a, b], max_neighbour_load=0.15, rerun_budget=3)
    runner.extend(2)
    assert calls == ["a0", "b0", "b1", "a1", "b1", "a1"]
    assert runner.reruns == 1 and runner.disturbed_kept == 0
    assert [m.reruns for m in runner.measurements] == [1, 1]
    assert all(len(m.runs) == 2 for m in runner.measurements)
    assert all(r.neighbour_load == 0 for m in runner.measurements for r in m.runs)


def test_past_the_budget_disturbed_rounds_are_kept_and_counted():
    calls: list[str] = []
    runner = Runner([FakeSubject("a", [0.5] * 10, calls)], max_neighbour_load=0.15, rerun_budget=2)
    runner.extend(3)
    assert runner.reruns == 2 and runner.disturbed_kept == 3
    assert runner.measurements[0].disturbed_kept == 3 and len(calls) == 5


def test_without_a_limit_nothing_is_measured_again():
    calls: list[str] = []
    runner = Runner([FakeSubject("a", [0.9] * 3, calls)])
    runner.extend(3)
    assert runner.reruns == 0 and runner.disturbed_kept == 0 and len(calls) == 3


def test_stages():
    assert stages(15, 3) == [5, 10, 15]
    assert stages(20, 3) == [7, 14, 20]
    assert stages(5, 1) == [5]
    assert stages(3, 3) == [2, 3]  # at least two runs before the first look
    assert stages(1, 3) == [1]
