"""worktree_at, resolve_ref and default_against_ref on real repositories."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from perfgate.errors import PerfgateError
from perfgate.git import (
    base_branch_name,
    default_against_ref,
    remove_stale_worktrees,
    resolve_ref,
    worktree_at,
)

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def registered(repo) -> list[str]:
    out = repo.git("worktree", "list", "--porcelain")
    return [line.split(" ", 1)[1] for line in out.splitlines() if line.startswith("worktree ")]


@pytest.fixture
def two_commits(repo):
    repo.write("README.md", "second version\n")
    repo.commit_all("second")
    return repo


def test_worktree_checks_out_ref_beside_the_working_tree(two_commits):
    repo = two_commits
    repo.write("main.go", "package main // local edit\n")
    with worktree_at(repo.path, "HEAD~1") as wt:
        assert wt.sha == repo.head("HEAD~1")
        assert wt.ref == "HEAD~1"
        assert (wt.path / "README.md").read_text() == "service\n"
        assert (wt.path / "main.go").read_text() == "package main\n\nfunc main() {}\n"
        assert str(wt.path) in registered(repo)
        assert wt.translate(repo.path / "baselines") == wt.path / "baselines"
        path = wt.path
    assert not path.exists() and not path.parent.exists()
    assert registered(repo) == [str(repo.path)]
    assert repo.read("README.md") == "second version\n"  # the working tree is untouched
    assert repo.git("diff", "--name-only") == "main.go"


def test_worktree_removed_after_an_exception(two_commits):
    with pytest.raises(RuntimeError), worktree_at(two_commits.path, "HEAD~1") as wt:
        path = wt.path
        (wt.path / "build-output").write_text("left by the build")
        raise RuntimeError("build failed")
    assert not path.parent.exists()
    assert registered(two_commits) == [str(two_commits.path)]


def test_worktree_removed_after_ctrl_c(two_commits):
    with pytest.raises(KeyboardInterrupt), worktree_at(two_commits.path, "HEAD~1") as wt:
        path = wt.path
        raise KeyboardInterrupt
    assert not path.parent.exists()
    assert registered(two_commits) == [str(two_commits.path)]


def test_unknown_ref_is_an_error_naming_it(repo):
    with (
        pytest.raises(PerfgateError, match="'no-such-branch'"),
        worktree_at(repo.path, "no-such-branch"),
    ):
        pytest.fail("must not get here")
    with pytest.raises(PerfgateError, match="unknown git ref"):
        resolve_ref(repo.path, "--output=/tmp/x")
    assert registered(repo) == [str(repo.path)]


def _hold_worktree(repo) -> tuple[subprocess.Popen, Path]:
    """Another perfgate process inside worktree_at, waiting; returns it and its worktree."""
    code = (
        "import signal, sys, time\n"
        # Ctrl-C raises KeyboardInterrupt even when this test runs in a background job, whose
        # children start with SIGINT ignored (a shell's `cmd &`), as Python then leaves it
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "from perfgate.git import worktree_at\n"
        "with worktree_at(sys.argv[1], 'HEAD') as wt:\n"
        "    print(wt.path, flush=True)\n"
        "    time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(repo.path)], stdout=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None
    return proc, Path(proc.stdout.readline().strip())


def test_stale_worktree_of_a_killed_run_is_removed_live_one_kept(repo):
    killed, stale = _hold_worktree(repo)
    killed.send_signal(signal.SIGKILL)  # no cleanup can run
    killed.wait()
    assert stale.exists() and str(stale) in registered(repo)
    live, alive = _hold_worktree(repo)  # its worktree_at removes the stale one first
    try:
        assert not stale.parent.exists()
        assert sorted(registered(repo)) == sorted([str(repo.path), str(alive)])
        with worktree_at(repo.path, "HEAD") as wt:
            assert alive.exists()  # a live run's worktree is not stale
            assert sorted(registered(repo)) == sorted([str(repo.path), str(alive), str(wt.path)])
        assert remove_stale_worktrees(repo.path) == []
        assert alive.exists()
    finally:
        live.send_signal(signal.SIGINT)  # Ctrl-C: it cleans up after itself
        live.wait(timeout=30)
    assert not alive.parent.exists()
    assert registered(repo) == [str(repo.path)]


def test_remove_stale_worktrees_reports_what_it_removed(repo):
    killed, stale = _hold_worktree(repo)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert remove_stale_worktrees(repo.path) == [stale]
    assert not stale.parent.exists()
    assert registered(repo) == [str(repo.path)]


# --- the default --against ref --------------------------------------------------------------


@pytest.fixture
def pr_repo(repo):
    """main: A - C; feature (HEAD) branched at A: A - B. The merge-base is A."""
    a = repo.head()
    repo.git("checkout", "-q", "-b", "feature")
    repo.write("feature.go", "package main\n")
    repo.commit_all("B")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "main moved on\n")
    repo.commit_all("C")
    repo.git("checkout", "-q", "feature")
    repo.fork_point = a
    return repo


def test_merge_base_with_github_base_ref(pr_repo):
    env = {"GITHUB_BASE_REF": "main", "GITHUB_ACTIONS": "true"}
    assert base_branch_name(pr_repo.path, env) == "main"
    assert default_against_ref(pr_repo.path, env) == pr_repo.fork_point


def test_merge_base_falls_back_to_main(pr_repo):
    assert default_against_ref(pr_repo.path, {}) == pr_repo.fork_point


def test_origin_head_names_the_base_and_origin_is_preferred(pr_repo, tmp_path):
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(pr_repo.path), str(bare)], check=True)
    subprocess.run(["git", "-C", str(bare), "branch", "-q", "trunk", "main"], check=True)
    subprocess.run(["git", "-C", str(bare), "symbolic-ref", "HEAD", "refs/heads/trunk"], check=True)
    pr_repo.git("remote", "add", "origin", str(bare))
    pr_repo.git("fetch", "-q", "origin")
    pr_repo.git("remote", "set-head", "origin", "--auto")
    pr_repo.git("branch", "-q", "-f", "trunk", "HEAD")  # a misleading local branch of that name
    assert base_branch_name(pr_repo.path, {}) == "trunk"
    assert default_against_ref(pr_repo.path, {}) == pr_repo.fork_point


def test_unknown_base_branch_is_an_error(pr_repo):
    with pytest.raises(PerfgateError, match="base branch 'develop' not found") as err:
        default_against_ref(pr_repo.path, {"GITHUB_BASE_REF": "develop"})
    assert "fetch-depth: 0" in (err.value.hint or "")


def test_no_common_history_is_an_error(pr_repo):
    pr_repo.git("checkout", "-q", "--orphan", "unrelated")
    pr_repo.commit_all("unrelated root")
    with pytest.raises(PerfgateError, match="no common ancestor"):
        default_against_ref(pr_repo.path, {"GITHUB_BASE_REF": "main"})


def test_the_events_base_commit_decides_when_the_clone_has_it(pr_repo, tmp_path):
    """The Action's A/B mode: the pull_request event names the base commit (main's tip C); the
    merge-base of HEAD and it is the fork point, though no branch named in the event exists."""
    main_tip = pr_repo.git("rev-parse", "main").strip()
    env = {"GITHUB_BASE_REF": "develop"}
    assert default_against_ref(pr_repo.path, env, main_tip) == pr_repo.fork_point
    # With no common history (a shallow checkout of GitHub's merge commit), the commit itself.
    pr_repo.git("checkout", "-q", "--orphan", "unrelated")
    pr_repo.commit_all("unrelated root")
    assert default_against_ref(pr_repo.path, env, main_tip) == main_tip


def test_an_event_base_commit_missing_from_the_clone_falls_back_to_the_branch(pr_repo, tmp_path):
    assert default_against_ref(pr_repo.path, {}, "1" * 40) == pr_repo.fork_point  # main
    with pytest.raises(PerfgateError, match="base branch 'develop' not found"):
        default_against_ref(pr_repo.path, {"GITHUB_BASE_REF": "develop"}, "1" * 40)
