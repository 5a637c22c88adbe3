"""Measure a target: build its tests once, run them N times under the tracer, read the tasks.

This is the stage that runs things (through :mod:`perfgate.toolchain`); what a run yields is
plain data, :mod:`perfgate.samples`.

Each run is a separate process (the run is the unit the noise test works on). In A/B mode
several source trees are measured in one loop, their runs made in pairs back to back (A B, B A,
A B, …), so slow drift of the machine hits both runs of a pair alike (the verdict compares the
pairs: perfgate.judge).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from perfgate.config import Target
from perfgate.errors import PerfgateError
from perfgate.report import check_handler_names
from perfgate.samples import Measurement, RunSamples, samples_from_trace
from perfgate.toolchain import Go, build_test_binary, child_env, package_dir, run_test_binary
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
        build_test_binary(go, module_dir, target.package, self.binary, target.go_flags, self.env)

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
        samples = samples_from_trace(data, with_components=True)
        check_handler_names(list(samples.durations), f"the trace of run {index + 1}")
        samples.seconds = result.seconds
        samples.cpu_seconds = result.cpu_seconds
        if data.states is not None:
            samples.running_seconds = data.states.running_ns() / 1e9
        trace_path.unlink(missing_ok=True)
        return samples


def measure(
    subjects: Sequence[Subject], runs: int, progress: Progress | None = None
) -> list[Measurement]:
    """Run every subject ``runs`` times, alternating between subjects; one Measurement each.

    Run i of every subject is made back to back (a *pair* in A/B mode), the order reversed on
    every other i (A B, B A, A B, …) so that neither side is always first."""
    measurements = [Measurement(label=s.label) for s in subjects]
    for i in range(runs):
        order = list(zip(subjects, measurements, strict=True))
        if i % 2:
            order.reverse()
        for subject, m in order:
            samples = subject.run_once(i)
            m.runs.append(samples)
            if progress:
                side = f" [{subject.label}]" if len(subjects) > 1 else ""
                n = sum(len(v) for v in samples.durations.values())
                progress(
                    f"{subject.target.name}{side}: run {i + 1}/{runs} "
                    f"{samples.seconds:.1f}s, {n} tasks"
                )
    for subject, m in zip(subjects, measurements, strict=True):
        if not any(run.durations for run in m.runs):
            raise PerfgateError(
                f"target {subject.target.name!r}{'' if len(subjects) == 1 else f' ({m.label})'}: "
                f"the trace holds no completed runtime/trace tasks "
                f"(test {subject.target.run!r} in {subject.target.package})",
                hint=NO_TASKS_HINT,
            )
    return measurements


def scratch_dir() -> tempfile.TemporaryDirectory[str]:
    """A temporary directory for test binaries and traces, removed afterwards."""
    return tempfile.TemporaryDirectory(prefix="perfgate-")
