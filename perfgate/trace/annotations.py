"""Turn user-annotation events, in the order Go's reader yields them, into tasks, regions, logs.

Shared by the native reader and the ``go tool trace`` reader so both pair events the same way,
mirroring ``internal/trace/summary.go`` and ``order.go``:

- tasks pair by id across the whole trace; an end without a begin is a task begun before tracing
  (Go gives it an empty type name); a begin without an end is a task still open at the end;
- regions pair per goroutine as a stack (an end pops the innermost open region); an end with no
  open region began before tracing; regions still open at the end keep ``end_ns=None``;
- "no parent" is 0 or 2^64-1 on the wire and ``None`` here.
"""

from __future__ import annotations

from perfgate.trace.model import NO_PARENT, Log, Region, Task

TASK_BEGIN = "TaskBegin"
TASK_END = "TaskEnd"
REGION_BEGIN = "RegionBegin"
REGION_END = "RegionEnd"
LOG = "Log"


class DuplicateTask(Exception):
    """A task id begun twice while still open (Go's reader rejects such a trace)."""


class Assembler:
    """Accumulates annotation events (fed in trace order) into Task/Region/Log lists."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.regions: list[Region] = []
        self.logs: list[Log] = []
        self._tasks: dict[int, Task] = {}
        self._open: dict[int | None, list[Region]] = {}

    def task_begin(self, time: int, g: int | None, task_id: int, parent: int, name: str) -> None:
        old = self._tasks.get(task_id)
        if old is not None and old.begin_ns is not None and old.end_ns is None:
            raise DuplicateTask(f"task id {task_id} begun twice")
        t = Task(
            id=task_id,
            name=name,
            parent=None if parent in (0, NO_PARENT) else parent,
            begin_ns=time,
            begin_goroutine=g,
        )
        self._tasks[task_id] = t
        self.tasks.append(t)

    def task_end(self, time: int, g: int | None, task_id: int) -> None:
        t = self._tasks.get(task_id)
        if t is None:
            # Begun before tracing started: Go knows neither its type nor its parent.
            t = Task(id=task_id, name="")
            self._tasks[task_id] = t
            self.tasks.append(t)
        # A repeated end overwrites the first, as go tool trace's task summary does.
        t.end_ns = time
        t.end_goroutine = g

    def region_begin(self, time: int, g: int | None, task_id: int, name: str) -> None:
        r = Region(task_id=task_id, name=name, goroutine=g, begin_ns=time, end_ns=None)
        self._open.setdefault(g, []).append(r)
        self.regions.append(r)

    def region_end(self, time: int, g: int | None, task_id: int, name: str) -> None:
        stack = self._open.get(g)
        if stack:
            stack.pop().end_ns = time
            return
        self.regions.append(
            Region(task_id=task_id, name=name, goroutine=g, begin_ns=None, end_ns=time)
        )

    def log(self, time: int, g: int | None, task_id: int, key: str, value: str) -> None:
        self.logs.append(Log(task_id=task_id, key=key, value=value, time_ns=time, goroutine=g))
