"""The native reader: tasks, regions and logs straight from the trace bytes, no Go needed.

Streams the file one generation at a time (``batches``) and hands each generation to a reader
that keeps, across generations, what pairing and goroutine states need: the C reader
(``_scan.Reader``, built from ``_scan.c``), or its pure-Python twin :class:`PureReader`
(``scan`` tokenises, ``timing`` reproduces Go's event times, ``annotations`` pairs, ``states``
tracks goroutines). Both fill columns (``columns``), never an object per event; both apply the
same rules, and the test suite holds them to identical results. Time and memory grow linearly
with the trace on any input; ``limits`` refuses absurd ones.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Protocol

from perfgate.trace import limits, wire
from perfgate.trace.annotations import Assembler, DuplicateTask
from perfgate.trace.batches import (
    Batch,
    Corrupt,
    Generation,
    Truncated,
    read_generations,
    uvarint,
)
from perfgate.trace.columns import (
    NO_GOROUTINE,
    Annotations,
    LogColumns,
    RegionColumns,
    Strings,
    TaskColumns,
)
from perfgate.trace.errors import TraceError
from perfgate.trace.header import open_trace, read_version
from perfgate.trace.model import TraceData
from perfgate.trace.scan import (
    TIME_LIMIT,
    USER_TYPES,
    accelerated,
    c_reader,
    check_threads,
    cpu_sample_times,
    frequency,
    scan_generation,
    whole_unit,
)
from perfgate.trace.states import RANGE_EVENTS, GoroutineStates, StateChunk
from perfgate.trace.timing import kept_times, last_time, sync_time

TASK_BEGIN, TASK_END, REGION_BEGIN, REGION_END, LOG = USER_TYPES

# A range event (GC, stop-the-world, mark assist): time, type, goroutine or None, arg1.
RangeEvent = tuple[int, int, "int | None", int]


class UnsupportedVersion(TraceError):
    """A v2-looking trace newer than this reader knows (another reader may handle it)."""

    def __init__(self, message: str, version: int, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.version = version


class _Reader(Protocol):
    def generation(
        self, gen: Generation, freq: float, samples: list[int], sync: int
    ) -> tuple[int, list[RangeEvent]]: ...

    def finish(self, gstates: GoroutineStates | None) -> Annotations: ...


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
        gstates = GoroutineStates() if states else None
        reader: _Reader = (
            CReader(version, states) if accelerated() else PureReader(version, gstates)
        )
        last = 0
        try:
            for gen in read_generations(f, version):
                freq = frequency(gen.syncs, version)
                samples = cpu_sample_times(gen.cpu_samples, freq) if gen.cpu_samples else []
                sync = sync_time(int(float(gen.min_time) * freq), last, version >= 25)
                if not 0 <= sync < TIME_LIMIT or (samples and samples[-1] >= TIME_LIMIT):
                    raise Corrupt("timestamp out of range")
                last, ranges = reader.generation(gen, freq, samples, sync)
                if gstates is not None:
                    ranges.sort(key=_first)  # Go's order (stable: same-time ones as scanned)
                    for r in ranges:
                        gstates.range_event(*r)
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
        except limits.LimitExceeded as e:
            raise TraceError(
                f"{path} is refused: {e}, after {data.generations} good generation(s)",
                hint="Such a trace is not one a Go program writes; perfgate will not spend "
                "unbounded time and memory on it.",
            ) from None
        if data.generations == 0 and not data.truncated:
            raise TraceError(f"{path} holds no trace data after its header")
    data.annotations = reader.finish(gstates)
    data.states = gstates
    return data


_first = itemgetter(0)


# --- the C reader -------------------------------------------------------------------------------


class CReader:
    """The C reader (``_scan.Reader``) behind the :class:`_Reader` interface."""

    def __init__(self, version: int, states: bool) -> None:
        self._r = c_reader(version, states, Corrupt)

    def generation(
        self, gen: Generation, freq: float, samples: list[int], sync: int
    ) -> tuple[int, list[RangeEvent]]:
        packed = array("q", samples).tobytes()
        strings = [b.data for b in gen.strings]
        last, ranges = self._r.generation(gen.events, strings, whole_unit(freq), freq, packed, sync)
        gen.events.clear()  # free the batch bytes early
        return last, ranges

    def finish(self, gstates: GoroutineStates | None) -> Annotations:
        d = self._r.finish()
        strings = Strings(data=d["pool_data"], offsets=_cast(("Q", d["pool_offsets"])))

        def col(name: str) -> Sequence[int]:
            return _cast(d.pop(name))

        ann = Annotations(
            strings,
            TaskColumns(*map(col, ("task_id", "task_parent", "task_name", "task_begin",
                                   "task_end", "task_begin_g", "task_end_g"))),
            RegionColumns(*map(col, ("region_task", "region_name", "region_g", "region_begin",
                                     "region_end"))),
            LogColumns(*map(col, ("log_task", "log_key", "log_value", "log_time", "log_g"))),
        )  # fmt: skip
        if gstates is not None:
            chunks = [
                StateChunk(
                    _cast(("Q", gids)),
                    _cast(("I", offsets)),
                    base,
                    _cast((tcode, times)),
                    _cast((ccode, codes)),
                )
                for gids, offsets, base, tcode, times, ccode, codes in d["chunks"]
            ]
            index = tuple(map(col, ("index_gids", "index_start", "index_chunk", "index_pos")))
            odd: dict[int, set[int]] = {tid: set() for tid in col("odd_ids")}
            pairs = col("odd_pairs")
            for k in range(0, len(pairs), 2):
                odd[pairs[k]].add(pairs[k + 1])
            ann.irregular = {tid: frozenset(gs) for tid, gs in odd.items()}
            reasons = [strings[i] for i in col("reasons")]
            gstates.add_chunks(chunks, index, reasons)  # type: ignore[arg-type]
        return ann


def _cast(typed: tuple[str, bytes]) -> Sequence[int]:
    code, raw = typed
    return memoryview(raw).cast(code)


# --- the pure-Python reader ---------------------------------------------------------------------


_STRING = re.compile(rb"\x05([\x80-\xff]{0,9}[\x00-\x7f])([\x80-\xff]{0,9}[\x00-\x7f])")


def _strings(batches: list[Batch]) -> dict[int, bytes]:
    """A generation's string table: id -> raw bytes."""
    table: dict[int, bytes] = {}
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
            if sid >> 64 or length >> 64:
                raise Corrupt("bad string event in a strings batch")
            end = m.end() + length
            if length > wire.MAX_STRING_SIZE or end > n:
                raise Corrupt("bad string length")
            if sid in table:
                raise Corrupt(f"string id {sid} defined twice")
            if len(table) >= limits.MAX_STRINGS_PER_GENERATION:
                raise limits.LimitExceeded(
                    f"more than {limits.MAX_STRINGS_PER_GENERATION} strings in one generation "
                    "(limit MAX_STRINGS_PER_GENERATION)"
                )
            table[sid] = data[m.end() : end]
            pos = end
    return table


