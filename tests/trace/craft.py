"""Crafted traces for the hostile-input tests: valid wire format, absurd shapes.

Each shape once made the reader quadratic (or worse) in time or memory: a batch per thread id
with tied timestamps (143 KB took 18.7 s and 1.8 GB), the same with distinct times (1.4 MB took
54 s), long runs of events at one timestamp on one thread, many goroutines, tasks and strings,
and long overlapping tasks (whose breakdowns summed once cost tasks x state changes).
``make(shape, n, version)`` builds one of them at scale ``n`` (about ``n`` × 40 bytes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

TASK_NAME, REGION_NAME, LOG_KEY, LOG_VALUE, REASON = 1, 2, 3, 4, 5
T0 = 1_000_000  # ticks


def uvarint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def ev(typ: int, dt: int, *args: int) -> bytes:
    return bytes([typ]) + uvarint(dt) + b"".join(uvarint(a) for a in args)


def batch(gen: int, m: int, ts: int, data: bytes) -> bytes:
    return b"\x01" + uvarint(gen) + uvarint(m) + uvarint(ts) + uvarint(len(data)) + data


def header(version: int) -> bytes:
    return f"go 1.{version} trace".encode().ljust(16, b"\x00")


def sync_batch(gen: int, version: int, ts: int = T0) -> bytes:
    freq = uvarint(15_625_000)  # 64 ns per tick
    if version >= 25:
        data = b"\x32" + b"\x08" + freq + b"\x33" + b"".join(uvarint(x) for x in (ts, 1, 1, 1))
    else:
        data = b"\x08" + freq
    return batch(gen, 0, ts, data)


def strings_batch(gen: int, strings: dict[int, bytes]) -> bytes:
    out = b""
    data = b"\x04"
    for sid, s in strings.items():
        e = b"\x05" + uvarint(sid) + uvarint(len(s)) + s
        if len(data) + len(e) > 60_000:
            out += batch(gen, 0, T0, data)
            data = b"\x04"
        data += e
    return out + batch(gen, 0, T0, data)


BASE_STRINGS = {
    TASK_NAME: b"GET /crafted",
    REGION_NAME: b"work",
    LOG_KEY: b"k",
    LOG_VALUE: b"v",
    REASON: b"chan receive",
}


def request(g: int, task: int, dt: int) -> bytes:
    """A goroutine handling one request: start, task, region, log, end, block."""
    return b"".join(
        (
            ev(16, dt, g, 1),  # GoStart g seq
            ev(40, dt, task, 0, TASK_NAME, 0),  # UserTaskBegin id parent name stack
            ev(42, dt, task, REGION_NAME, 0),  # UserRegionBegin task name stack
            ev(44, dt, task, LOG_KEY, LOG_VALUE, 0),  # UserLog task key value stack
            ev(43, dt, task, REGION_NAME, 0),  # UserRegionEnd
            ev(41, dt, task, 0),  # UserTaskEnd id stack
            ev(20, dt, REASON, 0),  # GoBlock reason stack
            ev(21, dt, g + 1, 2, 0),  # GoUnblock g seq stack
        )
    )


def generation(
    gen: int, version: int, batches: Iterable[bytes], strings: dict[int, bytes]
) -> bytes:
    out = sync_batch(gen, version) + strings_batch(gen, strings) + b"".join(batches)
    if version >= 26:
        out += b"\x34"  # EndOfGeneration
    return out


def threads_tied(n: int, version: int) -> bytes:
    """One batch per thread id, every timestamp the same (a tie between all threads)."""
    return generation(1, version, (batch(1, m, T0, request(m, m, 0)) for m in range(1, n + 1)),
                      BASE_STRINGS)  # fmt: skip


def threads_distinct(n: int, version: int) -> bytes:
    """One batch per thread id, every timestamp distinct, two generations."""
    out = b""
    for gen in (1, 2):
        first = (gen - 1) * 4 * n
        out += generation(
            gen,
            version,
            (batch(gen, m, T0 + first + m, request(m, first + m, 1)) for m in range(1, n + 1)),
            BASE_STRINGS,
        )
    return out


def zero_runs(n: int, version: int) -> bytes:
    """Long runs of events at one timestamp on one thread (ties within a batch)."""
    events = (request(1, task, 0) for task in range(1, n + 1))
    return generation(1, version, packed(1, 1, T0, events), BASE_STRINGS)


def packed(gen: int, m: int, ts: int, events: Iterable[bytes]) -> list[bytes]:
    """Events in as many batches of thread ``m`` as they need (batches hold up to 64 KB)."""
    out: list[bytes] = []
    data = b""
    for e in events:
        if len(data) + len(e) > 60_000:
            out.append(batch(gen, m, ts, data))
            data = b""
        data += e
    if data:
        out.append(batch(gen, m, ts, data))
    return out


def many_goroutines(n: int, version: int) -> bytes:
    """A new goroutine and task per request on four threads, across four generations."""
    out = b""
    for gen in range(1, 5):
        batches: list[bytes] = []
        for m in range(1, 5):
            ids = range((gen - 1) * n + m, gen * n + 1, 4)
            batches += packed(gen, m, T0 + gen * 10_000_000, (request(i, i, 3) for i in ids))
        out += generation(gen, version, batches, BASE_STRINGS)
    return out


def many_strings(n: int, version: int) -> bytes:
    """A huge string table, every task with its own name."""
    strings = dict(BASE_STRINGS)
    for i in range(n):
        strings[100 + i] = b"task-%d" % i
    events = (ev(40, 1, i + 1, 0, 100 + i, 0) + ev(41, 1, i + 1, 0) for i in range(n))
    return generation(1, version, packed(1, 1, T0, events), strings)


def nested_tasks(n: int, version: int) -> bytes:
    """Tasks that all stay open until the end on one goroutine that changes state all along:
    each task's span holds every change (its breakdown once walked them all)."""
    begins = (ev(40, 1, i, 0, TASK_NAME, 0) for i in range(1, n + 1))
    churn = (ev(16, 1, 1, 2) + ev(19, 1, 0, 0) for _ in range(n))  # GoStart g=1, GoStop
    ends = (ev(41, 1, i, 0) for i in range(1, n + 1))
    events = [ev(16, 1, 1, 1), *begins, *churn, ev(16, 1, 1, 3), *ends]
    return generation(1, version, packed(1, 1, T0, events), BASE_STRINGS)


SHAPES: dict[str, Callable[[int, int], bytes]] = {
    "threads_tied": threads_tied,
    "threads_distinct": threads_distinct,
    "zero_runs": zero_runs,
    "many_goroutines": many_goroutines,
    "many_strings": many_strings,
    "nested_tasks": nested_tasks,
}


def make(shape: str, n: int, version: int = 22) -> bytes:
    """A crafted trace of ``shape`` at scale ``n``."""
    return header(version) + SHAPES[shape](n, version)
