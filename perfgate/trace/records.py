"""One task, region or log as an object: the view callers get of the columns in ``columns``.

These types are the contract between the readers and the rest of perfgate. Times are
nanoseconds on the trace's own clock; only differences between them mean anything.
"""

from __future__ import annotations

from dataclasses import dataclass

NO_TASK = 0  # runtime/trace's "background" task id
NO_PARENT = 2**64 - 1  # how the wire format says "no parent task"


def _span(begin_ns: int | None, end_ns: int | None) -> int | None:
    """end − begin, or None when either end lies outside the trace."""
    if begin_ns is None or end_ns is None:
        return None
    return end_ns - begin_ns


@dataclass(slots=True)
class Task:
    """One runtime/trace task (for perfgate: one handler call).

    ``begin_ns``/``end_ns`` are None when the trace holds no begin (the task started before
    tracing) or no end (still open when tracing stopped); such a task is incomplete and has no
    latency. ``parent`` is None for a root task.
    """

    id: int
    name: str
    parent: int | None = None
    begin_ns: int | None = None
    end_ns: int | None = None
    begin_goroutine: int | None = None
    end_goroutine: int | None = None

    @property
    def complete(self) -> bool:
        return self.begin_ns is not None and self.end_ns is not None

    @property
    def duration_ns(self) -> int | None:
        return _span(self.begin_ns, self.end_ns)


@dataclass(slots=True)
class Region:
    """One runtime/trace region: begin/end paired per goroutine as a stack.

    ``begin_ns``/``end_ns`` are None when the region was open at the start or end of the trace.
    """

    task_id: int
    name: str
    goroutine: int | None
    begin_ns: int | None
    end_ns: int | None

    @property
    def duration_ns(self) -> int | None:
        return _span(self.begin_ns, self.end_ns)


@dataclass(slots=True)
class Log:
    """One runtime/trace log message (trace.Log / trace.Logf)."""

    task_id: int
    key: str
    value: str
    time_ns: int
    goroutine: int | None = None
