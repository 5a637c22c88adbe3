"""``perfgate comment`` and ``perfgate merge``: click commands the main CLI registers.

``comment`` posts an existing report as the sticky PR comment (the privileged half of the fork
pattern: a ``workflow_run`` workflow with a write token). ``merge`` combines several matrix jobs'
reports into one report, one verdict and one comment. Both turn a PerfgateError into a message
and exit code 2 themselves, so they behave the same when invoked on their own.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from perfgate.baseline import write_output
from perfgate.errors import PerfgateError
from perfgate.github.body import build_comment, derive_comment_key
from perfgate.github.commands import annotation
from perfgate.github.context import load_context
from perfgate.github.merge import merge_reports
from perfgate.github.publish import CommentTarget, comment_info, post_comment, publish
from perfgate.github.retry import RetryPolicy
from perfgate.github.sticky import COMMENT_WHEN
from perfgate.report import Report, load_report

F = TypeVar("F", bound=Callable[..., Any])
_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")


def _user_errors(fn: F) -> F:
    """Print a PerfgateError like the main CLI does and exit 2."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PerfgateError as exc:
            click.echo(f"perfgate: error: {exc.message}", err=True)
            if exc.hint:
                click.echo(f"perfgate: {exc.hint}", err=True)
            click.get_current_context().exit(exc.exit_code)

    return wrapper  # type: ignore[return-value]


def _warn(warnings: list[str], in_actions: bool) -> None:
    for w in warnings:
        click.echo(f"perfgate: warning: {w}", err=True)
        if in_actions:
            click.echo(annotation("warning", w, title="perfgate"))


