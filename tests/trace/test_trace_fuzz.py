"""Property: any truncation or byte flip of a real or crafted trace yields a result or a
TraceError."""

from __future__ import annotations

from pathlib import Path

import craft
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracefix import TRACES

from perfgate.trace import TraceError, read_trace
from perfgate.trace.model import TraceData

SOURCES = [TRACES / "go1.22-startstop.trace", TRACES / "go1.26-startstop.trace"]
# Real traces, and the hostile shapes of craft.py (small, in both wire formats).
DATA = [p.read_bytes() for p in SOURCES] + [
    craft.make(shape, 60, version) for shape in sorted(craft.SHAPES) for version in (22, 26)
]


def _read(tmp: Path, data: bytes) -> TraceData | None:
    """Read with and without goroutine states: only TraceError may come out, and the
    annotations must not depend on whether states were read."""
    p = tmp / "t.trace"
    p.write_bytes(data)
    try:
        plain = read_trace(p, reader="native")
    except TraceError:
        plain = None
    try:
        with_states = read_trace(p, reader="native", states=True)
    except TraceError:
        with_states = None
    if plain is None or with_states is None:
        return None  # a state event may refer to a broken string: an error either way is fine
    assert with_states.tasks == plain.tasks and with_states.regions == plain.regions
    assert with_states.states is not None
    for task in with_states.complete_tasks:
        with_states.task_breakdown(task)  # never raises on what the reader returned
    return plain


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(which=st.integers(0, len(DATA) - 1), frac=st.floats(0, 1))
def test_truncation_never_crashes(tmp_path: Path, which: int, frac: float) -> None:
    data = DATA[which]
    cut = data[: int(len(data) * frac)]
    got = _read(tmp_path, cut)
    if got is not None and len(cut) < len(data):
        assert got.bytes_read <= len(cut)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    which=st.integers(0, len(DATA) - 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), min_size=1, max_size=4),
)
def test_byte_flips_never_crash(tmp_path: Path, which: int, flips: list[tuple[float, int]]) -> None:
    data = bytearray(DATA[which])
    for pos, value in flips:
        data[min(int(pos * len(data)), len(data) - 1)] = value
    _read(tmp_path, bytes(data))
