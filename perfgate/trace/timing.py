"""Give each user event the time ``go tool trace`` gives it.

Go's reader converts ticks to nanoseconds per batch (``batchcursor.go``), merges the threads'
events by time (a min-heap over per-thread cursors, ``reader.go``) and then, for every event it
yields, nudges a time that is not after the previous event's up to "previous + 1 ns". Every
generation starts with a Sync event at the generation's smallest batch timestamp, itself nudged.
Because generations overlap in time (threads switch generations one by one), the first events of
a generation are often nudged by many microseconds, so a plain ticks-to-ns conversion is not
enough to match Go's times.

With the yielded order as the events sorted by time, the nudged time of the event at position p
(the generation's Sync at position 0) is ``p + max(S, max_{j<=p}(t_j - j))`` where S is the
Sync's own time. The maximum only differs from ``t_p - p`` after a dense burst (more events than
nanoseconds), so it is taken over S and a short window before the event. Positions come from
counting, per thread, the events before a time (bisection over sorted per-thread time arrays).

Not mirrored: the heap's tie-break between threads with events at the very same nanosecond (we
put the event's own thread first... see ``ties``), and events Go yields out of time order because
their sequence numbers say they must wait for another thread. Both shift a time by a few ns at
most, rarely.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

from perfgate.trace.scan import GenerationScan

WINDOW_NS = 4096


def _window(scan: GenerationScan, lo: int, hi: int) -> list[int]:
    """Sorted times of all events with lo <= t < hi."""
    out: list[int] = []
    for arr in scan.times.values():
        i = bisect_left(arr, lo)
        j = bisect_left(arr, hi, i)
        if i < j:
            out.extend(arr[i:j])
    if scan.extra:
        i = bisect_left(scan.extra, lo)
        j = bisect_left(scan.extra, hi, i)
        out.extend(scan.extra[i:j])
    out.sort()
    return out


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


def nudged(scan: GenerationScan, sync: int, m: int, index: int, t: int) -> int:
    """Go's time for the event ``index`` of thread ``m`` whose plain time is ``t``."""
    less = 0  # events (any thread) strictly before t
    ties = 0  # events at exactly t yielded before this one
    own = scan.times[m]
    for mid, arr in scan.times.items():
        lo = bisect_left(arr, t)
        less += lo
        if mid == m:
            ties += index - lo
        else:
            hi = bisect_right(arr, t, lo)
            if hi > lo and _other_first(own, index, arr, lo):
                ties += hi - lo
    if scan.extra:
        less += bisect_left(scan.extra, t)
    # Position 0 is the generation's Sync; our tie group starts at less + 1.
    best = t - (less + 1)
    if sync > best:
        best = sync
    win = _window(scan, t - WINDOW_NS, t)
    first = less + 1 - len(win)
    for i, tj in enumerate(win):
        v = tj - (first + i)
        if v > best:
            best = v
    return less + ties + 1 + best


def _other_first(own: object, index: int, arr: object, lo: int) -> bool:
    """Whether another thread's events at our exact time come before ours (heuristic)."""
    prev_own = own[index - 1] if index > 0 else None  # type: ignore[index]
    prev_other = arr[lo - 1] if lo > 0 else None  # type: ignore[index]
    if prev_own is None:
        return True
    if prev_other is None:
        return False
    return prev_other > prev_own


def last_time(scan: GenerationScan, sync: int) -> int:
    """Go's time for the last event it yields from this generation (the next Sync's floor)."""
    n = scan.count + len(scan.extra)
    if n == 0:
        return sync
    t_last = max((arr[-1] for arr in scan.times.values() if len(arr)), default=0)
    if scan.extra and scan.extra[-1] > t_last:
        t_last = scan.extra[-1]
    win = _window(scan, t_last - WINDOW_NS, t_last + 1)
    first = n - len(win) + 1
    best = sync
    for i, tj in enumerate(win):
        v = tj - (first + i)
        if v > best:
            best = v
    return n + best
