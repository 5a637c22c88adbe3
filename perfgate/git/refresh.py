"""May this checkout refresh and commit baselines? Decided before anything is measured.

``perfgate baseline update --commit`` writes to a shared branch, so it is allowed only where a
refresh belongs (release branches) and only from a state the commit can honestly describe:

* a git working tree with a checked-out branch (a detached HEAD has nowhere to commit to);
* the branch matches one of the ``release_branches`` globs, unless ``force``;
* no tracked file differs from HEAD (staged or not) and no merge/rebase/cherry-pick is unfinished:
  the baseline claims to measure HEAD, so HEAD must be what is measured. Untracked files are
  allowed: the commit adds only baseline files, and CI checkouts often hold untracked artefacts.
  Untracked Go sources are the exception worth knowing about (they would be built into the
  measurement), so they produce a warning;
* git knows who to commit as (in GitHub Actions without a configured identity: the
  ``github-actions[bot]`` identity);
* with ``push``: there is a remote to push to, and the remote branch it would push to matches
  the ``release_branches`` globs too (``force`` does not lift this): a ``release/1.0`` branch
  that tracks ``origin/main`` would otherwise push the baseline commit to ``main``.

Branch globs use :func:`fnmatch.fnmatchcase` on the short branch name: case-sensitive, ``*``
matches any characters *including* ``/`` (so ``release/*`` matches ``release/1.0`` and also
``release/1.0/hotfix``), ``?`` one character, ``[...]`` a set. A ``refs/heads/`` prefix on either
side is ignored.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import (
    current_branch,
    open_repo,
    operation_in_progress,
    repo_root,
    rev_parse,
    run,
)

DEFAULT_RELEASE_GLOBS: tuple[str, ...] = ("release/*", "release-*")
BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898282+github-actions[bot]@users.noreply.github.com"

_GO_FILES = ("go.mod", "go.sum", "go.work", "go.work.sum")


@dataclass(frozen=True)
class RefreshContext:
    """Where a baseline refresh will commit and push, as checked before measuring.

    ``identity`` is the (name, email) to commit as when git has none configured (GitHub
    Actions); None means git's own configuration decides. ``remote`` is None when there is
    nowhere to push (only possible when the check was made without ``push``).
    """

    repo_root: Path
    branch: str
    head_sha: str
    remote: str | None
    remote_branch: str
    identity: tuple[str, str] | None = None
    warnings: tuple[str, ...] = field(default=())

    def git_env(self) -> dict[str, str]:
        """Environment for git commands that create commits (commit, rebase)."""
        if self.identity is None:
            return {}
        name, email = self.identity
        return {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }


def check_refresh_allowed(
    repo_dir: str | Path,
    release_globs: Sequence[str],
    force: bool,
    *,
    push: bool = False,
    env: Mapping[str, str] | None = None,
) -> RefreshContext:
    """Refuse (PerfgateError, nothing changed) unless a baseline refresh may commit here.

    ``force`` lifts only the release-branch rule; a detached HEAD, a dirty tree or an unfinished
    merge are refused regardless. ``env`` defaults to ``os.environ`` and is read for
    ``GITHUB_ACTIONS`` and git identity variables.
    """
    env = os.environ if env is None else env
    with open_repo(repo_dir) as repo:
        root = repo_root(repo)
        head = rev_parse(repo, "HEAD")
        if head is None:
            raise PerfgateError(
                f"{root} has no commits yet: there is no commit to measure",
                hint="commit the code first, then refresh the baseline",
            )
        op = operation_in_progress(repo)
        if op:
            raise PerfgateError(
                f"a {op} is in progress in {root}: refusing to commit baselines",
                hint=f"finish or abort the {op} (git {op} --continue / --abort), then rerun",
            )
        branch = current_branch(repo)
        if branch is None:
            raise PerfgateError(
                "HEAD is detached: a baseline refresh must commit to a branch",
                hint="check out the release branch (git switch <branch>); in GitHub Actions run "
                "the refresh on a push to the release branch, not on a pull_request",
            )
        if not force and _matching_glob(branch, release_globs) is None:
            globs = ", ".join(release_globs) or "(none configured)"
            raise PerfgateError(
                f"branch {branch!r} is not a release branch (release_branches: {globs}): "
                "baselines are refreshed only on release branches",
                hint="switch to a release branch, add a matching glob to release_branches, "
                "or pass --force",
            )
        warnings = check_clean(repo, root)
        identity = commit_identity(repo, env)
        remote, remote_branch = _push_target(repo, branch)
        if push and remote is None:
            raise PerfgateError(
                f"branch {branch!r} has no upstream and the repository has no 'origin' remote: "
                "nowhere to push the baseline commit",
                hint=f"set one (git push -u <remote> {branch}) or drop --push",
            )
        if push and _matching_glob(remote_branch, release_globs) is None:
            globs = ", ".join(release_globs) or "(none configured)"
            raise PerfgateError(
                f"branch {branch!r} would push to {remote}/{remote_branch}, which is not a "
                f"release branch (release_branches: {globs}): not pushing baselines there",
                hint=f"make the branch track a release branch (git branch -u {remote}/{branch}) "
                "or drop --push and push by hand",
            )
        return RefreshContext(
            repo_root=root,
            branch=branch,
            head_sha=head,
            remote=remote,
            remote_branch=remote_branch,
            identity=identity,
            warnings=tuple(warnings),
        )


def _strip_heads(name: str) -> str:
    return name.removeprefix("refs/heads/")


def _matching_glob(branch: str, globs: Sequence[str]) -> str | None:
    """The first glob that the branch's short name matches, or None."""
    name = _strip_heads(branch)
    for glob in globs:
        if fnmatchcase(name, _strip_heads(glob.strip())):
            return glob
    return None


