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
from collections.abc import Callable, Iterator, Sequence
from itertools import compress, repeat
from operator import getitem, is_, itemgetter, ne
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
    GenerationScan,
    accelerated,
    c_reader,
    check_threads,
    cpu_sample_times,
    frequency,
    scan_generation,
    whole_unit,
)
from perfgate.trace.states import (
    BY_REASON,
    BY_STATUS,
    FROM_STATUS,
    RANGE_EVENTS,
    RUNNABLE,
    RUNNING,
    STATE_RULES,
    WAITING,
    GoroutineStates,
    Index,
    StateChunk,
    c_actions,
    index_of,
)
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
        self._r = c_reader(version, states, c_actions(), Corrupt)

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
        odd: dict[int, set[int]] = {tid: set() for tid in col("odd_ids")}
        pairs = col("odd_pairs")
        for k in range(0, len(pairs), 2):
            odd[pairs[k]].add(pairs[k + 1])
        ann.irregular = {tid: frozenset(gs) for tid, gs in odd.items()}
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
            reasons = [strings[i] for i in col("reasons")]
            gstates.add_chunks(chunks, index, reasons)  # type: ignore[arg-type]
        return ann


def _cast(typed: tuple[str, bytes]) -> Sequence[int]:
    code, raw = typed
    return memoryview(raw).cast(code)


# --- the pure-Python reader ---------------------------------------------------------------------


_STRING = re.compile(rb"\x05([\x80-\xff]{0,9}[\x00-\x7f])([\x80-\xff]{0,9}[\x00-\x7f])")


def _string_events(batches: list[Batch]) -> Iterator[tuple[int, bytes, int, int]]:
    """Each string event of a generation's string batches: (id, batch data, start, end)."""
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
            yield sid, data, m.end(), end
            pos = end


def _strings(batches: list[Batch]) -> dict[int, bytes]:
    """A generation's string table: id -> raw bytes. Checked in the C reader's order: the
    events and the limit first, then ids defined twice."""
    for count, _ in enumerate(_string_events(batches), start=1):
        if count > limits.MAX_STRINGS_PER_GENERATION:
            raise limits.LimitExceeded(
                f"more than {limits.MAX_STRINGS_PER_GENERATION} strings in one generation "
                "(limit MAX_STRINGS_PER_GENERATION)"
            )
    table: dict[int, bytes] = {}
    for sid, data, start, end in _string_events(batches):
        if sid in table:
            raise Corrupt(f"string id {sid} defined twice")
        table[sid] = data[start:end]
    return table


class PureReader:
    """What the C reader does, in Python (no compiler at install time, or
    $PERFGATE_PURE_PYTHON=1): the same rules, the same errors, the same columns."""

    def __init__(self, version: int, gstates: GoroutineStates | None) -> None:
        self.version = version
        self.asm = Assembler()
        self.gstates = gstates
        self.carry: dict[int, int] = {}  # M -> goroutine running at the end of the last gen
        # goroutine -> its state changes so far (times, codes), before the no-op rule
        self.changes: dict[int, tuple[array, array]] = {}

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
        times = kept_times(scan, extra, sync)
        last = last_time(scan.times, extra, scan.unit, scan.count, sync)
        scan.times.clear()
        bindings, carry = scan.syscall_bindings, self.carry
        # Goroutines not known from this generation's events: the thread's syscall binding,
        # else the goroutine it ran at the end of the previous generation.
        kg, km = scan.g, scan.m
        for i in compress(range(len(kg)), map(is_, kg, repeat(None))):
            m = km[i]
            kg[i] = bindings.get(m, carry.get(m))
        order = sorted(range(len(times)), key=times.__getitem__)  # Go's order (stable)
        strings = _Strings(table, self.asm.strings)
        ranges: list[RangeEvent] = []
        typ = scan.typ
        user = compress(order, map(_USER_TABLE.__getitem__, map(typ.__getitem__, order)))
        _pair(scan, list(user), times, strings, self.asm)
        if gstates is not None:
            state = compress(order, map(_STATE_TABLE.__getitem__, map(typ.__getitem__, order)))
            _state_changes(scan, list(state), times, strings, gstates, self.changes, ranges)
        for m, g in bindings.items():
            carry[m] = g
        carry.update(scan.last_setter)
        return last, ranges

    def finish(self, gstates: GoroutineStates | None) -> Annotations:
        if gstates is not None:
            gstates.add_chunks(*_chunk(self.changes), gstates.reasons)
            self.changes = {}
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


_USER_TABLE = bytes(1 if t in USER_TYPES else 0 for t in range(256))
_STATE_TABLE = bytes(1 if t in wire.STATE_EVENTS else 0 for t in range(256))
_RANGE_TABLE = bytes(1 if t in RANGE_EVENTS else 0 for t in range(256))


