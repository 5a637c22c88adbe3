"""Tokenise event batches fast and pull out what perfgate needs (the pure-Python path).

An event is a type byte followed by a fixed number of unsigned varints, the first being the time
delta (in ticks) from the previous event of the batch. One precompiled regular expression splits
a batch into events inside the ``re`` engine (an alternative per argument count, a character
class of the event types with that count); ``findall`` hands back, per event, its time delta and,
for the event types we decode, its type and first three arguments. Everything else is done a
batch at a time by C-level builtins (``map``, ``accumulate``, ``compress``, ``bytes.translate``)
over these columns; Python looks at single events only where they are rare (GoStatus, zero time
deltas, switches).

What comes out, per generation: every event's time per thread (M), needed to mirror how
``go tool trace`` orders events and nudges equal timestamps, and the kept events (user
annotations; with goroutine states, the scheduler events too) as columns, with the goroutine
that emitted them. This is the fallback of the C reader (``_scan.c``, which works from the
tables built here) and applies the very same rules.
"""

from __future__ import annotations

import os
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import accumulate, chain, compress, repeat
from operator import itemgetter, not_, sub

from perfgate.trace import limits, wire
from perfgate.trace.batches import Batch, Corrupt, uvarint

# The C accelerator, built by setup.py where there is a compiler.
try:
    from perfgate.trace import _scan
except ImportError:  # pragma: no cover - depends on the build machine
    _scan = None  # type: ignore[assignment]

PURE_PYTHON_ENV = "PERFGATE_PURE_PYTHON"

_V = rb"[\x80-\xff]{0,9}[\x00-\x7f]"
_VARINTS = re.compile(_V)

USER_TYPES = (
    wire.EV_USER_TASK_BEGIN,
    wire.EV_USER_TASK_END,
    wire.EV_USER_REGION_BEGIN,
    wire.EV_USER_REGION_END,
    wire.EV_USER_LOG,
)
_SETTERS = (
    wire.EV_GO_START,
    wire.EV_GO_SWITCH,
    wire.EV_GO_SWITCH_DESTROY,
    wire.EV_GO_CREATE_SYSCALL,
)
_STATUS = (wire.EV_GO_STATUS, wire.EV_GO_STATUS_STACK)
_SWITCHES = (wire.EV_GO_SWITCH, wire.EV_GO_SWITCH_DESTROY)
_USER_SET = frozenset(USER_TYPES)
_INTERESTING = frozenset((*USER_TYPES, *_SETTERS, *_STATUS))
# With goroutine states: every state event is kept too; those that set nothing are kept like
# user events (the setters and statuses are kept and still do their job).
_STATE_SET = frozenset(wire.STATE_EVENTS)
_KEPT_PLAIN = frozenset((*USER_TYPES, *(_STATE_SET - set(_SETTERS) - set(_STATUS))))


class _Varints(dict):  # type: ignore[type-arg]
    """Varint bytes -> value: one- and two-byte varints precomputed, longer ones decoded.

    An empty key is what the tokeniser yields for a byte that starts no valid event.
    """

    def __missing__(self, key: bytes) -> int:
        if not key:
            raise Corrupt("undecodable event in an event batch")
        v = uvarint(key)
        if v >> 64:
            raise Corrupt("varint overflows 64 bits")
        return v


class _MemoVarints(_Varints):
    """Like _Varints, remembering longer values too (task ids recur in all events of a task)."""

    def __missing__(self, key: bytes) -> int:
        v = self[key] = super().__missing__(key)
        return v


_MEMO_LIMIT = 1 << 20
_DECODERS: list[_Varints] = []  # built on first use (a few MB: only the pure-Python path)


def _decoders() -> tuple[_Varints, _Varints]:
    """Time deltas (every one- and two-byte varint precomputed) and arguments (the same,
    remembering longer values, and "" for an argument the event pattern's lookahead did not
    find: never used; without memory once it holds _MEMO_LIMIT values)."""
    if not _DECODERS:
        dts = _Varints({bytes([a]): a for a in range(128)})
        dts.update({bytes([a | 0x80, b]): a | (b << 7) for a in range(128) for b in range(128)})
        val = _MemoVarints(dts)
        val[b""] = 0
        _DECODERS.extend((dts, val, _Varints(val)))
    dts, val, plain = _DECODERS
    return dts, val if len(val) < _MEMO_LIMIT else plain


