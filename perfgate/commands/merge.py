"""``perfgate merge REPORT.json...``: several matrix jobs' reports as one report, one verdict
and one PR comment."""

from __future__ import annotations

import click

from perfgate.commands.deliver import deliver
from perfgate.commands.options import comment_options, junit_out_option, markdown_out_option
from perfgate.github.sticky import CommentWhen


@click.command("merge")
@click.argument(
    "reports", nargs=-1, required=True, metavar="REPORT.json...", type=click.Path(dir_okay=False)
)
@click.option("--json-out", type=click.Path(dir_okay=False), help="Write the merged JSON here.")
@markdown_out_option
@junit_out_option
@comment_options
@click.pass_context
def merge(
    ctx: click.Context,
    reports: tuple[str, ...],
    json_out: str | None,
    markdown_out: str | None,
    junit_out: str | None,
    comment: bool | None,
    dry_run: bool,
    comment_key: str | None,
    comment_when: CommentWhen,
) -> None:
    """Combine several jobs' reports (from --json-out) into one report and one PR comment.

    Handlers and targets are concatenated and the verdict recomputed; a target that appears in
    two reports is an error. Exit 0 pass, 1 regression, 2 bad input, 3 inconclusive, like
    `perfgate check`.
    """
    from perfgate.github.merge import merge_reports
    from perfgate.report import load_report

    merged = merge_reports([load_report(p) for p in reports], list(reports))
    deliver(
        merged,
        json_out=json_out,
        markdown_out=markdown_out,
        junit_out=junit_out,
        comment=comment,
        dry_run=dry_run,
        comment_key=comment_key,
        comment_when=comment_when,
    )
    ctx.exit(merged.exit_code)
