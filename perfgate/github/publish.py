"""Deliver a finished report to GitHub: job summary, step outputs, annotations, the PR comment.

:func:`publish` is what ``perfgate check`` and ``perfgate merge`` call after rendering;
:func:`post_comment` is the comment alone, shared with ``perfgate comment``. Neither decides or
changes the gate's verdict, and neither raises for GitHub trouble: every problem comes back as a
warning string.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TextIO

from perfgate.github.body import (
    SUMMARY_LIMIT,
    CommentInfo,
    Stamp,
    build_comment,
    derive_comment_key,
    minimal_comment,
    summary_markdown,
    verdict_digest,
)
from perfgate.github.commands import annotation, outputs_text, report_annotations, report_outputs
from perfgate.github.context import ActionsContext, load_context
from perfgate.github.retry import GitHubApiError, Kind, RetryPolicy, call_with_retry
from perfgate.github.sticky import COMMENT_WHEN, CommentWhen, Outcome
from perfgate.redact import redact, secret_values
from perfgate.render import escape
from perfgate.report import Report, ReportVerdict, Verdict, overall_verdict

FORK_HELP = (
    "Pull requests from forks get a read-only GITHUB_TOKEN, so the comment cannot be posted from "
    "this workflow. To comment on fork PRs, upload the report as an artifact "
    "(perfgate check --json-out perfgate-report.json, then actions/upload-artifact) and post it "
    "from a second workflow triggered by `workflow_run`, which runs with a write token: "
    "`perfgate comment perfgate-report.json --pr N` (see .github/workflows/perfgate-comment.yml "
    "in perfgate's repository)."
)
_SUMMARY_MARGIN = 4096  # bytes left free in the 1 MiB job summary for whatever comes after us


@dataclass(frozen=True)
class CommentTarget:
    """Where and as whom to post: the PR, the token, and what the stamp and footer say."""

    api_url: str
    token: str
    repository: str
    pr_number: int
    head_sha: str | None = None
    run_id: int | None = None
    run_attempt: int | None = None
    run_url: str | None = None
    commit_url: str | None = None
    in_actions: bool = False
    is_fork: bool = False
    author_override: str | None = None
    require_current_head: bool = False
    fork: str | None = None  # the fork whose run made the report (perfgate comment)


def comment_info(report: Report, key: str, target: CommentTarget | None) -> CommentInfo:
    """The key, stamp and links for a comment body (for posting or for a dry run)."""
    stamp = Stamp(
        sha=target.head_sha if target else None,
        run_id=target.run_id if target else None,
        run_attempt=target.run_attempt if target else None,
        time=report.created or dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        verdicts=verdict_digest(report),
    )
    return CommentInfo(
        key=key,
        stamp=stamp,
        commit_url=target.commit_url if target else None,
        run_url=target.run_url if target else None,
        fork=target.fork if target else None,
    )


def is_gate_file(path: str, patch: str | None) -> bool:
    """Whether a changed file sets the bar: anything in a ``baselines/`` directory, a
    ``perfgate.toml``, or a ``pyproject.toml`` whose change mentions perfgate (or whose diff
    GitHub does not show)."""
    name = path.rsplit("/", 1)[-1]
    if path.startswith("baselines/") or "/baselines/" in path or name == "perfgate.toml":
        return True
    return name == "pyproject.toml" and (patch is None or "perfgate" in patch)


def with_pull_gate_files(report: Report, target: CommentTarget, policy: RetryPolicy) -> Report:
    """``report`` with the gate's own files that the pull request changes, as GitHub lists the
    PR's files (:func:`is_gate_file`) — not as the report says (it may come from the PR's own
    run), though what the report names is kept too: a claim can only add to the notice. When
    GitHub's list cannot be read, the report gets a warning saying the check was not made."""
    from perfgate.github.client import make_github, pull_files

    try:
        gh = make_github(target.api_url, target.token, policy)
        files = call_with_retry(lambda: pull_files(gh, target.repository, target.pr_number), policy)
    except Exception as exc:  # GitHub trouble never decides anything: say it, go on
        why = exc.problem.describe() if isinstance(exc, GitHubApiError) else type(exc).__name__
        warning = (
            "could not list the pull request's files to tell whether it changes baselines/ or "
            f"the perfgate config ({why})"
        )
        return report.model_copy(update={"warnings": [*report.warnings, warning]})
    found = {path for path, patch in files if is_gate_file(path, patch)}
    changed = sorted(found | set(report.gate_files_changed))
    return report.model_copy(update={"gate_files_changed": changed})


