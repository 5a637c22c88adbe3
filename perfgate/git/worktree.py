"""Check out another commit next to the working tree, for A/B measurement, and always clean up.

:func:`worktree_at` makes a detached, locked ``git worktree`` in a fresh temporary directory and
removes it on exit, whatever the exit (exception, Ctrl-C). A crash that skips even that (SIGKILL,
power loss) leaves a worktree behind; the next :func:`worktree_at` removes those. To tell a
crashed run's worktree from a concurrent live run's, each temporary directory is named
``perfgate-wt-*`` and holds an ``owner`` file with the creating process's pid and host: it is
stale when that host is this host and that pid is gone. The lock keeps ``git worktree prune``
(ours or anyone's) from unregistering a live worktree whose directory it cannot see.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import open_repo, repo_root, rev_parse, run, short

WORKTREE_PREFIX = "perfgate-wt-"
_OWNER_FILE = "owner"
_TREE_DIR = "src"


@dataclass(frozen=True)
class Worktree:
    """A checkout of ``sha`` (what ``ref`` named) at ``path``, beside ``repo_root``."""

    path: Path
    sha: str
    ref: str
    repo_root: Path

    @property
    def short_sha(self) -> str:
        return short(self.sha)

    def translate(self, path: str | Path) -> Path:
        """The place in this worktree of ``path`` in the main working tree.

        E.g. the Go module at ``<repo>/services/api`` is at ``<worktree>/services/api``.
        """
        p = Path(path)
        absolute = (p if p.is_absolute() else Path.cwd() / p).resolve()
        try:
            rel = absolute.relative_to(self.repo_root.resolve())
        except ValueError:
            raise PerfgateError(f"{path} is outside the repository {self.repo_root}") from None
        return self.path / rel


def resolve_ref(repo_dir: str | Path, ref: str) -> str:
    """The full sha of the commit ``ref`` names; an unknown ref is exit 2 naming it."""
    with open_repo(repo_dir) as repo:
        return _resolve(repo, ref)


@contextlib.contextmanager
def worktree_at(repo_dir: str | Path, ref: str) -> Iterator[Worktree]:
    """Yield a temporary detached checkout of ``ref``; remove it however the block exits.

    Stale worktrees of crashed earlier runs are removed first. Submodules are not checked out.
    """
    with open_repo(repo_dir) as repo:
        sha = _resolve(repo, ref)
        root = repo_root(repo)
        _remove_stale(repo)
        holder = Path(tempfile.mkdtemp(prefix=WORKTREE_PREFIX))
        path = holder / _TREE_DIR
        try:
            (holder / _OWNER_FILE).write_text(f"{os.getpid()} {socket.gethostname()}\n")
            res = run(
                repo,
                "worktree",
                "add",
                "--detach",
                "--lock",
                "--quiet",
                str(path),
                sha,
                check=False,
            )
            if not res.ok:
                raise PerfgateError(
                    f"cannot check out {ref} ({short(sha)}) in a temporary worktree: "
                    f"{res.message()}"
                )
            yield Worktree(path=path, sha=sha, ref=ref, repo_root=root)
        finally:
            _remove(repo, holder)


def remove_stale_worktrees(repo_dir: str | Path) -> list[Path]:
    """Remove the worktrees that crashed perfgate runs on this host left; return their paths.

    :func:`worktree_at` does this itself; this is for a cleanup command or a CI step.
    """
    with open_repo(repo_dir) as repo:
        return _remove_stale(repo)


def _remove_stale(repo: git.Repo) -> list[Path]:
    removed = []
    for path in _registered_worktrees(repo):
        holder = path.parent
        if (
            holder.name.startswith(WORKTREE_PREFIX)
            and path.name == _TREE_DIR
            and _owner_is_gone(holder / _OWNER_FILE)
        ):
            _remove(repo, holder)
            removed.append(path)
    return removed


def _resolve(repo: git.Repo, ref: str) -> str:
    sha = rev_parse(repo, ref) if ref and not ref.startswith("-") else None
    if sha is None:
        raise PerfgateError(
            f"unknown git ref {ref!r}: no commit by that name in this repository",
            hint="check the spelling, or fetch it (git fetch origin <branch>); in GitHub "
            "Actions, actions/checkout fetches one commit unless given fetch-depth: 0",
        )
    return sha


def _registered_worktrees(repo: git.Repo) -> list[Path]:
    res = run(repo, "worktree", "list", "--porcelain", check=False)
    return [
        Path(line.removeprefix("worktree "))
        for line in res.stdout.splitlines()
        if line.startswith("worktree ")
    ]


def _owner_is_gone(owner_file: Path) -> bool:
    """True if the owner file names this host and a pid that no longer runs."""
    try:
        pid_text, host = owner_file.read_text().split()
        pid = int(pid_text)
    except (OSError, ValueError):
        return False  # not ours to judge
    if host != socket.gethostname() or os.name == "nt":  # os.kill(pid, 0) kills on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # exists, owned by someone else
    return False


def _remove(repo: git.Repo, holder: Path) -> None:
    """Unregister and delete the worktree in ``holder``; survive one Ctrl-C while doing so."""
    interrupted: KeyboardInterrupt | None = None
    for _ in range(2):
        try:
            path = str(holder / _TREE_DIR)
            run(repo, "worktree", "unlock", path, check=False)
            run(repo, "worktree", "remove", "--force", path, check=False)
            shutil.rmtree(holder, ignore_errors=True)
            run(repo, "worktree", "prune", check=False)
            break
        except KeyboardInterrupt as exc:
            interrupted = exc
    if interrupted is not None:
        raise interrupted
