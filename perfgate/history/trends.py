"""main's recent trends for a pull request's report: ``perfgate check`` reads the history store
(the ``perfgate-history`` branch, fetched from the remote when it has one) and adds a note per
handler that changed on main lately — a change point among its last recorded commits, or a
drift. Data next to the verdicts, never part of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from perfgate.errors import PerfgateError
from perfgate.git import base_branch_name
from perfgate.history.analysis import Settings, analyse
from perfgate.history.store import BranchStore, DirectoryStore, Store, load_history
from perfgate.report import TrendNote

CHECK_WINDOW = 40  # recorded commits analysed for a check's notes: enough to know the level


def check_trends(
    root: Path,
    targets: Sequence[str],
    env: Mapping[str, str],
    store_dir: Path | None = None,
    settings: Settings | None = None,
) -> list[TrendNote]:
    """The trend notes of ``targets`` on the pull request's base branch; empty when there is
    no history store. Problems reading it are :class:`~perfgate.errors.PerfgateError`s for the
    caller to skip. ``settings``: the analysis's (default :class:`Settings`), analysing the
    newest ``CHECK_WINDOW`` commits."""
    store: Store = (
        DirectoryStore(store_dir) if store_dir else BranchStore(root, fetch=True, env=env)
    )
    try:
        branch = base_branch_name(root, env)
    except PerfgateError:  # not a git checkout: a directory store, ordered by commit date
        branch = "main"
    settings = replace(settings or Settings(), max_points=CHECK_WINDOW)
    notes: list[TrendNote] = []
    for target in targets:
        history = load_history(store, root, target, branch)
        if history.points:
            notes += analyse(history, settings).trends
    return notes
