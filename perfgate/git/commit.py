"""Commit refreshed baseline files, and nothing else, on the branch checked before measuring."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import (
    current_branch,
    open_repo,
    operation_in_progress,
    rev_parse,
    run,
    short,
)
from perfgate.git.refresh import RefreshContext

_MAX_HANDLERS_LISTED = 10
_MAX_TARGETS_IN_SUBJECT = 3


def commit_baselines(
    ctx: RefreshContext,
    paths: Sequence[str | Path],
    targets: Sequence[str],
    measured_commit: str,
) -> str | None:
    """Commit exactly ``paths`` (their working-tree content) and return the new commit's sha.

    Returns None, committing nothing, when the files equal HEAD's ("baseline unchanged").
    Whatever else the index holds stays staged and out of this commit (``git commit --only``).
    Local commit hooks are skipped (``--no-verify``): this is a machine-written data commit, and
    a formatter hook rewriting the JSON would make it fail or differ from what was measured.
    Relative ``paths`` are taken from the current directory; an empty ``measured_commit`` means
    the HEAD that :func:`~perfgate.git.refresh.check_refresh_allowed` saw.
    """
    if not paths:
        raise PerfgateError("no baseline files to commit")
    with open_repo(ctx.repo_root) as repo:
        rel = [_repo_relative(ctx.repo_root, p) for p in paths]
        _ensure_unmoved(repo, ctx)
        run(repo, "add", "--", *rel)
        if run(repo, "diff", "--cached", "--quiet", "HEAD", "--", *rel, check=False).ok:
            return None
        subject, body = commit_message(
            targets,
            _full_sha(repo, measured_commit, ctx.head_sha),
            {p: _handler_names(ctx.repo_root / p) for p in rel},
        )
        res = run(
            repo,
            "commit",
            "--only",
            "--no-verify",
            "--quiet",
            "-m",
            subject,
            "-m",
            body,
            "--",
            *rel,
            env=ctx.git_env(),
            check=False,
        )
        if not res.ok:
            run(repo, "reset", "--quiet", "HEAD", "--", *rel, check=False)  # unstage again
            raise PerfgateError(
                f"git commit of the baseline failed: {res.message()}",
                hint="the baseline files are written but not committed; fix the cause and "
                "commit them yourself, or rerun",
            )
        sha = rev_parse(repo, "HEAD")
        assert sha is not None
        return sha


def commit_message(
    targets: Sequence[str], measured_commit: str, handlers_by_path: dict[str, list[str]]
) -> tuple[str, str]:
    """Subject and body of a baseline commit.

    The subject names the targets and the measured commit; the body lists each file's handlers
    and ends with a ``Measured-commit:`` trailer carrying the full sha for tools.
    """
    if len(targets) > _MAX_TARGETS_IN_SUBJECT:
        names = f"{len(targets)} targets"
    else:
        names = ", ".join(targets) or "all targets"
    subject = f"perfgate: refresh baselines for {names} at {short(measured_commit)}"
    lines = []
    for path, handlers in handlers_by_path.items():
        if not handlers:
            lines.append(f"- {path}")
            continue
        listed = ", ".join(handlers[:_MAX_HANDLERS_LISTED])
        more = len(handlers) - _MAX_HANDLERS_LISTED
        if more > 0:
            listed += f" and {more} more"
        lines.append(f"- {path}: {listed}")
    body = "\n".join(lines) + f"\n\nMeasured-commit: {measured_commit}"
    return subject, body


def _repo_relative(root: Path, path: str | Path) -> str:
    """``path`` as a slash-separated path inside the working tree; outside it is exit 2."""
    p = Path(path)
    absolute = (p if p.is_absolute() else Path.cwd() / p).resolve()
    try:
        rel = absolute.relative_to(root.resolve())
    except ValueError:
        raise PerfgateError(f"baseline file {path} is outside the repository {root}") from None
    if not absolute.is_file():
        raise PerfgateError(f"baseline file not found: {path}")
    return rel.as_posix()


def _ensure_unmoved(repo: git.Repo, ctx: RefreshContext) -> None:
    """Refuse if the branch or HEAD changed since the refresh was allowed."""
    branch = current_branch(repo)
    head = rev_parse(repo, "HEAD")
    if branch != ctx.branch or head != ctx.head_sha:
        where = branch or "a detached HEAD"
        raise PerfgateError(
            f"the checkout moved while measuring (was {ctx.branch} at {short(ctx.head_sha)}, "
            f"now {where} at {short(head or '?')}): not committing",
            hint="rerun the refresh on the commit you want to measure",
        )
    op = operation_in_progress(repo)
    if op:
        raise PerfgateError(f"a {op} started while measuring: not committing")


def _full_sha(repo: git.Repo, commit: str, default: str) -> str:
    """``commit`` expanded to a full sha; ``default`` (HEAD when allowed) if it is empty."""
    if not commit:
        return default
    return rev_parse(repo, commit) or commit


def _handler_names(path: Path) -> list[str]:
    """The handler names in a baseline file, for the commit body (empty if unreadable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    handlers = data.get("handlers") if isinstance(data, dict) else None
    return sorted(handlers) if isinstance(handlers, dict) else []
