"""Turn user-annotation events, in the order Go's reader yields them, into tasks, regions, logs.

Shared by the native reader's pure-Python path and the ``go tool trace`` reader so both pair
events the same way (the C scanner does the same in ``_scan.c``), mirroring
``internal/trace/summary.go`` and ``order.go``:

- tasks pair by id across the whole trace; an end without a begin is a task begun before tracing
  (Go gives it an empty type name); a begin without an end is a task still open at the end;
- regions pair per goroutine as a stack (an end pops the innermost open region); an end with no
  open region began before tracing; regions still open at the end keep no end;
- "no parent" is 0 or 2^64-1 on the wire and ``None`` in the object views.

What comes out are columns (:mod:`perfgate.trace.columns`): no object per event.
"""

from __future__ import annotations

from perfgate.trace.columns import (
    NO_GOROUTINE,
    NO_TIME,
    Annotations,
    StringInterner,
    empty_columns,
)
from perfgate.trace.records import NO_PARENT, Log, Region, Task

TASK_BEGIN = "TaskBegin"
TASK_END = "TaskEnd"
REGION_BEGIN = "RegionBegin"
REGION_END = "RegionEnd"
LOG = "Log"


class DuplicateTask(Exception):
    """A task id begun twice while still open (Go's reader rejects such a trace)."""


class Assembler:
    """Accumulates annotation events (fed in trace order) into columns.

    Goroutines are ints, :data:`NO_GOROUTINE` when unknown; names, keys and values are indices
    into :attr:`strings` (``strings(s)`` interns ``s``).
    """

    def __init__(self) -> None:
        self.strings = StringInterner()
        self.tasks, self.regions, self.logs = empty_columns()
        self._task_row: dict[int, int] = {}
        self._open: dict[int, list[int]] = {}  # goroutine -> rows of its open regions

    def task_begin(self, time: int, g: int, task_id: int, parent: int, name: int) -> None:
        tc = self.tasks
        row = self._task_row.get(task_id)
        if row is not None and tc.begin[row] != NO_TIME and tc.end[row] == NO_TIME:
            raise DuplicateTask(f"task id {task_id} begun twice")
        self._task_row[task_id] = len(tc.id)
        tc.id.append(task_id)  # type: ignore[attr-defined]
        tc.parent.append(NO_PARENT if parent == 0 else parent)  # type: ignore[attr-defined]
        tc.name.append(name)  # type: ignore[attr-defined]
        tc.begin.append(time)  # type: ignore[attr-defined]
        tc.end.append(NO_TIME)  # type: ignore[attr-defined]
        tc.begin_g.append(g)  # type: ignore[attr-defined]
        tc.end_g.append(NO_GOROUTINE)  # type: ignore[attr-defined]

    def task_end(self, time: int, g: int, task_id: int) -> None:
        tc = self.tasks
        row = self._task_row.get(task_id)
        if row is None:
            # Begun before tracing started: Go knows neither its type nor its parent.
            row = self._task_row[task_id] = len(tc.id)
            tc.id.append(task_id)  # type: ignore[attr-defined]
            tc.parent.append(NO_PARENT)  # type: ignore[attr-defined]
            tc.name.append(0)  # type: ignore[attr-defined]
            tc.begin.append(NO_TIME)  # type: ignore[attr-defined]
            tc.end.append(time)  # type: ignore[attr-defined]
            tc.begin_g.append(NO_GOROUTINE)  # type: ignore[attr-defined]
            tc.end_g.append(g)  # type: ignore[attr-defined]
            return
        # A repeated end overwrites the first, as go tool trace's task summary does.
        tc.end[row] = time  # type: ignore[index]
        tc.end_g[row] = g  # type: ignore[index]

    def region_begin(self, time: int, g: int, task_id: int, name: int) -> None:
        rc = self.regions
        stack = self._open.get(g)
        if stack is None:
            stack = self._open[g] = []
        stack.append(len(rc.task))
        rc.task.append(task_id)  # type: ignore[attr-defined]
        rc.name.append(name)  # type: ignore[attr-defined]
        rc.goroutine.append(g)  # type: ignore[attr-defined]
        rc.begin.append(time)  # type: ignore[attr-defined]
        rc.end.append(NO_TIME)  # type: ignore[attr-defined]

    def region_end(self, time: int, g: int, task_id: int, name: int) -> None:
        rc = self.regions
        stack = self._open.get(g)
        if stack:
            rc.end[stack.pop()] = time  # type: ignore[index]
            return
        rc.task.append(task_id)  # type: ignore[attr-defined]
        rc.name.append(name)  # type: ignore[attr-defined]
        rc.goroutine.append(g)  # type: ignore[attr-defined]
        rc.begin.append(NO_TIME)  # type: ignore[attr-defined]
        rc.end.append(time)  # type: ignore[attr-defined]

    def log(self, time: int, g: int, task_id: int, key: int, value: int) -> None:
        lc = self.logs
        lc.task.append(task_id)  # type: ignore[attr-defined]
        lc.key.append(key)  # type: ignore[attr-defined]
        lc.value.append(value)  # type: ignore[attr-defined]
        lc.time.append(time)  # type: ignore[attr-defined]
        lc.goroutine.append(g)  # type: ignore[attr-defined]

    def result(self) -> Annotations:
        """The columns gathered so far."""
        return Annotations(self.strings.table(), self.tasks, self.regions, self.logs)

    def objects(self) -> tuple[list[Task], list[Region], list[Log]]:
        """The tasks, regions and logs gathered so far, as objects."""
        strings = self.strings.table()
        return (
            self.tasks.objects(strings),
            self.regions.objects(strings),
            self.logs.objects(strings),
        )
