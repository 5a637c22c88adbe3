"""pytest fixtures for the trace-reader tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tracefix import system_go_path

from perfgate.trace import scan


@pytest.fixture(scope="session")
def system_go() -> str:
    go = system_go_path()
    if go is None:
        pytest.skip("no Go 1.26+ toolchain (go on PATH or PERFGATE_GO) for the go-tool reader")
    return go


@pytest.fixture(autouse=True, params=["c", "python"])
def scanner(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Run every trace test twice: with the C scanner and with the pure-Python fallback
    (forced by $PERFGATE_PURE_PYTHON=1, as a user without a compiler would get it)."""
    if request.param == "c":
        if scan._scan is None:
            pytest.skip("the C extension perfgate.trace._scan is not built (no C compiler?)")
        monkeypatch.delenv(scan.PURE_PYTHON_ENV, raising=False)
        assert scan.accelerated()
    else:
        monkeypatch.setenv(scan.PURE_PYTHON_ENV, "1")
        assert not scan.accelerated()
    yield request.param
