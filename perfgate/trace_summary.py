"""``perfgate report``'s numbers: per task type statistics straight from trace files.

Pools the complete tasks of every trace given (each trace one run) and summarises each task type;
with goroutine states, the mean time per request in each runtime state. Pure: the caller reads
the traces, :mod:`perfgate.render.traces` formats the result.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.report import HandlerStats
from perfgate.stats import handler_stats
from perfgate.trace import TraceData


def summarize(traces: Sequence[TraceData]) -> dict[str, HandlerStats]:
    """Statistics per task type, each trace counting as one run."""
    runs = [t.durations_by_name() for t in traces]
    names = sorted({name for run in runs for name in run})
    return {name: handler_stats([run.get(name, []) for run in runs]) for name in names}


def runtime_means(traces: Sequence[TraceData]) -> dict[str, dict[str, int]]:
    """Per task type, the mean ns per request in each runtime state (traces read with
    ``states=True``; see :meth:`TraceData.task_breakdown`, summed from the columns by
    :meth:`TraceData.breakdown_totals`), largest first."""
    totals: dict[str, dict[str, int]] = {}
    counts: dict[str, int] = {}
    for t in traces:
        for name, (count, parts) in t.breakdown_totals().items():
            acc = totals.setdefault(name, {})
            counts[name] = counts.get(name, 0) + count
            for k, v in parts.items():
                acc[k] = acc.get(k, 0) + v
    return {
        name: dict(sorted(((k, round(v / counts[name])) for k, v in acc.items()),
                          key=lambda kv: (-kv[1], kv[0])))
        for name, acc in sorted(totals.items())
    }  # fmt: skip
