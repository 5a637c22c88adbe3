"""The native reader: tasks, regions and logs straight from the trace bytes, no Go needed.

Streams the file one generation at a time (see ``batches``), tokenises event batches with a
regular expression (``scan``), reproduces Go's event times (``timing``) and pairs the events
(``annotations``). Memory grows with the number of user events plus one generation's event times.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from operator import itemgetter

from perfgate.trace import wire
from perfgate.trace.annotations import Assembler, DuplicateTask
from perfgate.trace.batches import Batch, Corrupt, Truncated, read_generations, uvarint
from perfgate.trace.columns import NO_GOROUTINE
from perfgate.trace.errors import TraceError
from perfgate.trace.header import open_trace, read_version
from perfgate.trace.model import TraceData
from perfgate.trace.scan import (
    GenerationEvents,
    GenerationScan,
    accelerated,
    cpu_sample_times,
    frequency,
    scan_c,
    scan_generation,
)
from perfgate.trace.states import WAITING, GoroutineStates, c_actions
from perfgate.trace.timing import last_time, nudge_all, sync_time

_first = itemgetter(0)
TASK_BEGIN = wire.EV_USER_TASK_BEGIN
TASK_END = wire.EV_USER_TASK_END
REGION_BEGIN = wire.EV_USER_REGION_BEGIN
REGION_END = wire.EV_USER_REGION_END


class UnsupportedVersion(TraceError):
    """A v2-looking trace newer than this reader knows (another reader may handle it)."""

    def __init__(self, message: str, version: int, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.version = version


_STRING = re.compile(rb"\x05([\x80-\xff]{0,9}[\x00-\x7f])([\x80-\xff]{0,9}[\x00-\x7f])")


class _Strings(dict):  # type: ignore[type-arg]
    """A generation's string table: id -> raw bytes, decoded to str on first use."""

    def get(self, key: int, default: None = None) -> str | None:  # type: ignore[override]
        v = dict.get(self, key)
        if v is None or isinstance(v, str):
            return v
        s = v.decode("utf-8", "replace")
        self[key] = s
        return s


def _strings(batches: list[Batch]) -> _Strings:
    table = _Strings()
    for b in batches:
        data = b.data
        pos = 1
        n = len(data)
        match = _STRING.match
        while pos < n:
            m = match(data, pos)
            if m is None:
                raise Corrupt("bad string event in a strings batch")
            sid, length = uvarint(m[1]), uvarint(m[2])
            end = m.end() + length
            if length > wire.MAX_STRING_SIZE or end > n:
                raise Corrupt("bad string length")
            if sid in table:
                raise Corrupt(f"string id {sid} defined twice")
            table[sid] = data[m.end() : end]
            pos = end
    return table


def read_native(path: str, states: bool = False) -> TraceData:
    """Read ``path`` with the native reader. Raises TraceError (``UnsupportedVersion`` for a
    version newer than known). ``states``: also track every goroutine's state
    (``TraceData.states``; slower, see :mod:`perfgate.trace.states`)."""
    f, size = open_trace(path)
    with f:
        version = read_version(f, path, size)
        if version not in wire.V2_VERSIONS:
            raise UnsupportedVersion(
                f"{path} is a Go 1.{version} trace, newer than perfgate's native reader knows "
                f"(it reads {', '.join(wire.version_name(v) for v in wire.V2_VERSIONS)})",
                version,
                hint="Use reader='go' with a Go toolchain that can read it, or upgrade perfgate.",
            )
        data = TraceData(path=path, version=wire.version_name(version), size=size)
        data.bytes_read = wire.HEADER_SIZE
        asm = Assembler()
        gstates = GoroutineStates() if states else None
        last_codes: dict[int, int] = {}  # goroutine -> last state code (the C scanner keeps it)
        carry: dict[int, int] = {}  # M -> goroutine running at the end of the last generation
        fast = accelerated()
        last = 0
        try:
            for gen in read_generations(f, version):
                freq = frequency(gen.syncs, version)
                strings = _strings(gen.strings)
                samples = cpu_sample_times(gen.cpu_samples, freq) if gen.cpu_samples else []
                sync = sync_time(int(float(gen.min_time) * freq), last, version >= 25)
                if fast:
                    ctx = None if gstates is None else _c_states(gstates, strings, last_codes)
                    evs = scan_c(gen.events, version, freq, samples, sync, carry, ctx)
                    gen.events.clear()  # free the batch bytes before the objects are built
                    _pair(_columns(evs), strings, asm)
                    if gstates is not None:
                        for g, tb, cb in evs.changes:
                            gstates.extend_changes(g, tb, cb)
                        string = _string_of(strings)
                        for t, typ, g, a1 in evs.ranges:
                            gstates.wire_event(t, typ, g, a1, 0, string)
                    last, bindings, setters = evs.last_time, evs.syscall_bindings, evs.last_setter
                    del evs
                else:
                    scan = scan_generation(gen.events, version, freq, states)
                    if samples:
                        scan.extra = sorted(scan.extra + samples)
                    nudge_all(scan, sync)
                    events = _tuples(scan, carry)
                    if gstates is not None:
                        events = _split(events, gstates, strings)
                    _pair(events, strings, asm)
                    last = last_time(scan, sync)
                    bindings, setters = scan.syscall_bindings, scan.last_setter
                    del scan
                for m, g in bindings.items():
                    carry[m] = g
                carry.update(setters)
                data.generations += 1
                data.bytes_read = gen.end_offset
        except Truncated as e:
            data.truncated = True
            data.truncation_note = (
                f"trace is truncated ({e}): read {data.bytes_read} of {size} bytes, "
                f"kept {data.generations} complete generation(s)"
            )
        except (Corrupt, DuplicateTask) as e:
            raise TraceError(
                f"{path} is corrupt: {e} (after {data.generations} good generation(s), "
                f"{data.bytes_read} of {size} bytes)"
            ) from None
        if data.generations == 0 and not data.truncated:
            raise TraceError(f"{path} holds no trace data after its header")
    data.annotations = asm.result()
    data.states = gstates
    return data


