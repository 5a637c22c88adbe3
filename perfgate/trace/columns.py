"""The annotations of a trace as columns: one array per field, no object per task.

A 13 MB trace can hold 300,000 tasks, as many regions and logs; one Python object each cost more
memory than the trace itself and most of the reading time. The readers fill these columns
instead (the C scanner as native arrays it hands over as bytes, the pure-Python path and the
``go tool trace`` reader as :mod:`array` arrays), and :class:`~perfgate.trace.model.TraceData`
builds the :class:`Task`/:class:`Region`/:class:`Log` objects only when a caller asks for them.

"No value" is a sentinel inside the arrays: :data:`NO_TIME` for a missing begin or end,
:data:`NO_GOROUTINE` (Go's own ``NoGoroutine``, -1 as a uint64) for an unknown goroutine and
:data:`NO_PARENT` for a root task. Names, keys and values are indices into a string table.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import and_, ne, sub

from perfgate.trace.records import NO_PARENT, Log, Region, Task

NO_TIME = -(1 << 63)  # int64 "no begin / no end"
NO_GOROUTINE = (1 << 64) - 1  # uint64 "no goroutine" (Go's NoGoroutine)
# The C reader keeps goroutine and parent columns as uint32 while every id fits; "none" is then
# 2^32 - 1. Either value means none in any column (an id that large is absurd anyway).
NO_GOROUTINE32 = (1 << 32) - 1
NONE_GOROUTINES = frozenset((NO_GOROUTINE, NO_GOROUTINE32))


def _opt_time(v: int) -> int | None:
    return None if v == NO_TIME else v


def opt_goroutine(v: int) -> int | None:
    return None if v in NONE_GOROUTINES else v


def _times(col: Sequence[int]) -> Iterator[int | None]:
    return map(_opt_time, col)


def _goroutines(col: Sequence[int]) -> Iterator[int | None]:
    return map(opt_goroutine, col)


class Strings(Sequence[str]):
    """A string table: index -> str. Backed by a list, or by one bytes buffer with offsets
    (what the C scanner hands over), decoded on first use."""

    def __init__(
        self,
        items: list[str] | None = None,
        data: bytes | None = None,
        offsets: Sequence[int] | None = None,
    ) -> None:
        self._data = data
        self._offsets = offsets
        self._items: list[str | None] = list(items) if items is not None else []
        if data is not None:
            assert offsets is not None
            self._items = [None] * (len(offsets) - 1)

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        s = self._items[i]
        if s is None:
            assert self._data is not None and self._offsets is not None
            s = self._data[self._offsets[i] : self._offsets[i + 1]].decode("utf-8", "replace")
            self._items[i] = s
        return s


class StringInterner:
    """Builds a :class:`Strings` table: each distinct string once (index 0 is "")."""

    def __init__(self) -> None:
        self.items: list[str] = [""]
        self._index: dict[str, int] = {"": 0}

    def __call__(self, s: str) -> int:
        i = self._index.get(s)
        if i is None:
            i = self._index[s] = len(self.items)
            self.items.append(s)
        return i

    def table(self) -> Strings:
        return Strings(self.items)


@dataclass(slots=True)
class TaskColumns:
    """Task i: ``id[i]``, its type name ``strings[name[i]]``, parent (:data:`NO_PARENT`: a
    root task), begin/end ns (:data:`NO_TIME`: not in the trace) and the goroutines that began
    and ended it (:data:`NO_GOROUTINE`: unknown)."""

    id: Sequence[int]
    parent: Sequence[int]
    name: Sequence[int]
    begin: Sequence[int]
    end: Sequence[int]
    begin_g: Sequence[int]
    end_g: Sequence[int]

    def __len__(self) -> int:
        return len(self.id)

    def objects(self, strings: Sequence[str]) -> list[Task]:
        names = map(strings.__getitem__, self.name)
        parents = (None if p in NONE_GOROUTINES else p for p in self.parent)  # no parent
        return list(
            map(
                Task,
                self.id,
                names,
                parents,
                _times(self.begin),
                _times(self.end),
                _goroutines(self.begin_g),
                _goroutines(self.end_g),
            )
        )

    def complete(self) -> Iterator[bool]:
        """Per task: whether the trace holds both its begin and its end."""
        return map(and_, map(ne, self.begin, repeat(NO_TIME)), map(ne, self.end, repeat(NO_TIME)))

    def incomplete(self) -> int:
        return len(self.id) - sum(self.complete())

    def durations(self) -> Iterator[int]:
        """End minus begin of each complete task, in task order."""
        done = list(self.complete())
        return map(sub, compress(self.end, done), compress(self.begin, done))


@dataclass(slots=True)
class RegionColumns:
    """Region i: in task ``task[i]``, named ``strings[name[i]]``, on ``goroutine[i]``, from
    ``begin[i]`` to ``end[i]`` (either :data:`NO_TIME` when open at a trace edge)."""

    task: Sequence[int]
    name: Sequence[int]
    goroutine: Sequence[int]
    begin: Sequence[int]
    end: Sequence[int]

    def __len__(self) -> int:
        return len(self.task)

    def objects(self, strings: Sequence[str]) -> list[Region]:
        return list(
            map(
                Region,
                self.task,
                map(strings.__getitem__, self.name),
                _goroutines(self.goroutine),
                _times(self.begin),
                _times(self.end),
            )
        )


@dataclass(slots=True)
class LogColumns:
    """Log i: in task ``task[i]``, ``strings[key[i]]`` = ``strings[value[i]]`` at ``time[i]``
    on ``goroutine[i]``."""

    task: Sequence[int]
    key: Sequence[int]
    value: Sequence[int]
    time: Sequence[int]
    goroutine: Sequence[int]

    def __len__(self) -> int:
        return len(self.task)

    def objects(self, strings: Sequence[str]) -> list[Log]:
        return list(
            map(
                Log,
                self.task,
                map(strings.__getitem__, self.key),
                map(strings.__getitem__, self.value),
                self.time,
                _goroutines(self.goroutine),
            )
        )


@dataclass(slots=True)
class Annotations:
    """All user annotations of a trace, columnar. ``irregular``: for the few task ids whose
    goroutines are not just the ones that began and ended them (a region or log on another
    goroutine, or the id used by more than one task), every goroutine of the id; None: not
    computed yet (see :func:`task_goroutine_index`)."""

    strings: Sequence[str]
    tasks: TaskColumns
    regions: RegionColumns
    logs: LogColumns
    irregular: dict[int, frozenset[int]] | None = None


def empty_columns() -> tuple[TaskColumns, RegionColumns, LogColumns]:
    return (
        TaskColumns(*(array(t) for t in "QQIqqQQ")),
        RegionColumns(*(array(t) for t in "QIQqq")),
        LogColumns(*(array(t) for t in "QIIqQ")),
    )


def from_objects(
    tasks: Iterable[Task], regions: Iterable[Region], logs: Iterable[Log]
) -> Annotations:
    """Columns from objects (a TraceData built by hand, e.g. in tests)."""
    strings = StringInterner()
    tc, rc, lc = empty_columns()
    for t in tasks:
        _append_task(tc, t.id, t.parent, strings(t.name), t.begin_ns, t.end_ns)
        tc.begin_g.append(NO_GOROUTINE if t.begin_goroutine is None else t.begin_goroutine)  # type: ignore[attr-defined]
        tc.end_g.append(NO_GOROUTINE if t.end_goroutine is None else t.end_goroutine)  # type: ignore[attr-defined]
    for r in regions:
        for col, v in zip(
            (rc.task, rc.name, rc.goroutine, rc.begin, rc.end),
            (
                r.task_id,
                strings(r.name),
                NO_GOROUTINE if r.goroutine is None else r.goroutine,
                NO_TIME if r.begin_ns is None else r.begin_ns,
                NO_TIME if r.end_ns is None else r.end_ns,
            ),
            strict=True,
        ):
            col.append(v)  # type: ignore[attr-defined]
    for lg in logs:
        for col, v in zip(
            (lc.task, lc.key, lc.value, lc.time, lc.goroutine),
            (
                lg.task_id,
                strings(lg.key),
                strings(lg.value),
                lg.time_ns,
                NO_GOROUTINE if lg.goroutine is None else lg.goroutine,
            ),
            strict=True,
        ):
            col.append(v)  # type: ignore[attr-defined]
    return Annotations(strings.table(), tc, rc, lc)


def _append_task(
    tc: TaskColumns, task_id: int, parent: int | None, name: int, begin: int | None, end: int | None
) -> None:
    tc.id.append(task_id)  # type: ignore[attr-defined]
    tc.parent.append(NO_PARENT if parent is None else parent)  # type: ignore[attr-defined]
    tc.name.append(name)  # type: ignore[attr-defined]
    tc.begin.append(NO_TIME if begin is None else begin)  # type: ignore[attr-defined]
    tc.end.append(NO_TIME if end is None else end)  # type: ignore[attr-defined]


def task_goroutine_index(ann: Annotations) -> dict[int, frozenset[int]]:
    """The ``irregular`` index of :class:`Annotations`: every goroutine of the task ids whose
    goroutines, by Go's rule (``internal/trace/summary.go``: those that began or ended the
    task, or opened a region or logged in it), are not just the begin and end goroutines of
    their one task (ids of several tasks, and ids with regions or logs but no task, too)."""
    tc = ann.tasks
    row: dict[int, int] = {}
    odd: set[int] = set()
    for i, tid in enumerate(tc.id):
        if tid in row:
            odd.add(tid)
        row[tid] = i
    bg, eg = tc.begin_g, tc.end_g
    others = ((ann.regions.task, ann.regions.goroutine), (ann.logs.task, ann.logs.goroutine))
    for col_t, col_g in others:
        known = map(_known, col_g)
        for tid, g in compress(zip(col_t, col_g, strict=True), known):
            i = row.get(tid)
            if i is None or (g != bg[i] and g != eg[i]):
                odd.add(tid)
    if not odd:
        return {}
    sets: dict[int, set[int]] = {tid: set() for tid in odd}
    for tid, b, e in zip(tc.id, bg, eg, strict=True):
        s = sets.get(tid)
        if s is not None:
            s.update((b, e))
    for col_t, col_g in others:
        for tid, g in zip(col_t, col_g, strict=True):
            s = sets.get(tid)
            if s is not None:
                s.add(g)
    return {tid: frozenset(s - NONE_GOROUTINES) for tid, s in sets.items()}


def _known(g: int) -> bool:
    return g not in NONE_GOROUTINES
