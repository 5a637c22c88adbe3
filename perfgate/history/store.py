"""Where history records live: the ``perfgate-history`` branch of the repository (the default),
or a plain directory (``--store DIR``: outside git, or for trying things out). Both hold one
file per recorded commit, ``<target>/<commit>.json``.

Reading turns a target's records into a :class:`~perfgate.history.model.History`, oldest
first: in the first-parent order of the branch they were recorded on when this clone knows it
(a record of a commit not on it — a side branch, a force-pushed commit — is left out and
counted), else by commit date.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfgate.errors import PerfgateError
from perfgate.git import (
    HISTORY_BRANCH,
    RecordTarget,
    check_history_writable,
    commit_history_files,
    first_parent_commits,
    read_history_branch,
    short,
)
from perfgate.history.model import History, HistoryPoint, HistoryRecord, parse_date, parse_record


@dataclass(frozen=True)
class Loaded:
    """A target's readable records (in no particular order) and notes on what was skipped."""

    records: list[HistoryRecord]
    notes: list[str]


def _parse_all(files: Mapping[str, bytes], target: str) -> Loaded:
    records, notes = [], []
    for path, raw in sorted(files.items()):
        if not path.endswith(".json"):
            continue
        try:
            record = parse_record(raw, path)
        except ValueError as exc:
            notes.append(f"skipped: {exc}")
            continue
        if record.target != target or record.path != path:
            notes.append(f"skipped: {path} holds a record of {record.target}/{record.commit}")
            continue
        records.append(record)
    return Loaded(records, notes)


class DirectoryStore:
    """Records as files under a directory: ``DIR/<target>/<commit>.json``."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def description(self) -> str:
        return f"the history store {self.path}"

    def prepare(self) -> None:
        """Refuse (exit 2) a store that cannot be written, before anything is measured."""
        if self.path.exists() and not self.path.is_dir():
            raise PerfgateError(f"history store {self.path} is not a directory")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise PerfgateError(
                f"cannot create the history store {self.path}: {exc.strerror}"
            ) from None
        if not os.access(self.path, os.W_OK):
            raise PerfgateError(f"the history store {self.path} is not writable")

    def load(self, target: str) -> Loaded:
        folder = self.path / target
        if not folder.is_dir():
            return Loaded([], [])
        files = {}
        for f in folder.glob("*.json"):
            try:
                files[f"{target}/{f.name}"] = f.read_bytes()
            except OSError as exc:
                raise PerfgateError(f"cannot read {f}: {exc.strerror}") from None
        return _parse_all(files, target)

    def save(self, records: Sequence[HistoryRecord]) -> str:
        """Write every record, each atomically; all are written to temporary files first, so a
        failure leaves no record half-written and none of them renamed into place."""
        staged: list[tuple[str, Path]] = []
        try:
            for record in records:
                dest = self.path / record.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=f".{dest.name}.", dir=dest.parent)
                staged.append((tmp, dest))
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    fh.write(record.to_json())
                    fh.flush()
                    os.fsync(fh.fileno())
            for tmp, dest in staged:
                os.replace(tmp, dest)
        except OSError as exc:
            for tmp, _ in staged:
                Path(tmp).unlink(missing_ok=True)
            raise PerfgateError(f"cannot write to the history store: {exc}") from None
        return f"wrote {len(records)} record(s) to {self.path}"


class BranchStore:
    """Records on a git branch of the repository (see :mod:`perfgate.git.history_branch`)."""

    def __init__(
        self,
        root: Path,
        branch: str = HISTORY_BRANCH,
        remote: str = "origin",
        *,
        fetch: bool = False,
        push: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.root, self.branch, self.remote = root, branch, remote
        self.fetch, self.push, self.env = fetch, push, env
        self._target: RecordTarget | None = None

    @property
    def description(self) -> str:
        return f"the {self.branch} branch"

    def prepare(self) -> None:
        self._target = check_history_writable(
            self.root, branch=self.branch, push=self.push, remote=self.remote, env=self.env
        )

    def load(self, target: str) -> Loaded:
        found = read_history_branch(
            self.root, target, branch=self.branch, remote=self.remote, fetch=self.fetch
        )
        return _parse_all(found.files, target) if found else Loaded([], [])

    def save(self, records: Sequence[HistoryRecord]) -> str:
        if self._target is None:
            self.prepare()
        assert self._target is not None
        files = {r.path: r.to_json().encode("utf-8") for r in records}
        done = commit_history_files(self._target, files, record_message(records))
        return done.summary


Store = DirectoryStore | BranchStore


def record_message(records: Sequence[HistoryRecord]) -> str:
    """The history commit's message: what was recorded, one line per target."""
    commit = records[0].commit if records else ""
    targets = ", ".join(sorted({r.target for r in records}))
    lines = [f"perfgate: record {targets} at {short(commit)}", ""]
    for r in records:
        p95 = ", ".join(f"{h} {s.p95_ns}ns" for h, s in sorted(r.handlers.items()))
        lines.append(f"- {r.target} ({r.runs} runs): {p95}")
    lines += ["", f"Measured-commit: {commit}"]
    return "\n".join(lines)


def order_records(
    records: Sequence[HistoryRecord], first_parent: Sequence[str] | None, branch: str
) -> tuple[list[HistoryRecord], list[str]]:
    """Oldest first: along ``first_parent`` (the branch's commits, newest first) when known,
    else by commit date, then by when they were recorded. Notes say which, and what was left
    out."""
    by_date = sorted(records, key=lambda r: (parse_date(r.date), r.recorded))
    if not first_parent:
        note = []
        if records:
            note = [
                f"ordered by commit date: this clone does not know {branch}'s history (fetch "
                "it, or actions/checkout with fetch-depth: 0)"
            ]
        return by_date, note
    rank = {sha: i for i, sha in enumerate(first_parent)}
    on = sorted((r for r in records if r.commit in rank), key=lambda r: -rank[r.commit])
    off = len(records) - len(on)
    notes = []
    if off:
        notes.append(f"left out {off} record(s) of commits not on {branch}'s first-parent history")
    return on, notes


def to_history(
    target: str, records: Sequence[HistoryRecord], where: str, notes: Sequence[str]
) -> History:
    """The ordered records of one target as a :class:`History` of p95s (and medians)."""
    points = [
        HistoryPoint(
            r.commit,
            parse_date(r.date),
            r.subject,
            r.path,
            {h: s.p95_ns for h, s in r.handlers.items()},
            r.runs,
            {h: s.p50_ns for h, s in r.handlers.items()},
        )
        for r in records
    ]
    return History(where, points, list(notes), target=target, source="store")


def load_history(store: Store, root: Path, target: str, branch: str) -> History:
    """One target's history from ``store``, ordered along ``branch`` where this clone knows
    it."""
    loaded = store.load(target)
    order = None
    if loaded.records:
        try:
            order = first_parent_commits(root, branch)
        except PerfgateError:
            order = None  # not a git checkout (a directory store): by date
    records, notes = order_records(loaded.records, order, branch)
    return to_history(target, records, store.description, [*loaded.notes, *notes])
