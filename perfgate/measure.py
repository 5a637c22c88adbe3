"""Measure a target: build its tests once, run them N times under the tracer, read the tasks.

Each run is a separate process (the run is the unit the noise test works on). In A/B mode
several source trees are measured in one loop, their runs made in pairs back to back (A B, B A,
A B, …), so slow drift of the machine hits both runs of a pair alike (the verdict compares the
pairs: perfgate.verdict).
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfgate.config import Target
from perfgate.errors import PerfgateError
from perfgate.explain import Breakdown, RunComponents, run_components, summarize
from perfgate.report import HandlerStats
from perfgate.stats import handler_stats
from perfgate.toolchain import Go, build_test_binary, package_dir, run_test_binary
from perfgate.trace import TraceData, read_trace

Progress = Callable[[str], None]

NO_TASKS_HINT = (
    "wrap each handler call in a runtime/trace task named after its route, e.g.\n"
    '    ctx, task := trace.NewTask(r.Context(), pattern) // e.g. "GET /orders/{id}"\n'
    "    defer task.End()\n"
    "    next.ServeHTTP(w, r.WithContext(ctx))\n"
    "(see 'Annotating handlers' in perfgate's README)"
)


@dataclass
class RunSamples:
    """One run's task durations per handler (ns), plus how many tasks were incomplete.

    ``components`` (filled by :meth:`Subject.run_once`) splits each handler's tasks into regions
    and time outside regions, for explaining a change (see :mod:`perfgate.explain`).
    """

    durations: dict[str, list[int]]
    incomplete: int
    seconds: float
    components: dict[str, RunComponents] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # CPU time the OS gave the test process
    running_seconds: float = 0.0  # time its goroutines were running, by the trace

    @property
    def cpu_share(self) -> float | None:
        """CPU time received per second of goroutine running time (None: not measured).

        About 1 on a quiet machine (a little more: the runtime's own threads spin and work
        outside goroutines). When the OS hands the CPUs to other processes, a goroutine stays
        "running" in the trace while its thread waits for a CPU, and this falls: 0.45 with
        three CPU-bound processes competing on two cores.
        """
        if self.cpu_seconds <= 0 or self.running_seconds <= 0:
            return None
        return self.cpu_seconds / self.running_seconds


def samples_from_trace(data: TraceData, with_components: bool = False) -> RunSamples:
    """Group the complete tasks of one trace by type name (and split them into components)."""
    durations: dict[str, list[int]] = defaultdict(list)
    for task in data.tasks:
        d = task.duration_ns
        if d is not None and task.name:
            durations[task.name].append(d)
    return RunSamples(
        durations=dict(durations),
        incomplete=data.incomplete_tasks,
        seconds=0.0,
        components=run_components(data) if with_components else {},
    )


@dataclass
class Measurement:
    """All runs of one target on one source tree."""

    label: str
    runs: list[RunSamples] = field(default_factory=list)

    def handler_stats(self) -> dict[str, HandlerStats]:
        """Pooled and per-run statistics for every handler seen in any run."""
        names = sorted({name for run in self.runs for name in run.durations})
        return {
            name: handler_stats([run.durations.get(name, []) for run in self.runs])
            for name in names
        }

    @property
    def incomplete_tasks(self) -> int:
        return sum(r.incomplete for r in self.runs)

    def cpu_shares(self) -> list[float]:
        """Each run's CPU share (see :attr:`RunSamples.cpu_share`), where measured."""
        return [round(s, 3) for s in (r.cpu_share for r in self.runs) if s is not None]

    def sorted_samples(self) -> dict[str, list[int]]:
        """Every handler's pooled durations, sorted (for the baseline's sketch)."""
        pooled: dict[str, list[int]] = defaultdict(list)
        for run in self.runs:
            for name, values in run.durations.items():
                pooled[name].extend(values)
        return {name: sorted(v) for name, v in pooled.items()}

    def breakdowns(self) -> dict[str, Breakdown]:
        """Every handler's breakdown (p95 window and overall), all runs pooled."""
        names = sorted({name for run in self.runs for name in run.components})
        out = {}
        for name in names:
            b = summarize([run.components[name] for run in self.runs if name in run.components])
            if b is not None:
                out[name] = b
        return out


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
        self.target = target
        self.label = label
        self.scratch = scratch
        self.env = {**env, **target.env}
        self.workdir = package_dir(go, module_dir, target.package, self.env)
        self.binary = scratch / f"{target.name}-{label}.test"
        build_test_binary(go, module_dir, target.package, self.binary, target.go_flags, self.env)

    def run_once(self, index: int) -> RunSamples:
        trace_path = self.scratch / f"{self.target.name}-{self.label}-{index}.trace"
        result = run_test_binary(
            self.binary, self.workdir, self.target.run, trace_path, self.env, self.target.timeout
        )
        data = read_trace(trace_path, reader="auto", states=True)
        if data.truncated:
            raise PerfgateError(
                f"the trace of run {index + 1} is truncated ({data.truncation_note}): "
                "the perf test crashed or was killed while tracing",
                hint="run the test by hand with 'go test -run …' to see why it stopped",
            )
        samples = samples_from_trace(data, with_components=True)
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
