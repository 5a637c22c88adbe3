"""Property: any truncation or byte flip of a real trace yields a result or a TraceError."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tracefix import TRACES

from perfgate.trace import TraceError, read_trace
from perfgate.trace.model import TraceData

SOURCES = [TRACES / "go1.22-startstop.trace", TRACES / "go1.26-startstop.trace"]
DATA = [p.read_bytes() for p in SOURCES]


def _read(tmp: Path, data: bytes) -> TraceData | None:
    p = tmp / "t.trace"
    p.write_bytes(data)
    try:
        return read_trace(p, reader="native")
    except TraceError:
        return None


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
