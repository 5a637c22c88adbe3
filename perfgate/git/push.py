"""Publish a baseline commit to the branch's remote, riding over one concurrent push.

The usual race: while this job measured, someone pushed to the release branch. Then the push is
rejected as non-fast-forward; the remote branch is fetched, the local commit(s) rebased onto it
once and pushed again. If the rebase conflicts (someone else changed the same baseline file) the
rebase is aborted, the branch is left exactly as it was with the baseline commit on it, and the
user is told how to finish by hand.
"""

from __future__ import annotations

from dataclasses import dataclass

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import (
    GitResult,
    current_branch,
    open_repo,
    operation_in_progress,
    rev_parse,
    run,
    short,
)
from perfgate.git.refresh import RefreshContext

_REJECTED_BEHIND = ("(fetch first)", "(non-fast-forward)")


@dataclass(frozen=True)
class PushResult:
    """Where the baseline went. ``commit`` is the pushed commit (rebased if ``rebased``)."""

    remote: str
    remote_branch: str
    commit: str
    rebased: bool

    @property
    def summary(self) -> str:
        """One line for the terminal, e.g. ``pushed 1a2b3c4 to origin release/1.0``."""
        line = f"pushed {short(self.commit)} to {self.remote} {self.remote_branch}"
        return line + (" (rebased onto commits pushed meanwhile)" if self.rebased else "")


def push_baseline_commit(ctx: RefreshContext) -> PushResult:
    """Push the checked branch to its remote branch, rebasing once if the remote moved.

    Never force-pushes and skips the local pre-push hook (``--no-verify``). Every failure is a
    :class:`PerfgateError` that leaves the local baseline commit on the branch.
    """
    if ctx.remote is None:
        raise PerfgateError(
            f"branch {ctx.branch!r} has no remote to push to",
            hint=f"set an upstream (git push -u <remote> {ctx.branch}) or drop --push",
        )
    remote, target = ctx.remote, ctx.remote_branch
    with open_repo(ctx.repo_root) as repo:
        if current_branch(repo) != ctx.branch:
            raise PerfgateError(f"branch {ctx.branch!r} is no longer checked out: not pushing")
        first = _push(repo, ctx)
        if first.ok:
            return PushResult(remote, target, _head(repo), rebased=False)
        if not _rejected_as_behind(first):
            raise _push_failed(ctx, _head(repo), first)
        upstream = _fetch(repo, ctx)
        _rebase_once(repo, ctx, upstream)
        second = _push(repo, ctx)
        if second.ok:
            return PushResult(remote, target, _head(repo), rebased=True)
        raise _push_failed(ctx, _head(repo), second, after_rebase=True)


def _head(repo: git.Repo) -> str:
    sha = rev_parse(repo, "HEAD")
    assert sha is not None
    return sha


def _push(repo: git.Repo, ctx: RefreshContext) -> GitResult:
    assert ctx.remote is not None
    refspec = f"refs/heads/{ctx.branch}:refs/heads/{ctx.remote_branch}"
    return run(repo, "push", "--no-verify", "--", ctx.remote, refspec, check=False)


def _rejected_as_behind(res: GitResult) -> bool:
    text = res.stdout + "\n" + res.stderr
    return any(marker in text for marker in _REJECTED_BEHIND)


def _fetch(repo: git.Repo, ctx: RefreshContext) -> str:
    """Fetch the remote branch and return the sha it points to."""
    assert ctx.remote is not None
    res = run(
        repo,
        "fetch",
        "--no-tags",
        "--",
        ctx.remote,
        f"refs/heads/{ctx.remote_branch}",
        check=False,
    )
    sha = rev_parse(repo, "FETCH_HEAD") if res.ok else None
    if sha is None:
        raise PerfgateError(
            f"the push was rejected because {ctx.remote}/{ctx.remote_branch} moved, and fetching "
            f"it failed: {res.message()}",
            hint=_finish_by_hand(ctx, _head(repo)),
        )
    return sha


def _rebase_once(repo: git.Repo, ctx: RefreshContext, upstream: str) -> None:
    """Rebase the branch's new commits onto ``upstream``; on failure restore the branch."""
    before = _head(repo)
    env = {**ctx.git_env(), "GIT_EDITOR": "true"}
    res = run(
        repo,
        "-c",
        "rebase.autoStash=false",
        "rebase",
        "--no-verify",
        upstream,
        env=env,
        check=False,
    )
    if res.ok:
        return
    conflicts = run(repo, "diff", "--name-only", "--diff-filter=U", check=False).stdout.split()
    if operation_in_progress(repo) == "rebase":
        run(repo, "rebase", "--abort", check=False)
    if operation_in_progress(repo) == "rebase" or _head(repo) != before:
        raise PerfgateError(
            f"rebasing the baseline commit onto {ctx.remote}/{ctx.remote_branch} failed and "
            f"could not be undone: {res.message()}",
            hint="inspect with git status; git rebase --abort returns the branch to "
            f"{short(before)}",
        )
    why = (
        f"it conflicts with their change to {', '.join(conflicts)}" if conflicts else res.message()
    )
    raise PerfgateError(
        f"{ctx.remote}/{ctx.remote_branch} moved while measuring and the baseline commit "
        f"{short(before)} does not rebase onto it: {why}. The commit is kept on {ctx.branch}, "
        "not pushed",
        hint=_finish_by_hand(ctx, before),
    )


def _finish_by_hand(ctx: RefreshContext, commit: str) -> str:
    return (
        f"to publish commit {short(commit)}: git pull --rebase {ctx.remote} {ctx.remote_branch}, "
        f"resolve any conflict, then git push {ctx.remote} {ctx.branch}:{ctx.remote_branch}; "
        "or drop it and rerun the refresh on the new head of the branch"
    )


def _push_failed(
    ctx: RefreshContext, commit: str, res: GitResult, *, after_rebase: bool = False
) -> PerfgateError:
    what = "the retried push (after rebasing onto the moved remote)" if after_rebase else "git push"
    hint = _finish_by_hand(ctx, commit)
    if not after_rebase:
        hint += (
            ". If it is a permission problem: in GitHub Actions the workflow needs "
            "'permissions: contents: write'"
        )
    return PerfgateError(
        f"{what} to {ctx.remote} {ctx.remote_branch} failed: {res.message()}. The baseline "
        f"commit {short(commit)} is kept on {ctx.branch}, not pushed",
        hint=hint,
    )