_first = itemgetter(0)
_second = itemgetter(1)
_third = itemgetter(2)
_fourth = itemgetter(3)
_fifth = itemgetter(4)


def _class(types: list[int]) -> bytes:
    return b"[" + b"".join(re.escape(bytes([t])) for t in sorted(types)) + b"]"


def _alternatives(by_arity: dict[int, list[int]]) -> bytes:
    # Most frequent shapes first (GoBlock/GoSyscallBegin have 3 arguments, GoSyscallEnd 1).
    order = sorted(by_arity, key=lambda n: (n != 3, n != 1, n != 4, n))
    return b"|".join(_class(by_arity[n]) + _V * n for n in order)


def _event_pattern(version: int, states: bool) -> re.Pattern[bytes]:
    """One match per event: group 1 is its time delta; for an event we decode, group 2 is its
    type and groups 3-5 its first three arguments after the delta (a lookahead: for an event
    with fewer, they run into the next event - values nobody uses). A byte that starts no valid
    event matches alone, with every group empty."""
    args = wire.event_args(version)
    boring: dict[int, list[int]] = {}
    wanted: dict[int, list[int]] = {}
    interesting = _INTERESTING | _STATE_SET if states else _INTERESTING
    for typ, n in args.items():
        (wanted if typ in interesting else boring).setdefault(n, []).append(typ)
    head = b"(?=" + _class(list(args)) + b"(" + _V + b"))"
    look = b"(?=(" + _class([t for ts in wanted.values() for t in ts]) + b")" + _V
    look += (b"(" + _V + b")?") * 3 + b")"
    body = b"(?:" + _alternatives(boring) + b"|" + look + b"(?:" + _alternatives(wanted) + b"))"
    return re.compile(head + body + rb"|[\x00-\xff]")


_PATTERNS: dict[tuple[int, bool], re.Pattern[bytes]] = {}


def event_pattern(version: int, states: bool = False) -> re.Pattern[bytes]:
    """The tokenising pattern for event batches of a trace with header version ``version``
    (``states``: also decode the goroutine-state events)."""
    pat = _PATTERNS.get((version, states))
    if pat is None:
        pat = _PATTERNS[version, states] = _event_pattern(version, states)
    return pat


@dataclass
class GenerationScan:
    """Every event's time per thread and the kept events of one generation.

    Per-thread time arrays hold ticks when a tick is a whole number of nanoseconds (``unit`` ns
    per array step; Go's conversion is then exact) and nanoseconds otherwise (``unit`` = 1).
    ``extra`` (CPU samples, events Go synthesises) is in nanoseconds. The kept events (user
    annotations; with goroutine states, the scheduler events too) are columns, in scan order:
    time (array units), thread, earlier events of the same batch at the same time ("ties"),
    type, the goroutine running on the thread (None: not known yet) and the first three
    arguments after the time delta.
    """

    unit: int = 1
    times: dict[int, array] = field(default_factory=dict)  # per M, sorted
    extra: list[int] = field(default_factory=list)
    t: array = field(default_factory=lambda: array("q"))
    m: array = field(default_factory=lambda: array("Q"))
    ties: dict[int, int] = field(default_factory=dict)  # kept index -> ties, where not 0
    typ: bytearray = field(default_factory=bytearray)
    g: list[int | None] = field(default_factory=list)
    a1: array = field(default_factory=lambda: array("Q"))
    a2: dict[int, int] = field(default_factory=dict)  # kept index -> arg 2 (users, GoStatus)
    a3: dict[int, int] = field(default_factory=dict)
    syscall_bindings: dict[int, int] = field(default_factory=dict)  # M -> G from GoStatus
    last_setter: dict[int, int] = field(default_factory=dict)  # M -> G running at the end
    count: int = 0
    lo: int = 0  # the earliest batch start, array units
    hi: int = 0  # the latest event, array units


