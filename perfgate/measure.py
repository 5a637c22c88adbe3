"""Measure a target: build its tests once, run them N times under the tracer, read the tasks.

This is the stage that runs things (through :mod:`perfgate.toolchain`); what a run yields is
plain data, :mod:`perfgate.samples`.

Each run is a separate process (the run is the unit the noise test works on). In A/B mode
several source trees are measured in one loop, their runs made in pairs back to back (A B, B A,
A B, …), so slow drift of the machine hits both runs of a pair alike (the verdict compares the
pairs: perfgate.judge).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from perfgate.config import Target
from perfgate.errors import PerfgateError
from perfgate.explain import Spill
from perfgate.report import check_handler_names
from perfgate.samples import Measurement, RunSamples, samples_from_trace
from perfgate.toolchain import (
    Go,
    build_test_binary,
    child_env,
    listed_tests,
    package_dir,
    run_test_binary,
)
from perfgate.trace import read_trace

Progress = Callable[[str], None]

NO_TASKS_HINT = (
    "wrap each handler call in a runtime/trace task named after its route, e.g.\n"
    '    ctx, task := trace.NewTask(r.Context(), pattern) // e.g. "GET /orders/{id}"\n'
    "    defer task.End()\n"
    "    next.ServeHTTP(w, r.WithContext(ctx))\n"
    "(see 'Annotating handlers' in perfgate's README)"
)


class Subject:
    """A source tree whose perf test is built and ready to run."""

    def __init__(
        self,
        go: Go,
        module_dir: Path,
        target: Target,
        scratch: Path,
        label: str,
        env: Mapping[str, str],
    ) -> None:
        self.go = go
        self.target = target
        self.label = label
        self.scratch = scratch
        self.env = child_env(env, target.env)  # no secrets for the code under test
        self.workdir = package_dir(go, module_dir, target.package, self.env)
        self.binary = scratch / f"{target.name}-{label}.test"
        self.spill = Spill()  # the runs' component columns, off the heap
        build_test_binary(go, module_dir, target.package, self.binary, target.go_flags, self.env)

    def tests(self) -> list[str]:
        """The tests of the built binary that the target's ``run`` regex selects."""
        return listed_tests(self.binary, self.workdir, self.target.run, self.env)

    def run_once(self, index: int) -> RunSamples:
        trace_path = self.scratch / f"{self.target.name}-{self.label}-{index}.trace"
        result = run_test_binary(
            self.binary, self.workdir, self.target.run, trace_path, self.env, self.target.timeout
        )
        data = read_trace(trace_path, reader="auto", go=self.go.path, states=True)
        if data.truncated:
            raise PerfgateError(
                f"the trace of run {index + 1} is truncated ({data.truncation_note}): "
                "the perf test crashed or was killed while tracing",
                hint="run the test by hand with 'go test -run …' to see why it stopped",
            )
        samples = samples_from_trace(data, with_components=True, spill=self.spill)
        if data.states is not None:
            samples.running_seconds = data.states.running_ns() / 1e9
        del data  # the trace's columns: gone before the next run
        check_handler_names(list(samples.durations), f"the trace of run {index + 1}")
        samples.seconds = result.seconds
        samples.cpu_seconds = result.cpu_seconds
        samples.foreign_cpu_seconds = result.foreign_cpu_seconds
        samples.cpus = os.cpu_count() or 0
        trace_path.unlink(missing_ok=True)
        return samples