def outcome(report: Report) -> Outcome:
    """What ``--comment-when`` looks at in a report (see :func:`.sticky.when_skip`)."""
    verdict = overall_verdict(report.handlers)
    return Outcome(
        failing=verdict == ReportVerdict.FAIL,
        all_pass=verdict == ReportVerdict.PASS
        and all(h.verdict == Verdict.PASS for h in report.handlers),
    )


def _redacted(text: str) -> str:
    """``text`` without the values of perfgate's secret environment variables (a report may
    quote them: its task names and notes come from the code under test)."""
    return redact(text, secret_values(os.environ))


def _problem_warning(err: GitHubApiError, target: CommentTarget) -> str:
    p = err.problem
    what = f"could not post the PR comment on {target.repository}#{target.pr_number}"
    tail = " The gate's verdict is unaffected."
    if p.kind == Kind.FORBIDDEN:
        if target.is_fork or "not accessible by integration" in p.message.lower():
            return f"{what}: {p.describe()}. {FORK_HELP}{tail}"
        return (
            f"{what}: {p.describe()}. The token needs `pull-requests: write` "
            f"(add `permissions: pull-requests: write` to the job).{tail}"
        )
    if p.kind == Kind.AUTH:
        return f"{what}: {p.describe()}: GitHub rejected the token in GITHUB_TOKEN.{tail}"
    if p.kind == Kind.NOT_FOUND:
        return (
            f"{what}: {p.describe()}: the repository or PR does not exist, or the token "
            f"cannot see it.{tail}"
        )
    return f"{what}: {err}.{tail}"


def post_comment(
    report: Report,
    target: CommentTarget,
    *,
    key: str,
    policy: RetryPolicy,
    log: Callable[[str], None],
    when: CommentWhen = "always",
) -> list[str]:
    """Create or update the sticky comment for ``report`` on ``target``'s PR; return warnings.

    ``when`` (``always``, ``changes``, ``regressions``): whether this result is worth writing,
    given the comment already there (:func:`~perfgate.github.sticky.when_skip`).
    Never raises for GitHub trouble (HTTP errors, timeouts, rate limits): those are retried where
    safe, within ``policy``, and end as one warning.
    """
    from perfgate.github.client import CommentSync, make_github

    if not target.api_url.startswith(("https://", "http://")):
        return [f"could not post the PR comment: GITHUB_API_URL {target.api_url!r} is not a URL"]
    try:
        info = comment_info(report, key, target)
        sync = CommentSync(
            gh=make_github(target.api_url, target.token, policy),
            repository=target.repository,
            pr_number=target.pr_number,
            key=key,
            stamp=info.stamp,
            body=_redacted(build_comment(report, info)),
            fallback_body=_redacted(minimal_comment(report, info)),
            in_actions=target.in_actions,
            author_override=target.author_override,
            require_current_head=target.require_current_head,
            when=when,
            outcome=outcome(report),
            log=log,
        )
        result = call_with_retry(sync, policy, on_retry=lambda m: log(f"GitHub: {m}"))
    except GitHubApiError as exc:
        return [_problem_warning(exc, target)]
    except Exception as exc:  # the comment must never take the gate down with it
        return [f"could not post the PR comment: unexpected {type(exc).__name__}: {exc}"]
    if result.action == "skipped":
        log(f"PR comment left as it is: {result.reason}")
    else:
        log(f"PR comment {result.action}: {result.url}")
    if result.deleted:
        log(f"deleted duplicate perfgate comments: {', '.join(map(str, result.deleted))}")
    return list(result.notes)


def _target_from_context(ctx: ActionsContext, env: Mapping[str, str]) -> CommentTarget | None:
    if not (ctx.token and ctx.repository and ctx.pr_number):
        return None
    return CommentTarget(
        api_url=ctx.api_url,
        token=ctx.token,
        repository=ctx.repository,
        pr_number=ctx.pr_number,
        head_sha=ctx.head_sha,
        run_id=ctx.run_id,
        run_attempt=ctx.run_attempt,
        run_url=ctx.run_url,
        commit_url=ctx.commit_url(ctx.head_sha),
        in_actions=ctx.in_actions,
        is_fork=ctx.is_fork,
        author_override=env.get("PERFGATE_COMMENT_AUTHOR") or None,
    )


