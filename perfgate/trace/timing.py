"""Give each user event the time ``go tool trace`` gives it.

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
``max(S + p, t + ties_before)``: the first term is the pile-up after the generation switch
(positions p are counted by bisecting the sorted per-thread time arrays, only while an event is
still inside the pile-up), the second the events at the very same nanosecond yielded before ours.

Ties between threads follow Go's heap: the thread whose previous event is more recent keeps
going. Not mirrored: events Go yields out of time order because their sequence numbers make them
wait for another thread, and Go 1.22's random heap order for equal times. Both shift a time by a
nanosecond or so, rarely.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from itertools import compress
from operator import itemgetter

from perfgate.trace.scan import GenerationScan

_first = itemgetter(0)


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


_MAX_TIES = 16  # same-thread events sharing one nanosecond that we allow for (more: 1 ns off)


def nudge_all(scan: GenerationScan, sync: int) -> None:
    """Turn the provisional times of the generation's user events into Go's times, in place.

    The provisional time ``u[0]`` already counts the earlier events of the same thread at the
    same nanosecond; what is left is ties with other threads and the generation-start pile-up.
    Both concern few events, found with set and C-level iterator operations over all of them.
    """
    user = scan.user
    times = scan.times
    if not user:
        return
    provisional = list(map(_first, user))
    if len(times) > 1:
        shared = _shared_times(scan)
        if shared:
            unit = scan.unit
            near = {t * unit + k for t in shared for k in range(_MAX_TIES)}
            for i in compress(range(len(user)), map(near.__contains__, provisional)):
                u = user[i]
                own = times[u[1]]
                t = own[u[2]]
                if t in shared:
                    lo_own = bisect_left(own, t)
                    extra = 0
                    for mid, arr in times.items():
                        if mid != u[1]:
                            lo = bisect_left(arr, t)
                            hi = bisect_right(arr, t, lo)
                            if hi > lo and _other_first(own, lo_own, arr, lo):
                                extra += hi - lo
                    if extra:
                        user[i] = (u[0] + extra, *u[1:])
    if sync:
        end = _pileup_end(scan, sync)
        unit = scan.unit
        for i in compress(range(len(user)), map((end + _MAX_TIES).__gt__, provisional)):
            u = user[i]
            t = times[u[1]][u[2]] * unit
            if t < end:
                ties = u[0] - t
                p = scan.count_before(t) + ties + 1
                if sync + p > u[0]:
                    user[i] = (sync + p, *u[1:])


def _shared_times(scan: GenerationScan) -> set[int]:
    """Times of user events at which some other thread also has an event."""
    per_m = {m: set(ts) for m, ts in scan.user_times.items()}
    every = set().union(*per_m.values())
    hits = {m: every.intersection(arr) for m, arr in scan.times.items()}
    shared: set[int] = set()
    for m, own in per_m.items():
        for m2, h in hits.items():
            if m2 != m and h:
                shared |= own & h
    return shared


def _pileup_end(scan: GenerationScan, sync: int) -> int:
    """Smallest time from which events are no longer piled up behind the generation's Sync.

    An event at time t is in the pile-up while ``sync + position > t``; positions grow by one
    per event, times much faster, so the set of piled-up times is an initial interval.
    """
    lo = sync - 1
    hi = sync + scan.count + len(scan.extra) + 1
    # Invariant: times <= lo are piled up, times >= hi are not.
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if sync + scan.count_before(mid) + 1 > mid:
            lo = mid
        else:
            hi = mid
    return hi


def _other_first(own: array, lo_own: int, arr: array, lo: int) -> bool:
    """Whether another thread's events at our exact time come before ours.

    Go's heap keeps the cursor it just advanced on top when the next event has the same time, so
    the thread whose last event before this time is the more recent one goes first.
    """
    for _ in range(_MAX_TIES):
        if lo_own == 0:
            return True
        if lo == 0:
            return False
        p_own, p_other = own[lo_own - 1], arr[lo - 1]
        if p_own != p_other:
            return p_other > p_own
        # Both threads' previous events share a time too: the thread that went second then
        # was the one just advanced, so it goes first now.
        lo_own = bisect_left(own, p_own)
        lo = bisect_left(arr, p_other)
        own, arr, lo_own, lo = arr, own, lo, lo_own  # "other first then" == "own first now"
    return False


def last_time(scan: GenerationScan, sync: int) -> int:
    """Go's time for the last event it yields from this generation (the next Sync's floor)."""
    n = scan.count + len(scan.extra)
    if n == 0:
        return sync
    unit = scan.unit
    t_last = max((arr[-1] * unit for arr in scan.times.values() if len(arr)), default=0)
    if scan.extra and scan.extra[-1] > t_last:
        t_last = scan.extra[-1]
    c = len(scan.extra) - bisect_left(scan.extra, t_last)
    q = -(-t_last // unit)
    for arr in scan.times.values():
        c += len(arr) - bisect_left(arr, q)
    return max(sync + n, t_last + c - 1)
