"""pytest fixtures for the trace-reader tests."""

from __future__ import annotations

import pytest
from tracefix import system_go_path


@pytest.fixture(scope="session")
def system_go() -> str:
    go = system_go_path()
    if go is None:
        pytest.skip("no Go 1.26+ toolchain (go on PATH or PERFGATE_GO) for the go-tool reader")
    return go
