"""The git edge of perfgate: what the rest of perfgate calls to commit, push, check out, compare
refs and read history. Import from here, not from the modules behind it.

* ``baseline update --commit [--push]``: :func:`check_refresh_allowed` before measuring, then
  :func:`commit_baselines` and :func:`push_baseline_commit`.
* ``check --against [REF]``: :func:`default_against_ref` when no REF is given, then
  :func:`worktree_at` to build and measure REF beside the working tree.
* ``check`` and ``baseline update``: :func:`head_provenance`, the commit measured.
* ``history``: :func:`file_log`, every committed version of the baseline file; the history
  store's branch: :func:`read_history_branch`, and for ``history record``
  :func:`measured_head` and :func:`check_history_writable` before measuring, then
  :func:`commit_history_files`; :func:`first_parent_commits` orders the records.
* every command that reads the config: :func:`toplevel`, the repository its paths must stay
  inside; on a pull request, :func:`changed_since_base`, the gate's own files it changes.

Every problem the user can fix is a :class:`perfgate.errors.PerfgateError` (exit 2). One small
module per job: ``refresh`` (may this checkout commit baselines?), ``commit``, ``push``,
``worktree`` (A/B checkouts), ``refs`` (the default ``--against`` ref), ``provenance``,
``log``, ``changes`` (what a pull request changes compared with its base) and
``history_branch`` (the ``perfgate-history`` branch); ``_cmd`` runs git.
"""

from __future__ import annotations

import os

# GitPython refuses to be imported when no git is on PATH. perfgate imports this edge for
# commands that may never run git; when one does, it says "git is not installed" (_cmd.run).
os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")

from perfgate.git._cmd import short
from perfgate.git.changes import BaseChanges, changed_since_base, toplevel
from perfgate.git.commit import commit_baselines, commit_message
from perfgate.git.history_branch import (
    HISTORY_BRANCH,
    HistoryCommit,
    HistoryFiles,
    RecordTarget,
    check_history_writable,
    commit_history_files,
    first_parent_commits,
    read_history_branch,
)
from perfgate.git.log import FileLog, FileVersion, file_log
from perfgate.git.provenance import CommitInfo, head_provenance, measured_head
from perfgate.git.push import PushResult, push_baseline_commit
from perfgate.git.refresh import (
    BOT_EMAIL,
    BOT_NAME,
    DEFAULT_RELEASE_GLOBS,
    RefreshContext,
    check_refresh_allowed,
)
from perfgate.git.refs import base_branch_name, default_against_ref
from perfgate.git.worktree import (
    Worktree,
    remove_stale_worktrees,
    resolve_ref,
    worktree_at,
)

__all__ = [
    "BOT_EMAIL",
    "BOT_NAME",
    "DEFAULT_RELEASE_GLOBS",
    "HISTORY_BRANCH",
    "BaseChanges",
    "CommitInfo",
    "FileLog",
    "FileVersion",
    "HistoryCommit",
    "HistoryFiles",
    "PushResult",
    "RecordTarget",
    "RefreshContext",
    "Worktree",
    "base_branch_name",
    "changed_since_base",
    "check_history_writable",
    "check_refresh_allowed",
    "commit_baselines",
    "commit_history_files",
    "commit_message",
    "default_against_ref",
    "file_log",
    "first_parent_commits",
    "head_provenance",
    "measured_head",
    "push_baseline_commit",
    "read_history_branch",
    "remove_stale_worktrees",
    "resolve_ref",
    "short",
    "toplevel",
    "worktree_at",
]