class Runner:
    """The runs of one target so far: its subjects built, their runs made in rounds.

    Round i runs every subject once, back to back (a *pair* in A/B mode), the order reversed on
    every other round (A B, B A, A B, …) so that neither side is always first. :meth:`extend`
    adds rounds, so a check can judge after a few and measure more only when it must.

    A round during which other processes used more than ``max_neighbour_load`` of the machine's
    CPU (:attr:`perfgate.samples.RunSamples.neighbour_load`) is *disturbed*: its runs are
    dropped and the round is made again, up to ``rerun_budget`` times per target. Past that the
    disturbed rounds are kept and :attr:`disturbed_kept` counts them (the machine was busy).
    """

    def __init__(
        self,
        subjects: Sequence[Subject],
        max_neighbour_load: float | None = None,
        rerun_budget: int = 0,
    ) -> None:
        self.subjects = list(subjects)
        self.measurements = [Measurement(label=s.label) for s in self.subjects]
        self.max_neighbour_load = max_neighbour_load
        self.rerun_budget = rerun_budget
        self.reruns = 0  # disturbed rounds dropped and made again
        self.disturbed_kept = 0  # disturbed rounds kept: the budget had run out

    @property
    def rounds(self) -> int:
        return len(self.measurements[0].runs)

    def extend(
        self, rounds: int, most: int | None = None, progress: Progress | None = None
    ) -> None:
        """Make rounds until there are ``rounds`` (``most``: the most this check may make, for
        the progress lines)."""
        while self.rounds < rounds:
            i = self.rounds
            made = self._round(i, rounds, most, progress)
            load = self._disturbance(made)
            if load is not None and self.reruns < self.rerun_budget:
                self.reruns += 1
                for m in self.measurements:
                    m.reruns += 1
                if progress:
                    progress(
                        f"{self.subjects[0].target.name}: run {i + 1} was disturbed (other "
                        f"processes used {load:.0%} of the CPU): measuring it again"
                    )
                continue
            self.disturbed_kept += load is not None
            for m, samples in zip(self.measurements, made, strict=True):
                m.runs.append(samples)
                m.disturbed_kept += load is not None
            if i == 0:
                self._check_tasks()

    def _round(
        self, i: int, rounds: int, most: int | None, progress: Progress | None
    ) -> list[RunSamples]:
        """Run every subject once (in alternating order); the runs in subject order."""
        made: dict[int, RunSamples] = {}
        order = list(enumerate(self.subjects))
        if i % 2:
            order.reverse()
        for k, subject in order:
            samples = made[k] = subject.run_once(i)
            if progress:
                side = f" [{subject.label}]" if len(self.subjects) > 1 else ""
                n = sum(len(v) for v in samples.durations.values())
                of = f"{rounds}" if most in (None, rounds) else f"{rounds} (at most {most})"
                progress(
                    f"{subject.target.name}{side}: run {i + 1}/{of} "
                    f"{samples.seconds:.1f}s, {n} tasks"
                )
        return [made[k] for k in range(len(self.subjects))]

    def _disturbance(self, made: Sequence[RunSamples]) -> float | None:
        """The highest neighbour load of a disturbed round, or None when it was not."""
        if self.max_neighbour_load is None:
            return None
        loads = [s.neighbour_load for s in made if s.neighbour_load is not None]
        worst = max(loads, default=None)
        return worst if worst is not None and worst > self.max_neighbour_load else None

    def _check_tasks(self) -> None:
        for subject, m in zip(self.subjects, self.measurements, strict=True):
            if not any(run.durations for run in m.runs):
                label = "" if len(self.subjects) == 1 else f" ({m.label})"
                raise PerfgateError(
                    f"target {subject.target.name!r}{label}: "
                    f"the trace holds no completed runtime/trace tasks "
                    f"(test {subject.target.run!r} in {subject.target.package})",
                    hint=NO_TASKS_HINT,
                )


def measure(
    subjects: Sequence[Subject],
    runs: int,
    progress: Progress | None = None,
    max_neighbour_load: float | None = None,
) -> list[Measurement]:
    """Run every subject ``runs`` times in rounds (see :class:`Runner`), measuring disturbed
    rounds again (up to ``runs`` times); one Measurement per subject."""
    runner = Runner(subjects, max_neighbour_load, rerun_budget=runs)
    runner.extend(runs, progress=progress)
    return runner.measurements


def stages(most: int, looks: int) -> list[int]:
    """After how many rounds a check looks at its runs: ``looks`` evenly spaced stages up to
    ``most`` (at least two runs at the first: a p95's spread needs two)."""
    out: list[int] = []
    for i in range(1, looks + 1):
        n = min(max(2, math.ceil(most * i / looks)), most)
        if not out or n > out[-1]:
            out.append(n)
    return out


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for test binaries and traces, removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="perfgate-")