def _pair(
    scan: GenerationScan,
    order: Sequence[int],
    times: Sequence[int],
    strings: _Strings,
    asm: Assembler,
) -> None:
    """Hand a generation's user events, in Go's order, to the Assembler."""
    task_begin, task_end = asm.task_begin, asm.task_end
    region_begin, region_end, log = asm.region_begin, asm.region_end, asm.log
    index = strings.index
    kg, typs, ka1, ka2, ka3 = scan.g, scan.typ, scan.a1, scan.a2, scan.a3
    for i in order:
        typ = typs[i]
        t = times[i]
        g = kg[i]
        if g is None:
            g = NO_GOROUTINE
        a1 = ka1[i]
        if typ == TASK_END:
            task_end(t, g, a1)
            continue
        sid = ka3[i] if typ == TASK_BEGIN else ka2[i]
        name = index(sid)
        if name is None:
            what = "a task" if typ == TASK_BEGIN else "an annotation"
            raise Corrupt(f"{what} refers to unknown string id {sid}")
        if typ == TASK_BEGIN:
            task_begin(t, g, a1, ka2[i], name)
        elif typ == REGION_BEGIN:
            region_begin(t, g, a1, name)
        elif typ == REGION_END:
            region_end(t, g, a1, name)
        else:
            value = index(ka3[i])
            if value is None:
                raise Corrupt(f"a log refers to unknown string id {ka3[i]}")
            log(t, g, a1, name, value)


# Per event type, from states.STATE_RULES: whose state its change changes (_NOBODY: none, or
# several: the switches, which _state_changes handles on their own) and to what.
_NOBODY = 2
_ONE = {t: rules[0] for t, rules in STATE_RULES.items() if len(rules) == 1}
_WHOSE = bytes(_ONE[t][0] if t in _ONE else _NOBODY for t in range(256))
_CODE = bytes(_ONE[t][1] if t in _ONE else 0 for t in range(256))
_SWITCHES = {t: rules[1][1] for t, rules in STATE_RULES.items() if len(rules) == 3}


def _positions(flags: bytes) -> Iterator[int]:
    """Where ``flags`` holds a 1 (found by bytes.find: for rare ones)."""
    j = flags.find(1)
    while j >= 0:
        yield j
        j = flags.find(1, j + 1)


def _state_changes(
    scan: GenerationScan,
    order: Sequence[int],
    times: Sequence[int],
    strings: _Strings,
    gstates: GoroutineStates,
    changes: dict[int, tuple[array, array]],
    ranges: list[RangeEvent],
) -> None:
    """Append a generation's state changes, in Go's order, to each goroutine's ``changes``
    (the range events to ``ranges``): whose state each event changes and to what are columns
    made by table lookups; Python looks at each change once, to file it under its goroutine,
    and at the few that need more (blocking reasons, GoStatus, switches)."""
    typs, kg, ka1, ka3 = scan.typ, scan.g, scan.a1, scan.a3
    typ_bytes = bytes(typs)
    for i in _positions(typ_bytes.translate(_RANGE_TABLE)):
        if typs[i] == wire.EV_STW_BEGIN:
            strings.text(ka1[i])  # an unknown reason string makes the trace corrupt
        ranges.append((times[i], typs[i], kg[i], ka1[i]))
    whose = list(map(getitem, zip(kg, ka1, repeat(None)), typ_bytes.translate(_WHOSE)))
    codes = array("H", iter(typ_bytes.translate(_CODE)))
    for i in _positions(typ_bytes.translate(_BLOCK_TABLE)):
        if whose[i] is not None:
            codes[i] = gstates.code(WAITING, strings.text(ka1[i]))
    for i in _positions(typ_bytes.translate(_STATUS_TABLE)):
        st = FROM_STATUS.get(ka3[i])
        if st is None:
            whose[i] = None
        else:
            codes[i] = st
    switches = {i: _SWITCHES[typs[i]] for i in _positions(typ_bytes.translate(_SWITCH_TABLE))}
    get = changes.get
    for g, t, c, i in zip(
        map(whose.__getitem__, order),
        map(times.__getitem__, order),
        map(codes.__getitem__, order),
        order,
        strict=True,
    ):
        if g is None:
            if i not in switches:
                continue
            # The named goroutine unblocked (t) and started (t + 2), the current one blocked
            # or destroyed (t + 1).
            named, cur = ka1[i], kg[i]
            tc = get(named) or changes.setdefault(named, (array("q"), array("H")))
            tc[0].append(t)
            tc[1].append(RUNNABLE)
            if cur is not None:
                tc2 = get(cur) or changes.setdefault(cur, (array("q"), array("H")))
                tc2[0].append(t + 1)
                tc2[1].append(switches[i])
            tc[0].append(t + 2)
            tc[1].append(RUNNING)
            continue
        tc = get(g)
        if tc is None:
            tc = changes[g] = (array("q"), array("H"))
        tc[0].append(t)
        tc[1].append(c)


_BLOCK_TABLE = bytes(1 if t in _ONE and _CODE[t] == BY_REASON else 0 for t in range(256))
_STATUS_TABLE = bytes(1 if t in _ONE and _CODE[t] == BY_STATUS else 0 for t in range(256))
_SWITCH_TABLE = bytes(1 if t in _SWITCHES else 0 for t in range(256))


def _chunk(changes: dict[int, tuple[array, array]]) -> tuple[list[StateChunk], Index]:
    """Every goroutine's changes, minus those that do not change its state (summary.go's
    rule), as one chunk and its index."""
    gids = array("Q", sorted(changes))
    offsets = array("q", [0])
    times = array("q")
    codes = array("H")
    for g in gids:
        t, c = changes[g]
        cls = bytes(map(min, c, repeat(WAITING)))
        keep = [True, *map(ne, cls[1:], cls[:-1])]
        times.extend(compress(t, keep))
        codes.extend(compress(c, keep))
        offsets.append(len(times))
    chunks = [StateChunk(gids, offsets, 0, times, codes)]
    return chunks, index_of(chunks)
