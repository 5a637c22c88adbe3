"""`perfgate check --against REF`: same-machine A/B through a git worktree, on real commits."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from e2e_support import copy_module, perfgate, slow_down

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.usefixtures("go_available")]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = copy_module(tmp_path_factory.mktemp("ab") / "repo")
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Test")
    git(root, "config", "user.email", "test@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "service")
    return root


def worktrees(repo: Path) -> list[str]:
    return [line for line in git(repo, "worktree", "list").splitlines() if line]


def test_slower_commit_fails_on_that_handler_alone(repo, tmp_path):
    git(repo, "checkout", "-qb", "slow")
    # About checkout's quiet p95 (≈ 280 µs on this machine class): unambiguous even on a busy
    # machine; detection rates for smaller changes are measured in docs/benchmarks.md.
    slow_down(repo / "example_service" / "checkout.go", "priceCart", 300)
    git(repo, "commit", "-qam", "slower checkout")
    report = tmp_path / "r.json"
    r = perfgate("check", "--against", "main", "--json-out", str(report), cwd=repo)
    assert r.code == 1, r.out + r.err
    data = json.loads(report.read_text())
    assert data["mode"] == "against" and data["against_ref"].startswith("main (")
    verdicts = {h["name"]: h["verdict"] for h in data["handlers"]}
    assert verdicts.pop("POST /checkout") == "regressed"
    # The others may move a little with it (it takes CPU from them): never a failure.
    assert set(verdicts.values()) <= {"pass", "improved", "inconclusive"}, verdicts
    assert "[base]" in r.err and "[head]" in r.err  # alternating runs, with progress
    assert len(worktrees(repo)) == 1  # the temporary worktree is gone


def test_commit_that_changes_nothing_measured_passes(repo, tmp_path):
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "docs")
    (repo / "NOTES.md").write_text("nothing measured changes\n")
    git(repo, "add", "NOTES.md")
    git(repo, "commit", "-qm", "docs only")
    r = perfgate("check", "--against", "main", cwd=repo)
    assert r.code == 0, r.out + r.err
    assert "A/B against main" in r.out


def test_worktree_removed_when_the_base_does_not_build(repo):
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "broken-base")
    health = repo / "example_service" / "health.go"
    health.write_text(health.read_text() + "\nfunc broken() { undefinedThing() }\n")
    git(repo, "commit", "-qam", "broken")
    git(repo, "checkout", "-q", "main")
    git(repo, "checkout", "-qb", "fixed")
    r = perfgate("check", "--against", "broken-base", cwd=repo)
    assert r.code == 2 and "could not build" in r.err and "Traceback" not in r.err
    assert len(worktrees(repo)) == 1


def test_unknown_ref_is_bad_input(repo):
    r = perfgate("check", "--against", "no-such-branch", cwd=repo)
    assert r.code == 2 and "no-such-branch" in r.err
