"""Every committed version of one file, renames followed: what ``perfgate history`` reads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import open_repo, repo_root, run


@dataclass(frozen=True)
class FileVersion:
    """One commit that touched the file: its sha, author date (ISO 8601), subject, the file's
    path in that commit (it may have been renamed since), and its content there (None when the
    commit deleted it, or it is not in that commit)."""

    commit: str
    date: str
    subject: str
    path: str
    deleted: bool
    content: bytes | None


@dataclass(frozen=True)
class FileLog:
    """A file's versions, oldest first; ``path`` relative to the repository; ``shallow``: the
    clone is shallow, so older versions may be missing."""

    path: str
    versions: list[FileVersion]
    shallow: bool


def file_log(repo_dir: str | Path, path: str | Path) -> FileLog:
    """Every committed version of ``path`` (``git log --follow``), oldest first. Relative paths
    are taken from the current directory; a path outside the repository is exit 2."""
    with open_repo(repo_dir) as repo:
        rel = _repo_relative(repo_root(repo), path)
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
        versions = [
            FileVersion(sha, date, subject, at, deleted, None if deleted else _blob(repo, sha, at))
            for sha, date, subject, at, deleted in reversed(_parse_log(res.stdout, rel))
        ]
        shallow = run(repo, "rev-parse", "--is-shallow-repository", check=False).stdout.strip()
        return FileLog(rel, versions, shallow == "true")


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


def _blob(repo: git.Repo, sha: str, path: str) -> bytes | None:
    try:
        blob = repo.commit(sha).tree / path
    except KeyError:
        return None
    return bytes(blob.data_stream.read())
