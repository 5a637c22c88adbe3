"""The reader's error type: a trace perfgate cannot read, said in words the user can act on."""

from __future__ import annotations

from perfgate.errors import PerfgateError


class TraceError(PerfgateError):
    """A trace file that cannot be read: missing, empty, not a Go trace, unsupported or corrupt.

    A trace that is merely cut off does not raise: the reader keeps what it could read and marks
    the result as truncated instead.
    """
