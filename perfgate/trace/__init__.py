"""Reading Go execution traces (Go 1.22+): natively, or through `go tool trace`."""

from perfgate.trace.model import Log, Region, Task, TraceData

__all__ = ["Log", "Region", "Task", "TraceData"]
