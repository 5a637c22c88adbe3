"""Where a measurement came from: the checked-out commit and branch (for reports, baselines and
history records)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import current_branch, open_repo, operation_in_progress, repo_root
from perfgate.git.refresh import check_clean


def head_provenance(repo_dir: str | Path) -> tuple[str, str]:
    """(commit sha, branch) checked out in the repository holding ``repo_dir``; the branch is
    empty on a detached HEAD, and both are empty outside git (provenance is then unknown)."""
    try:
        with git.Repo(repo_dir, search_parent_directories=True) as repo:
            commit = repo.head.commit.hexsha
            branch = "" if repo.head.is_detached else repo.active_branch.name
            return commit, branch
    except Exception:  # not a repository, no commits yet, git missing: provenance unknown
        return "", ""


@dataclass(frozen=True)
class CommitInfo:
    """A commit as a history record names it: sha, parents (first parent first), committer
    date (ISO 8601), subject, and the branch it was measured on ("" when unknown)."""

    sha: str
    parents: list[str]
    date: str
    subject: str
    branch: str


def measured_head(
    repo_dir: str | Path, env: Mapping[str, str] | None = None
) -> tuple[CommitInfo, list[str]]:
    """The checked-out commit, for a measurement credited to it, and warnings.

    Refused (exit 2) when it would not describe what is measured: no commits, a tracked file
    that differs from HEAD, an unfinished merge or rebase. Untracked Go files are only warned
    about. On a detached HEAD (CI checkouts) the branch comes from ``GITHUB_REF`` when that
    names a branch.
    """
    env = os.environ if env is None else env
    with open_repo(repo_dir) as repo:
        root = repo_root(repo)
        try:
            head = repo.head.commit
        except ValueError:
            raise PerfgateError(
                f"{root} has no commits yet: there is no commit to record",
                hint="commit the code first",
            ) from None
        op = operation_in_progress(repo)
        if op:
            raise PerfgateError(
                f"a {op} is in progress in {root}: HEAD is not what would be measured",
                hint=f"finish or abort the {op}, then rerun",
            )
        warnings = check_clean(repo, root, what="the record")
        branch = current_branch(repo) or ""
        ref = env.get("GITHUB_REF", "")
        if not branch and ref.startswith("refs/heads/"):
            branch = ref.removeprefix("refs/heads/")
        info = CommitInfo(
            sha=head.hexsha,
            parents=[p.hexsha for p in head.parents],
            date=head.committed_datetime.isoformat(),
            subject=head.summary if isinstance(head.summary, str) else head.summary.decode(),
            branch=branch,
        )
        return info, warnings
