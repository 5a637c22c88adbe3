"""What measuring yields: each run's request durations per handler, their breakdown into
components, and the CPU share — plain data, and the per-handler summaries made from it.

A :class:`Measurement` is all runs of one target on one source tree; the run is the unit the
noise test works on, so the runs are kept apart. Pure: :mod:`perfgate.measure` fills it.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import chain

from perfgate.explain import RunComponents, Spill, run_components, summarize
from perfgate.report import Breakdown, HandlerStats, HandlerSummary
from perfgate.stats import handler_stats, sketch
from perfgate.trace import TraceData


@dataclass
class RunSamples:
    """One run's task durations per handler (ns), plus how many tasks were incomplete.

    ``components`` (filled by :meth:`perfgate.measure.Subject.run_once`) splits each handler's
    tasks into regions and time outside regions, for explaining a change (see
    :mod:`perfgate.explain`).
    """

    durations: dict[str, Sequence[int]]  # lists, or arrays of int64 when measured
    incomplete: int
    seconds: float
    components: dict[str, RunComponents] = field(default_factory=dict)
    cpu_seconds: float = 0.0  # CPU time the OS gave the test process
    running_seconds: float = 0.0  # time its goroutines were running, by the trace
    foreign_cpu_seconds: float | None = None  # CPU time other processes used meanwhile
    cpus: int = 0  # CPUs of the machine

    @property
    def neighbour_load(self) -> float | None:
        """The share of the machine's CPU capacity other processes used during the run (None:
        not measured): about 0 on a quiet machine; 0.375 with another process busy 150 ms of
        every 200 ms on 2 CPUs."""
        if self.foreign_cpu_seconds is None or self.seconds <= 0 or self.cpus <= 0:
            return None
        return self.foreign_cpu_seconds / (self.seconds * self.cpus)

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


def samples_from_trace(
    data: TraceData, with_components: bool = False, spill: Spill | None = None
) -> RunSamples:
    """Group the complete tasks of one trace by type name (and split them into components,
    their columns moved to ``spill`` when given). Durations are kept as 8-byte arrays (one
    array per handler, shared with its components)."""
    durations: dict[str, Sequence[int]] = {}
    components = run_components(data) if with_components else {}
    for name, values in data.durations_by_name().items():  # from the columns, no Task objects
        c = components.get(name)
        durations[name] = c.durations if c is not None else array("q", values)
    if spill is not None:
        for c in components.values():
            c.spill(spill)
    return RunSamples(
        durations=durations,
        incomplete=data.incomplete_tasks,
        seconds=0.0,
        components=components,
    )


@dataclass
class Measurement:
    """All runs of one target on one source tree."""

    label: str
    runs: list[RunSamples] = field(default_factory=list)
    reruns: int = 0  # disturbed rounds dropped and measured again (see measure.Runner)
    disturbed_kept: int = 0  # disturbed runs kept because the re-run budget ran out

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

    def neighbour_loads(self) -> list[float]:
        """Each run's neighbour load (see :attr:`RunSamples.neighbour_load`), where measured."""
        return [round(x, 3) for x in (r.neighbour_load for r in self.runs) if x is not None]

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

    def summaries(self, wants: Callable[[str], bool]) -> dict[str, HandlerSummary]:
        """Each wanted handler's summary: statistics, sketch and breakdown (what a baseline file
        stores per handler, and what a side measured now is compared with)."""
        names = sorted({name for run in self.runs for name in run.durations})
        out = {}
        for name in names:  # one handler at a time: its pooled samples are sorted once
            if not wants(name):
                continue
            runs = self.durations(name)
            pooled = sorted(chain.from_iterable(runs))
            s = handler_stats(runs, pooled)
            b = self.breakdown(name)
            out[name] = HandlerSummary(**s.model_dump(), sketch_ns=sketch(pooled), breakdown=b)
            del pooled
        return out

    def durations(self, name: str) -> list[list[int]]:
        """Each run's request durations of one handler (empty where the run had none)."""
        return [run.durations.get(name, []) for run in self.runs]

    def breakdowns(self) -> dict[str, Breakdown]:
        """Every handler's breakdown (p95 window and overall), all runs pooled."""
        names = sorted({name for run in self.runs for name in run.components})
        out = {}
        for name in names:
            b = self.breakdown(name)
            if b is not None:
                out[name] = b
        return out

    def breakdown(self, name: str) -> Breakdown | None:
        """One handler's breakdown (None: no run has its components)."""
        return summarize([run.components[name] for run in self.runs if name in run.components])
