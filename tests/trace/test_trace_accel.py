"""The C scanner (perfgate.trace._scan): built here, used by default, and equal to the
pure-Python scanner it accelerates, on real traces and on damaged ones."""

from __future__ import annotations

import contextlib
import importlib
import shutil
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tracefix import TRACES, full_traces

from perfgate.trace import scan
from perfgate.trace.batches import Corrupt, Generation, Truncated, read_generations
from perfgate.trace.header import open_trace, read_version


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


def _generations(data: bytes, tmp: Path) -> list[tuple[int, Generation]]:
    p = tmp / "t.trace"
    p.write_bytes(data)
    f, size = open_trace(str(p))
    out: list[tuple[int, Generation]] = []
    with f, contextlib.suppress(Corrupt, Truncated):
        version = read_version(f, str(p), size)
        for g in read_generations(f, version):
            out.append((version, g))
    return out


def _outcome(fn: object, gen: Generation, version: int, freq: float) -> object:
    try:
        s = fn(gen.events, version, freq)  # type: ignore[operator]
    except Corrupt:
        return "corrupt"
    return (
        s.unit,
        {m: list(a) for m, a in s.times.items()},
        s.extra,
        s.user,
        {m: list(a) for m, a in s.user_times.items() if len(a)},
        s.syscall_bindings,
        s.last_setter,
        s.count,
    )


def _compare(data: bytes, tmp: Path) -> int:
    n = 0
    for version, gen in _generations(data, tmp):
        try:
            freq = scan.frequency(gen.syncs, version)
        except Corrupt:
            continue
        c = _outcome(scan.scan_c, gen, version, freq)
        py = _outcome(scan.scan_python, gen, version, freq)
        assert c == py, gen.number
        n += 1
    return n


needs_c = pytest.mark.skipif(scan._scan is None, reason="the C extension is not built")
TRACES_ALL = full_traces()


@needs_c
@pytest.mark.parametrize("trace", TRACES_ALL, ids=[p.name for p in TRACES_ALL])
def test_c_scanner_equals_python_scanner(trace: Path, tmp_path: Path) -> None:
    assert _compare(trace.read_bytes(), tmp_path) >= 2


SOURCES = [(TRACES / n).read_bytes() for n in ("go1.22-startstop.trace", "go1.26-startstop.trace")]


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
def test_c_scanner_equals_python_on_damaged_traces(
    which: int, flips: list[tuple[float, int]], tmp_path_factory: pytest.TempPathFactory
) -> None:
    data = bytearray(SOURCES[which])
    for pos, value in flips:
        data[16 + min(int(pos * (len(data) - 16)), len(data) - 17)] = value
    _compare(bytes(data), tmp_path_factory.mktemp("flip"))
