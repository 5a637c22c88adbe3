"""Reading Go execution traces (Go 1.22+): natively, or through `go tool trace`.

``read_trace(path)`` returns a :class:`TraceData` with the trace's user tasks, regions and logs.
"""

from perfgate.trace.errors import TraceError
from perfgate.trace.model import Log, Region, Task, TraceData
from perfgate.trace.reader import read_trace
from perfgate.trace.scan import PURE_PYTHON_ENV, accelerated


def scan_built() -> bool:
    """Whether the C extension (perfgate.trace._scan) is installed."""
    from perfgate.trace import scan

    return scan._scan is not None


def scanner_name() -> str:
    """The event scanner the native reader uses: ``"c"`` (the compiled extension) or
    ``"python"`` (the pure-Python fallback)."""
    return "c" if accelerated() else "python"


def scanner_note() -> str | None:
    """Why the pure-Python scanner is in use (for a one-line note), or None with the C one."""
    if accelerated():
        return None
    if scan_built():
        return f"{PURE_PYTHON_ENV}=1: reading traces with the pure-Python scanner"
    return (
        "the C trace scanner was not built when perfgate was installed (no C compiler?): "
        "reading traces with the pure-Python scanner, several times slower"
    )


__all__ = [
    "Log",
    "Region",
    "Task",
    "TraceData",
    "TraceError",
    "read_trace",
    "scan_built",
    "scanner_name",
    "scanner_note",
]
