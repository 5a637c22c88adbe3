"""p95 per handler across a baseline file's git history, as data (:mod:`perfgate.render.history`
shows it): what ``perfgate history`` shows when no history store has been recorded.

``perfgate history TARGET`` then answers "how did this service's latency move over releases?" from
what is already committed: every version of ``baselines/<target>.json`` (renames followed) is
read from git (:func:`perfgate.git.file_log`), so it needs no stored measurements and no network.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from perfgate.baseline import parse_baseline_p95
from perfgate.errors import PerfgateError
from perfgate.git import file_log, short
from perfgate.history.model import History, HistoryPoint


def baseline_history(repo_dir: str | Path, baseline_path: str | Path) -> History:
    """Read every committed version of ``baseline_path`` (``git log --follow``), oldest first.

    Versions that are not a readable schema-1 baseline are skipped with a note. A file with no
    committed history is exit 2. Relative paths are taken from the current directory.
    """
    log = file_log(repo_dir, baseline_path)
    if not log.versions:
        raise PerfgateError(
            f"{log.path} has no committed history",
            hint="commit a baseline first (perfgate baseline update --commit)",
        )
    points: list[HistoryPoint] = []
    notes: list[str] = []
    for v in log.versions:
        if v.deleted:
            notes.append(f"{short(v.commit)}: {v.path} deleted")
            continue
        try:
            if v.content is None:
                raise ValueError("is not in that commit")
            p95 = parse_baseline_p95(v.content)
        except ValueError as exc:
            notes.append(f"{short(v.commit)}: skipped, {v.path} {exc}")
            continue
        points.append(
            HistoryPoint(v.commit, datetime.fromisoformat(v.date), v.subject, v.path, p95)
        )
    if log.shallow:
        notes.append(
            "shallow clone: older versions may be missing (git fetch --unshallow, or "
            "actions/checkout with fetch-depth: 0)"
        )
    return History(log.path, points, notes)
