"""Split a trace file into batches and group them into generations, streaming.

A v2 trace is a header followed by batches (``EventBatch``: generation, thread, timestamp, size,
then ``size`` bytes). Batches are grouped into generations: from Go 1.26 an ``EndOfGeneration``
byte closes each one; before, a generation ends where the batch headers' generation number
changes, or at the end of the file. Only one generation is held in memory at a time, and the
batches perfgate never needs (stack tables, experimental data) are skipped by their size without
being copied.

Mirrors ``internal/trace/batch.go`` and ``generation.go``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, NamedTuple

from perfgate.trace import limits, wire

_CHUNK = 1 << 20
_VARINT = rb"[\x80-\xff]{0,9}[\x00-\x7f]"
_BATCH_HEADER = re.compile(rb"\x01(%s)(%s)(%s)(%s)" % ((_VARINT,) * 4), re.DOTALL)
_EXP_BATCH_HEADER = re.compile(rb"\x31[\x00-\xff](%s)(%s)(%s)(%s)" % ((_VARINT,) * 4), re.DOTALL)
_MAX_HEADER = 2 + 4 * 10


def uvarint(b: bytes) -> int:
    """Decode one unsigned LEB128 varint (already known to be well formed)."""
    if len(b) == 1:
        return b[0]
    v = 0
    shift = 0
    for c in b:
        v |= (c & 0x7F) << shift
        shift += 7
    return v


class Truncated(Exception):
    """The file ended inside a batch or a generation (internal; turned into a note)."""


class Corrupt(Exception):
    """The bytes cannot be a Go trace at this point (internal; turned into a TraceError)."""


class Batch(NamedTuple):
    """One batch kept for decoding: event, strings, sync (frequency) or CPU-sample data.
    (A tuple: the C scanner takes the event batches as they are.)"""

    m: int
    time: int  # ticks, the batch's base timestamp
    data: bytes


@dataclass
class Generation:
    """All the batches of one generation that perfgate needs, in file order."""

    number: int
    events: list[Batch] = field(default_factory=list)
    strings: list[Batch] = field(default_factory=list)
    syncs: list[Batch] = field(default_factory=list)
    cpu_samples: list[Batch] = field(default_factory=list)
    min_time: int = 0  # smallest batch timestamp (ticks), Go's generation.minTs
    end_offset: int = 0  # file offset just past this generation


class _Source:
    """A forward-only byte source over a file with an absolute offset."""

    def __init__(self, f: BinaryIO, offset: int) -> None:
        self._f = f
        self._buf = b""
        self._pos = 0
        self._base = offset  # file offset of _buf[0]
        self._eof = False

    @property
    def offset(self) -> int:
        return self._base + self._pos

    def ensure(self, n: int) -> bool:
        """Make ``n`` bytes available at the cursor; False if the file ends first."""
        avail = len(self._buf) - self._pos
        if avail >= n:
            return True
        if self._eof:
            return False
        rest = self._buf[self._pos :]
        self._base += self._pos
        self._pos = 0
        want = max(n - avail, _CHUNK)
        more = self._f.read(want)
        if len(more) < want:
            self._eof = True
        self._buf = rest + more
        return len(self._buf) >= n

    def at_eof(self) -> bool:
        return not self.ensure(1)

    def peek(self) -> int:
        return self._buf[self._pos]

    def match(self, pattern: re.Pattern[bytes]) -> re.Match[bytes] | None:
        self.ensure(_MAX_HEADER)
        return pattern.match(self._buf, self._pos)

    def advance(self, n: int) -> None:
        self._pos += n

    def take(self, n: int) -> bytes | None:
        if not self.ensure(n):
            return None
        data = self._buf[self._pos : self._pos + n]
        self._pos += n
        return data

    def skip(self, n: int) -> bool:
        """Move the cursor ``n`` bytes on, seeking past data that is not buffered."""
        avail = len(self._buf) - self._pos
        if avail >= n:
            self._pos += n
            return True
        target = self._base + self._pos + n
        size = self._f.seek(0, 2)
        self._buf = b""
        self._pos = 0
        if target > size:
            self._base = size
            self._eof = True
            return False
        self._f.seek(target)
        self._base = target
        self._eof = False
        return True


_EVENT_KINDS = {
    wire.EV_STRINGS: "strings",
    wire.EV_STACKS: "skip",
    wire.EV_CPU_SAMPLES: "cpu_samples",
}


def _classify(first: int, version: int) -> str:
    if version >= 25:
        if first == wire.EV_SYNC:
            return "syncs"
    elif first == wire.EV_FREQUENCY:
        return "syncs"
    return _EVENT_KINDS.get(first, "events")


def read_generations(f: BinaryIO, version: int) -> Iterator[Generation]:
    """Yield each complete generation of the trace in ``f`` (positioned after the header).

    Raises :class:`Truncated` when the file stops inside a batch or inside a generation (after
    yielding every generation known to be complete) and :class:`Corrupt` on bytes that cannot be
    a batch. For traces before Go 1.26 a generation is known complete when a batch of the next
    generation starts, or when the file ends cleanly between batches (as ``go tool trace`` does).
    """
    src = _Source(f, wire.HEADER_SIZE)
    has_eog = version >= 26
    gen: Generation | None = None
    batches = 0
    while True:
        if src.at_eof():
            if gen is None:
                return
            if has_eog:
                raise Truncated(f"generation {gen.number} has no end-of-generation marker")
            gen.end_offset = src.offset
            yield gen
            return
        start = src.offset
        first = src.peek()
        if first == wire.EV_END_OF_GENERATION and has_eog:
            src.advance(1)
            if gen is None:
                raise Corrupt(f"end-of-generation marker without a generation at byte {start}")
            gen.end_offset = src.offset
            yield gen
            gen = None
            continue
        if first == wire.EV_EVENT_BATCH:
            m = src.match(_BATCH_HEADER)
            exp = False
        elif first == wire.EV_EXPERIMENTAL_BATCH and version >= 23:
            m = src.match(_EXP_BATCH_HEADER)
            exp = True
        else:
            raise Corrupt(f"expected a batch at byte {start}, found byte {first}")
        if m is None:
            if not src.ensure(_MAX_HEADER):
                raise Truncated(f"file ends inside a batch header at byte {start}")
            raise Corrupt(f"malformed batch header at byte {start}")
        number, mid, ts, size = (uvarint(g) for g in m.groups())
        if size > wire.MAX_BATCH_SIZE:
            raise Corrupt(
                f"batch at byte {start} claims {size} bytes (maximum {wire.MAX_BATCH_SIZE})"
            )
        if number == 0:
            raise Corrupt(f"batch at byte {start} has generation number 0")
        if gen is not None and number != gen.number:
            if has_eog:
                raise Corrupt(
                    f"batch at byte {start} belongs to generation {number} inside "
                    f"generation {gen.number} (missing end-of-generation marker)"
                )
            if number != gen.number + 1:
                raise Corrupt(
                    f"generations out of order at byte {start}: {gen.number} then {number}"
                )
            # The next generation starts: the current one is complete.
            gen.end_offset = start
            yield gen
            gen = None
        src.advance(m.end() - m.start())
        if gen is None:
            gen = Generation(number=number, min_time=ts)
            batches = 0
        elif ts < gen.min_time:
            gen.min_time = ts
        batches += 1
        if batches > limits.MAX_BATCHES_PER_GENERATION:
            raise limits.LimitExceeded(
                f"more than {limits.MAX_BATCHES_PER_GENERATION} batches in generation "
                f"{gen.number} (limit MAX_BATCHES_PER_GENERATION)"
            )
        if exp:
            if not src.skip(size):
                raise Truncated(f"file ends inside a batch at byte {start}")
            continue
        if size == 0:
            continue  # no events: only its timestamp counts (for the generation's start)
        if not src.ensure(1):
            raise Truncated(f"file ends inside a batch at byte {start}")
        kind = _classify(src.peek(), version)
        if kind == "skip":
            if not src.skip(size):
                raise Truncated(f"file ends inside a batch at byte {start}")
            continue
        data = src.take(size)
        if data is None:
            raise Truncated(f"file ends inside a batch at byte {start}")
        getattr(gen, kind).append(Batch(mid, ts, data))
