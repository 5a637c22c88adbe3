"""Open a trace file and read its 16-byte header: which Go wrote it, and can we read it."""

from __future__ import annotations

import os
from typing import BinaryIO

from perfgate.trace import wire
from perfgate.trace.errors import TraceError

NOT_A_TRACE = "not a Go execution trace"


def open_trace(path: str) -> tuple[BinaryIO, int]:
    """Open ``path`` for reading; return the file and its size. Raises TraceError."""
    try:
        f = open(path, "rb")  # noqa: SIM115 - the caller closes it
    except FileNotFoundError:
        raise TraceError(f"trace file not found: {path}") from None
    except IsADirectoryError:
        raise TraceError(f"{path} is a directory, not a trace file") from None
    except OSError as e:
        raise TraceError(f"cannot open trace file {path}: {e.strerror or e}") from None
    try:
        size = os.fstat(f.fileno()).st_size
    except OSError as e:
        f.close()
        raise TraceError(f"cannot read trace file {path}: {e.strerror or e}") from None
    return f, size


def read_version(f: BinaryIO, path: str, size: int) -> int:
    """Read the header and return the minor version it names (22 for "go 1.22 trace").

    Returns versions newer than the reader knows as they are (the caller decides whether another
    reader can handle them); raises TraceError for empty files, non-traces and v1 traces.
    """
    if size == 0:
        raise TraceError(
            f"{path} is empty (0 bytes): {NOT_A_TRACE}",
            hint="Was the test run with -trace, and did it finish writing?",
        )
    head = f.read(wire.HEADER_SIZE)
    m = wire.HEADER_RE.fullmatch(head) if len(head) == wire.HEADER_SIZE else None
    if m is None or len(m.group(1)) > 4:
        if head.startswith(b"go 1.") and len(head) < wire.HEADER_SIZE:
            raise TraceError(
                f"{path} is cut off inside its header ({size} bytes): "
                "the trace was truncated before any data was written"
            )
        raise TraceError(
            f"{path} is {NOT_A_TRACE} (its first bytes are not a trace header)",
            hint="Pass the file written by `go test -trace=FILE`.",
        )
    version = int(m.group(1))
    if version in wire.V1_VERSIONS or version < min(wire.V2_VERSIONS):
        raise TraceError(
            f"{path} is a Go 1.{version} trace (old v1 format): perfgate reads traces "
            "written by Go 1.22 and newer",
            hint="Run the tests with Go 1.22 or newer.",
        )
    return version
