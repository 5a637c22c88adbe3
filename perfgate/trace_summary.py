"""``perfgate report``'s numbers: per task type statistics straight from trace files.

Pools the complete tasks of every trace given (each trace one run) and summarises each task type;
with goroutine states, the mean time per request in each runtime state. Pure: the caller reads
the traces, :mod:`perfgate.render.traces` formats the result.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import chain, compress, repeat
from operator import and_, eq, sub

from perfgate.interval import nearest_rank
from perfgate.trace import TraceData


@dataclass(frozen=True)
class ReportStats:
    """One task type's latency over every trace given (ns): what ``perfgate report`` prints.
    The same numbers as :func:`perfgate.stats.handler_stats`' (nearest-rank percentiles of
    all requests pooled), without its per-run parts, and without pydantic: ``perfgate
    report`` loads no model (its memory is part of the reader's budget)."""

    count: int
    p50_ns: int
    p90_ns: int
    p95_ns: int
    p99_ns: int
    max_ns: int
    mean_ns: int


def summarize(traces: Sequence[TraceData]) -> dict[str, ReportStats]:
    """Statistics per task type, each trace counting as one run. Works on the columns: one
    int64 array per trace and type, one sorted list per type at a time."""
    per_trace = [_durations(t) for t in traces]
    names = sorted({name for run in per_trace for name in run})
    out = {}
    for name in names:
        pooled = sorted(chain.from_iterable(run.get(name, ()) for run in per_trace))
        out[name] = ReportStats(
            count=len(pooled),
            p50_ns=nearest_rank(pooled, 0.50),
            p90_ns=nearest_rank(pooled, 0.90),
            p95_ns=nearest_rank(pooled, 0.95),
            p99_ns=nearest_rank(pooled, 0.99),
            max_ns=pooled[-1],
            mean_ns=round(sum(pooled) / len(pooled)),
        )
        del pooled
    return out


def _durations(t: TraceData) -> dict[str, array]:
    """:meth:`TraceData.durations_by_name` as int64 arrays (no list of ints per trace)."""
    ann = t.annotations
    tc, strings = ann.tasks, ann.strings
    complete = bytes(tc.complete())
    names = {k for k in compress(tc.name, complete) if strings[k]}
    out: dict[str, array] = {}
    for k in sorted(names):
        mask = bytes(map(and_, complete, map(eq, tc.name, repeat(k))))
        out[strings[k]] = array("q", map(sub, compress(tc.end, mask), compress(tc.begin, mask)))
    return out


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
