"""The git edge of perfgate: what the CLI calls to commit, push, check out and compare refs.

* ``baseline update --commit [--push]``: :func:`check_refresh_allowed` before measuring, then
  :func:`commit_baselines` and :func:`push_baseline_commit`.
* ``history``: see :mod:`perfgate.history`.

Every problem the user can fix is a :class:`perfgate.errors.PerfgateError` (exit 2). The
implementation lives in :mod:`perfgate.git`.
"""

from __future__ import annotations

from perfgate.git.commit import commit_baselines, commit_message
from perfgate.git.push import PushResult, push_baseline_commit
from perfgate.git.refresh import (
    BOT_EMAIL,
    BOT_NAME,
    DEFAULT_RELEASE_GLOBS,
    RefreshContext,
    check_refresh_allowed,
)

__all__ = [
    "BOT_EMAIL",
    "BOT_NAME",
    "DEFAULT_RELEASE_GLOBS",
    "PushResult",
    "RefreshContext",
    "check_refresh_allowed",
    "commit_baselines",
    "commit_message",
    "push_baseline_commit",
]
