"""The last stage of ``check`` and ``merge``: a finished report to stdout, to the files asked
for, and to GitHub (comment, job summary, step outputs, annotations) when running there.

GitHub trouble is printed as warnings and never changes the exit code.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

import click

from perfgate.baseline import write_atomically
from perfgate.commands.options import warn
from perfgate.errors import PerfgateError
from perfgate.github.sticky import CommentWhen
from perfgate.redact import redact, secret_values
from perfgate.report import HandlerSides, Report


def deliver(
    report: Report,
    *,
    json_out: str | None,
    markdown_out: str | None,
    junit_out: str | None = None,
    html_out: str | None = None,
    sides: Sequence[HandlerSides] = (),
    comment: bool | None,
    dry_run: bool,
    comment_key: str | None,
    comment_when: CommentWhen = "always",
) -> None:
    """Print the table, write the JSON, Markdown, JUnit and HTML files asked for, publish to
    GitHub."""
    from perfgate.github.publish import publish
    from perfgate.render.junit import render_junit
    from perfgate.render.markdown import render_markdown
    from perfgate.render.text import render_text

    click.echo(render_text(report), nl=False)
    write_output(json_out, report.to_json())
    write_output(markdown_out, render_markdown(report))
    if junit_out:
        write_output(junit_out, render_junit(report))
    if html_out:
        from perfgate.render.html import render_html

        write_output(html_out, render_html(report, sides))
    for w in publish(
        report,
        report_path=json_out,
        comment=comment,
        dry_run=dry_run,
        comment_key=comment_key,
        comment_when=comment_when,
        out=sys.stdout,
        err=sys.stderr,
    ):
        warn(w)


def write_output(path: str | None, text: str) -> None:
    """Write a report file the user asked for (no path: nothing), atomically, without the
    values of perfgate's secret environment variables (the files are often uploaded as
    artifacts); an unwritable path is the user's problem (exit 2), not a traceback."""
    if not path:
        return
    try:
        write_atomically(Path(path), redact(text, secret_values(os.environ)))
    except OSError as exc:
        raise PerfgateError(f"cannot write {path}: {exc.strerror or exc}") from None
