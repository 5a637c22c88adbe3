"""Limits that refuse absurd traces before they cost absurd time or memory.

The reader's time and memory grow linearly with the trace on any input; these limits sit far
above anything a Go program writes (the runtime caps threads at 10,000 by default, has a few
dozen blocking reasons, and writes a new generation about every second) and refuse a crafted
trace that would still need gigabytes: a trace past one of them is an error naming the limit,
never a silent partial result. The C scanner gets the same numbers from here.
"""

from __future__ import annotations

MAX_THREADS_PER_GENERATION = 1 << 17  # distinct thread (M) ids with event batches
MAX_STRINGS_PER_GENERATION = 1 << 22  # entries of a generation's string table
MAX_EVENTS_PER_GENERATION = 1 << 28  # events in a generation's event batches
MAX_BATCHES_PER_GENERATION = 1 << 22  # batches of any kind in one generation
MAX_REASONS = 1 << 10  # distinct blocking reasons (goroutine states)
MAX_GENERATION_SPAN_NS = 1 << 47  # from a generation's first event to its last (~39 hours)


class LimitExceeded(Exception):
    """The trace is past one of the limits above (internal; turned into a TraceError)."""
