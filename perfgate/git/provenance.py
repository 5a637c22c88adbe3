"""Where a measurement came from: the checked-out commit and branch (for reports and baselines)."""

from __future__ import annotations

from pathlib import Path

import git


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
