"""Goroutine states from a trace: what each goroutine was doing at every instant, and per task.

Go's reader turns scheduler events into goroutine *state transitions* (``internal/trace``'s
``Event.StateTransition``): running, runnable (waiting for a CPU: scheduler wait), waiting
(blocked, with a reason such as ``chan receive``, ``sync``, ``select``, ``network``, ``sleep``),
in a syscall, or not existing. :class:`GoroutineStates` records, per goroutine, the times it
changed state and the state it changed to, exactly as ``go tool trace -d=parsed`` prints them
(the native reader feeds wire events through :meth:`GoroutineStates.wire_event`, the
``go tool trace`` reader the dump's ``StateTransition`` lines through
:meth:`GoroutineStates.transition`). It also records the stop-the-world and GC mark phases
(global) and each goroutine's GC mark assists.

:meth:`GoroutineStates.task_breakdown` then answers, for one task, the question Go's
``summary.go`` answers per region: how long the task's goroutines (those that began or ended it,
or logged or opened a region in it — summary.go's rule for ``UserTaskSummary.Goroutines``) spent
in each state during the task's span. Transitions that do not change the state (the GoStatus
events repeated at each generation start) are dropped, as summary.go drops them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from itertools import compress
from operator import sub

from perfgate.trace import wire

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


class GoroutineStates:
    """Per goroutine state timelines plus GC and stop-the-world ranges, fed in trace order."""

    def __init__(self) -> None:
        self.times: dict[int, array] = {}  # goroutine -> times (ns) of its state changes
        self.codes: dict[int, array] = {}  # goroutine -> state code after each change
        self.reasons: list[str] = []
        self._reason_code: dict[str, int] = {}
        self.gc: list[list[int | None]] = []  # [begin, end] of each GC mark phase
        self.stw: list[list[int | None]] = []  # [begin, end] of each stop-the-world
        self.assists: dict[int, list[list[int | None]]] = {}  # goroutine -> mark assists
        self._stw_open: dict[int | None, list[int | None]] = {}
        self.last: dict[int, int] = {}  # goroutine -> last code (kept by the C scanner)
        self.code(WAITING, "")  # WAITING itself: waiting for no reason given (the C scanner's)

    # --- feeding ------------------------------------------------------------------------------

    def code(self, state: int, reason: str = "") -> int:
        """The state code of ``state`` (WAITING: with ``reason``)."""
        if state != WAITING:
            return state
        c = self._reason_code.get(reason)
        if c is None:
            c = self._reason_code[reason] = len(self.reasons)
            self.reasons.append(reason)
        return WAITING + c

    def set(self, t: int, g: int, code: int) -> None:
        """Goroutine ``g`` is in state ``code`` from ``t`` on (ignored if already in that state,
        whatever the blocking reason, as summary.go ignores ``old == new`` transitions)."""
        codes = self.codes.get(g)
        if codes is None:
            self.times[g] = array("q", (t,))
            self.codes[g] = array("I", (code,))
            return
        last = codes[-1]
        if last == code or (last >= WAITING and code >= WAITING):
            return
        self.times[g].append(t)
        codes.append(code)

    def add_changes(self, changes: Iterable[tuple[int, bytes, bytes]]) -> None:
        """Append the C scanner's state changes of one generation: per goroutine, its change
        times (native int64) and codes (native uint32), ``set``'s rule already applied (with
        ``last``, each goroutine's last code, which the scanner keeps up to date)."""
        times, codes = self.times, self.codes
        for g, tb, cb in changes:
            arr = times.get(g)
            if arr is None:
                arr = times[g] = array("q")
                codes[g] = array("I")
            arr.frombytes(tb)
            codes[g].frombytes(cb)

    def transition(self, t: int, g: int, state: str, reason: str = "") -> None:
        """A ``StateTransition`` as ``go tool trace`` prints it (``state``: the new state)."""
        self.set(t, g, self.code(STATE_NAMES[state], reason))

    def range_begin(self, t: int, name: str, g: int | None) -> None:
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
        if name == GC_RANGE:
            if not self.gc or self.gc[-1][1] is not None:
                self.gc.append([t, None])
        elif name == ASSIST_RANGE and g is not None:
            mine = self.assists.setdefault(g, [])
            if not mine or mine[-1][1] is not None:
                mine.append([t, None])

    def range_end(self, t: int, name: str, g: int | None) -> None:
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

    def wire_event(
        self,
        t: int,
        typ: int,
        g: int | None,
        a1: int,
        a3: int,
        string: Callable[[int], str],
    ) -> None:
        """One wire-format state event (``g``: the goroutine running on the event's thread,
        ``a1``/``a3``: its first and third arguments after the time delta), the way
        ``internal/trace``'s ``Event.StateTransition`` and ``Event.Range`` read it."""
        handler = _WIRE.get(typ)
        if handler is not None:
            handler(self, t, g, a1, a3, string)

    # --- reading ------------------------------------------------------------------------------

    def timeline(self, g: int) -> list[tuple[int, str]]:
        """Goroutine ``g``'s state changes as (time, state name) pairs, e.g. for tests."""
        return [
            (t, self.describe(c))
            for t, c in zip(self.times.get(g, ()), self.codes.get(g, ()), strict=True)
        ]

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
        end = max((t[-1] for t in self.times.values() if len(t)), default=0)
        total = 0
        running = RUNNING.__eq__
        for g, times in self.times.items():
            following = times[1:]
            following.append(end)
            total += sum(compress(map(sub, following, times), map(running, self.codes[g])))
        return total

    def task_breakdown(self, begin: int, end: int, goroutines: Iterable[int]) -> dict[str, int]:
        """Time (ns) the goroutines spent in each state between ``begin`` and ``end``, summed
        over the goroutines while they existed (from their creation, or first sight in the
        trace, to their end), plus the overlapping GC and stop-the-world components."""
        out: dict[str, int] = {}
        component = self.component
        for g in goroutines:
            times = self.times.get(g)
            if times is None:
                continue
            codes = self.codes[g]
            i = bisect_right(times, begin) - 1
            t = begin
            if i < 0:  # the goroutine was created (or first seen) after the task began
                t, i = times[0], 0
                if t >= end:
                    continue
            n = len(times)
            code = codes[i]
            j = i + 1
            while j < n and times[j] < end:
                if code != NOT_EXIST:
                    name = component(code)
                    out[name] = out.get(name, 0) + times[j] - t
                t = times[j]
                code = codes[j]
                j += 1
            if code != NOT_EXIST:
                name = component(code)
                out[name] = out.get(name, 0) + end - t
            assists = self.assists.get(g)
            if assists:
                _add_overlap(out, ASSIST_NAME, assists, begin, end)
        if self.gc:
            _add_overlap(out, GC_NAME, self.gc, begin, end)
        if self.stw:
            _add_overlap(out, STW_NAME, self.stw, begin, end)
        return {k: v for k, v in out.items() if v}