def frequency(batches: list[Batch], version: int) -> float:
    """Nanoseconds per tick from the generation's frequency (sync) batch, as Go computes it."""
    freq = 0.0
    snapshot = False
    for b in batches:
        data = b.data
        pos = 1 if version >= 25 else 0
        while pos < len(data):
            typ = data[pos]
            if typ == wire.EV_FREQUENCY:
                m = _VARINTS.match(data, pos + 1)
                if m is None or freq:
                    raise Corrupt("bad or repeated frequency event")
                f = uvarint(m.group())
                if f == 0:
                    raise Corrupt("zero trace clock frequency")
                freq = 1.0 / (f / 1e9)
                pos = m.end()
            elif typ == wire.EV_CLOCK_SNAPSHOT and version >= 25:
                end = pos + 1
                for _ in range(4):
                    m = _VARINTS.match(data, end)
                    if m is None:
                        raise Corrupt("bad clock snapshot event")
                    end = m.end()
                snapshot = True
                pos = end
            else:
                raise Corrupt(f"unexpected event {typ} in the sync batch")
    if not freq:
        raise Corrupt("no frequency event found")
    if version >= 25 and not snapshot:
        raise Corrupt("no clock snapshot event found")
    return freq


def cpu_sample_times(batches: list[Batch], freq: float) -> list[int]:
    """Times (ns) of the CPU-profile samples, which ``go tool trace`` merges into its events."""
    out: list[int] = []
    for b in batches:
        pos = 1
        data = b.data
        while pos < len(data):
            if data[pos] != wire.EV_CPU_SAMPLE:
                raise Corrupt(f"unexpected event {data[pos]} in a CPU samples batch")
            vals = []
            end = pos + 1
            for _ in range(5):
                m = _VARINTS.match(data, end)
                if m is None:
                    raise Corrupt("bad CPU sample event")
                vals.append(m.group())
                end = m.end()
            out.append(int(float(uvarint(vals[0])) * freq))
            pos = end
    out.sort()
    return out


def accelerated() -> bool:
    """Whether the native reader uses the C extension (``_scan.Reader``): it is built, and not
    disabled by $PERFGATE_PURE_PYTHON=1."""
    return _scan is not None and os.environ.get(PURE_PYTHON_ENV, "") in ("", "0")


def whole_unit(freq: float) -> int:
    """ns per tick when that is a whole number (times then stay in ticks: exact), else 0."""
    return int(freq) if freq.is_integer() and 0 < freq < (1 << 20) else 0


def reader_tables(
    version: int, states: bool, actions: bytes
) -> tuple[bytes, bytes, bytes, bytes, bytes]:
    """The 256-entry tables the C reader works from: argument counts, event kinds, which
    types are kept, pairing roles and goroutine-state actions (``actions``: what
    ``states.c_actions`` gives; see ``_scan.c``)."""
    tables = _TABLES.get((version, states))
    if tables is None:
        args = wire.event_args(version)
        argc = bytearray(256)
        for typ, n in args.items():
            argc[typ] = n
        kinds = bytearray(256)
        keep = bytearray(256)
        if states:
            for typ in wire.STATE_EVENTS:
                if typ in args:
                    kinds[typ] = _K_STATE
                    keep[typ] = 1
        for typ in USER_TYPES:
            kinds[typ] = _K_USER
            keep[typ] = 1
        for typ in _SETTERS:
            kinds[typ] = _K_SWITCH if typ in _SWITCHES else _K_SETTER
        for typ in _STATUS:
            kinds[typ] = _K_STATUS
        roles = bytearray(256)
        for i, typ in enumerate(USER_TYPES, start=1):
            roles[typ] = i
        roles[wire.EV_STW_BEGIN] = _R_STW_BEGIN
        tables = _TABLES[version, states] = (
            bytes(argc),
            bytes(kinds),
            bytes(keep),
            bytes(roles),
            actions,
        )
    return tables


_K_USER, _K_SETTER, _K_SWITCH, _K_STATUS, _K_STATE = 1, 2, 3, 4, 5  # shared with _scan.c
_R_STW_BEGIN = 6  # roles 1-5 are USER_TYPES in order; shared with _scan.c
_TABLES: dict[tuple[int, bool], tuple[bytes, bytes, bytes, bytes, bytes]] = {}
TIME_LIMIT = 1 << 61  # event times (ns) from here on are garbage; keeps C's int64 safe
_OVERFLOW = re.compile(rb"[\x80-\xff]{9}[\x02-\x7f]")  # a 10-byte varint past 64 bits


