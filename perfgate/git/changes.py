"""What a pull request changes among given paths, compared with its base: the gate's own files.

A pull request can edit ``baselines/`` and the perfgate config in its own tree, and so move the
bar it is measured against. :func:`changed_since_base` lists the files among the given paths that
differ between the merge-base of HEAD and the base commit, and the working tree (committed or
not, and new untracked files), so the comment can say so plainly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import git

from perfgate.errors import PerfgateError
from perfgate.git._cmd import open_repo, repo_root, rev_parse, run


@dataclass(frozen=True)
class BaseChanges:
    """The files changed since the base (repository-relative, sorted), or why that could not be
    told (``problem``; ``files`` is then empty)."""

    files: tuple[str, ...] = ()
    base: str | None = None  # the merge-base compared with
    problem: str | None = None


def toplevel(path: str | Path) -> Path | None:
    """The top directory of the git working tree holding ``path``, or None outside git."""
    try:
        with git.Repo(path, search_parent_directories=True) as repo:
            top = repo.working_tree_dir
            return Path(top) if top else None
    except Exception:  # not a repository, git missing: there is no repository to speak of
        return None


def changed_since_base(
    repo_dir: str | Path,
    paths: Sequence[str | Path],
    *,
    base_sha: str | None = None,
    base_ref: str | None = None,
) -> BaseChanges:
    """Files under ``paths`` (files or directories, absolute or relative to the current
    directory) that this checkout changes compared with the merge-base of HEAD and the base:
    ``base_sha`` (the pull request event's base commit) if this clone has it, else the branch
    ``base_ref`` (``origin/<ref>``, else a local ``<ref>``).

    Never raises for git trouble: no repository, or a base this clone does not have (a shallow
    checkout), comes back as ``problem``.
    """
    try:
        return _changed(repo_dir, paths, base_sha, base_ref)
    except PerfgateError as exc:
        return BaseChanges(problem=exc.message)


def _changed(
    repo_dir: str | Path,
    paths: Sequence[str | Path],
    base_sha: str | None,
    base_ref: str | None,
) -> BaseChanges:
    with open_repo(repo_dir) as repo:
        root = repo_root(repo).resolve()
        base = None
        for candidate in (
            base_sha,
            f"refs/remotes/origin/{base_ref}" if base_ref else None,
            f"refs/heads/{base_ref}" if base_ref else None,
        ):
            if candidate and not candidate.startswith("-"):
                base = rev_parse(repo, candidate)
                if base:
                    break
        if base is None:
            what = base_sha[:12] if base_sha else (base_ref or "unknown")
            return BaseChanges(
                problem=f"the base commit ({what}) is not in this clone (fetch it, or check out "
                "with fetch-depth: 0)"
            )
        res = run(repo, "merge-base", "HEAD", base, check=False)
        if not res.ok or not res.stdout.strip():
            return BaseChanges(
                problem="HEAD and the base have no common ancestor in this clone (shallow clone?)"
            )
        merge_base = res.stdout.strip().splitlines()[0]
        rel = sorted({_relative(root, p) for p in paths} - {None})  # type: ignore[arg-type]
        if not rel:
            return BaseChanges(base=merge_base)
        diff = run(
            repo, "diff", "--name-only", "--no-renames", "-z", merge_base, "--", *rel, check=False
        )
        new = run(repo, "ls-files", "--others", "--exclude-standard", "-z", "--", *rel, check=False)
        if not diff.ok:
            return BaseChanges(problem=f"git diff failed: {diff.message()}")
        files = {f for f in (diff.stdout + "\0" + new.stdout).split("\0") if f}
        return BaseChanges(files=tuple(sorted(files)), base=merge_base)


def _relative(root: Path, path: str | Path) -> str | None:
    p = Path(path)
    absolute = (p if p.is_absolute() else Path.cwd() / p).resolve()
    try:
        rel = absolute.relative_to(root).as_posix()
    except ValueError:
        return None  # outside the repository: nothing git could compare
    return rel or "."
