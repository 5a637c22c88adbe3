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
  (:func:`_tie_order`, up to :data:`MAX_TIES` steps back);
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
from collections.abc import Iterable, Sequence, Sized
from functools import cmp_to_key
from itertools import chain, compress, islice, repeat
from operator import eq, mul, ne
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from perfgate.trace.scan import GenerationScan

MAX_TIES = 16  # how many earlier times two tied threads are compared on (_scan.c's MAX_TIES)


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


def _tie_order(a: tuple[Sequence[int], int], b: tuple[Sequence[int], int]) -> int:
    """Which of two threads' events at a time both have Go yields first (-1: a's): each is
    (its sorted times, index of its first event at that time). The thread whose previous event
    is the more recent goes first; when those tie too, the order at that earlier time is
    reversed, and so on, MAX_TIES steps back. A thread that runs out of earlier events goes
    last at odd steps and first at even ones; both running out at once is a tie (0)."""
    arr_a, lo_a = a
    arr_b, lo_b = b
    for depth in range(MAX_TIES):
        if not lo_a or not lo_b:
            if not lo_a and not lo_b:
                return 0
            a_first = lo_a == 0 if depth % 2 else lo_b == 0
            return -1 if a_first else 1
        pa, pb = arr_a[lo_a - 1], arr_b[lo_b - 1]
        if pa != pb:
            a_first = pa < pb if depth % 2 else pa > pb
            return -1 if a_first else 1
        lo_a = bisect_left(arr_a, pa, 0, lo_a - 1)
        lo_b = bisect_left(arr_b, pb, 0, lo_b - 1)
    return 0


def _runs_out(arr: Sequence[int], lo: int) -> bool:
    """Whether a thread runs out of earlier events within MAX_TIES steps back."""
    for _ in range(MAX_TIES):
        if not lo:
            return True
        lo = bisect_left(arr, arr[lo - 1], 0, lo - 1)
    return False


def shared_extras(times: dict[int, array], kept_times: Iterable[int]) -> dict[tuple[int, int], int]:
    """For each (time, thread) at which a kept event's time is shared with another thread: how
    many events of other threads at that time Go yields first (see :func:`_tie_order`).

    Threads that tie and ran out of earlier events each count the others as first; those that
    tie for all MAX_TIES steps none of them (the pairwise rule, as _scan.c applies it)."""
    wanted = kept_times if isinstance(kept_times, Sized) else list(kept_times)
    events = sum(map(len, times.values()))
    if len(wanted) * 4 < events:
        # Few kept events: the threads that have each of their times.
        want = set(wanted)
        seen: set[int] = set()
        shared: set[int] = set()
        for arr in times.values():
            h = want.intersection(arr)
            shared |= h & seen
            seen |= h
    else:
        # Each thread's distinct times, all threads' together in order: a time met twice is
        # one at least two threads have (a sort of sorted runs: about linear).
        distinct = sorted(chain.from_iterable(map(_distinct, times.values())))
        shared = set(
            compress(islice(distinct, 1, None), map(eq, islice(distinct, 1, None), distinct))
        )
        del distinct
        if shared:
            shared = shared.intersection(wanted)
    out: dict[tuple[int, int], int] = {}
    if not shared:
        return out
    at: dict[int, list[int]] = {}
    for m, arr in times.items():
        for t in shared.intersection(arr):
            at.setdefault(t, []).append(m)
    order = cmp_to_key(_tie_order)
    for t, threads in at.items():
        group = []
        for m in threads:
            arr = times[m]
            lo = bisect_left(arr, t)
            group.append(((arr, lo), bisect_right(arr, t, lo) - lo, m))
        group.sort(key=lambda item: order(item[0]))
        before = 0
        i = 0
        while i < len(group):
            j = i + 1
            while j < len(group) and _tie_order(group[i][0], group[j][0]) == 0:
                j += 1
            cls = sum(count for _, count, _ in group[i:j])
            mutual = j - i > 1 and _runs_out(*group[i][0])
            for _, count, m in group[i:j]:
                out[t, m] = before + (cls - count if mutual else 0)
            before += cls
            i = j
    return out


def _distinct(arr: array) -> Iterable[int]:
    """A sorted array without repeats."""
    if len(arr) < 2:
        return arr
    return chain(compress(arr, map(ne, arr, islice(arr, 1, None))), (arr[-1],))


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


def kept_times(scan: GenerationScan, extra: Sequence[int], sync: int) -> array:
    """Go's time (ns) of each kept event of ``scan``: its own time and ties, plus the events of
    other threads at the same time that Go yields first, plus the pile-up after Sync."""
    unit = scan.unit
    kt, km = scan.t, scan.m
    out = array("q", map(mul, kt, repeat(unit))) if unit != 1 else array("q", kt)
    for i, ties in scan.ties.items():
        out[i] += ties
    if len(scan.times) > 1:
        extras = shared_extras(scan.times, kt)
        if extras:
            shared = {t for t, _ in extras}
            get = extras.get
            for i in compress(range(len(kt)), map(shared.__contains__, kt)):
                e = get((kt[i], km[i]))
                if e:
                    out[i] += e
    if sync:
        bound, pile = pileup(scan.times, extra, unit, sync, scan.count)
        qb = -(-bound // unit)
        for i in compress(range(len(kt)), map(qb.__gt__, kt)):
            tn = kt[i] * unit
            off = sync + bisect_left(pile, tn) + 1 - tn
            if off > 0:
                out[i] += off
    return out
