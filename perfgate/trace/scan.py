"""Tokenise event batches fast and pull out what perfgate needs.

An event is a type byte followed by a fixed number of unsigned varints, the first being the time
delta (in ticks) from the previous event of the batch. A precompiled regular expression (one
alternative per argument count, a character class of the event types with that count) splits a
batch into events inside the ``re`` engine; timestamps of all events are accumulated with C-level
iterators; only user-annotation events and the events that put a goroutine on a thread are
decoded in Python.

What comes out, per generation: every event's time in nanoseconds per thread (M), needed to
mirror how ``go tool trace`` orders events and nudges equal timestamps, and the user events with
the goroutine that emitted them.
"""

from __future__ import annotations

import re
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from itertools import accumulate
from operator import itemgetter

from perfgate.trace import wire
from perfgate.trace.batches import Batch, Corrupt, uvarint

_V = rb"[\x80-\xff]{0,9}[\x00-\x7f]"
_VARINTS = re.compile(_V)
_first = itemgetter(0)
_dt_key = itemgetter(slice(1, 3))

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

# Time delta lookup keyed by the (at most) two bytes after the event type: the delta itself when
# it fits in them, -1 when it is longer (decoded separately; it means a gap of over a millisecond).
_DT: dict[bytes, int] = {bytes([a]): (a if a < 0x80 else -1) for a in range(256)}
for _a in range(256):
    for _b in range(256):
        if _a < 0x80:
            _DT[bytes([_a, _b])] = _a
        elif _b < 0x80:
            _DT[bytes([_a, _b])] = (_a & 0x7F) | (_b << 7)
        else:
            _DT[bytes([_a, _b])] = -1


def _class(types: list[int]) -> bytes:
    return b"[" + b"".join(re.escape(bytes([t])) for t in sorted(types)) + b"]"


def _event_pattern(version: int) -> re.Pattern[bytes]:
    by_arity: dict[int, list[int]] = {}
    for typ, n in wire.event_args(version).items():
        by_arity.setdefault(n, []).append(typ)
    # Most frequent shapes first (GoStart/GoBlock/GoStop have 3 arguments).
    order = sorted(by_arity, key=lambda n: (n != 3, n != 1, n != 4, n))
    alts = [_class(by_arity[n]) + _V * n for n in order]
    return re.compile(b"|".join(alts))


_PATTERNS: dict[int, re.Pattern[bytes]] = {}
_INTEREST = re.compile(_class([*USER_TYPES, *_SETTERS, *_STATUS]))
_USER_OR_SWITCH = re.compile(_class([*USER_TYPES, *_SWITCHES]))


def event_pattern(version: int) -> re.Pattern[bytes]:
    """The tokenising pattern for event batches of a trace with header version ``version``."""
    pat = _PATTERNS.get(version)
    if pat is None:
        pat = _PATTERNS[version] = _event_pattern(version)
    return pat


def _args(event: bytes) -> list[int]:
    return [uvarint(v) for v in _VARINTS.findall(event, 1)]


@dataclass(slots=True)
class UserEvent:
    """A user-annotation event as found in a batch, before times are finalised.

    ``g`` is the goroutine, or ``None`` when it is the goroutine the thread was running when the
    generation started (resolved once the whole generation has been read). ``seg`` orders the
    goroutine's stretches of execution (the sequence number of the event that started it).
    """

    typ: int
    m: int
    index: int  # position of the event in its thread's time array
    time: int  # ns, before the reader's ordering nudge
    args: list[int]
    g: int | None
    seg: int


@dataclass
class GenerationScan:
    """Times of every event and the user events of one generation."""

    freq: float  # ns per tick
    times: dict[int, array] = field(default_factory=dict)  # per M, event times (ns)
    extra: list[int] = field(default_factory=list)  # times of synthesised/sample events
    user: list[UserEvent] = field(default_factory=list)
    syscall_bindings: dict[int, int] = field(default_factory=dict)  # M -> G from GoStatus
    last_setter: dict[int, tuple[int, int]] = field(default_factory=dict)  # M -> (G, seg)
    count: int = 0

    def count_before(self, t: int) -> int:
        """How many events (all threads, samples) have a time before ``t``."""
        n = bisect_left(self.extra, t)
        for arr in self.times.values():
            n += bisect_left(arr, t)
        return n


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


def scan_generation(
    batches: list[Batch],
    version: int,
    freq: float,
    carry: dict[int, tuple[int, int]],
) -> GenerationScan:
    """Tokenise every event batch of a generation (batches in file order).

    ``carry`` maps each thread to the goroutine it was running at the end of the previous
    generation; it is used for user events that come before any scheduling event of their thread.
    """
    pat = event_pattern(version)
    scan = GenerationScan(freq=freq)
    fi = int(freq) if freq.is_integer() else 0
    times = scan.times
    setters = scan.last_setter
    unsorted: set[int] = set()
    for b in batches:
        data = b.data
        if not data:
            continue
        events = pat.findall(data)
        if sum(map(len, events)) != len(data):
            raise Corrupt(f"undecodable event in a batch of thread {b.m}")
        types = bytes(map(_first, events))
        dts = list(map(_DT.__getitem__, map(_dt_key, events)))
        if -1 in dts:
            for i, d in enumerate(dts):
                if d == -1:
                    m = _VARINTS.match(events[i], 1)
                    dts[i] = uvarint(m.group()) if m else 0
        base = int(float(b.time) * freq)
        if fi:
            ts = accumulate(map(fi.__mul__, dts), initial=base)
        else:
            ts = accumulate((int(float(d) * freq) for d in dts), initial=base)
        arr = times.get(b.m)
        if arr is None:
            arr = times[b.m] = array("q")
        offset = len(arr) - 1
        if offset >= 0 and arr[offset] > base:
            unsorted.add(b.m)
        arr.extend(ts)
        arr.pop(offset + 1)
        scan.count += len(events)
        if _INTEREST.search(types) is None:
            continue
        cur = setters.get(b.m)
        for mo in _INTEREST.finditer(types):
            k = mo.start()
            typ = types[k]
            if typ in USER_TYPES:
                ev = events[k]
                args = _args(ev)
                if cur is None:
                    g, seg = None, -1
                else:
                    g, seg = cur
                scan.user.append(
                    UserEvent(typ, b.m, offset + 1 + k, arr[offset + 1 + k], args, g, seg)
                )
            elif typ in _STATUS:
                args = _args(events[k])
                gid, mid, status = args[1], args[2], args[3]
                if status == wire.GO_STATUS_RUNNING or (
                    status == wire.GO_STATUS_SYSCALL and mid == b.m
                ):
                    cur = (gid, 0)
                elif status == wire.GO_STATUS_SYSCALL:
                    scan.syscall_bindings[mid] = gid
            else:
                args = _args(events[k])
                cur = (args[1], args[2] if len(args) > 2 else 0)
                if typ in _SWITCHES:
                    # Go's reader turns a switch into three events at the same time.
                    t = arr[offset + 1 + k]
                    scan.extra.extend((t, t))
        if cur is not None:
            setters[b.m] = cur
    if scan.extra:
        scan.extra.sort()
    for m in unsorted:
        # Batches of a thread out of time order (broken clock): keep the counts usable.
        times[m] = array("q", sorted(times[m]))
    return scan