class PureReader:
    """What the C reader does, in Python (no compiler at install time, or
    $PERFGATE_PURE_PYTHON=1): the same rules, the same errors, the same columns."""

    def __init__(self, version: int, gstates: GoroutineStates | None) -> None:
        self.version = version
        self.asm = Assembler()
        self.gstates = gstates
        self.carry: dict[int, int] = {}  # M -> goroutine running at the end of the last gen

    def generation(
        self, gen: Generation, freq: float, samples: list[int], sync: int
    ) -> tuple[int, list[RangeEvent]]:
        table = _strings(gen.strings)
        check_threads(gen.events)
        gstates = self.gstates
        scan = scan_generation(gen.events, self.version, freq, gstates is not None)
        gen.events.clear()
        if max(scan.hi * scan.unit, sync) - scan.lo * scan.unit >= limits.MAX_GENERATION_SPAN_NS:
            raise limits.LimitExceeded(
                f"a generation spanning more than {limits.MAX_GENERATION_SPAN_NS} ns "
                "(limit MAX_GENERATION_SPAN_NS)"
            )
        extra = sorted(scan.extra + samples) if samples else sorted(scan.extra)
        kept = scan.kept
        unit = scan.unit
        times = kept_times(kept, scan.times, extra, unit, sync, scan.count)
        last = last_time(scan.times, extra, unit, scan.count, sync)
        bindings, setters, carry = scan.syscall_bindings, scan.last_setter, self.carry
        strings = _Strings(table, self.asm.strings)
        ranges: list[RangeEvent] = []
        order = sorted(range(len(kept)), key=times.__getitem__)
        if gstates is None:
            _pair(kept, order, times, strings, self.asm, bindings, carry)
        else:
            uorder = [i for i in order if kept[i][3] in _USER]
            _pair(kept, uorder, times, strings, self.asm, bindings, carry)
            del uorder
            _feed_states(kept, order, times, strings, gstates, bindings, carry, ranges)
        for m, g in bindings.items():
            carry[m] = g
        carry.update(setters)
        return last, ranges

    def finish(self, gstates: GoroutineStates | None) -> Annotations:
        return self.asm.result()


