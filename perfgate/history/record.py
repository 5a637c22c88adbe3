"""``perfgate history record``: measure HEAD as ``check`` does and store the result.

Everything that could refuse is checked before the first run — the checkout is clean (the
record names HEAD, so HEAD must be what is measured), the store can be written, there is an
identity to commit as and a remote to push to — and nothing is written until every target has
been measured, so a failed record leaves the store as it was.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from perfgate import __version__
from perfgate.baseline import Machine
from perfgate.config import Target
from perfgate.errors import PerfgateError
from perfgate.gate import measure_target, now_iso
from perfgate.git import CommitInfo, measured_head
from perfgate.history.model import HistoryRecord
from perfgate.history.store import Store
from perfgate.measure import Progress
from perfgate.samples import Measurement
from perfgate.toolchain import Go, machine


def build_record(
    target: Target,
    m: Measurement,
    here: Machine,
    commit: CommitInfo,
    recorded: str,
    perfgate_version: str = __version__,
) -> HistoryRecord:
    """One target's record: each wanted handler's statistics over all runs, with provenance."""
    handlers = {name: s for name, s in m.handler_stats().items() if target.wants(name)}
    if not handlers:
        raise PerfgateError(
            f"target {target.name!r} measured no handler to record (include/exclude left none)"
        )
    return HistoryRecord(
        target=target.name,
        commit=commit.sha,
        parent=commit.parents[0] if commit.parents else "",
        parents=commit.parents,
        date=commit.date,
        subject=commit.subject,
        branch=commit.branch,
        recorded=recorded,
        runs=len(m.runs),
        machine=here,
        perfgate_version=perfgate_version,
        cpu_shares=m.cpu_shares(),
        handlers=handlers,
    )


def head_commit(
    root: Path, env: Mapping[str, str], commit: str | None
) -> tuple[CommitInfo, list[str]]:
    """What the record is credited to: HEAD of the checkout (refused unless clean), or — outside
    git, with a directory store — the commit named on the command line."""
    if commit is None:
        return measured_head(root, env)
    return CommitInfo(sha=commit, parents=[], date=now_iso(), subject="", branch=""), []


def record_history(
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    store: Store,
    commit: CommitInfo,
    progress: Progress | None = None,
) -> tuple[list[HistoryRecord], str]:
    """Measure every target (its configured runs) and store one record each; returns the
    records and what the store did. ``store`` has been prepared (``store.prepare()``: the
    refusals come before the Go toolchain is even looked for)."""
    here = machine(go, env)
    measured = [(t, measure_target(go, root, t, env, progress)) for t in targets]
    recorded = now_iso()
    records = [build_record(t, m, here, commit, recorded) for t, m in measured]
    return records, store.save(records)
