"""Real git repositories in temporary directories for the git-edge tests.

Helpers reach the tests only as fixtures (``repo``, ``release_repo``, ``remote_pair``,
``make_repo``), never by importing this module, which another conftest.py could shadow.

No __init__.py in this directory on purpose: with one (and none in tests/), pytest would import
these tests as a package named ``git`` and shadow gitpython.

Every test runs with git isolated from the machine: HOME is an empty directory, the global and
system config are ignored, and the GitHub Actions and identity variables are unset. Repositories
set user.name/email in their own config.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

BASELINE = "baselines/svc.json"
NAME, EMAIL = "Test Dev", "dev@example.com"


def baseline_text(p95s: dict[str, int], target: str = "svc") -> str:
    """A schema-1 baseline file with the given p95 (ns) per handler."""
    handlers = {
        h: {"count": 100, "p50_ns": v // 2, "p95_ns": v, "p99_ns": v * 2}
        for h, v in sorted(p95s.items())
    }
    data = {"schema_version": 1, "target": target, "meta": {"commit": ""}, "handlers": handlers}
    return json.dumps(data, indent=2) + "\n"


class GitRepo:
    """A working tree driven with the git command line, independent of the code under test."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def git(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(
            ["git", *args], cwd=self.path, capture_output=True, text=True, check=False
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
        return proc.stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        path = self.path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def read(self, rel: str) -> str:
        return (self.path / rel).read_text()

    def write_baseline(self, p95s: dict[str, int], rel: str = BASELINE) -> Path:
        return self.write(rel, baseline_text(p95s))

    def commit_all(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message)
        return self.head()

    def head(self, rev: str = "HEAD") -> str:
        return self.git("rev-parse", rev)

    def status(self) -> str:
        return self.git("status", "--porcelain")

    def changed_files(self, rev: str = "HEAD") -> list[str]:
        """Files the commit ``rev`` changed relative to its first parent."""
        return self.git("diff-tree", "--no-commit-id", "--name-only", "-r", rev).split()

    def count(self, rev_range: str) -> int:
        return int(self.git("rev-list", "--count", rev_range))


def init_repo(path: Path, *, identity: bool = True) -> GitRepo:
    """A repository on ``main`` with one commit holding a Go file, a README and a baseline."""
    path.mkdir(parents=True, exist_ok=True)
    repo = GitRepo(path)
    repo.git("init", "-q", "-b", "main")
    repo.git("config", "user.name", NAME)
    repo.git("config", "user.email", EMAIL)
    repo.write("README.md", "service\n")
    repo.write("main.go", "package main\n\nfunc main() {}\n")
    repo.write_baseline({"GET /items": 43_100, "POST /items": 120_000})
    repo.commit_all("initial")
    if not identity:
        repo.git("config", "--unset", "user.name")
        repo.git("config", "--unset", "user.email")
    return repo


def clone(bare: Path, path: Path, branch: str | None = None) -> GitRepo:
    subprocess.run(["git", "clone", "-q", str(bare), str(path)], check=True, capture_output=True)
    repo = GitRepo(path)
    repo.git("config", "user.name", NAME)
    repo.git("config", "user.email", EMAIL)
    if branch:
        repo.git("checkout", "-q", branch)
    return repo


@pytest.fixture(autouse=True)
def isolated_git(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for var in (
        "GITHUB_ACTIONS",
        "GITHUB_BASE_REF",
        "GIT_AUTHOR_NAME",
        "GIT_AUTHOR_EMAIL",
        "GIT_COMMITTER_NAME",
        "GIT_COMMITTER_EMAIL",
        "EMAIL",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
    ):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def make_repo(tmp_path: Path):
    """Factory: ``make_repo(name, identity=True)`` makes another repository under tmp_path."""

    def make(name: str, *, identity: bool = True) -> GitRepo:
        return init_repo(tmp_path / name, identity=identity)

    return make


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A local repository on ``main`` (no remote)."""
    return init_repo(tmp_path / "repo")


@pytest.fixture
def release_repo(repo: GitRepo) -> GitRepo:
    """The same repository on branch ``release/1.0``."""
    repo.git("checkout", "-q", "-b", "release/1.0")
    return repo


@pytest.fixture
def remote_pair(tmp_path: Path) -> tuple[GitRepo, GitRepo, GitRepo]:
    """(work, other, bare): two clones of a bare remote, both on ``release/1.0``."""
    bare = tmp_path / "remote.git"
    subprocess.run(
        ["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True, capture_output=True
    )
    seed = init_repo(tmp_path / "seed")
    seed.git("remote", "add", "origin", str(bare))
    seed.git("push", "-q", "origin", "main")
    seed.git("push", "-q", "origin", "main:release/1.0")
    work = clone(bare, tmp_path / "work", "release/1.0")
    other = clone(bare, tmp_path / "other", "release/1.0")
    return work, other, GitRepo(bare)