def c_reader(version: int, states: bool, actions: bytes, corrupt: type[Exception]) -> _scan.Reader:
    """A C reader for a trace of header version ``version`` (see ``_scan.c``); ``actions``
    is ``states.c_actions()`` (passed in: states imports this module)."""
    assert _scan is not None
    return _scan.Reader(
        reader_tables(version, states, actions),
        states,
        wire.GO_STATUS_RUNNING,
        wire.GO_STATUS_SYSCALL,
        (
            limits.MAX_THREADS_PER_GENERATION,
            limits.MAX_STRINGS_PER_GENERATION,
            limits.MAX_EVENTS_PER_GENERATION,
            limits.MAX_REASONS,
            limits.MAX_GENERATION_SPAN_NS,
        ),
        corrupt,
        limits.LimitExceeded,
        int.from_bytes(os.urandom(8), "little"),
    )


def check_threads(batches: list[Batch]) -> None:
    """Refuse a generation with absurdly many threads (the C reader checks the same)."""
    n = len({b.m for b in batches})
    if n > limits.MAX_THREADS_PER_GENERATION:
        raise limits.LimitExceeded(
            f"more than {limits.MAX_THREADS_PER_GENERATION} threads in one generation "
            "(limit MAX_THREADS_PER_GENERATION)"
        )


def _table(version: int, pred: Callable[[int, int], bool]) -> bytes:
    """256 bytes: 1 for the event types (with their argument count) ``pred`` accepts."""
    out = bytearray(256)
    for typ, n in wire.event_args(version).items():
        out[typ] = 1 if pred(typ, n) else 0
    return bytes(out)


class _Tables:
    """Per-type lookup tables for the column-wise pure-Python scan."""

    def __init__(self, version: int, states: bool) -> None:
        self.setter = _table(version, lambda t, n: t in _SETTERS)
        self.status = _table(version, lambda t, n: t in _STATUS)
        self.switch = _table(version, lambda t, n: t in _SWITCHES)
        self.user = _table(version, lambda t, n: t in _USER_SET)
        self.args23 = _table(version, lambda t, n: t in _USER_SET or t in _STATUS)


_TABLE_CACHE: dict[tuple[int, bool], _Tables] = {}


