"""``perfgate comment REPORT.json``: post an existing report as the sticky PR comment.

The privileged half of the fork pattern: a ``workflow_run`` workflow with a write token posts
the report artifact of a pull request's run. That artifact was made by the pull request's code,
so nothing in it is trusted for where to post: the head commit comes from the event or
``--head-sha`` only (no head commit: exit 2), the comment is only written while it is the PR's
current head, and the PR number from ``--pr`` must agree with the event's when the event names
one. The report itself is validated strictly (:func:`perfgate.report.load_report`), its verdict
recomputed, its text escaped; a report from a fork's run is labelled so in the comment, and the
notice that the PR changes ``baselines/`` or the config comes from GitHub's list of the PR's
files, not from the report.
"""

from __future__ import annotations

import os
import re

import click

from perfgate.commands.options import comment_when_option, progress, warn
from perfgate.errors import PerfgateError
from perfgate.github.sticky import CommentWhen

_REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")


def _warn(warnings: list[str], in_actions: bool) -> None:
    from perfgate.github.commands import annotation

    for w in warnings:
        warn(w)
        if in_actions:
            click.echo(annotation("warning", w, title="perfgate"))


@click.command("comment")
@click.argument("report_path", metavar="REPORT.json", type=click.Path(dir_okay=False))
@click.option(
    "--pr",
    "pr_number",
    type=click.IntRange(min=1),
    help="The pull request (default: from the event).",
)
@click.option("--repo", metavar="OWNER/NAME", help="The repository (default: GITHUB_REPOSITORY).")
@click.option(
    "--head-sha",
    metavar="SHA",
    help="The PR head commit the report is for (default: from the event; never from the "
    "report). Without either, nothing is posted (exit 2).",
)
@click.option(
    "--comment-key", metavar="KEY", help="Name of the comment (default: from the target names)."
)
@click.option("--dry-run", is_flag=True, help="Print the comment body instead of posting it.")
@comment_when_option
def comment(
    report_path: str,
    pr_number: int | None,
    repo: str | None,
    head_sha: str | None,
    comment_key: str | None,
    dry_run: bool,
    comment_when: CommentWhen,
) -> None:
    """Post or update the sticky PR comment for an existing report (from --json-out).

    This is the privileged half of the fork pattern: a workflow triggered by `workflow_run`
    downloads the report artifact of the pull_request run and posts it with a write token.
    The head commit comes from the event or --head-sha, never from the report, and the comment
    is only posted while that commit is the PR's current head.

    Needs GITHUB_TOKEN. Exit 0 even when GitHub refuses (a warning says why), 2 for bad input.
    """
    from perfgate.github.body import build_comment, derive_comment_key
    from perfgate.github.context import load_context
    from perfgate.github.publish import (
        CommentTarget,
        comment_info,
        post_comment,
        with_pull_gate_files,
    )
    from perfgate.github.retry import RetryPolicy
    from perfgate.report import load_report

    report = load_report(report_path)
    ctx = load_context(os.environ)
    _warn(list(ctx.warnings), ctx.in_actions)

    repository = repo or ctx.repository
    if not isinstance(repository, str) or not _REPO_RE.match(repository):
        raise PerfgateError(f"no valid repository ({repository!r})", hint="give --repo OWNER/NAME.")
    if pr_number and ctx.pr_number and pr_number != ctx.pr_number:
        raise PerfgateError(
            f"--pr {pr_number} disagrees with the event, which is for pull request "
            f"#{ctx.pr_number}: not posting",
            hint="the event's number is GitHub's own; a number passed along in an artifact is not",
        )
    number = pr_number or ctx.pr_number
    if not number:
        raise PerfgateError(
            "no pull-request number in the event",
            hint="give --pr N (in a workflow_run for a fork PR, pass it along in the artifact).",
        )
    sha = head_sha or ctx.head_sha
    if sha is None:
        raise PerfgateError(
            "no head commit: the event names none and --head-sha is not given; the report's "
            "own commit is never used to decide where to post",
            hint="in a workflow_run the event's workflow_run.head_sha is used; elsewhere pass "
            "--head-sha SHA, the pull request's head commit the report was made for",
        )
    if not _SHA_RE.match(sha):
        raise PerfgateError(f"head commit {sha[:80]!r} is not a commit sha")
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
        require_current_head=True,
        fork=ctx.head_repo if ctx.event_name == "workflow_run" and ctx.is_fork else None,
    )
    key = derive_comment_key(report, comment_key)
    if dry_run:
        click.echo(build_comment(report, comment_info(report, key, target)), nl=False)
        return
    if comment_when == "never":
        return
    policy = RetryPolicy.from_env(os.environ)
    report = with_pull_gate_files(report, target, policy)
    warnings = post_comment(
        report,
        target,
        key=key,
        policy=policy,
        log=progress,
        when=comment_when,
    )
    _warn(warnings, ctx.in_actions)
