"""p95 per handler across a baseline file's git history, as data (:mod:`perfgate.render.history`
shows it).

``perfgate history TARGET`` answers "how did this service's latency move over releases?" from
what is already committed: every version of ``baselines/<target>.json`` (renames followed) is
read from git, so it needs no stored measurements and no network.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import open_repo, repo_root, run, short

BASELINE_SCHEMA_VERSION = 1


@dataclass(frozen=True)
class HistoryPoint:
    """One committed version of the baseline file: its commit and each handler's p95 (ns)."""

    commit: str
    date: datetime
    subject: str
    path: str  # the file's path in that commit (it may have been renamed since)
    p95_ns: dict[str, int]

    @property
    def short_sha(self) -> str:
        return short(self.commit)


@dataclass(frozen=True)
class BaselineHistory:
    """All readable versions, oldest first, and notes on what was skipped and why."""

    path: str
    points: list[HistoryPoint]
    notes: list[str] = field(default_factory=list)

    @property
    def handlers(self) -> list[str]:
        """Every handler that appears in any version, sorted."""
        return sorted({h for p in self.points for h in p.p95_ns})


def baseline_history(repo_dir: str | Path, baseline_path: str | Path) -> BaselineHistory:
    """Read every committed version of ``baseline_path`` (``git log --follow``), oldest first.

    Versions that are not a readable schema-1 baseline are skipped with a note. A file with no
    committed history is exit 2. Relative paths are taken from the current directory.
    """
    with open_repo(repo_dir) as repo:
        root = repo_root(repo)
        rel = _repo_relative(root, baseline_path)
        res = run(
            repo,
            "log",
            "--follow",
            "-z",
            "--name-status",
            "--format=%x1e%H%x1f%aI%x1f%s",
            "--",
            rel,
        )
        entries = _parse_log(res.stdout, rel)
        if not entries:
            raise PerfgateError(
                f"{rel} has no committed history",
                hint="commit a baseline first (perfgate baseline update --commit)",
            )
        points: list[HistoryPoint] = []
        notes: list[str] = []
        for sha, date, subject, path, deleted in reversed(entries):
            if deleted:
                notes.append(f"{short(sha)}: {path} deleted")
                continue
            try:
                p95 = parse_baseline_p95(_read_blob(repo, sha, path))
            except ValueError as exc:
                notes.append(f"{short(sha)}: skipped, {path} {exc}")
                continue
            points.append(HistoryPoint(sha, datetime.fromisoformat(date), subject, path, p95))
        if run(repo, "rev-parse", "--is-shallow-repository", check=False).stdout.strip() == "true":
            notes.append(
                "shallow clone: older versions may be missing (git fetch --unshallow, or "
                "actions/checkout with fetch-depth: 0)"
            )
        return BaselineHistory(rel, points, notes)


def parse_baseline_p95(raw: bytes) -> dict[str, int]:
    """``{handler: p95_ns}`` from a baseline file's bytes; ValueError says why it is unreadable.

    Reads only what the history needs, tolerating any other fields.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("is not a baseline (not a JSON object)")
    version = data.get("schema_version")
    if version != BASELINE_SCHEMA_VERSION:
        raise ValueError(f"has schema_version {version!r}, not {BASELINE_SCHEMA_VERSION}")
    handlers = data.get("handlers")
    if not isinstance(handlers, dict):
        raise ValueError("has no handlers")
    out: dict[str, int] = {}
    for name, stats in handlers.items():
        p95 = stats.get("p95_ns") if isinstance(stats, dict) else None
        if isinstance(p95, bool) or not isinstance(p95, (int, float)) or p95 < 0:
            raise ValueError(f"has no valid p95_ns for {name!r}")
        out[str(name)] = int(p95)
    return out


def _repo_relative(root: Path, path: str | Path) -> str:
    p = Path(path)
    absolute = (p if p.is_absolute() else Path.cwd() / p).resolve()
    try:
        return absolute.relative_to(root.resolve()).as_posix()
    except ValueError:
        raise PerfgateError(f"{path} is outside the repository {root}") from None


def _parse_log(out: str, path: str) -> list[tuple[str, str, str, str, bool]]:
    """``(sha, date, subject, path at that commit, deleted)`` per commit, newest first.

    Parses ``git log -z --name-status --format=%x1e%H%x1f%aI%x1f%s``: each record starts with
    0x1e, the header ends at the first NUL, then status and path(s), NUL-separated. A commit
    listed without a status (a merge) keeps the path of the newer commit.
    """
    entries = []
    current = path
    for record in out.split("\x1e")[1:]:
        header, _, rest = record.partition("\0")
        sha, date, subject = header.split("\x1f", 2)
        tokens = [t for t in rest.lstrip("\n").split("\0") if t]
        deleted = False
        if tokens:
            status = tokens[0]
            names = tokens[1:]
            if status.startswith(("R", "C")) and len(names) >= 2:
                current = names[1]
                entries.append((sha, date, subject, current, False))
                current = names[0]  # older commits knew it by its old name
                continue
            if names:
                current = names[0]
            deleted = status.startswith("D")
        entries.append((sha, date, subject, current, deleted))
    return entries


def _read_blob(repo: git.Repo, sha: str, path: str) -> bytes:
    try:
        blob = repo.commit(sha).tree / path
    except KeyError:
        raise ValueError("is not in that commit") from None
    return bytes(blob.data_stream.read())