def scan_generation(
    batches: list[Batch], version: int, freq: float, states: bool = False
) -> GenerationScan:
    """Tokenise every event batch of a generation (non-empty batches in file order), in pure
    Python: every event's time per thread, the kept events (user annotations; with ``states``
    the goroutine-state events too), the goroutine bindings. The fallback of the C reader's
    scan, with the same rules and the same errors; the work per event is done by C-level
    builtins (``findall``, ``map``, ``accumulate``, ``compress``) a batch at a time, Python
    looks only at the rare events (GoStatus, zero time deltas)."""
    pat = event_pattern(version, states)
    tabs = _TABLE_CACHE.get((version, states))
    if tabs is None:
        tabs = _TABLE_CACHE[version, states] = _Tables(version, states)
    setter, status_t, switch_t = tabs.setter, tabs.status, tabs.switch
    fi = whole_unit(freq)
    scan = GenerationScan(unit=fi or 1)
    unit = scan.unit
    times = scan.times
    setters = scan.last_setter
    bindings = scan.syscall_bindings
    dts_of, args_of = _decoders()
    vget = args_of.__getitem__
    unsorted: set[int] = set()
    limit = -(-TIME_LIMIT // unit)  # in array units: t * unit < TIME_LIMIT
    running, syscall = wire.GO_STATUS_RUNNING, wire.GO_STATUS_SYSCALL
    for b in batches:
        data = b.data
        toks = pat.findall(data)
        n = len(toks)
        dts = list(map(dts_of.__getitem__, map(_first, toks)))
        if _OVERFLOW.search(data):
            raise Corrupt("varint overflows 64 bits")
        try:
            if fi:
                base = b.time
                ticks = array("q", accumulate(dts, initial=base))
            else:
                base = int(float(b.time) * freq)
                ticks = array("q", accumulate((int(float(d) * freq) for d in dts), initial=base))
        except OverflowError:
            raise Corrupt("timestamp out of range") from None
        if ticks[-1] >= limit:
            raise Corrupt("timestamp out of range")
        if not scan.count or base < scan.lo:
            scan.lo = base
        if ticks[-1] > scan.hi:
            scan.hi = ticks[-1]
        del ticks[0]
        mid = b.m
        arr = times.get(mid)
        if arr is None:
            arr = times[mid] = array("q")
        if len(arr) and arr[-1] > base:
            unsorted.add(mid)
        arr += ticks
        scan.count += n
        if scan.count > limits.MAX_EVENTS_PER_GENERATION:
            raise limits.LimitExceeded(
                f"more than {limits.MAX_EVENTS_PER_GENERATION} events in one generation "
                "(limit MAX_EVENTS_PER_GENERATION)"
            )
        typs = list(map(_second, toks))
        flags = list(map(bool, typs))
        hits = list(compress(range(n), flags))
        if not hits:
            continue
        # The decoded events, column-wise: type and arguments 1-3 (see event_pattern).
        types = b"".join(typs)
        nh = len(types)
        a1 = list(map(vget, compress(map(_third, toks), flags)))
        # Arguments 2 and 3 only matter for user events and GoStatus.
        need = list(compress(range(nh), types.translate(tabs.args23)))
        need_toks = list(map(toks.__getitem__, map(hits.__getitem__, need)))
        a2 = dict(zip(need, map(vget, map(_fourth, need_toks)), strict=True))
        a3 = dict(zip(need, map(vget, map(_fifth, need_toks)), strict=True))
        del need_toks
        del typs, flags
        # The goroutine each event sees: the one the latest setter (GoStart & co., a GoStatus
        # running here) put on the thread before it, else the thread's from earlier batches.
        sets = bytearray(types.translate(setter))
        status_at = types.translate(status_t)
        j = status_at.find(1)
        while j >= 0:
            st = a3[j]
            if st == running or (st == syscall and a2[j] == mid):
                sets[j] = 1
            elif st == syscall:
                bindings[a2[j]] = a1[j]
            j = status_at.find(1, j + 1)
        at = list(compress(range(nh), sets))
        g0 = setters.get(mid)
        if at:
            # event k sees the setter before it: [0, at[0]] g0, (at[0], at[1]] a1[at[0]], ...
            values = [g0, *map(a1.__getitem__, at)]
            lengths = [at[0] + 1, *map(sub, at[1:], at), nh - 1 - at[-1]]
            gs = list(chain.from_iterable(map(repeat, values, lengths)))
            if values[-1] is not None:
                setters[mid] = values[-1]
        else:
            gs = [g0] * nh
        # Earlier events of this batch at the same time: the zero deltas before an event.
        ties: dict[int, int] = {}
        zero_hits = list(compress(range(nh), map(not_, map(dts.__getitem__, hits))))
        if zero_hits:
            zeros = bytes(map(bool, dts))
            prev_k = prev_nz = 0
            for j in zero_hits:
                k = hits[j]
                if not k:
                    continue
                nz = max(zeros.rfind(1, prev_k + 1, k), prev_nz)
                prev_k, prev_nz = k, nz
                ties[j] = k - nz
        switch_at = types.translate(switch_t)
        j = switch_at.find(1)
        while j >= 0:
            # Go's reader turns a switch into three events at the same time.
            t = ticks[hits[j]] * unit
            scan.extra.extend((t, t))
            j = switch_at.find(1, j + 1)
        first = len(scan.t)
        if states:
            scan.t.extend(map(ticks.__getitem__, hits))
            scan.m.extend(repeat(mid, nh))
            scan.typ += types
            scan.g += gs
            scan.a1.extend(a1)
            at_kept = [first + j for j in need]
            scan.a2.update(zip(at_kept, map(a2.__getitem__, need), strict=True))
            scan.a3.update(zip(at_kept, map(a3.__getitem__, need), strict=True))
            scan.ties.update((first + j, v) for j, v in ties.items())
        else:
            kept = list(map(tabs.user.__getitem__, types))
            kept_at = list(compress(range(nh), kept))
            if not kept_at:
                continue
            scan.t.extend(compress(map(ticks.__getitem__, hits), kept))
            scan.m.extend(repeat(mid, len(kept_at)))
            scan.typ += bytes(compress(types, kept))
            scan.g += compress(gs, kept)
            scan.a1.extend(compress(a1, kept))
            at_kept = range(first, first + len(kept_at))
            scan.a2.update(zip(at_kept, map(a2.__getitem__, kept_at), strict=True))
            scan.a3.update(zip(at_kept, map(a3.__getitem__, kept_at), strict=True))
            for j, v in ties.items():
                r = bisect_left(kept_at, j)
                if r < len(kept_at) and kept_at[r] == j:
                    scan.ties[first + r] = v
    for m in unsorted:
        # Batches of a thread out of time order (broken clock): keep the counts usable.
        times[m] = array("q", sorted(times[m]))
    return scan
