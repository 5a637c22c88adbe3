"""Running git through gitpython, with failures turned into messages the user can act on.

Every module of :mod:`perfgate.git` runs git the same way: in the working tree's top directory,
with English messages (gitpython sets ``LC_ALL=C``), returning status, stdout and stderr
instead of raising, so that each caller decides which failures are the user's to fix.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import git

from perfgate.errors import PerfgateError


@dataclass(frozen=True)
class GitResult:
    """What one git command did: exit status and its (decoded, one trailing newline cut) output."""

    args: tuple[str, ...]
    status: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.status == 0

    def message(self) -> str:
        """git's own explanation of a failure on one line: stderr (else stdout), minus hints."""
        text = (self.stderr or self.stdout).strip()
        lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
        lines = [ln for ln in lines if not ln.startswith("hint:")] or lines
        return "; ".join(lines) if lines else f"exit status {self.status}"


def open_repo(repo_dir: str | Path) -> git.Repo:
    """The repository containing ``repo_dir``; a missing, non-git or bare directory is exit 2.

    Use as ``with open_repo(d) as repo:`` so gitpython's helper processes are closed.
    """
    path = Path(repo_dir)
    try:
        repo = git.Repo(path, search_parent_directories=True)
    except git.NoSuchPathError:
        raise PerfgateError(f"directory not found: {path}") from None
    except git.InvalidGitRepositoryError:
        raise PerfgateError(
            f"not a git repository: {path}",
            hint="run perfgate inside a clone of the repository",
        ) from None
    except git.GitCommandNotFound:
        raise PerfgateError("git is not installed or not on PATH") from None
    if repo.bare or repo.working_tree_dir is None:
        repo.close()
        raise PerfgateError(f"{path} is a bare repository: it has no working tree")
    return repo


def repo_root(repo: git.Repo) -> Path:
    """The top directory of the repository's working tree."""
    assert repo.working_tree_dir is not None  # open_repo refuses bare repositories
    return Path(repo.working_tree_dir)


def run(
    repo: git.Repo,
    *args: str,
    env: Mapping[str, str] | None = None,
    check: bool = True,
) -> GitResult:
    """Run ``git ARGS`` in the working tree's top directory.

    With ``check`` a non-zero exit becomes a :class:`PerfgateError` quoting git's message;
    without it the caller inspects :attr:`GitResult.status`. ``env`` is added to the
    environment.
    """
    kwargs: dict[str, object] = {
        "with_extended_output": True,
        "with_exceptions": False,
        "env": dict(env) if env else None,
    }
    try:
        status, out, err = repo.git.execute(
            [git.Git.GIT_PYTHON_GIT_EXECUTABLE or "git", *args], **kwargs
        )
    except git.GitCommandNotFound:
        raise PerfgateError("git is not installed or not on PATH") from None
    result = GitResult(tuple(args), int(status or 0), str(out), str(err))
    if check and not result.ok:
        raise PerfgateError(f"git {args[0]} failed: {result.message()}")
    return result


def rev_parse(repo: git.Repo, rev: str) -> str | None:
    """The full sha of the commit ``rev`` names, or None if it names none."""
    res = run(
        repo,
        "rev-parse",
        "--verify",
        "--quiet",
        "--end-of-options",
        f"{rev}^{{commit}}",
        check=False,
    )
    return res.stdout.strip() if res.ok and res.stdout.strip() else None


def current_branch(repo: git.Repo) -> str | None:
    """The checked-out branch's short name, or None on a detached HEAD."""
    res = run(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return res.stdout.strip() if res.ok and res.stdout.strip() else None


def short(sha: str) -> str:
    """The 7-character abbreviation used in messages and tables."""
    return sha[:7]


def operation_in_progress(repo: git.Repo) -> str | None:
    """The name of an unfinished merge, rebase, cherry-pick, revert or bisect, or None."""
    markers = {
        "MERGE_HEAD": "merge",
        "rebase-merge": "rebase",
        "rebase-apply": "rebase",
        "CHERRY_PICK_HEAD": "cherry-pick",
        "REVERT_HEAD": "revert",
        "BISECT_LOG": "bisect",
    }
    for marker, name in markers.items():
        res = run(repo, "rev-parse", "--git-path", marker, check=False)
        path = Path(res.stdout.strip())
        if not path.is_absolute():
            path = repo_root(repo) / path
        if res.ok and path.exists():
            return name
    return None
