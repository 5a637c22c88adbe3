"""The C scanner (perfgate.trace._scan): built here, used by default, and giving exactly what
the pure-Python reader gives, on real traces and on damaged ones."""

from __future__ import annotations

import importlib
import os
import shutil
import sysconfig
from pathlib import Path

import craft
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tracefix import TRACES, full_traces

from perfgate.trace import TraceError, read_trace, scan


@pytest.fixture(autouse=True)
def scanner() -> str:
    """These tests call both scanners themselves: run them once."""
    return "both"


def _can_build() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    include = sysconfig.get_paths()["include"]
    return shutil.which(cc) is not None and (Path(include) / "Python.h").exists()


def test_extension_is_built_and_used(monkeypatch: pytest.MonkeyPatch) -> None:
    try:
        importlib.import_module("perfgate.trace._scan")
    except ImportError as e:
        if _can_build():
            pytest.fail(
                f"perfgate.trace._scan is not importable ({e}) although a C compiler and "
                "Python headers are here: run `pip install -e .` to build it"
            )
        pytest.skip(f"no C compiler or Python headers here, the extension cannot be built: {e}")
    monkeypatch.delenv(scan.PURE_PYTHON_ENV, raising=False)
    assert scan.accelerated()
    monkeypatch.setenv(scan.PURE_PYTHON_ENV, "1")
    assert not scan.accelerated()
    monkeypatch.setenv(scan.PURE_PYTHON_ENV, "0")
    assert scan.accelerated()


def _read(path: Path, pure: bool, states: bool = False) -> object:
    """Everything read_trace says about ``path`` with one scanner, or the error it raised
    (with ``states``: every goroutine's timeline, the GC and stop-the-world ranges, the
    assists and the per-type breakdown totals too)."""
    old = os.environ.get(scan.PURE_PYTHON_ENV)
    os.environ[scan.PURE_PYTHON_ENV] = "1" if pure else "0"
    try:
        d = read_trace(path, reader="native", states=states)
        got = (d.tasks, d.regions, d.logs, d.generations, d.bytes_read, d.truncated)
        if states:
            st = d.states
            assert st is not None
            got += (
                {g: st.timeline(g) for g in st.times},
                st.gc,
                st.stw,
                st.assists,
                d.breakdown_totals(),
                st.running_ns(),
            )
    except TraceError as e:
        return ("error", str(e).split(":")[0])
    finally:
        if old is None:
            del os.environ[scan.PURE_PYTHON_ENV]
        else:
            os.environ[scan.PURE_PYTHON_ENV] = old
    return got


def _compare(data: bytes, tmp: Path, states: bool = False) -> object:
    p = tmp / "t.trace"
    p.write_bytes(data)
    c = _read(p, pure=False, states=states)
    assert c == _read(p, pure=True, states=states)
    return c


needs_c = pytest.mark.skipif(scan._scan is None, reason="the C extension is not built")
TRACES_ALL = full_traces()


@needs_c
@pytest.mark.parametrize("trace", TRACES_ALL, ids=[p.name for p in TRACES_ALL])
def test_c_reader_equals_python_reader(trace: Path, tmp_path: Path) -> None:
    got = _compare(trace.read_bytes(), tmp_path)
    assert isinstance(got, tuple) and got[0] and got[3] >= 2


STATE_TRACES = sorted(TRACES.glob("go1.*-runtime.trace")) + TRACES_ALL


@needs_c
@pytest.mark.parametrize("trace", STATE_TRACES, ids=[p.name for p in STATE_TRACES])
def test_c_reader_equals_python_reader_with_states(trace: Path, tmp_path: Path) -> None:
    got = _compare(trace.read_bytes(), tmp_path, states=True)
    assert isinstance(got, tuple) and got[6] and got[10]  # timelines, breakdown totals


SOURCES = [(TRACES / n).read_bytes() for n in ("go1.22-startstop.trace", "go1.26-startstop.trace")]
SOURCES += [craft.make(shape, 60, v) for shape in sorted(craft.SHAPES) for v in (22, 26)]


@needs_c
@pytest.mark.parametrize("shape", sorted(craft.SHAPES))
@pytest.mark.parametrize("version", [22, 26])
def test_c_reader_equals_python_reader_on_crafted_traces(
    shape: str, version: int, tmp_path: Path
) -> None:
    data = craft.make(shape, 500, version)
    got = _compare(data, tmp_path, states=True)
    assert isinstance(got, tuple) and got[0]


@needs_c
@settings(max_examples=150, deadline=None)
@given(
    which=st.integers(0, len(SOURCES) - 1),
    flips=st.lists(
        st.tuples(st.floats(0, 1), st.sampled_from([0, 1, 0x7F, 0x80, 0xFF]) | st.integers(0, 255)),
        min_size=1,
        max_size=6,
    ),
)
def test_c_reader_equals_python_reader_on_damaged_traces(
    which: int, flips: list[tuple[float, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = bytearray(SOURCES[which])
    for pos, value in flips:
        data[16 + min(int(pos * (len(data) - 16)), len(data) - 17)] = value
    tmp = tmp_path_factory.mktemp("flip")
    _compare(bytes(data), tmp)
    _compare(bytes(data), tmp, states=True)


def _components_both_ways(data) -> tuple[object, object]:
    from perfgate.explain import _columns, _objects

    def plain(got):
        return {
            k: (list(c.durations), {n: list(v) for n, v in c.columns.items()})
            for k, c in got.items()
        }

    return plain(_columns(data)), plain(_objects(data))


@needs_c
@pytest.mark.parametrize("trace", STATE_TRACES, ids=[p.name for p in STATE_TRACES])
def test_run_components_from_columns_equal_the_object_path(trace: Path) -> None:
    """explain.run_components works on the columns in C (odd tasks through attribute()):
    the same per-task components as building every Task and Region and attributing each,
    and the C running_ns equals the Python one."""
    data = read_trace(trace, reader="native", states=True)
    columns, objects = _components_both_ways(data)
    assert columns == objects and objects
    assert data.states is not None
    c = data.states.running_ns()
    os.environ[scan.PURE_PYTHON_ENV] = "1"
    try:
        assert data.states.running_ns() == c > 0
    finally:
        del os.environ[scan.PURE_PYTHON_ENV]
