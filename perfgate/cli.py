"""perfgate's command line: the ``perfgate`` group, its commands, and the one error handler.

Exit codes: 0 pass, 1 a regression, 2 the user's or the environment's problem (bad input, broken
build, failed test, no data), 3 inconclusive. Every :class:`~perfgate.errors.PerfgateError`
becomes ``perfgate: error: …`` (and its hint) and its exit code here, in one place, whichever
command raised it. Anything else is a bug and shows its traceback (exit 1, never a pass).

Around every command, here:

* SIGINT, SIGTERM and SIGHUP stop it the way Ctrl-C does: the exception unwinds through the
  context managers that remove the A/B worktree and the scratch directory (test binaries,
  traces), a running test or build is killed, and perfgate exits 128 + the signal (130, 143,
  129) with a message saying so. Signals after the first are ignored so that the cleanup ends.
* Everything written to stdout and stderr passes :func:`perfgate.redact.redact` with the
  secrets of perfgate's environment: no token is printed, whatever path printed it.
"""

from __future__ import annotations

import importlib
import io
import os
import signal
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar, TextIO

import click

from perfgate import __version__
from perfgate.errors import EXIT_REGRESSION, EXIT_USAGE, PerfgateError
from perfgate.redact import redact, secret_values
from perfgate.render import escape

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A stop signal, raised where the program is so that everything unwinds and cleans up."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class RedactingStream(io.TextIOBase):
    """A text stream that writes to ``stream`` with every one of ``values`` replaced."""

    def __init__(self, stream: TextIO, values: Sequence[str]) -> None:
        self._stream = stream
        self._values = values

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        self._stream.write(redact(s, self._values))
        return len(s)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._stream, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._stream, "errors", None)


@contextmanager
def _redacted_output() -> Iterator[None]:
    values = secret_values(os.environ)
    if not values:
        yield
        return
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = RedactingStream(out, values), RedactingStream(err, values)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err


@contextmanager
def _stop_signals() -> Iterator[None]:
    received: list[int] = []

    def on_signal(signum: int, frame: Any) -> None:
        if received:  # cleaning up after the first one: let it finish
            return
        received.append(signum)
        raise Interrupted(signum)

    previous = {}
    try:
        for sig in STOP_SIGNALS:
            previous[sig] = signal.signal(sig, on_signal)
    except ValueError:  # not the main thread: leave signals to whoever owns them
        pass
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class PerfgateGroup(click.Group):
    """A click group that turns PerfgateError into a clear message and its exit code, stop
    signals into a cleanup and 128 + the signal, and prints nothing secret."""

    def invoke(self, ctx: click.Context) -> Any:
        with _redacted_output(), _stop_signals():
            return self._invoke(ctx)

    def _invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerfgateError as exc:
            click.echo(f"perfgate: error: {escape.lines(exc.message)}", err=True)
            if exc.hint:
                click.echo(f"perfgate: {escape.lines(exc.hint)}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt as exc:
            signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
            name = signal.Signals(signum).name
            click.echo(
                f"perfgate: interrupted by {name}: stopped; the test runs, scratch files and "
                "any A/B worktree were removed",
                err=True,
            )
            ctx.exit(128 + signum)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:
            pydantic = sys.modules.get("pydantic")  # imported by the commands that need it
            if pydantic is not None and isinstance(exc, pydantic.ValidationError):
                # data past a bound that no edge caught: still exit 2
                from perfgate.report import describe_validation_error

                what = escape.lines(describe_validation_error(exc))
                click.echo(f"perfgate: error: invalid data: {what}", err=True)
                ctx.exit(EXIT_USAGE)
            # a bug: its traceback, with no secret in it
            click.echo(traceback.format_exc(), err=True, nl=False)
            ctx.exit(EXIT_REGRESSION)

    # Commands are imported when used: `perfgate report` loads neither pydantic's models nor
    # the GitHub client (about 15 MB, within its memory budget: docs/benchmarks.md).
    COMMANDS: ClassVar[dict[str, str]] = {
        "baseline": "perfgate.commands.baseline",
        "check": "perfgate.commands.check",
        "comment": "perfgate.commands.comment",
        "history": "perfgate.commands.history",
        "init": "perfgate.commands.init",
        "merge": "perfgate.commands.merge",
        "report": "perfgate.commands.report",
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.COMMANDS:
            module = importlib.import_module(self.COMMANDS[cmd_name])
            self.add_command(getattr(module, cmd_name))
        return self.commands.get(cmd_name)


@click.group(cls=PerfgateGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="perfgate")
def main() -> None:
    """A performance gate for Go services.

    perfgate runs your Go perf tests under the execution tracer (go test -trace), reads every
    request's latency from runtime/trace tasks (one task per handler call, named after the
    route), and compares each handler's p95 with a baseline committed in baselines/.

    \b
    Typical use:
      perfgate init                 scaffold perfgate.toml and baselines/embed.go
      perfgate baseline update      measure and write baselines/<target>.json
      perfgate check                measure again and gate on p95 (exit 0 pass, 1 regression)
      perfgate report TRACE...      latency table straight from trace files

    Exit codes: 0 pass, 1 regression, 2 bad input or environment (never a silent pass),
    3 inconclusive (a handler moved while the machine was busy: not judged, never a pass).
    Stopped by a signal: 128 + the signal (130 Ctrl-C, 143 SIGTERM), after cleaning up.
    """


__all__ = ["main"]