def _missing(ctx: ActionsContext) -> str:
    missing = [
        name
        for name, value in (
            ("GITHUB_TOKEN", ctx.token),
            ("GITHUB_REPOSITORY", ctx.repository),
            ("a pull-request number (pull_request event)", ctx.pr_number),
        )
        if not value
    ]
    return ", ".join(missing)


def _append(path: str, text: str, what: str) -> str | None:
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        return f"cannot write the {what} to {path}: {exc.strerror or exc}"
    return None


def write_job_summary(report: Report, path: str) -> str | None:
    """Append the Markdown table to the job summary, within its 1 MiB; a warning or None."""
    try:
        used = os.path.getsize(path)
    except OSError:
        used = 0
    budget = SUMMARY_LIMIT - used - _SUMMARY_MARGIN
    if budget < 1024:
        return f"the job summary {path} is full (1 MiB per step): perfgate's table left out"
    return _append(path, _redacted(summary_markdown(report, budget)) + "\n", "job summary")


def publish(
    report: Report,
    *,
    report_path: str | None = None,
    comment: bool | None = None,
    dry_run: bool = False,
    comment_key: str | None = None,
    comment_when: CommentWhen = "always",
    env: Mapping[str, str] = os.environ,
    out: TextIO | None = None,
    err: TextIO | None = None,
    policy: RetryPolicy | None = None,
) -> list[str]:
    """Deliver ``report`` to GitHub as far as the environment allows; return warnings.

    In GitHub Actions (``GITHUB_ACTIONS=true``) it appends the Markdown table to
    ``GITHUB_STEP_SUMMARY`` (cut to its 1 MiB), writes the step outputs ``verdict``
    (pass/fail), ``report`` (``report_path``) and ``regressed`` (count) to ``GITHUB_OUTPUT``, and
    prints an ``::error`` annotation per regressed/missing handler and a ``::warning`` per
    new/insufficient one to ``out``.

    The sticky PR comment: ``comment=None`` posts it on ``pull_request``/``pull_request_target``
    events when ``GITHUB_TOKEN`` is set; ``True`` insists (a warning if the context is missing);
    ``False`` never posts. ``comment_when`` narrows when it is written: ``always`` (every run),
    ``changes`` (something is not a pass, or the verdicts differ from the comment already
    posted), ``regressions`` (something fails, or the posted comment's verdicts changed, so a
    fixed PR does not keep a stale red comment), ``never`` (as ``False``).
    ``dry_run`` prints the body to ``out`` instead and calls no API.
    ``comment_key`` names the comment (default: derived from the target names), so jobs gating
    different targets keep separate comments.

    Contract: never raises for GitHub or file trouble and never changes ``report``; the caller
    keeps its exit code from ``report.verdict``. The returned warnings are for the caller to
    print (in Actions they are also emitted as ``::warning`` annotations here). Progress lines
    (comment URL, retries) go to ``err``. Retry/backoff: ``policy`` or
    :meth:`RetryPolicy.from_env`.
    """
    if comment_when not in COMMENT_WHEN:
        raise ValueError(f"comment_when must be one of {COMMENT_WHEN}, not {comment_when!r}")
    out = sys.stdout if out is None else out
    err = sys.stderr if err is None else err
    policy = policy or RetryPolicy.from_env(env)
    ctx = load_context(env)
    warnings = list(ctx.warnings)

    def log(message: str) -> None:
        err.write(f"perfgate: {escape.text(message)}\n")

    if ctx.in_actions:
        if ctx.step_summary:
            problem = write_job_summary(report, ctx.step_summary)
            warnings += [problem] if problem else []
        if ctx.output:
            text = outputs_text(report_outputs(report, report_path))
            problem = _append(ctx.output, text, "step outputs")
            warnings += [problem] if problem else []
        for line in report_annotations(report):
            out.write(line + "\n")

    key = derive_comment_key(report, comment_key)
    target = _target_from_context(ctx, env)
    if dry_run:
        out.write(build_comment(report, comment_info(report, key, target)))
    elif comment is not False and comment_when != "never":
        wanted = comment is True or (ctx.in_actions and ctx.is_pr_event)
        if wanted and target is None:
            warnings.append(f"not posting the PR comment: missing {_missing(ctx)}")
        elif wanted and target is not None:
            warnings += post_comment(
                report, target, key=key, policy=policy, log=log, when=comment_when
            )

    if ctx.in_actions:
        for w in warnings:
            out.write(annotation("warning", w, title="perfgate") + "\n")
    out.flush()
    return warnings
