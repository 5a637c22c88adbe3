"""perfgate: a performance gate for Go services in CI.

It runs a Go module's perf tests under the execution tracer, reads each request's latency from
runtime/trace user tasks, and compares p95 per handler with a committed baseline.
"""

__version__ = "0.1.0"