def _add_overlap(
    out: dict[str, int], name: str, ranges: list[list[int | None]], begin: int, end: int
) -> None:
    """Add the overlap of [begin, end) with ``ranges`` (sorted, disjoint) to ``out[name]``."""
    # Ranges are in trace order; find the first that may end after ``begin``.
    lo = bisect_left(ranges, begin, key=_range_end) if len(ranges) > 8 else 0
    total = 0
    for k in range(lo, len(ranges)):
        b, e = ranges[k]
        b = begin if b is None or b < begin else b
        if b >= end:
            break
        e = end if e is None or e > end else e
        if e > b:
            total += e - b
    if total:
        out[name] = out.get(name, 0) + total


def _range_end(r: list[int | None]) -> float:
    return float("inf") if r[1] is None else r[1]


# --- wire events ------------------------------------------------------------------------------

_Handler = Callable[["GoroutineStates", int, "int | None", int, int, Callable[[int], str]], None]


def _current(to: int) -> _Handler:
    def handler(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
        if g is not None:
            s.set(t, g, to)

    return handler


def _named(to: int) -> _Handler:
    def handler(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
        s.set(t, a1, to)

    return handler


def _go_stop(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    if g is not None:
        s.set(t, g, RUNNABLE)


def _go_block(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    if g is not None:
        s.set(t, g, s.code(WAITING, string(a1)))


def _go_create_blocked(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string):
    s.set(t, a1, s.code(WAITING))


def _go_status(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    state = _FROM_STATUS.get(a3)
    if state is not None:
        s.set(t, a1, s.code(state))


def _go_switch(to_current: int) -> _Handler:
    # Go's reader yields three events at t, t+1, t+2: the named goroutine unblocked, the current
    # one blocked (no reason) or destroyed, the named one started.
    def handler(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
        s.set(t, a1, RUNNABLE)
        if g is not None:
            s.set(t + 1, g, s.code(WAITING) if to_current == WAITING else to_current)
        s.set(t + 2, a1, RUNNING)

    return handler


def _stw_begin(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_begin(t, "stop-the-world (" + string(a1) + ")", g)


def _stw_end(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_end(t, "stop-the-world", g)


def _gc_begin(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_begin(t, GC_RANGE, g)


def _gc_active(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_active(t, GC_RANGE, g)


def _gc_end(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_end(t, GC_RANGE, g)


def _assist_begin(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_begin(t, ASSIST_RANGE, g)


def _assist_active(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_active(t, ASSIST_RANGE, a1)


def _assist_end(s: GoroutineStates, t: int, g: int | None, a1: int, a3: int, string) -> None:
    s.range_end(t, ASSIST_RANGE, g)


_WIRE: dict[int, _Handler] = {
    wire.EV_GO_CREATE: _named(RUNNABLE),
    wire.EV_GO_CREATE_SYSCALL: _named(SYSCALL),
    wire.EV_GO_CREATE_BLOCKED: _go_create_blocked,
    wire.EV_GO_START: _named(RUNNING),
    wire.EV_GO_DESTROY: _current(NOT_EXIST),
    wire.EV_GO_DESTROY_SYSCALL: _current(NOT_EXIST),
    wire.EV_GO_STOP: _go_stop,
    wire.EV_GO_BLOCK: _go_block,
    wire.EV_GO_UNBLOCK: _named(RUNNABLE),
    wire.EV_GO_SYSCALL_BEGIN: _current(SYSCALL),
    wire.EV_GO_SYSCALL_END: _current(RUNNING),
    wire.EV_GO_SYSCALL_END_BLOCKED: _current(RUNNABLE),
    wire.EV_GO_STATUS: _go_status,
    wire.EV_GO_STATUS_STACK: _go_status,
    wire.EV_GO_SWITCH: _go_switch(WAITING),
    wire.EV_GO_SWITCH_DESTROY: _go_switch(NOT_EXIST),
    wire.EV_STW_BEGIN: _stw_begin,
    wire.EV_STW_END: _stw_end,
    wire.EV_GC_BEGIN: _gc_begin,
    wire.EV_GC_ACTIVE: _gc_active,
    wire.EV_GC_END: _gc_end,
    wire.EV_GC_MARK_ASSIST_BEGIN: _assist_begin,
    wire.EV_GC_MARK_ASSIST_ACTIVE: _assist_active,
    wire.EV_GC_MARK_ASSIST_END: _assist_end,
}


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
    """What _scan.c does with each event type (256 bytes): the same as ``_WIRE`` above."""
    table = bytearray(256)
    for typ, action in {
        wire.EV_GO_CREATE: _A_NAMED_RUNNABLE,
        wire.EV_GO_CREATE_SYSCALL: _A_NAMED_SYSCALL,
        wire.EV_GO_CREATE_BLOCKED: _A_NAMED_WAITING,
        wire.EV_GO_START: _A_NAMED_RUNNING,
        wire.EV_GO_DESTROY: _A_CUR_NOTEXIST,
        wire.EV_GO_DESTROY_SYSCALL: _A_CUR_NOTEXIST,
        wire.EV_GO_STOP: _A_CUR_RUNNABLE,
        wire.EV_GO_BLOCK: _A_CUR_WAITING,
        wire.EV_GO_UNBLOCK: _A_NAMED_RUNNABLE,
        wire.EV_GO_SYSCALL_BEGIN: _A_CUR_SYSCALL,
        wire.EV_GO_SYSCALL_END: _A_CUR_RUNNING,
        wire.EV_GO_SYSCALL_END_BLOCKED: _A_CUR_RUNNABLE,
        wire.EV_GO_STATUS: _A_STATUS,
        wire.EV_GO_STATUS_STACK: _A_STATUS,
        wire.EV_GO_SWITCH: _A_SWITCH,
        wire.EV_GO_SWITCH_DESTROY: _A_SWITCH_DESTROY,
    }.items():
        table[typ] = action
    for typ in (
        wire.EV_STW_BEGIN,
        wire.EV_STW_END,
        wire.EV_GC_BEGIN,
        wire.EV_GC_ACTIVE,
        wire.EV_GC_END,
        wire.EV_GC_MARK_ASSIST_BEGIN,
        wire.EV_GC_MARK_ASSIST_ACTIVE,
        wire.EV_GC_MARK_ASSIST_END,
    ):
        table[typ] = _A_RANGE
    assert set(_WIRE) == {t for t in range(256) if table[t]}
    return bytes(table)
