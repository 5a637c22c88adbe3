"""The history store as a git branch: ``perfgate-history``, one JSON file per recorded commit,
written without touching the working tree or the index.

A record is committed with plumbing only: the blobs go into the object database, a tree is
built in a *temporary* index file (``GIT_INDEX_FILE``) from the branch's current tree plus the
new files, ``commit-tree`` makes the commit and ``update-ref`` moves the branch — comparing
against the tip it started from, so a concurrent local writer is noticed, not overwritten. The
checkout, its index and HEAD are never involved, so recording works on any checkout, clean or
not, and never shows up in ``git status``.

Publishing (``push``): the branch is pushed to the remote; when the push is rejected because
another job pushed a record meanwhile, the remote branch is fetched, the files this clone has
that the remote lacks are laid on top of its new tip as one new commit, and the push is tried
again — a bounded number of times, never with force. Records are one file per commit, so
re-applying never conflicts (a record of the same commit is replaced by this one).
"""

from __future__ import annotations

import io
import os
import random
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import git
from gitdb.base import IStream

from perfgate.errors import PerfgateError
from perfgate.git._cmd import current_branch, open_repo, rev_parse, run, short
from perfgate.git.refresh import commit_identity

HISTORY_BRANCH = "perfgate-history"
PUSH_ATTEMPTS = 5
_RETRYABLE = (
    "(fetch first)",
    "(non-fast-forward)",
    "cannot lock ref",
    "incorrect old value",
    "failed to update ref",
)
_NO_PROMPT = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true", "SSH_ASKPASS": "true"}


@dataclass(frozen=True)
class HistoryFiles:
    """The files under ``prefix`` on the history branch, read from ``ref`` at ``tip``."""

    ref: str
    tip: str
    files: dict[str, bytes]


@dataclass(frozen=True)
class HistoryCommit:
    """What recording did: the new tip of the local branch, and, with ``push``, where it went
    and after how many attempts (more than one: other jobs pushed records meanwhile)."""

    branch: str
    commit: str
    remote: str | None = None
    attempts: int = 0

    @property
    def summary(self) -> str:
        line = f"committed {short(self.commit)} to {self.branch}"
        if self.remote:
            line += f", pushed to {self.remote}"
            if self.attempts > 1:
                line += f" (after {self.attempts - 1} concurrent push(es) by others)"
        return line


def _ref(branch: str) -> str:
    return f"refs/heads/{branch}"


def _tracking(remote: str, branch: str) -> str:
    return f"refs/remotes/{remote}/{branch}"


def _is_ancestor(repo: git.Repo, older: str, newer: str) -> bool:
    return run(repo, "merge-base", "--is-ancestor", older, newer, check=False).ok


def _fetch(repo: git.Repo, remote: str, branch: str) -> str | None:
    """Fetch the remote's history branch into ``refs/remotes/<remote>/<branch>``; its sha, or
    None when the remote has no such branch or cannot be reached."""
    res = run(
        repo,
        "fetch",
        "--quiet",
        "--no-tags",
        "--no-write-fetch-head",
        "--",
        remote,
        f"+{_ref(branch)}:{_tracking(remote, branch)}",
        env=_NO_PROMPT,
        check=False,
    )
    if not res.ok:
        return None
    return rev_parse(repo, _tracking(remote, branch))


def read_history_branch(
    repo_dir: str | Path,
    prefix: str,
    *,
    branch: str = HISTORY_BRANCH,
    remote: str | None = "origin",
    fetch: bool = False,
) -> HistoryFiles | None:
    """Every file under ``prefix/`` on the history branch (path relative to the branch's top),
    or None when there is no such branch here (nor on ``remote``, with ``fetch``).

    Reads the local branch, the remote-tracking branch, or — when both exist — the one that
    contains the other; when they have diverged, the files of both (the local one's where a
    path is in both). ``fetch`` first fetches the remote's branch, quietly: a remote that cannot
    be reached or has no history branch just leaves what is here.
    """
    with open_repo(repo_dir) as repo:
        remotes = {r.name for r in repo.remotes}
        has_remote = remote is not None and remote in remotes
        if fetch and has_remote:
            assert remote is not None
            _fetch(repo, remote, branch)
        local = rev_parse(repo, _ref(branch))
        tracking = rev_parse(repo, _tracking(remote, branch)) if has_remote and remote else None
        tips: list[tuple[str, str]] = []
        if local and tracking and local != tracking:
            if _is_ancestor(repo, local, tracking):
                tips = [(_tracking(str(remote), branch), tracking)]
            elif _is_ancestor(repo, tracking, local):
                tips = [(_ref(branch), local)]
            else:
                tips = [(_tracking(str(remote), branch), tracking), (_ref(branch), local)]
        elif local:
            tips = [(_ref(branch), local)]
        elif tracking:
            tips = [(_tracking(str(remote), branch), tracking)]
        if not tips:
            return None
        files: dict[str, bytes] = {}
        for _, tip in tips:
            files.update(_read_tree(repo, tip, prefix))
        ref, tip = tips[-1]
        return HistoryFiles(ref, tip, files)


