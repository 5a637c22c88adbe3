"""Which commit a pull request's A/B run compares against by default: the merge-base.

Measuring against the merge-base with the base branch (not the base branch's tip) compares the
pull request's code with exactly what it started from, so unrelated changes that landed on the
base branch meanwhile do not show up as the pull request's regressions.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from perfgate.errors import PerfgateError
from perfgate.git._cmd import open_repo, rev_parse, run

DEFAULT_BASE_BRANCH = "main"


def base_branch_name(repo_dir: str | Path, env: Mapping[str, str] | None = None) -> str:
    """The pull request's base branch: ``GITHUB_BASE_REF``, else origin/HEAD's branch, else main."""
    env = os.environ if env is None else env
    base = env.get("GITHUB_BASE_REF", "").strip()
    if base:
        return base.removeprefix("refs/heads/")
    with open_repo(repo_dir) as repo:
        res = run(
            repo, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD", check=False
        )
    name = res.stdout.strip()
    if res.ok and name.startswith("origin/"):
        return name.removeprefix("origin/")
    return DEFAULT_BASE_BRANCH


def default_against_ref(
    repo_dir: str | Path, env: Mapping[str, str] | None = None, event_base: str | None = None
) -> str:
    """The full sha of the merge-base of HEAD and the base branch (``origin/<base>`` preferred).

    When ``event_base`` (a pull_request event's ``pull_request.base.sha``, which the caller
    reads from the event) names a commit the clone has, that commit decides: the merge-base of
    HEAD and it, or the commit itself when the clone is too shallow to find one (the checkout of
    GitHub's merge commit, whose first parent it is). Unknown base branch or no common history
    (a shallow clone) is exit 2 with a fetch hint.
    """
    with open_repo(repo_dir) as repo:
        event_sha = rev_parse(repo, event_base) if event_base else None
        if event_sha:
            res = run(repo, "merge-base", "HEAD", event_sha, check=False)
            found = res.stdout.strip().splitlines() if res.ok else []
            return found[0] if found else event_sha
    base = base_branch_name(repo_dir, env)
    with open_repo(repo_dir) as repo:
        base_sha = rev_parse(repo, f"refs/remotes/origin/{base}") or rev_parse(
            repo, f"refs/heads/{base}"
        )
        if base_sha is None:
            raise PerfgateError(
                f"base branch {base!r} not found (neither origin/{base} nor a local {base}): "
                "cannot find the merge-base to measure against",
                hint=f"fetch it (git fetch origin {base}), name a ref with --against REF, or in "
                "GitHub Actions use actions/checkout with fetch-depth: 0",
            )
        res = run(repo, "merge-base", "HEAD", base_sha, check=False)
        if not res.ok or not res.stdout.strip():
            raise PerfgateError(
                f"HEAD and {base} have no common ancestor in this clone (shallow clone?): "
                "cannot find the merge-base to measure against",
                hint="fetch the history (git fetch --unshallow, or actions/checkout with "
                "fetch-depth: 0), or name a ref with --against REF",
            )
        return res.stdout.strip().splitlines()[0]