def check_clean(repo: git.Repo, root: Path, what: str = "the baseline") -> list[str]:
    """Refuse if a tracked file differs from HEAD; warn about untracked Go sources. ``what``
    names the thing that would not describe its commit."""
    res = run(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    tracked: list[str] = []
    untracked: list[str] = []
    entries = iter(res.stdout.split("\0"))
    for entry in entries:
        if len(entry) < 4:
            continue
        code, path = entry[:2], entry[3:]
        if code == "??":
            untracked.append(path)
            continue
        if code == "!!":
            continue
        tracked.append(path)
        if code[0] in "RC":
            next(entries, None)  # the rename's or copy's source path follows
    if tracked:
        raise PerfgateError(
            f"the working tree has uncommitted changes ({_listing(tracked)}): "
            f"{what} would not describe the commit it names",
            hint="commit or discard them (git status shows them), then rerun",
        )
    go = [p for p in untracked if p.endswith(".go") or p.rsplit("/", 1)[-1] in _GO_FILES]
    if go:
        return [
            f"untracked Go files in {root} ({_listing(go)}) will be built into the measurement "
            "but are not part of the commit it is credited to"
        ]
    return []


def _listing(paths: list[str], limit: int = 5) -> str:
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def _config(repo: git.Repo, key: str) -> str:
    res = run(repo, "config", "--get", key, check=False)
    return res.stdout.strip() if res.ok else ""


def commit_identity(
    repo: git.Repo, env: Mapping[str, str], what: str = "the baseline"
) -> tuple[str, str] | None:
    """Who commits: git's configuration if it has one, else the Actions bot, else refuse
    (naming ``what`` was to be committed)."""
    configured = (_config(repo, "user.name") and _config(repo, "user.email")) or (
        env.get("GIT_AUTHOR_NAME") and env.get("GIT_AUTHOR_EMAIL")
    )
    if configured:
        return None
    if env.get("GITHUB_ACTIONS") == "true":
        return (BOT_NAME, BOT_EMAIL)
    for var in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
        if not run(repo, "var", var, check=False).ok:
            raise PerfgateError(
                f"git does not know who to commit {what} as",
                hint='configure it: git config user.name "Your Name" && '
                "git config user.email you@example.com",
            )
    return None


def _push_target(repo: git.Repo, branch: str) -> tuple[str | None, str]:
    """The branch's upstream (remote, branch); else ``origin`` (or the only remote), same name."""
    remotes = [r.name for r in repo.remotes]
    upstream_remote = _config(repo, f"branch.{branch}.remote")
    upstream_merge = _config(repo, f"branch.{branch}.merge")
    if upstream_remote in remotes and upstream_merge.startswith("refs/heads/"):
        return upstream_remote, _strip_heads(upstream_merge)
    if "origin" in remotes:
        return "origin", branch
    if len(remotes) == 1:
        return remotes[0], branch
    return None, branch
