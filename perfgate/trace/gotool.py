"""Fallback reader: tasks, regions and logs through ``go tool trace``'s text dump.

Runs ``go tool trace -d=parsed FILE`` (``-d=1`` with Go 1.22/1.23 toolchains, whose tool spelled
it that way) and parses its standard output as a stream, line by line, so memory stays bounded
whatever the dump's size (about 60 bytes of text per byte of trace). Slower than the native
reader by an order of magnitude; useful for trace versions newer than the native reader knows
and as an independent check of it.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile

from perfgate.trace import annotations as ann
from perfgate.trace import dump
from perfgate.trace.errors import TraceError
from perfgate.trace.header import open_trace, read_version
from perfgate.trace.model import TraceData
from perfgate.trace.states import GoroutineStates

_GOVERSION = re.compile(r"go1\.(\d+)")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GOTOOLCHAIN"] = "local"
    return env


def go_minor(go: str) -> int:
    """The minor version of the toolchain at ``go`` (26 for go1.26.8). Raises TraceError."""
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"],
            capture_output=True,
            text=True,
            env=_env(),
            timeout=120,
        )
    except (OSError, subprocess.SubprocessError) as e:
        raise TraceError(f"cannot run Go toolchain {go!r}: {e}") from None
    m = _GOVERSION.search(out.stdout)
    if out.returncode != 0 or m is None:
        raise TraceError(f"{go!r} did not report a Go version: {out.stderr.strip()[:200]}")
    return int(m.group(1))


def read_with_go(path: str, go: str | os.PathLike[str] | None, states: bool = False) -> TraceData:
    """Read ``path`` through ``go tool trace``, ``go`` being the Go binary (the caller finds
    it: perfgate's rule is :func:`perfgate.toolchain.locate_go`). Raises TraceError.
    ``states``: also track goroutine states from the dump's state transitions
    (``TraceData.states``)."""
    f, size = open_trace(path)
    with f:
        version = read_version(f, path, size)
    if go is None:
        raise TraceError(
            "no Go toolchain found for the go-tool trace reader",
            hint="Set PERFGATE_GO or put `go` on PATH (or pass go=...).",
        )
    binary = os.fspath(go)
    minor = go_minor(binary)
    if minor < version:
        raise TraceError(
            f"{path} is a Go 1.{version} trace; the Go toolchain {binary} (go1.{minor}) "
            "cannot read traces newer than itself",
            hint=f"Use Go 1.{version} or newer.",
        )
    flag = "-d=1" if minor < 24 else "-d=parsed"
    data = TraceData(path=path, version=f"1.{version}", size=size, reader="go")
    data.notes.append(f"read with `go tool trace {flag}` (go1.{minor}), not the native reader")
    asm = ann.Assembler()
    gstates = GoroutineStates() if states else None
    pending: list[dump.DumpEvent] = []
    syncs = 0
    with tempfile.TemporaryFile() as err:
        try:
            proc = subprocess.Popen(
                [binary, "tool", "trace", flag, path],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                errors="replace",
                env=_env(),
            )
        except OSError as e:
            raise TraceError(f"cannot run {binary} tool trace: {e}") from None
        assert proc.stdout is not None
        try:
            # Events are kept per generation and handed over at the next Sync: what follows
            # the last Sync before an error is a generation Go could not finish.
            for ev in dump.parse_lines(proc.stdout, states):
                if ev.kind == "Sync":
                    syncs += 1
                    for p in pending:
                        if p.kind in dump.STATE_KINDS:
                            assert gstates is not None
                            dump.feed_states(gstates, p)
                        else:
                            dump.feed(asm, p)
                    pending.clear()
                else:
                    pending.append(ev)
        except (ValueError, ann.DuplicateTask) as e:
            proc.kill()
            proc.wait()
            raise TraceError(f"cannot parse `go tool trace` output for {path}: {e}") from None
        finally:
            proc.stdout.close()
        rc = proc.wait()
        err.seek(0)
        message = err.read().decode("utf-8", "replace").strip()
    if rc != 0:
        if "unsupported" in message or ("unknown" in message and "version" in message):
            raise TraceError(f"{path}: Go 1.{version} trace not readable by go1.{minor}: {message}")
        if syncs < (2 if minor >= 25 else 1):
            raise TraceError(f"go tool trace could not read {path}: {message[-500:]}")
        data.truncated = True
        data.truncation_note = (
            f"go tool trace stopped with an error after {syncs - (minor >= 25)} generation(s) "
            f"({message.splitlines()[-1][:300] if message else 'no message'}); the rest of the "
            f"{size}-byte trace was not read (it is probably truncated)"
        )
        data.generations = syncs - 1 if minor >= 25 else syncs
        data.bytes_read = 0
    else:
        # Go 1.25+ tools yield a Sync before each generation and one at the end; older ones
        # yield one after each generation.
        data.generations = max(syncs - 1, 0) if minor >= 25 else syncs
        data.bytes_read = size
    data.annotations = asm.result()
    data.states = gstates
    return data
