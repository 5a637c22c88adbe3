"""Give each kept event the time ``go tool trace`` gives it (the pure-Python path's rules; the C
reader in ``_scan.c`` applies the same ones).

Go's reader converts ticks to nanoseconds per batch (``batchcursor.go``), merges the threads'
events by time (a min-heap over per-thread cursors, ``reader.go``) and then, for every event it
yields, nudges a time that is not after the previous event's up to "previous + 1 ns". Every
generation starts with a Sync event at the generation's smallest batch timestamp, itself nudged.
Because generations overlap in time (threads switch generations one by one), the first events of
a generation are often nudged by many microseconds, so a plain ticks-to-ns conversion is not
enough to match Go's times.

With the yielded order as the events sorted by time, the nudged time of the event at position p
(the generation's Sync at position 0, at time S) is ``p + max(S, max_{j<=p}(t_j - j))``. Where
events are sparser than one per nanosecond (always, in practice, except at the generation
start) the inner maximum is reached at the first event sharing our time, giving
``max(S + p, t + ties_before)``. So an event's time is its own time, plus the events of its own
batch at the same time before it, plus:

- **ties between threads**: the events of other threads at the very same time that Go yields
  first. Go's heap keeps the thread whose previous event is the more recent one going; when
  those previous events tie as well, the order at that earlier time is reversed, and so on
  (:func:`tie_key`, up to :data:`MAX_TIES` steps back);
- **the pile-up after Sync**: ``S + position + 1 - t`` while that is positive, the position
  counted among every event (all threads, CPU samples, the events Go makes of a goroutine
  switch) before ours.

Not mirrored: events Go yields out of time order because their sequence numbers make them wait
for another thread, and Go 1.22's random heap order for equal times. Both shift a time by a
nanosecond or so, rarely.

Every step is linear (or n log n) in the generation's events, whatever the input: shared times
are found with set operations, the pile-up from one sorted list of the early events.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from itertools import chain, compress

MAX_TIES = 16  # how many earlier times two tied threads are compared on (_scan.c's MAX_TIES)

# A tie key component: (0, -t) / (1,) at odd depths, (1, t) / (0,) at even ones (the second
# form: the thread ran out of earlier events there). Sorting by these puts first the events Go
# yields first.
TieKey = tuple[tuple[int, ...], ...]


def sync_time(min_time_ns: int, last: int, at_start: bool) -> int:
    """Time of the Sync event Go yields just before the generation's first event.

    ``last`` is the time of the last event Go yielded (0 before the first generation). Readers
    of Go 1.25+ yield a Sync at the start of each generation, at the generation's smallest batch
    timestamp (nudged like any event); readers of Go 1.22-1.24 (``at_start=False``) yield it at
    the end of each generation instead, at ``last + 1``, and none before the first one.
    """
    if at_start:
        return min_time_ns if min_time_ns > last else last + 1
    return last + 1 if last else 0


def tie_key(arr: Sequence[int], first: int) -> TieKey:
    """Where a thread's events at a time shared with other threads go in Go's order:
    ``arr`` its sorted times, ``first`` the index of its first event at that time."""
    key: list[tuple[int, ...]] = []
    lo = first
    for depth in range(MAX_TIES):
        if lo == 0:
            key.append((1,) if depth % 2 == 0 else (0,))
            break
        prev = arr[lo - 1]
        key.append((0, -prev) if depth % 2 == 0 else (1, prev))
        lo = bisect_left(arr, prev, 0, lo - 1)
    return tuple(key)


def shared_extras(times: dict[int, array], kept_times: Iterable[int]) -> dict[tuple[int, int], int]:
    """For each (time, thread) at which a kept event's time is shared with another thread: how
    many events of other threads at that time Go yields first (see the module docstring).

    Threads whose keys are equal and ran out of earlier events each count the others as first,
    those equal for all MAX_TIES steps none of them (the pairwise rule these keys sort by)."""
    wanted = set(kept_times)
    seen: set[int] = set()
    shared: set[int] = set()
    hits: dict[int, set[int]] = {}
    for m, arr in times.items():
        h = wanted.intersection(arr)
        if h:
            hits[m] = h
            shared |= h & seen
            seen |= h
    out: dict[tuple[int, int], int] = {}
    if not shared:
        return out
    at: dict[int, list[int]] = {}
    for m, h in hits.items():
        for t in h & shared:
            at.setdefault(t, []).append(m)
    for t, threads in at.items():
        group = []
        for m in threads:
            arr = times[m]
            lo = bisect_left(arr, t)
            group.append((tie_key(arr, lo), bisect_right(arr, t, lo) - lo, m))
        group.sort(key=_by_key)
        before = 0
        i = 0
        while i < len(group):
            key = group[i][0]
            j = i
            cls = 0
            while j < len(group) and group[j][0] == key:
                cls += group[j][1]
                j += 1
            mutual = len(key) < MAX_TIES or len(key[-1]) == 1
            for _, count, m in group[i:j]:
                out[t, m] = before + (cls - count if mutual else 0)
            before += cls
            i = j
    return out


def _by_key(item: tuple[TieKey, int, int]) -> TieKey:
    return item[0]


def pileup(
    times: dict[int, array], extra: Sequence[int], unit: int, sync: int, count: int
) -> tuple[int, list[int]]:
    """The times (ns) of every event before ``bound`` = Sync + all events + 1, sorted: an event
    at t later than that cannot be piled up behind the Sync."""
    bound = sync + count + len(extra) + 1
    q = -(-bound // unit)
    early = [arr[: bisect_left(arr, q)] for arr in times.values()]
    pile = sorted(
        chain(
            chain.from_iterable(early) if unit == 1 else map(unit.__mul__, chain(*early)),
            extra[: bisect_left(extra, bound)],
        )
    )
    return bound, pile


def last_time(
    times: dict[int, array], extra: Sequence[int], unit: int, count: int, sync: int
) -> int:
    """Go's time for the last event it yields from this generation (the next Sync's floor)."""
    n = count + len(extra)
    if n == 0:
        return sync
    t_last = max((arr[-1] * unit for arr in times.values() if len(arr)), default=0)
    if extra and extra[-1] > t_last:
        t_last = extra[-1]
    c = len(extra) - bisect_left(extra, t_last)
    q = -(-t_last // unit)
    for arr in times.values():
        c += len(arr) - bisect_left(arr, q)
    return max(sync + n, t_last + c - 1)


def kept_times(
    kept: Sequence[tuple[int, ...]],
    times: dict[int, array],
    extra: Sequence[int],
    unit: int,
    sync: int,
    count: int,
) -> list[int]:
    """Go's time (ns) of each kept event ``(t, m, ties, ...)`` (t in array units)."""
    out = [k[0] * unit + k[2] for k in kept]
    if len(times) > 1:
        extras = shared_extras(times, (k[0] for k in kept))
        if extras:
            get = extras.get
            for i, k in enumerate(kept):
                e = get((k[0], k[1]))
                if e:
                    out[i] += e
    if sync:
        bound, pile = pileup(times, extra, unit, sync, count)
        qb = -(-bound // unit)
        for i in compress(range(len(kept)), (k[0] < qb for k in kept)):
            tn = kept[i][0] * unit
            off = sync + bisect_left(pile, tn) + 1 - tn
            if off > 0:
                out[i] += off
    return out