def _read_tree(repo: git.Repo, tip: str, prefix: str) -> dict[str, bytes]:
    try:
        tree = repo.commit(tip).tree / prefix.strip("/") if prefix else repo.commit(tip).tree
    except KeyError:
        return {}
    if not isinstance(tree, git.Tree):
        return {}
    return {
        item.path: bytes(item.data_stream.read())
        for item in tree.traverse()
        if isinstance(item, git.Blob)
    }


@dataclass(frozen=True)
class RecordTarget:
    """Where :func:`commit_history_files` will write, as checked before measuring."""

    repo_root: Path
    branch: str
    remote: str | None
    identity_env: Mapping[str, str]


def check_history_writable(
    repo_dir: str | Path,
    *,
    branch: str = HISTORY_BRANCH,
    push: bool = False,
    remote: str = "origin",
    env: Mapping[str, str] | None = None,
) -> RecordTarget:
    """Refuse (exit 2, before anything is measured) what would make the record fail at the end:
    the history branch checked out here, no identity to commit as, ``push`` with no such
    remote."""
    env = os.environ if env is None else env
    with open_repo(repo_dir) as repo:
        root = Path(repo.working_tree_dir or repo_dir)
        if current_branch(repo) == branch:
            raise PerfgateError(
                f"the history branch {branch!r} is checked out here: record from a checkout of "
                "the code instead",
                hint="git switch <your branch>, then rerun",
            )
        if not run(repo, "check-ref-format", "--branch", branch, check=False).ok:
            raise PerfgateError(f"{branch!r} is not a valid branch name")
        identity = commit_identity(repo, env, what="the history record")
        if push and remote not in {r.name for r in repo.remotes}:
            raise PerfgateError(
                f"the repository has no remote {remote!r} to push the history to",
                hint="add it (git remote add …), name another with --remote, or drop --push",
            )
    identity_env: dict[str, str] = {}
    if identity is not None:
        name, email = identity
        identity_env = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
        }
    return RecordTarget(root, branch, remote if push else None, identity_env)


def commit_history_files(
    where: RecordTarget, files: Mapping[str, bytes], message: str
) -> HistoryCommit:
    """Add ``files`` (path → content) to the history branch in one new commit; with a remote
    in ``where``, publish it (see the module docstring). Never touches the working tree or the
    index. Every failure is a :class:`PerfgateError`; the local branch is then either as it
    was or holds the new commit, never anything in between."""
    if not files:
        raise PerfgateError("nothing to record")
    with open_repo(where.repo_root) as repo:
        env = dict(where.identity_env)
        local = rev_parse(repo, _ref(where.branch))
        tracking = None
        if where.remote is not None:
            tracking = _fetch(repo, where.remote, where.branch)
        elif local is None:
            tracking = rev_parse(repo, _tracking("origin", where.branch))
        base, carried = _base(repo, local, tracking)
        new = _commit(repo, base, {**carried, **_blobs(repo, files)}, message, env)
        _move(repo, where.branch, new, local)
        if where.remote is None:
            return HistoryCommit(where.branch, new)
        attempts = _publish(repo, where, message, env)
        tip = rev_parse(repo, _ref(where.branch)) or new
        return HistoryCommit(where.branch, tip, where.remote, attempts)


def _base(
    repo: git.Repo, local: str | None, tracking: str | None
) -> tuple[str | None, dict[str, str]]:
    """The commit to build on, and the files (path → blob) the local branch has beyond it."""
    if local is None or tracking is None or local == tracking:
        return local or tracking, {}
    if _is_ancestor(repo, local, tracking):
        return tracking, {}
    if _is_ancestor(repo, tracking, local):
        return local, {}
    return tracking, _local_only(repo, local, tracking)


