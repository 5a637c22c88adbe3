"""``read_trace``: pick a reader (native, or ``go tool trace``) and read one trace file."""

from __future__ import annotations

import os
from typing import Literal

from perfgate.trace.errors import TraceError
from perfgate.trace.gotool import go_minor, read_with_go
from perfgate.trace.model import TraceData
from perfgate.trace.native import UnsupportedVersion, read_native

Reader = Literal["auto", "native", "go"]


def read_trace(
    path: str | os.PathLike[str],
    reader: Reader = "auto",
    go: str | None = None,
    states: bool = False,
) -> TraceData:
    """Read the user tasks, regions and logs of a Go execution trace (Go 1.22+).

    ``reader="native"`` parses the file in Python; ``"go"`` goes through ``go tool trace`` of the
    Go binary ``go`` (the caller finds it: :func:`perfgate.toolchain.locate_go`); ``"auto"`` is
    native, and falls back to ``go tool trace`` for a trace version newer than the native
    reader knows when ``go`` is given and can read it. Raises :class:`TraceError` for anything wrong
    with the file; a trace that is merely cut off comes back with ``truncated=True``.
    ``states=True`` also tracks every goroutine's scheduler state (``TraceData.states``, see
    :mod:`perfgate.trace.states`), at some cost in speed.
    """
    p = os.fspath(path)
    if reader == "native":
        return read_native(p, states)
    if reader == "go":
        return read_with_go(p, go, states)
    if reader != "auto":
        raise TraceError(f"unknown trace reader {reader!r}", hint="Use auto, native or go.")
    try:
        return read_native(p, states)
    except UnsupportedVersion as e:
        binary = go
        try:
            usable = binary is not None and go_minor(binary) >= e.version
        except TraceError:
            usable = False  # a Go that does not run cannot read it either
        if not usable or binary is None:
            raise TraceError(
                f"{e.message}; no Go toolchain that reads Go 1.{e.version} traces was found",
                hint=f"Install Go 1.{e.version}+ and pass go=... or set PERFGATE_GO, "
                "or upgrade perfgate.",
            ) from None
        data = read_with_go(p, binary, states)
        data.notes.insert(0, f"Go 1.{e.version} trace is newer than the native reader knows")
        return data
