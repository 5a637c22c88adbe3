"""What perfgate reads out of a Go execution trace: user tasks, regions and logs.

:class:`TraceData` is the contract between the readers (native and `go tool trace`) and the rest
of perfgate. It keeps the annotations as columns (:mod:`perfgate.trace.columns`) and builds the
:class:`Task`, :class:`Region` and :class:`Log` objects of :attr:`TraceData.tasks` & co. only
when asked; the columnar helpers (:meth:`TraceData.durations_by_name`,
:meth:`TraceData.breakdown_totals`) answer the common questions without them. Times are
nanoseconds on the trace's own clock; only differences between them mean anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import compress, repeat
from operator import eq
from typing import TYPE_CHECKING

from perfgate.trace import columns as col
from perfgate.trace.records import NO_PARENT, NO_TASK, Log, Region, Task

if TYPE_CHECKING:
    from perfgate.trace.states import GoroutineStates

__all__ = ["NO_PARENT", "NO_TASK", "Log", "Region", "Task", "TraceData"]


class TraceData:
    """Everything perfgate takes from one trace file.

    ``truncated`` is True when the file ended in the middle of a generation (the writer crashed or
    the disk filled up): every complete generation was kept, the rest dropped, and
    ``truncation_note`` says how much was read. ``reader`` names the reader used ("native" or
    "go"), and ``notes`` carries human-readable remarks (e.g. that the fallback reader was used).
    ``annotations`` holds the tasks, regions and logs as columns; ``tasks``, ``regions`` and
    ``logs`` are object views of them, built on first use (assigning a list replaces them).
    """

    def __init__(
        self,
        path: str,
        version: str,  # "1.22", "1.23", "1.25", "1.26" (the header's version)
        tasks: Iterable[Task] | None = None,
        regions: Iterable[Region] | None = None,
        logs: Iterable[Log] | None = None,
        truncated: bool = False,
        truncation_note: str | None = None,
        bytes_read: int = 0,
        size: int = 0,
        generations: int = 0,
        reader: str = "native",
        notes: list[str] | None = None,
        states: GoroutineStates | None = None,
        annotations: col.Annotations | None = None,
    ) -> None:
        self.path = path
        self.version = version
        self.truncated = truncated
        self.truncation_note = truncation_note
        self.bytes_read = bytes_read
        self.size = size
        self.generations = generations
        self.reader = reader
        self.notes: list[str] = notes if notes is not None else []
        self.states = states  # read with states=True: every goroutine's states
        self._tasks: list[Task] | None = None
        self._regions: list[Region] | None = None
        self._logs: list[Log] | None = None
        self._task_rows: dict[int, tuple[int, int]] | None = None
        if annotations is None:
            annotations = col.from_objects(tasks or (), regions or (), logs or ())
        self.annotations = annotations

    def __repr__(self) -> str:
        a = self.annotations
        return (
            f"TraceData(path={self.path!r}, version={self.version!r}, tasks={len(a.tasks)}, "
            f"regions={len(a.regions)}, logs={len(a.logs)}, truncated={self.truncated}, "
            f"generations={self.generations}, reader={self.reader!r})"
        )

    # --- object views -------------------------------------------------------------------------

    @property
    def tasks(self) -> list[Task]:
        if self._tasks is None:
            self._tasks = self.annotations.tasks.objects(self.annotations.strings)
        return self._tasks

    @tasks.setter
    def tasks(self, tasks: Iterable[Task]) -> None:
        self._set_objects(tasks=list(tasks))

    @property
    def regions(self) -> list[Region]:
        if self._regions is None:
            self._regions = self.annotations.regions.objects(self.annotations.strings)
        return self._regions

    @regions.setter
    def regions(self, regions: Iterable[Region]) -> None:
        self._set_objects(regions=list(regions))

    @property
    def logs(self) -> list[Log]:
        if self._logs is None:
            self._logs = self.annotations.logs.objects(self.annotations.strings)
        return self._logs

    @logs.setter
    def logs(self, logs: Iterable[Log]) -> None:
        self._set_objects(logs=list(logs))

    def _set_objects(
        self,
        tasks: list[Task] | None = None,
        regions: list[Region] | None = None,
        logs: list[Log] | None = None,
    ) -> None:
        tasks = self.tasks if tasks is None else tasks
        regions = self.regions if regions is None else regions
        logs = self.logs if logs is None else logs
        self.annotations = col.from_objects(tasks, regions, logs)
        self._tasks, self._regions, self._logs = tasks, regions, logs
        self._task_rows = None

    # --- questions answered from the columns -----------------------------------------------

    @property
    def complete_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.complete]

    @property
    def incomplete_tasks(self) -> int:
        return self.annotations.tasks.incomplete()

    def durations_by_name(self) -> dict[str, list[int]]:
        """Latency (ns) of every complete task with a type name, per name, in trace order."""
        tc = self.annotations.tasks
        strings = self.annotations.strings
        out: dict[int, list[int]] = {}
        names = list(compress(tc.name, tc.complete()))
        durations = list(tc.durations())
        kinds = set(names)
        if len(kinds) <= 16:  # the usual few handlers: one C-level pass each
            for name in kinds:
                out[name] = list(compress(durations, map(eq, names, repeat(name))))
        else:
            for name, d in zip(names, durations, strict=True):
                lst = out.get(name)
                if lst is None:
                    lst = out[name] = []
                lst.append(d)
        return {strings[k]: out[k] for k in sorted(out) if strings[k]}

    def breakdown_totals(self) -> dict[str, tuple[int, dict[str, int]]]:
        """Per task type: how many complete tasks it has, and their :meth:`task_breakdown`
        summed (what ``perfgate report --states`` prints as means), from the columns. Needs a
        trace read with ``states=True``."""
        if self.states is None:
            raise ValueError("the trace was read without states=True")
        return self.states.totals_by_name(self.annotations)

    def task_goroutines(self, task_id: int) -> set[int]:
        """The goroutines that belong to a task, by Go's rule (``internal/trace/summary.go``):
        those that began or ended it, or opened a region or wrote a log in it."""
        return set(self._goroutines_of(task_id, None, None))

    def _goroutines_of(self, task_id: int, bg: int | None, eg: int | None) -> Iterable[int]:
        ann = self.annotations
        if ann.irregular is None:
            ann.irregular = col.task_goroutine_index(ann)
        odd = ann.irregular.get(task_id)
        if odd is not None:
            return odd
        if bg is None and eg is None:
            if self._task_rows is None:
                tc = ann.tasks
                ends = zip(tc.begin_g, tc.end_g, strict=True)
                self._task_rows = dict(zip(tc.id, ends, strict=True))
            b, e = self._task_rows.get(task_id, (col.NO_GOROUTINE, col.NO_GOROUTINE))
            bg, eg = col.opt_goroutine(b), col.opt_goroutine(e)
        return {g for g in (bg, eg) if g is not None}

    def task_breakdown(self, task: Task) -> dict[str, int]:
        """How the task's goroutines spent its span: ns per runtime state (see
        :meth:`GoroutineStates.task_breakdown`). Needs a complete task and a trace read with
        ``states=True``."""
        if self.states is None:
            raise ValueError("the trace was read without states=True")
        if task.begin_ns is None or task.end_ns is None:
            raise ValueError(f"task {task.id} is incomplete")
        gs = self._goroutines_of(task.id, task.begin_goroutine, task.end_goroutine)
        return self.states.task_breakdown(task.begin_ns, task.end_ns, sorted(gs))