def _local_only(repo: git.Repo, local: str, remote_tip: str) -> dict[str, str]:
    """Files added or changed on ``local`` since it split from ``remote_tip`` (path → blob)."""
    res = run(repo, "merge-base", local, remote_tip, check=False)
    fork = res.stdout.strip().splitlines()[0] if res.ok and res.stdout.strip() else None
    if fork:
        changed = run(
            repo, "diff-tree", "-r", "-z", "--name-only", "--diff-filter=AM", fork, local
        ).stdout.split("\0")
        paths = {p for p in changed if p}
    else:
        paths = None  # unrelated histories (both created the branch): carry everything
    out = {}
    for entry in run(repo, "ls-tree", "-r", "-z", local).stdout.split("\0"):
        if not entry:
            continue
        meta, _, path = entry.partition("\t")
        if paths is None or path in paths:
            out[path] = meta.split()[2]
    return out


def _blobs(repo: git.Repo, files: Mapping[str, bytes]) -> dict[str, str]:
    """Write each file's content into the object database: path → blob sha."""
    out = {}
    for path, data in files.items():
        stored = repo.odb.store(IStream("blob", len(data), io.BytesIO(data)))
        out[path] = stored.hexsha.decode("ascii")
    return out


def _commit(
    repo: git.Repo,
    parent: str | None,
    blobs: Mapping[str, str],
    message: str,
    env: Mapping[str, str],
) -> str:
    """A commit of ``parent``'s tree plus ``blobs``, built in a temporary index file."""
    with tempfile.TemporaryDirectory(prefix="perfgate-history-") as tmp:
        index_env = {**env, "GIT_INDEX_FILE": str(Path(tmp) / "index")}
        if parent:
            run(repo, "read-tree", parent, env=index_env)
        else:
            run(repo, "read-tree", "--empty", env=index_env)
        for path, blob in sorted(blobs.items()):
            run(
                repo,
                "update-index",
                "--add",
                "--cacheinfo",
                f"100644,{blob},{path}",
                env=index_env,
            )
        tree = run(repo, "write-tree", env=index_env).stdout.strip()
    args = ["commit-tree", tree, "-m", message]
    if parent:
        args += ["-p", parent]
    res = run(repo, *args, env=env, check=False)
    if not res.ok:
        raise PerfgateError(f"could not commit the history record: {res.message()}")
    return res.stdout.strip()


def _move(repo: git.Repo, branch: str, new: str, old: str | None) -> None:
    """Point the branch at ``new`` if it still points at ``old`` (None: does not exist yet)."""
    res = run(
        repo,
        "update-ref",
        "-m",
        "perfgate history record",
        _ref(branch),
        new,
        old or "",
        check=False,
    )
    if not res.ok:
        raise PerfgateError(
            f"the branch {branch!r} moved while recording (another record in this clone?): "
            f"{res.message()}",
            hint="rerun the record",
        )


def _publish(repo: git.Repo, where: RecordTarget, message: str, env: Mapping[str, str]) -> int:
    """Push the branch; on a rejection because the remote moved, re-apply and retry. Returns
    the attempt that succeeded."""
    assert where.remote is not None
    remote, branch = where.remote, where.branch
    refspec = f"{_ref(branch)}:{_ref(branch)}"
    res = None
    for attempt in range(1, PUSH_ATTEMPTS + 1):
        res = run(repo, "push", "--no-verify", "--", remote, refspec, env=_NO_PROMPT, check=False)
        if res.ok:
            run(repo, "update-ref", _tracking(remote, branch), _ref(branch), check=False)
            return attempt
        if not any(m in res.stdout + res.stderr for m in _RETRYABLE):
            break
        if attempt == PUSH_ATTEMPTS:
            break
        time.sleep(random.uniform(0.1, 0.5) * attempt)  # let the other writer finish
        tip = _fetch(repo, remote, branch)
        local = rev_parse(repo, _ref(branch))
        if tip is None or local is None:
            break
        base, carried = _base(repo, local, tip)
        if base == tip and not carried:
            _move(repo, branch, tip, local)  # the remote already has everything
        elif base != local:
            _move(repo, branch, _commit(repo, base, carried, message, env), local)
    assert res is not None
    raise PerfgateError(
        f"pushing the history branch {branch!r} to {remote} failed: {res.message()}. The "
        "record is committed locally, not pushed",
        hint=f"git push {remote} {branch} when the cause is fixed; in GitHub Actions the job "
        "needs 'permissions: contents: write'",
    )


def first_parent_commits(repo_dir: str | Path, branch: str) -> list[str] | None:
    """The commits of ``branch`` (``origin/<branch>`` preferred), newest first, following first
    parents; None when this clone does not know the branch or is shallow (then the order of
    the commits is not known here)."""
    with open_repo(repo_dir) as repo:
        if run(repo, "rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true":
            return None
        tip = rev_parse(repo, f"refs/remotes/origin/{branch}") or rev_parse(repo, _ref(branch))
        if tip is None:
            return None
        return run(repo, "rev-list", "--first-parent", tip).stdout.split()
