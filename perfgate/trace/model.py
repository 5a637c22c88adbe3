"""What perfgate reads out of a Go execution trace: user tasks, regions and logs.

These types are the contract between the readers (native and `go tool trace`) and the rest of
perfgate. Times are nanoseconds on the trace's own clock; only differences between them mean
anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfgate.trace.states import GoroutineStates

NO_TASK = 0  # runtime/trace's "background" task id
NO_PARENT = 2**64 - 1  # how the wire format says "no parent task"


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
        if self.begin_ns is None or self.end_ns is None:
            return None
        return self.end_ns - self.begin_ns


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
        if self.begin_ns is None or self.end_ns is None:
            return None
        return self.end_ns - self.begin_ns


@dataclass(slots=True)
class Log:
    """One runtime/trace log message (trace.Log / trace.Logf)."""

    task_id: int
    key: str
    value: str
    time_ns: int
    goroutine: int | None = None


@dataclass
class TraceData:
    """Everything perfgate takes from one trace file.

    ``truncated`` is True when the file ended in the middle of a generation (the writer crashed or
    the disk filled up): every complete generation was kept, the rest dropped, and
    ``truncation_note`` says how much was read. ``reader`` names the reader used ("native" or
    "go"), and ``notes`` carries human-readable remarks (e.g. that the fallback reader was used).
    """

    path: str
    version: str  # "1.22", "1.23", "1.25", "1.26" (the header's version)
    tasks: list[Task] = field(default_factory=list)
    regions: list[Region] = field(default_factory=list)
    logs: list[Log] = field(default_factory=list)
    truncated: bool = False
    truncation_note: str | None = None
    bytes_read: int = 0
    size: int = 0
    generations: int = 0
    reader: str = "native"
    notes: list[str] = field(default_factory=list)
    states: GoroutineStates | None = None  # read with states=True: every goroutine's states
    _task_goroutines: dict[int, set[int]] | None = field(default=None, repr=False)

    @property
    def complete_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.complete]

    @property
    def incomplete_tasks(self) -> int:
        return sum(1 for t in self.tasks if not t.complete)

    def task_goroutines(self, task_id: int) -> set[int]:
        """The goroutines that belong to a task, by Go's rule (``internal/trace/summary.go``):
        those that began or ended it, or opened a region or wrote a log in it."""
        index = self._task_goroutines
        if index is None:
            index = {}
            for t in self.tasks:
                mine = index.setdefault(t.id, set())
                for g in (t.begin_goroutine, t.end_goroutine):
                    if g is not None:
                        mine.add(g)
            for item in (*self.regions, *self.logs):
                if item.goroutine is not None:
                    index.setdefault(item.task_id, set()).add(item.goroutine)
            self._task_goroutines = index
        return index.get(task_id, set())

    def task_breakdown(self, task: Task) -> dict[str, int]:
        """How the task's goroutines spent its span: ns per runtime state (see
        :meth:`GoroutineStates.task_breakdown`). Needs a complete task and a trace read with
        ``states=True``."""
        if self.states is None:
            raise ValueError("the trace was read without states=True")
        if task.begin_ns is None or task.end_ns is None:
            raise ValueError(f"task {task.id} is incomplete")
        return self.states.task_breakdown(
            task.begin_ns, task.end_ns, sorted(self.task_goroutines(task.id))
        )