class _Strings:
    """A generation's string table for pairing: ids -> interned indices (or text)."""

    def __init__(self, table: dict[int, bytes], intern: Callable[[str], int]) -> None:
        self.table = table
        self.intern = intern
        self.cache: dict[int, int] = {}

    def index(self, sid: int) -> int | None:
        i = self.cache.get(sid)
        if i is None:
            raw = self.table.get(sid)
            if raw is None:
                return None
            i = self.cache[sid] = self.intern(raw.decode("utf-8", "replace"))
        return i

    def text(self, sid: int) -> str:
        raw = self.table.get(sid)
        if raw is None:
            raise Corrupt(f"a scheduler event refers to unknown string id {sid}")
        return raw.decode("utf-8", "replace")


_USER = frozenset(USER_TYPES)
KeptEvents = Sequence[tuple[int, int, int, int, "int | None", int, int, int]]


def _pair(
    kept: KeptEvents,
    order: Sequence[int],
    times: Sequence[int],
    strings: _Strings,
    asm: Assembler,
    bindings: dict[int, int],
    carry: dict[int, int],
) -> None:
    """Hand a generation's user events, in Go's order, to the Assembler."""
    task_begin, task_end = asm.task_begin, asm.task_end
    region_begin, region_end, log = asm.region_begin, asm.region_end, asm.log
    index = strings.index
    for i in order:
        _, m, _, typ, g, a1, a2, a3 = kept[i]
        t = times[i]
        if g is None:
            g = bindings.get(m)
            if g is None:
                g = carry.get(m, NO_GOROUTINE)
        if typ == TASK_END:
            task_end(t, g, a1)
            continue
        sid = a3 if typ == TASK_BEGIN else a2
        name = index(sid)
        if name is None:
            what = "a task" if typ == TASK_BEGIN else "an annotation"
            raise Corrupt(f"{what} refers to unknown string id {sid}")
        if typ == TASK_BEGIN:
            task_begin(t, g, a1, a2, name)
        elif typ == REGION_BEGIN:
            region_begin(t, g, a1, name)
        elif typ == REGION_END:
            region_end(t, g, a1, name)
        else:
            value = index(a3)
            if value is None:
                raise Corrupt(f"a log refers to unknown string id {a3}")
            log(t, g, a1, name, value)


def _feed_states(
    kept: KeptEvents,
    order: Sequence[int],
    times: Sequence[int],
    strings: _Strings,
    gstates: GoroutineStates,
    bindings: dict[int, int],
    carry: dict[int, int],
    ranges: list[RangeEvent],
) -> None:
    """Hand a generation's scheduler events, in Go's order, to ``gstates`` (the range events
    to ``ranges``)."""
    feed = gstates.wire_event
    text = strings.text
    user = _USER
    is_range = RANGE_EVENTS.__contains__
    for i in order:
        _, m, _, typ, g, a1, _, a3 = kept[i]
        if typ in user:
            continue
        if g is None:
            g = bindings.get(m)
            if g is None:
                g = carry.get(m)
        if is_range(typ):
            if typ == wire.EV_STW_BEGIN:
                text(a1)  # an unknown reason string makes the trace corrupt
            ranges.append((times[i], typ, g, a1))
        else:
            feed(times[i], typ, g, a1, a3, text)
