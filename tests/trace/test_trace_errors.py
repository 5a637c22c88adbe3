"""Honest failure: every bad input ends in a TraceError with a clear message, or in a result
marked truncated - never in another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from tracefix import TRACES, cut_traces, expected, full_traces

from perfgate.errors import PerfgateError
from perfgate.trace import TraceError, read_trace


@pytest.mark.parametrize("reader", ["native", "auto", "go"])
def test_missing_file(tmp_path: Path, reader: str) -> None:
    with pytest.raises(TraceError, match="not found"):
        read_trace(tmp_path / "nope.trace", reader=reader)  # type: ignore[arg-type]


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="directory"):
        read_trace(tmp_path)


@pytest.mark.parametrize("name", ["empty.trace", "junk.trace", "text.trace"])
def test_not_a_trace(name: str) -> None:
    with pytest.raises(TraceError, match="not a Go execution trace") as e:
        read_trace(TRACES / name)
    assert isinstance(e.value, PerfgateError)


def test_empty_says_empty() -> None:
    with pytest.raises(TraceError, match="empty"):
        read_trace(TRACES / "empty.trace")


def test_v1_trace_names_version() -> None:
    with pytest.raises(TraceError, match=r"1\.21.*1\.22"):
        read_trace(TRACES / "go1.21-v1.trace")


def test_newer_version_native_names_version() -> None:
    with pytest.raises(TraceError, match=r"1\.28"):
        read_trace(TRACES / "go1.28-future.trace", reader="native")


def test_newer_version_auto_without_capable_go(tmp_path: Path) -> None:
    # No Go can read 1.28 yet: auto must say so, naming the version.
    with pytest.raises(TraceError, match=r"1\.28"):
        read_trace(TRACES / "go1.28-future.trace", reader="auto", go=str(tmp_path / "no-go"))


def test_newer_version_auto_with_system_go(system_go: str) -> None:
    with pytest.raises(TraceError, match=r"1\.28"):
        read_trace(TRACES / "go1.28-future.trace", reader="auto", go=system_go)


def test_header_cut() -> None:
    with pytest.raises(TraceError, match="cut off inside its header"):
        read_trace(TRACES / "cut-header.trace")


def test_header_only() -> None:
    with pytest.raises(TraceError, match="no trace data"):
        read_trace(TRACES / "header-only.trace")


def test_unknown_reader() -> None:
    with pytest.raises(TraceError, match="unknown trace reader"):
        read_trace(TRACES / "go1.26.trace", reader="fast")  # type: ignore[arg-type]


CUTS = cut_traces()


@pytest.mark.parametrize("trace", CUTS, ids=[p.name for p in CUTS])
def test_cut_trace_keeps_complete_generations(trace: Path) -> None:
    full = trace.with_name(trace.name.split("-cut")[0] + ".trace")
    whole = read_trace(full)
    data = read_trace(trace)
    assert data.truncated
    assert "truncated" in (data.truncation_note or "")
    assert f"read {data.bytes_read} of {data.size} bytes" in (data.truncation_note or "")
    assert f"{data.generations} complete generation" in (data.truncation_note or "")
    assert data.generations < whole.generations
    assert data.bytes_read <= data.size
    # What was kept is exactly what the whole trace says for those generations: every task
    # known here has the same begin, and an end that is either the same or not yet seen.
    by_id = {t.id: t for t in whole.tasks}
    for t in data.tasks:
        w = by_id[t.id]
        assert (t.name, t.parent, t.begin_ns) == (w.name, w.parent, w.begin_ns)
        assert t.end_ns in (None, w.end_ns)
    # And go tool trace (same version) agrees on every task it printed before failing.
    exp = expected(trace)
    assert exp["exit_code"] != 0
    mine = {t.id: t for t in data.tasks}
    for tid, _parent, name, begin, end, _bg, _eg in exp["tasks"]:
        if tid in mine and end is not None and mine[tid].end_ns is not None:
            assert abs(mine[tid].end_ns - end) <= 1  # type: ignore[operator]
            assert mine[tid].name == name and abs(mine[tid].begin_ns - begin) <= 1  # type: ignore[operator]


@pytest.mark.parametrize("trace", full_traces()[:1] + full_traces()[-1:], ids=lambda p: p.name)
def test_cut_at_every_generation_boundary_is_not_truncated(trace: Path, tmp_path: Path) -> None:
    """A file that ends right after a complete generation reads cleanly (as go tool trace)."""
    whole = read_trace(trace)
    assert whole.generations >= 2
    # bytes_read after reading only the first generation: cut there.
    data = trace.read_bytes()
    for n in range(len(data) - 1, 16, -997):
        cut = tmp_path / "c.trace"
        cut.write_bytes(data[:n])
        got = read_trace(cut)
        assert got.bytes_read <= n
        if not got.truncated:
            assert got.bytes_read == n


def test_corrupt_batch_raises(tmp_path: Path) -> None:
    data = bytearray((TRACES / "go1.26.trace").read_bytes())
    data[16] = 0x07  # not a batch header
    bad = tmp_path / "bad.trace"
    bad.write_bytes(bytes(data))
    with pytest.raises(TraceError, match="corrupt"):
        read_trace(bad)