_USER = frozenset(wire.USER_EVENTS)


def _string_of(strings: _Strings) -> Callable[[int], str]:
    def string(sid: int) -> str:
        v = strings.get(sid)
        if v is None:
            raise Corrupt(f"a scheduler event refers to unknown string id {sid}")
        return v

    return string


_ACTIONS = c_actions()


def _c_states(
    gstates: GoroutineStates, strings: _Strings, last_codes: dict[int, int]
) -> tuple[bytes, dict[int, int], dict[int, int], Callable[[int], int]]:
    """What the C scanner needs to track goroutine states through one generation."""
    string = _string_of(strings)
    code = gstates.code

    def reason(sid: int) -> int:
        return code(WAITING, string(sid))

    return _ACTIONS, last_codes, {}, reason


def _split(
    events: Iterable[UserEvent], gstates: GoroutineStates, strings: _Strings
) -> Iterator[UserEvent]:
    """Hand the goroutine-state events to ``gstates`` and pass the user events on (the
    pure-Python path; the C scanner does this itself)."""
    feed = gstates.wire_event
    user = _USER
    string = _string_of(strings)

    for ev in events:
        if ev[1] in user:
            yield ev if ev[2] is not None else (ev[0], ev[1], NO_GOROUTINE, *ev[3:])
        else:
            feed(ev[0], ev[1], ev[2], ev[3], ev[5], string)


def _tuples(scan: GenerationScan, carry: dict[int, int]) -> Iterator[UserEvent]:
    """The pure-Python scan's user events in Go's order, goroutines resolved."""
    user = scan.user
    user.sort(key=_first)
    bindings = scan.syscall_bindings
    for t, m, _, typ, g, a1, a2, a3 in user:
        if g is None:
            g = bindings.get(m, carry.get(m))
        yield t, typ, g, a1, a2, a3


def _columns(evs: GenerationEvents) -> Iterator[UserEvent]:
    """The C scanner's user events (already in Go's order, goroutines resolved)."""
    if not all(evs.goroutine_known):
        gs: Iterable[int] = [
            g if k else NO_GOROUTINE
            for g, k in zip(evs.goroutine, evs.goroutine_known, strict=True)
        ]
    else:
        gs = evs.goroutine
    return zip(evs.time, evs.type, gs, evs.arg1, evs.arg2, evs.arg3, strict=True)


# One user event ready to pair: time (ns), type, goroutine, and its first three arguments.
UserEvent = tuple[int, int, "int | None", int, int, int]


def _pair(events: Iterable[UserEvent], strings: _Strings, asm: Assembler) -> None:
    """Hand a generation's user events, in Go's order, to the Assembler."""
    task_begin, task_end = asm.task_begin, asm.task_end
    region_begin, region_end, log = asm.region_begin, asm.region_end, asm.log
    intern = asm.strings
    cache: dict[int, int] = {}  # string id -> interned index
    name_of = cache.get
    lookup = strings.get
    for t, typ, g, a1, a2, a3 in events:
        if g is None:
            g = NO_GOROUTINE
        if typ == TASK_END:
            task_end(t, g, a1)
            continue
        sid = a3 if typ == TASK_BEGIN else a2
        name = name_of(sid)
        if name is None:
            s = lookup(sid)
            if s is None:
                what = "a task" if typ == TASK_BEGIN else "an annotation"
                raise Corrupt(f"{what} refers to unknown string id {sid}")
            name = cache[sid] = intern(s)
        if typ == TASK_BEGIN:
            task_begin(t, g, a1, a2, name)
        elif typ == REGION_BEGIN:
            region_begin(t, g, a1, name)
        elif typ == REGION_END:
            region_end(t, g, a1, name)
        else:
            value = lookup(a3)
            if value is None:
                raise Corrupt(f"a log refers to unknown string id {a3}")
            log(t, g, a1, name, intern(value))
