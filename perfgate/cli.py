"""perfgate's command line: the ``perfgate`` group, its commands, and the one error handler.

Exit codes: 0 pass, 1 a regression, 2 the user's or the environment's problem (bad input, broken
build, failed test, no data), 3 inconclusive. Every :class:`~perfgate.errors.PerfgateError`
becomes ``perfgate: error: …`` (and its hint) and its exit code here, in one place, whichever
command raised it; Ctrl-C is exit 130. Anything else is a bug and shows its traceback. The
commands themselves live in :mod:`perfgate.commands`, one module each.
"""

from __future__ import annotations

from typing import Any

import click

from perfgate import __version__
from perfgate.commands.baseline import baseline
from perfgate.commands.check import check
from perfgate.commands.comment import comment
from perfgate.commands.history import history
from perfgate.commands.init import init
from perfgate.commands.merge import merge
from perfgate.commands.report import report
from perfgate.errors import PerfgateError


class PerfgateGroup(click.Group):
    """A click group that turns PerfgateError into a clear message and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PerfgateError as exc:
            click.echo(f"perfgate: error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"perfgate: {exc.hint}", err=True)
            ctx.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("perfgate: interrupted", err=True)
            ctx.exit(130)


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
    """


for _command in (report, check, baseline, init, history, comment, merge):
    main.add_command(_command)

__all__ = ["main"]