def _report_github_block(path: str) -> dict[str, Any]:
    """The optional ``"github"`` object of a report file (PR number, head sha, repository)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    block = data.get("github") if isinstance(data, dict) else None
    return block if isinstance(block, dict) else {}


def publish_and_warn(
    report: Report,
    report_path: str | None,
    comment: bool | None,
    dry_run: bool,
    key: str | None,
    when: str = "always",
) -> None:
    """Hand a report to GitHub (comment, summary, outputs, annotations) when running there, and
    print what did not work as warnings: GitHub trouble never changes the exit code."""
    for w in publish(
        report,
        report_path=report_path,
        comment=comment,
        dry_run=dry_run,
        comment_key=key,
        comment_when=when,  # type: ignore[arg-type]
        out=sys.stdout,
        err=sys.stderr,
    ):
        click.echo(f"perfgate: warning: {w}", err=True)


@click.command("comment")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option(
    "--pr",
    "pr_number",
    type=click.IntRange(min=1),
    help='The pull request (default: from the event, else from the report\'s "github" object).',
)
@click.option("--repo", metavar="OWNER/NAME", help="The repository (default: GITHUB_REPOSITORY).")
@click.option(
    "--head-sha",
    metavar="SHA",
    help="The PR head commit the report is for (default: from the event).",
)
@click.option(
    "--comment-key", metavar="KEY", help="Name of the comment (default: from the target names)."
)
@click.option("--dry-run", is_flag=True, help="Print the comment body instead of posting it.")
@click.option(
    "--comment-when",
    type=click.Choice(COMMENT_WHEN),
    default="always",
    show_default=True,
    help="changes: only when something is not a pass or the verdicts changed since the "
    "posted comment; regressions: only when something fails (or the posted one is now stale).",
)
@_user_errors
def comment_command(
    report_path: str,
    pr_number: int | None,
    repo: str | None,
    head_sha: str | None,
    comment_key: str | None,
    dry_run: bool,
    comment_when: str,
) -> None:
    """Post or update the sticky PR comment for an existing report (from --json-out).

    This is the privileged half of the fork pattern: a workflow triggered by `workflow_run`
    downloads the report artifact of the pull_request run and posts it with a write token.
    In a workflow_run, the comment is only posted while the report is for the PR's current head.

    Needs GITHUB_TOKEN. Exit 0 even when GitHub refuses (a warning says why), 2 for bad input.
    """
    report = load_report(report_path)
    extra = _report_github_block(report_path)
    ctx = load_context(os.environ)
    _warn(list(ctx.warnings), ctx.in_actions)

    repository = repo or ctx.repository or extra.get("repository")
    if not isinstance(repository, str) or not _REPO_RE.match(repository):
        raise PerfgateError(f"no valid repository ({repository!r})", hint="give --repo OWNER/NAME.")
    number = pr_number or ctx.pr_number or extra.get("pull_request")
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        raise PerfgateError(
            "no pull-request number: not in the event, not in the report",
            hint="give --pr N (in a workflow_run for a fork PR, pass it along in the artifact).",
        )
    sha = head_sha or ctx.head_sha or extra.get("head_sha")
    if sha is not None and (not isinstance(sha, str) or not _SHA_RE.match(sha)):
        raise PerfgateError(f"--head-sha {sha!r} is not a commit sha")
    if not ctx.token and not dry_run:
        raise PerfgateError(
            "no GitHub token: set GITHUB_TOKEN",
            hint="in a workflow: env: GITHUB_TOKEN: ${{ github.token }} "
            "with permissions: pull-requests: write.",
        )

    target = CommentTarget(
        api_url=ctx.api_url,
        token=ctx.token or "",
        repository=repository,
        pr_number=number,
        head_sha=sha,
        run_id=ctx.run_id,
        run_attempt=ctx.run_attempt,
        run_url=ctx.run_url,
        commit_url=f"{ctx.server_url}/{repository}/commit/{sha}" if sha else None,
        in_actions=ctx.in_actions,
        is_fork=ctx.is_fork,
        author_override=os.environ.get("PERFGATE_COMMENT_AUTHOR") or None,
        require_current_head=ctx.event_name == "workflow_run",
    )
    key = derive_comment_key(report, comment_key)
    if dry_run:
        click.echo(build_comment(report, comment_info(report, key, target)), nl=False)
        return
    if comment_when == "never":
        return
    warnings = post_comment(
        report,
        target,
        key=key,
        policy=RetryPolicy.from_env(os.environ),
        log=lambda m: click.echo(f"perfgate: {m}", err=True),
        when=comment_when,  # type: ignore[arg-type]
    )
    _warn(warnings, ctx.in_actions)


def comment_options(command: F) -> F:
    """The PR-comment options shared by ``check`` and ``merge``: one definition, one wording."""
    for option in reversed(
        [
            click.option(
                "--comment/--no-comment",
                default=None,
                help="Post/update the pull-request comment (default: on in a pull_request "
                "workflow).",
            ),
            click.option(
                "--dry-run", is_flag=True, help="Print the comment body instead of posting it."
            ),
            click.option(
                "--comment-key",
                metavar="KEY",
                help="Keep one comment per KEY on the PR (default: derived from the target names).",
            ),
            click.option(
                "--comment-when",
                type=click.Choice(COMMENT_WHEN),
                default="always",
                show_default=True,
                help="always: post/update on every run; changes: only when something is not a "
                "pass or the verdicts changed since the posted comment; regressions: only when "
                "something fails (and to update a posted comment that is no longer true); "
                "never: as --no-comment.",
            ),
        ]
    ):
        command = option(command)
    return command


@click.command("merge")
@click.argument(
    "reports", nargs=-1, required=True, metavar="REPORT.json...", type=click.Path(dir_okay=False)
)
@click.option("--json-out", type=click.Path(dir_okay=False), help="Write the merged JSON here.")
@click.option("--markdown-out", type=click.Path(dir_okay=False), help="Write Markdown here.")
@comment_options
@_user_errors
def merge_command(
    reports: tuple[str, ...],
    json_out: str | None,
    markdown_out: str | None,
    comment: bool | None,
    dry_run: bool,
    comment_key: str | None,
    comment_when: str,
) -> None:
    """Combine several jobs' reports (from --json-out) into one report and one PR comment.

    Handlers and targets are concatenated and the verdict recomputed; a target that appears in
    two reports is an error. Exit 0 pass, 1 regression, 2 bad input, 3 inconclusive, like
    `perfgate check`.
    """
    from perfgate.render import render_markdown, render_text

    merged = merge_reports([load_report(p) for p in reports], list(reports))
    click.echo(render_text(merged), nl=False)
    write_output(json_out, merged.to_json())
    write_output(markdown_out, render_markdown(merged))
    publish_and_warn(merged, json_out, comment, dry_run, comment_key, comment_when)
    click.get_current_context().exit(merged.exit_code)
