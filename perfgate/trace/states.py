"""Goroutine states from a trace: what each goroutine was doing at every instant, and per task.

Go's reader turns scheduler events into goroutine *state transitions* (``internal/trace``'s
``Event.StateTransition``): running, runnable (waiting for a CPU: scheduler wait), waiting
(blocked, with a reason such as ``chan receive``, ``sync``, ``select``, ``network``, ``sleep``),
in a syscall, or not existing. :class:`GoroutineStates` records, per goroutine, the times it
changed state and the state it changed to, exactly as ``go tool trace -d=parsed`` prints them,
as columns (:class:`StateChunk`: the C reader hands over one per generation, the pure-Python
reader one for the trace; the ``go tool trace`` reader feeds the dump's ``StateTransition``
lines through :meth:`GoroutineStates.transition`). It also records the stop-the-world and GC
mark phases (global) and each goroutine's GC mark assists (:meth:`GoroutineStates.range_event`).

:meth:`GoroutineStates.task_breakdown` then answers, for one task, the question Go's
``summary.go`` answers per region: how long the task's goroutines (those that began or ended it,
or logged or opened a region in it — summary.go's rule for ``UserTaskSummary.Goroutines``) spent
in each state during the task's span; :meth:`GoroutineStates.totals_by_name` sums it per task
type (in C when the extension is built). Transitions that do not change the state (the GoStatus
events repeated at each generation start) are dropped, as summary.go drops them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress
from operator import itemgetter, sub

from perfgate.trace import limits, wire
from perfgate.trace.columns import (
    NO_TIME,
    NONE_GOROUTINES,
    Annotations,
    TaskColumns,
    task_goroutine_index,
)

# State codes. WAITING + i is "waiting for reason i" (reasons interned in ``reasons``).
NOT_EXIST, RUNNING, RUNNABLE, SYSCALL, WAITING = 0, 1, 2, 3, 4
STATE_NAMES = {
    "NotExist": NOT_EXIST,
    "Running": RUNNING,
    "Runnable": RUNNABLE,
    "Syscall": SYSCALL,
    "Waiting": WAITING,
}
_FROM_STATUS = {
    wire.GO_STATUS_RUNNABLE: RUNNABLE,
    wire.GO_STATUS_RUNNING: RUNNING,
    wire.GO_STATUS_SYSCALL: SYSCALL,
    wire.GO_STATUS_WAITING: WAITING,
}

# Component names (explain.py prefixes none of these: they are the runtime's own words).
RUNNING_NAME = "runtime: running"
RUNNABLE_NAME = "runtime: scheduler wait"
SYSCALL_NAME = "runtime: syscall"
GC_NAME = "runtime: during GC mark"  # overlaps the states: wall time the GC was marking
ASSIST_NAME = "runtime: GC mark assist"  # overlaps running
STW_NAME = "runtime: stop-the-world"  # overlaps the states
OVERLAPPING = frozenset((GC_NAME, ASSIST_NAME, STW_NAME))
GC_RANGE = "GC concurrent mark phase"
ASSIST_RANGE = "GC mark assist"


def blocked_name(reason: str) -> str:
    """The component name of blocking for ``reason``: ``runtime: blocked (chan receive)``."""
    return f"runtime: blocked ({reason})" if reason else "runtime: blocked"


Interval = tuple[int, int | None]  # begin ns, end ns (None: still open at the end)


@dataclass(slots=True)
class StateChunk:
    """State changes of many goroutines, grouped: goroutine ``gids[k]`` (sorted) changed state
    at ``base + times[i]`` to ``codes[i]`` for ``offsets[k] <= i < offsets[k + 1]``, in order.

    The C scanner makes one chunk per generation (times relative to the chunk's first change
    as uint32 when its span allows, else int64; codes as uint8 while there are few blocking
    reasons): about 5 bytes per change instead of a Python object.
    """

    gids: Sequence[int]
    offsets: Sequence[int]
    base: int
    times: Sequence[int]
    codes: Sequence[int]


# Goroutine -> its segments: goroutine ids (sorted), start (len + 1: goroutine k's segments are
# start[k] .. start[k + 1] - 1), and per segment its chunk and position in that chunk's gids.
Index = tuple[Sequence[int], Sequence[int], Sequence[int], Sequence[int]]


def _chunk_of(timelines: dict[int, tuple[array, array]]) -> StateChunk:
    """One chunk from per-goroutine (times, codes) arrays."""
    gids = array("Q", sorted(timelines))
    offsets = array("q", [0])
    times = array("q")
    codes = array("I")
    for g in gids:
        t, c = timelines[g]
        times += t
        codes += c
        offsets.append(len(times))
    return StateChunk(gids, offsets, 0, times, codes)


class GoroutineStates:
    """Per goroutine state timelines plus GC and stop-the-world ranges.

    Fed in trace order one change at a time (:meth:`set`, :meth:`transition`: the
    ``go tool trace`` reader), or as :class:`StateChunk` columns (:meth:`add_chunks`: the
    native readers). Read through
    :meth:`timeline`, :attr:`times`/:attr:`codes` (goroutine -> array, built on request),
    :meth:`task_breakdown` and :meth:`running_ns`.
    """

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self._reason_code: dict[str, int] = {}
        self.gc: list[list[int | None]] = []  # [begin, end] of each GC mark phase
        self.stw: list[list[int | None]] = []  # [begin, end] of each stop-the-world
        self.assists: dict[int, list[list[int | None]]] = {}  # goroutine -> mark assists
        self._stw_open: dict[int | None, list[int | None]] = {}
        self._building: dict[int, tuple[array, array]] = {}  # goroutine -> (times, codes)
        self._chunks: list[StateChunk] = []
        self._index: Index | None = None
        self._sums: dict[object, RangeSum] = {}  # "gc", "stw", goroutine: its assists
        self.code(WAITING, "")  # WAITING itself: waiting for no reason given (the C scanner's)

    # --- feeding ------------------------------------------------------------------------------

    def code(self, state: int, reason: str = "") -> int:
        """The state code of ``state`` (WAITING: with ``reason``)."""
        if state != WAITING:
            return state
        c = self._reason_code.get(reason)
        if c is None:
            if len(self.reasons) >= limits.MAX_REASONS:
                raise limits.LimitExceeded(
                    f"more than {limits.MAX_REASONS} distinct blocking reasons "
                    "(limit MAX_REASONS; Go has a few dozen)"
                )
            c = self._reason_code[reason] = len(self.reasons)
            self.reasons.append(reason)
        return WAITING + c

    def set(self, t: int, g: int, code: int) -> None:
        """Goroutine ``g`` is in state ``code`` from ``t`` on (ignored if already in that state,
        whatever the blocking reason, as summary.go ignores ``old == new`` transitions)."""
        if not self._building and self._chunks:
            self._thaw()
        b = self._building.get(g)
        if b is None:
            self._building[g] = (array("q", (t,)), array("I", (code,)))
            self._index = None
            return
        codes = b[1]
        last = codes[-1]
        if last == code or (last >= WAITING and code >= WAITING):
            return
        b[0].append(t)
        codes.append(code)

    def extend_changes(self, g: int, times: bytes, codes: bytes) -> None:
        """Append changes of ``g`` given as native int64 times and uint32 codes (no-op rule
        already applied)."""
        if not self._building and self._chunks:
            self._thaw()
        b = self._building.get(g)
        if b is None:
            b = self._building[g] = (array("q"), array("I"))
            self._index = None
        b[0].frombytes(times)
        b[1].frombytes(codes)

    def add_chunks(
        self,
        chunks: list[StateChunk],
        index: Index,
        reasons: list[str],
    ) -> None:
        """Take the C scanner's state changes: its chunks, the goroutine index over them and
        its blocking reasons (its codes are WAITING + index in ``reasons``)."""
        assert not self._chunks and not self._building and reasons[:1] == [""]
        self._chunks = chunks
        self._index = index
        self.reasons = reasons
        self._reason_code = {r: i for i, r in enumerate(reasons)}

    def transition(self, t: int, g: int, state: str, reason: str = "") -> None:
        """A ``StateTransition`` as ``go tool trace`` prints it (``state``: the new state)."""
        self.set(t, g, self.code(STATE_NAMES[state], reason))

    def range_begin(self, t: int, name: str, g: int | None) -> None:
        self._sums.clear()
        if name == GC_RANGE:
            self.gc.append([t, None])
        elif name == ASSIST_RANGE and g is not None:
            self.assists.setdefault(g, []).append([t, None])
        elif name.startswith("stop-the-world"):
            r: list[int | None] = [t, None]
            self.stw.append(r)
            self._stw_open[g] = r

    def range_active(self, t: int, name: str, g: int | None) -> None:
        """A range already open when the generation started (opened at ``t`` if not known)."""
        self._sums.clear()
        if name == GC_RANGE:
            if not self.gc or self.gc[-1][1] is not None:
                self.gc.append([t, None])
        elif name == ASSIST_RANGE and g is not None:
            mine = self.assists.setdefault(g, [])
            if not mine or mine[-1][1] is not None:
                mine.append([t, None])

    def range_end(self, t: int, name: str, g: int | None) -> None:
        self._sums.clear()
        if name == GC_RANGE:
            if self.gc and self.gc[-1][1] is None:
                self.gc[-1][1] = t
            else:
                self.gc.append([None, t])  # begun before tracing
        elif name == ASSIST_RANGE and g is not None:
            mine = self.assists.setdefault(g, [])
            if mine and mine[-1][1] is None:
                mine[-1][1] = t
            else:
                mine.append([None, t])
        elif name.startswith("stop-the-world"):
            r = self._stw_open.pop(g, None)
            if r is not None:
                r[1] = t
            else:
                self.stw.append([None, t])

    def range_event(self, t: int, typ: int, g: int | None, a1: int) -> None:
        """A wire-format GC, stop-the-world or mark-assist event (``RANGE_EVENTS``: the native
        readers hand them over in Go's order), as ``internal/trace``'s ``Event.Range`` reads it."""
        what = _RANGES.get(typ)
        if what is None:
            return
        kind, name = what
        if kind == "begin":
            self.range_begin(t, name, g)
        elif kind == "active":
            self.range_active(t, name, a1 if typ == wire.EV_GC_MARK_ASSIST_ACTIVE else g)
        else:
            self.range_end(t, name, g)

    # --- storage ------------------------------------------------------------------------------

    def _segments(self) -> tuple[list[StateChunk], Index]:
        """The chunks and the goroutine index over them (what was built one change at a time
        becomes a chunk first)."""
        if self._building:
            self._chunks = [_chunk_of(self._building)]
            self._building = {}
            self._index = None
        if self._index is None:
            self._index = index_of(self._chunks)
        return self._chunks, self._index

    def _thaw(self) -> None:
        """Changes come after the timelines were read: back to one array pair per goroutine."""
        self._building = {g: self._timeline_arrays(g) for g in self.goroutines()}
        self._chunks = []
        self._index = None

    def goroutines(self) -> Sequence[int]:
        """Every goroutine with a state change, sorted."""
        return self._segments()[1][0]

    def _timeline_arrays(self, g: int) -> tuple[array, array]:
        chunks, (gids, start, chunk_of, pos_of) = self._segments()
        k = bisect_left(gids, g)
        times = array("q")
        codes = array("I")
        if k == len(gids) or gids[k] != g:
            return times, codes
        for s in range(start[k], start[k + 1]):
            c = chunks[chunk_of[s]]
            p = pos_of[s]
            lo, hi = c.offsets[p], c.offsets[p + 1]
            base = c.base
            times.extend(base + x for x in c.times[lo:hi])
            codes.extend(iter(c.codes[lo:hi]))
        return times, codes

    @property
    def times(self) -> Mapping[int, array]:
        """Goroutine -> times (ns) of its state changes (arrays built on request)."""
        return _TimelineView(self, 0)

    @property
    def codes(self) -> Mapping[int, array]:
        """Goroutine -> its state code after each change (arrays built on request)."""
        return _TimelineView(self, 1)

    # --- reading ------------------------------------------------------------------------------

    def timeline(self, g: int) -> list[tuple[int, str]]:
        """Goroutine ``g``'s state changes as (time, state name) pairs, e.g. for tests."""
        times, codes = self._timeline_arrays(g)
        return [(t, self.describe(c)) for t, c in zip(times, codes, strict=True)]

    def describe(self, code: int) -> str:
        """A state code's name: Running, Runnable, Syscall, NotExist, or Waiting(reason)."""
        if code >= WAITING:
            return f"Waiting({self.reasons[code - WAITING]})"
        return ("NotExist", "Running", "Runnable", "Syscall")[code]

    def component(self, code: int) -> str:
        if code >= WAITING:
            return blocked_name(self.reasons[code - WAITING])
        return ("runtime: not existing", RUNNING_NAME, RUNNABLE_NAME, SYSCALL_NAME)[code]

    def running_ns(self) -> int:
        """Time all goroutines together spent running (wall-clock ns, summed over goroutines),
        up to the last state change in the trace."""
        from perfgate.trace import scan  # scan imports this module

        chunks, (gids, start, chunk_of, pos_of) = self._segments()
        if not len(gids):
            return 0
        if scan.accelerated():
            rows = [(c.gids, c.offsets, c.base, c.times, c.codes) for c in chunks]
            return scan._scan.running_total(tuple(self._segments()[1]), rows, RUNNING)
        end = 0
        for c in chunks:
            if len(c.times):
                end = max(end, c.base + max(c.times))
        running = RUNNING.__eq__
        total = 0
        # Within each chunk: every change followed by one of the same goroutine and segment.
        for c in chunks:
            t, codes, off = c.times, c.codes, c.offsets
            n = len(t)
            if n < 2:
                continue
            total += sum(compress(map(sub, t[1:], t[: n - 1]), map(running, codes[: n - 1])))
            # Take out the pairs that straddle two goroutines' segments.
            ends = [o - 1 for o in off[1 : len(off) - 1] if 0 < o < n]
            for j in compress(ends, map(running, map(codes.__getitem__, ends))):
                total -= t[j + 1] - t[j]
        # The last change of each segment lasts until the goroutine's next segment or the end.
        for k in range(len(gids)):
            for s in range(start[k], start[k + 1]):
                c = chunks[chunk_of[s]]
                p = pos_of[s]
                last = c.offsets[p + 1] - 1
                if c.codes[last] != RUNNING:
                    continue
                if s + 1 < start[k + 1]:
                    nc = chunks[chunk_of[s + 1]]
                    nxt = nc.base + nc.times[nc.offsets[pos_of[s + 1]]]
                else:
                    nxt = end
                total += nxt - (c.base + c.times[last])
        return total

    def task_breakdown(self, begin: int, end: int, goroutines: Iterable[int]) -> dict[str, int]:
        """Time (ns) the goroutines spent in each state between ``begin`` and ``end``, summed
        over the goroutines while they existed (from their creation, or first sight in the
        trace, to their end), plus the overlapping GC and stop-the-world components."""
        by_code: dict[int, int] = {}
        chunks, (gids, start, chunk_of, pos_of) = self._segments()
        seen = []
        for g in goroutines:
            k = bisect_left(gids, g)
            if k == len(gids) or gids[k] != g:
                continue
            segments = (chunk_of, pos_of, start[k], start[k + 1])
            if _add_goroutine(by_code, chunks, segments, begin, end):
                seen.append(g)
        out: dict[str, int] = {}
        component = self.component
        for code, ns in by_code.items():
            if code != NOT_EXIST:
                name = component(code)
                out[name] = out.get(name, 0) + ns
        for g in seen:
            if g in self.assists:
                _add(out, ASSIST_NAME, self._range_sum(g).overlap(begin, end))
        _add(out, GC_NAME, self._range_sum("gc").overlap(begin, end))
        _add(out, STW_NAME, self._range_sum("stw").overlap(begin, end))
        return {k: v for k, v in out.items() if v}

    def _range_sum(self, which: object) -> RangeSum:
        """The RangeSum of the GC phases ("gc"), stop-the-world pauses ("stw") or a
        goroutine's mark assists."""
        got = self._sums.get(which)
        if got is None:
            ranges = self.gc if which == "gc" else self.stw if which == "stw" else None
            if ranges is None:
                ranges = self.assists.get(which, [])  # type: ignore[call-overload]
            got = self._sums[which] = RangeSum(ranges)
        return got

    def totals_by_name(self, ann: Annotations) -> dict[str, tuple[int, dict[str, int]]]:
        """Per task type: how many complete tasks it has, and their :meth:`task_breakdown`
        summed (each task's goroutines by Go's rule; see ``columns.task_goroutine_index``)."""
        from perfgate.trace import scan  # scan imports this module

        if ann.irregular is None:
            ann.irregular = task_goroutine_index(ann)
        if scan.accelerated():
            return self._totals_c(ann)
        tc = ann.tasks
        counts: dict[int, int] = {}
        by_code: dict[int, dict[int, int]] = {}  # name -> code -> ns
        uses: dict[int, list[int]] = {}  # goroutine -> the complete named tasks it belongs to
        odd = ann.irregular
        gc, stw = self._range_sum("gc"), self._range_sum("stw")
        overlaps: dict[int, list[int]] = {}  # name -> [GC, stop-the-world, assists]
        for i, (tid, name, b, e, bg, eg) in enumerate(
            zip(tc.id, tc.name, tc.begin, tc.end, tc.begin_g, tc.end_g, strict=True)
        ):
            if b == NO_TIME or e == NO_TIME or not name:
                continue
            gs = odd.get(tid)
            if gs is None:
                gs = {g for g in (bg, eg) if g not in NONE_GOROUTINES}
            for g in gs:
                uses.setdefault(g, []).append(i)
            counts[name] = counts.get(name, 0) + 1
            o = overlaps.setdefault(name, [0, 0, 0])
            o[0] += gc.overlap(b, e)
            o[1] += stw.overlap(b, e)
        for g, tasks in uses.items():
            times, codes = self._timeline_arrays(g)
            if not len(times):
                continue
            assists = self._range_sum(g) if g in self.assists else None
            _sweep(tc, tasks, times, codes, by_code, overlaps, assists)
        return {ann.strings[n]: (counts[n], self._parts(by_code.get(n, {}), overlaps[n]))
                for n in counts}  # fmt: skip

    def _parts(self, by_code: dict[int, int], overlaps: list[int]) -> dict[str, int]:
        """ns per code and the overlapping GC, stop-the-world and assist ns, by name."""
        parts: dict[str, int] = {}
        for code, ns in by_code.items():
            if code != NOT_EXIST and ns:
                c = self.component(code)
                parts[c] = parts.get(c, 0) + ns
        for c, ns in zip((GC_NAME, STW_NAME, ASSIST_NAME), overlaps, strict=True):
            if ns:
                parts[c] = parts.get(c, 0) + ns
        return parts

    def task_columns(self, ann: Annotations, rows: array) -> dict[str, array]:
        """:meth:`task_breakdown` of each task ``rows`` names (int64 indices of distinct,
        complete, named tasks) as columns: component name -> its ns for each of them, in
        order (a component no task has is left out). Needs the C extension."""
        from perfgate.trace.scan import _scan

        if ann.irregular is None:
            ann.irregular = task_goroutine_index(ann)
        _, _, sums = self._c_totals(ann, _scan, rows)
        n = len(rows)
        ncodes = WAITING + len(self.reasons)
        out: dict[str, array] = {}
        if not n:
            return out
        codes = [(c, self.component(c)) for c in range(ncodes) if c != NOT_EXIST]
        overlapping = [(ncodes + k, c) for k, c in enumerate((GC_NAME, STW_NAME, ASSIST_NAME))]
        for k, name in codes + overlapping:
            col = array("q")
            col.frombytes(sums[k * n * 8 : (k + 1) * n * 8])
            if any(col):
                out[name] = col
        return out

    def _c_totals(self, ann: Annotations, _scan: object, rows: array | None = None) -> tuple:
        chunks, index = self._segments()
        tc = ann.tasks
        assists_g = array("Q", sorted(self.assists))
        assists_off = array("q", [0])
        assists_flat = array("q")
        for g in assists_g:
            assists_flat.extend(_flat(self.assists[g]))
            assists_off.append(len(assists_flat) // 2)
        ncodes = WAITING + len(self.reasons)
        args = (
            (tc.id, tc.name, tc.begin, tc.end, tc.begin_g, tc.end_g),
            ann.irregular,
            tuple(index),
            [(c.gids, c.offsets, c.base, c.times, c.codes) for c in chunks],
            array("q", _flat(self.gc)),
            array("q", _flat(self.stw)),
            (assists_g, assists_off, assists_flat),
            ncodes,
        )
        return _scan.task_totals(*args) if rows is None else _scan.task_totals(*args, rows)  # type: ignore[attr-defined]

    def _totals_c(self, ann: Annotations) -> dict[str, tuple[int, dict[str, int]]]:
        from perfgate.trace.scan import _scan

        names, counts, sums = self._c_totals(ann, _scan)
        ncodes = WAITING + len(self.reasons)
        names = memoryview(names).cast("I")
        counts = memoryview(counts).cast("q")
        sums = memoryview(sums).cast("q")
        width = ncodes + 3
        out: dict[str, tuple[int, dict[str, int]]] = {}
        for k, name in enumerate(names):
            row = sums[k * width : (k + 1) * width]
            by_code = {code: row[code] for code in range(ncodes) if row[code]}
            out[ann.strings[name]] = (counts[k], self._parts(by_code, list(row[ncodes:])))
        return out


def _sweep(
    tc: TaskColumns,
    tasks: list[int],
    times: Sequence[int],
    codes: Sequence[int],
    by_code: dict[int, dict[int, int]],
    overlaps: dict[int, list[int]],
    assists: RangeSum | None,
) -> None:
    """Add one goroutine's time per state code within each of ``tasks`` to their names' sums:
    S(end) - S(begin) per task, S(x) the goroutine's time in each code from its first change up
    to x, read off one pass over its changes and the tasks' ends in time order (a task's
    breakdown, summed, without walking each task's changes)."""
    first = times[0]
    ends: list[tuple[int, int, int]] = []
    for i in tasks:
        b, e, name = tc.begin[i], tc.end[i], tc.name[i]
        if e <= first:
            continue  # the goroutine did not exist yet: nothing, not even its assists
        ends.append((b, -1, name))
        ends.append((e, 1, name))
        if assists is not None:
            overlaps[name][2] += assists.overlap(b, e)
    ends.sort(key=_first)
    total: dict[int, int] = {}  # code -> time in it up to the current change
    k = 0
    n = len(times)
    for x, sign, name in ends:
        while k + 1 < n and times[k + 1] <= x:
            c = codes[k]
            total[c] = total.get(c, 0) + times[k + 1] - times[k]
            k += 1
        if x <= first:
            continue
        acc = by_code.setdefault(name, {})
        for c, ns in total.items():
            acc[c] = acc.get(c, 0) + sign * ns
        c = codes[k]
        acc[c] = acc.get(c, 0) + sign * (x - times[k])


_first = itemgetter(0)


def _flat(ranges: list[list[int | None]]) -> Iterator[int]:
    """[begin, end] ranges as flat ints (None: NO_TIME), for the C helper."""
    for b, e in ranges:
        yield NO_TIME if b is None else b
        yield NO_TIME if e is None else e


class _TimelineView(Mapping[int, array]):
    """``GoroutineStates.times`` / ``.codes``: goroutine -> array, built on request."""

    def __init__(self, states: GoroutineStates, which: int) -> None:
        self._states = states
        self._which = which

    def __getitem__(self, g: int) -> array:
        got = self._states._timeline_arrays(g)[self._which]
        if not len(got):
            raise KeyError(g)
        return got

    def __iter__(self) -> Iterator[int]:
        return iter(self._states.goroutines())

    def __len__(self) -> int:
        return len(self._states.goroutines())

    def __contains__(self, g: object) -> bool:
        gids = self._states.goroutines()
        k = bisect_left(gids, g)  # type: ignore[call-overload]
        return k < len(gids) and gids[k] == g


def index_of(chunks: list[StateChunk]) -> Index:
    """Per goroutine (sorted), its segments in chunk order: (gids, start, chunk, pos)."""
    if len(chunks) == 1:
        n = len(chunks[0].gids)
        return (
            chunks[0].gids,
            array("q", range(n + 1)),
            array("I", bytes(4 * n)),
            array("I", range(n)),
        )
    pairs = sorted((g, ci, p) for ci, c in enumerate(chunks) for p, g in enumerate(c.gids))
    gids = array("Q")
    start = array("q")
    for i, (g, _, _) in enumerate(pairs):
        if not gids or gids[-1] != g:
            gids.append(g)
            start.append(i)
    start.append(len(pairs))
    return gids, start, array("I", (ci for _, ci, _ in pairs)), array("I", (p for _, _, p in pairs))


def _add_goroutine(
    by_code: dict[int, int],
    chunks: list[StateChunk],
    segments: tuple[Sequence[int], Sequence[int], int, int],
    begin: int,
    end: int,
) -> bool:
    """Add one goroutine's time per state code within [begin, end) (its segments s_lo..s_hi);
    False if it did not exist yet at ``end``."""
    chunk_of, pos_of, s_lo, s_hi = segments
    # The segment holding the goroutine's last change at or before ``begin``: segments are in
    # time order, so bisect on their first change times.
    lo, hi = s_lo, s_hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        c = chunks[chunk_of[mid]]
        if c.base + c.times[c.offsets[pos_of[mid]]] <= begin:
            lo = mid
        else:
            hi = mid
    t = None
    code = 0
    for s in range(lo, s_hi):
        c = chunks[chunk_of[s]]
        p = pos_of[s]
        i, j = c.offsets[p], c.offsets[p + 1]
        times, codes, base = c.times, c.codes, c.base
        if t is None:
            i = max(bisect_right(times, begin - base, i, j) - 1, i)
            first = base + times[i]
            if first >= end:
                return False
            t = max(first, begin)
            code = codes[i]
            i += 1
        stop = bisect_left(times, end - base, i, j)
        for x in range(i, stop):
            nxt = base + times[x]
            by_code[code] = by_code.get(code, 0) + nxt - t
            t = nxt
            code = codes[x]
        if stop < j:
            break
    if t is None:
        return False
    by_code[code] = by_code.get(code, 0) + end - t
    return True


_FAR = 1 << 62  # beyond any time: an open range end (or start)


def _add(out: dict[str, int], name: str, ns: int) -> None:
    if ns:
        out[name] = out.get(name, 0) + ns


class RangeSum:
    """How much of [begin, end) a set of ranges covers, summed over the ranges, in O(log n):
    F(end) - F(begin) with F(x) the total length of the ranges' parts up to x (from sorted
    starts and ends with prefix sums). A range open at the start or end of the trace (None)
    reaches beyond any time; one that ends before it starts covers nothing."""

    def __init__(self, ranges: Iterable[list[int | None]]) -> None:
        valid = [(-_FAR if b is None else b, _FAR if e is None else e) for b, e in ranges]
        valid = [(b, e) for b, e in valid if e > b]
        self.begins = sorted(b for b, _ in valid)
        self.ends = sorted(e for _, e in valid)
        self.begin_sums = [0, *accumulate(self.begins)]
        self.end_sums = [0, *accumulate(self.ends)]

    def _upto(self, x: int) -> int:
        nb = bisect_right(self.begins, x)
        ne = bisect_right(self.ends, x)
        return nb * x - self.begin_sums[nb] - (ne * x - self.end_sums[ne])

    def overlap(self, begin: int, end: int) -> int:
        if end <= begin or not self.begins:
            return 0
        return self._upto(end) - self._upto(begin)


# --- wire events ------------------------------------------------------------------------------

# What each scheduler event does to goroutine states, the way ``internal/trace``'s
# ``Event.StateTransition`` reads it: per change it makes, whose state changes (CUR: the
# goroutine running on the event's thread, NAMED: the one its first argument names) and to what
# (a state code, BY_REASON: waiting for the reason its first argument names, BY_STATUS: the
# tracev2.GoStatus in its third argument). Go's reader turns a switch into three events at t,
# t+1, t+2: the named goroutine unblocked, the current one blocked (no reason) or destroyed,
# the named one started. Both readers work from this table (the C one through c_actions).
CUR, NAMED = 0, 1
BY_REASON, BY_STATUS = 255, 254
STATE_RULES: dict[int, tuple[tuple[int, int], ...]] = {
    wire.EV_GO_CREATE: ((NAMED, RUNNABLE),),
    wire.EV_GO_CREATE_SYSCALL: ((NAMED, SYSCALL),),
    wire.EV_GO_CREATE_BLOCKED: ((NAMED, WAITING),),
    wire.EV_GO_START: ((NAMED, RUNNING),),
    wire.EV_GO_DESTROY: ((CUR, NOT_EXIST),),
    wire.EV_GO_DESTROY_SYSCALL: ((CUR, NOT_EXIST),),
    wire.EV_GO_STOP: ((CUR, RUNNABLE),),
    wire.EV_GO_BLOCK: ((CUR, BY_REASON),),
    wire.EV_GO_UNBLOCK: ((NAMED, RUNNABLE),),
    wire.EV_GO_SYSCALL_BEGIN: ((CUR, SYSCALL),),
    wire.EV_GO_SYSCALL_END: ((CUR, RUNNING),),
    wire.EV_GO_SYSCALL_END_BLOCKED: ((CUR, RUNNABLE),),
    wire.EV_GO_STATUS: ((NAMED, BY_STATUS),),
    wire.EV_GO_STATUS_STACK: ((NAMED, BY_STATUS),),
    wire.EV_GO_SWITCH: ((NAMED, RUNNABLE), (CUR, WAITING), (NAMED, RUNNING)),
    wire.EV_GO_SWITCH_DESTROY: ((NAMED, RUNNABLE), (CUR, NOT_EXIST), (NAMED, RUNNING)),
}
FROM_STATUS = {  # tracev2.GoStatus -> state code
    wire.GO_STATUS_RUNNABLE: RUNNABLE,
    wire.GO_STATUS_RUNNING: RUNNING,
    wire.GO_STATUS_SYSCALL: SYSCALL,
    wire.GO_STATUS_WAITING: WAITING,
}
STW_NAME_PREFIX = "stop-the-world"
_RANGES: dict[int, tuple[str, str]] = {
    wire.EV_STW_BEGIN: ("begin", STW_NAME_PREFIX),
    wire.EV_STW_END: ("end", STW_NAME_PREFIX),
    wire.EV_GC_BEGIN: ("begin", GC_RANGE),
    wire.EV_GC_ACTIVE: ("active", GC_RANGE),
    wire.EV_GC_END: ("end", GC_RANGE),
    wire.EV_GC_MARK_ASSIST_BEGIN: ("begin", ASSIST_RANGE),
    wire.EV_GC_MARK_ASSIST_ACTIVE: ("active", ASSIST_RANGE),
    wire.EV_GC_MARK_ASSIST_END: ("end", ASSIST_RANGE),
}
RANGE_EVENTS = frozenset(_RANGES)  # handed over by the readers as (t, type, g, arg1)


# --- the C scanner's action table -----------------------------------------------------------

# Action codes shared with _scan.c's state_pass.
(
    _A_NONE,
    _A_CUR_RUNNING,
    _A_CUR_RUNNABLE,
    _A_CUR_SYSCALL,
    _A_CUR_NOTEXIST,
    _A_CUR_WAITING,
    _A_NAMED_RUNNABLE,
    _A_NAMED_RUNNING,
    _A_NAMED_SYSCALL,
    _A_NAMED_WAITING,
    _A_STATUS,
    _A_SWITCH,
    _A_SWITCH_DESTROY,
    _A_RANGE,
) = range(14)


def c_actions() -> bytes:
    """What _scan.c does with each event type (256 bytes), from STATE_RULES and RANGE_EVENTS."""
    single = {
        (CUR, RUNNING): _A_CUR_RUNNING,
        (CUR, RUNNABLE): _A_CUR_RUNNABLE,
        (CUR, SYSCALL): _A_CUR_SYSCALL,
        (CUR, NOT_EXIST): _A_CUR_NOTEXIST,
        (CUR, BY_REASON): _A_CUR_WAITING,
        (NAMED, RUNNABLE): _A_NAMED_RUNNABLE,
        (NAMED, RUNNING): _A_NAMED_RUNNING,
        (NAMED, SYSCALL): _A_NAMED_SYSCALL,
        (NAMED, WAITING): _A_NAMED_WAITING,
        (NAMED, BY_STATUS): _A_STATUS,
    }
    switch = {WAITING: _A_SWITCH, NOT_EXIST: _A_SWITCH_DESTROY}
    table = bytearray(256)
    for typ, changes in STATE_RULES.items():
        table[typ] = single[changes[0]] if len(changes) == 1 else switch[changes[1][1]]
    for typ in RANGE_EVENTS:
        table[typ] = _A_RANGE
    return bytes(table)
