"""Reading Go execution traces (Go 1.22+): natively, or through `go tool trace`.

``read_trace(path)`` returns a :class:`TraceData` with the trace's user tasks, regions and logs.
"""

from perfgate.trace.errors import TraceError
from perfgate.trace.model import Log, Region, Task, TraceData
from perfgate.trace.reader import read_trace

__all__ = ["Log", "Region", "Task", "TraceData", "TraceError", "read_trace"]
