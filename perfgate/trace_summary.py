"""``perfgate report``'s numbers: per task type statistics straight from trace files.

Pools the complete tasks of every trace given (each trace one run) and summarises each task type;
with goroutine states, the mean time per request in each runtime state. Pure: the caller reads
the traces, :mod:`perfgate.render.traces` formats the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.report import HandlerStats
from perfgate.samples import samples_from_trace
from perfgate.stats import handler_stats
from perfgate.trace import TraceData


def summarize(traces: Sequence[TraceData]) -> dict[str, HandlerStats]:
    """Statistics per task type, each trace counting as one run."""
    runs = [samples_from_trace(t).durations for t in traces]
    names = sorted({name for run in runs for name in run})
    return {name: handler_stats([run.get(name, []) for run in runs]) for name in names}


def runtime_means(traces: Sequence[TraceData]) -> dict[str, dict[str, int]]:
    """Per task type, the mean ns per request in each runtime state (traces read with
    ``states=True``; see :meth:`TraceData.task_breakdown`), largest first."""
    totals: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for t in traces:
        for task in t.complete_tasks:
            if not task.name:
                continue
            acc = totals.setdefault(task.name, {})
            counts[task.name] = counts.get(task.name, 0) + 1
            for k, v in t.task_breakdown(task).items():
                acc[k] = acc.get(k, 0) + v
    return {
        name: dict(sorted(((k, round(v / counts[name])) for k, v in acc.items()),
                          key=lambda kv: (-kv[1], kv[0])))
        for name, acc in sorted(totals.items())
    }  # fmt: skip
