"""The perfgate-history branch on real repositories: records committed without touching the
working tree or the index, read back, pushed, and re-applied when another job pushed first."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from perfgate.errors import PerfgateError
from perfgate.git import (
    HISTORY_BRANCH,
    check_history_writable,
    commit_history_files,
    first_parent_commits,
    measured_head,
    read_history_branch,
)


def index_digest(repo) -> str:
    return hashlib.sha256((repo.path / ".git" / "index").read_bytes()).hexdigest()


def record(repo, files: dict[str, str], push: bool = False) -> str:
    where = check_history_writable(repo.path, push=push)
    done = commit_history_files(
        where, {p: t.encode() for p, t in files.items()}, "perfgate: record"
    )
    return done.commit


def test_a_record_is_a_commit_on_the_branch_and_nothing_else_changes(repo):
    repo.write("main.go", "package main\n\n// edited, not staged\nfunc main() {}\n")
    repo.write("notes.txt", "untracked\n")
    repo.git("add", "notes.txt")
    status, index, head = repo.status(), index_digest(repo), repo.head()
    sha = record(repo, {"svc/abc.json": "{}\n"})
    assert repo.head() == head and repo.status() == status and index_digest(repo) == index
    assert repo.git("rev-parse", HISTORY_BRANCH) == sha
    assert repo.git("show", f"{HISTORY_BRANCH}:svc/abc.json") == "{}"
    assert repo.git("rev-list", "--count", HISTORY_BRANCH) == "1"  # a branch of its own
    assert repo.git("log", "-1", "--format=%s", HISTORY_BRANCH) == "perfgate: record"


def test_records_accumulate_one_commit_each(repo):
    first = record(repo, {"svc/a.json": "1\n"})
    second = record(repo, {"svc/b.json": "2\n", "other/b.json": "3\n"})
    assert repo.git("rev-parse", f"{second}^") == first
    found = read_history_branch(repo.path, "svc")
    assert found is not None and found.tip == second
    assert found.files == {"svc/a.json": b"1\n", "svc/b.json": b"2\n"}
    assert read_history_branch(repo.path, "missing").files == {}


def test_no_branch_reads_as_none(repo):
    assert read_history_branch(repo.path, "svc") is None


def test_pushed_and_read_from_a_fresh_clone(remote_pair, tmp_path):
    work, _, bare = remote_pair
    sha = record(work, {"svc/a.json": "1\n"}, push=True)
    assert bare.git("rev-parse", HISTORY_BRANCH) == sha
    subprocess.run(["git", "clone", "-q", str(bare.path), str(tmp_path / "c")], check=True)
    found = read_history_branch(tmp_path / "c", "svc", fetch=True)
    assert found is not None and found.files == {"svc/a.json": b"1\n"}
    assert found.ref == f"refs/remotes/origin/{HISTORY_BRANCH}"


def test_a_concurrent_push_is_fetched_and_re_applied_never_forced(remote_pair):
    work, other, bare = remote_pair
    base = record(work, {"svc/a.json": "1\n"}, push=True)
    other.git("fetch", "-q", "origin", f"{HISTORY_BRANCH}:{HISTORY_BRANCH}")
    theirs = record(other, {"svc/b.json": "2\n"}, push=True)
    # work's local branch is still at `base`; its record must land on top of `theirs`
    ours = record(work, {"svc/c.json": "3\n"}, push=True)
    tip = bare.git("rev-parse", HISTORY_BRANCH)
    assert tip == ours == work.git("rev-parse", HISTORY_BRANCH)
    assert bare.git("merge-base", "--is-ancestor", theirs, tip) == ""  # kept, not overwritten
    assert bare.git("merge-base", "--is-ancestor", base, tip) == ""
    files = bare.git("ls-tree", "-r", "--name-only", HISTORY_BRANCH).split()
    assert files == ["svc/a.json", "svc/b.json", "svc/c.json"]


def test_diverged_local_records_are_carried_onto_the_remote_tip(remote_pair):
    work, other, bare = remote_pair
    record(work, {"svc/a.json": "1\n"}, push=True)
    other.git("fetch", "-q", "origin", f"{HISTORY_BRANCH}:{HISTORY_BRANCH}")
    # work records locally (no push), then other pushes, then work pushes what it had
    record(work, {"svc/local.json": "L\n"})
    record(other, {"svc/b.json": "2\n"}, push=True)
    record(work, {"svc/c.json": "3\n"}, push=True)
    files = bare.git("ls-tree", "-r", "--name-only", HISTORY_BRANCH).split()
    assert files == ["svc/a.json", "svc/b.json", "svc/c.json", "svc/local.json"]


# A pre-receive hook on the remote that moves the history branch while a push is being received:
# the race between fetching the remote's tip and pushing on top of it, made to happen. Ref
# updates from a pre-receive hook must leave git's quarantine first.
RACE_HOOK = """#!/bin/sh
[ -n "$ONCE" ] && [ -e raced ] && exit 0
touch raced
unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
tip=$(git rev-parse refs/heads/perfgate-history)
new=$(echo race | GIT_AUTHOR_NAME=o GIT_AUTHOR_EMAIL=o@x GIT_COMMITTER_NAME=o \\
      GIT_COMMITTER_EMAIL=o@x git commit-tree "$tip^{tree}" -p "$tip")
git update-ref refs/heads/perfgate-history "$new" "$tip"
"""


def install_race(bare, once: bool) -> None:
    hook = bare.path / "hooks" / "pre-receive"
    hook.write_text(RACE_HOOK.replace("$ONCE", "1" if once else ""))
    hook.chmod(0o755)


def test_a_push_rejected_because_the_remote_moved_is_retried(remote_pair):
    work, _, bare = remote_pair
    first = record(work, {"svc/a.json": "1\n"}, push=True)
    install_race(bare, once=True)
    where = check_history_writable(work.path, push=True)
    done = commit_history_files(where, {"svc/c.json": b"3\n"}, "perfgate: record")
    assert done.attempts == 2
    tip = bare.git("rev-parse", HISTORY_BRANCH)
    assert tip == done.commit == work.git("rev-parse", HISTORY_BRANCH)
    assert bare.git("log", "-1", "--format=%s", f"{tip}~1") == "race"  # theirs kept, under ours
    assert bare.git("merge-base", "--is-ancestor", first, tip) == ""
    assert bare.git("ls-tree", "-r", "--name-only", tip).split() == ["svc/a.json", "svc/c.json"]


def test_retries_are_bounded_and_the_record_stays_local(remote_pair):
    work, _, bare = remote_pair
    record(work, {"svc/a.json": "1\n"}, push=True)
    install_race(bare, once=False)
    where = check_history_writable(work.path, push=True)
    with pytest.raises(PerfgateError, match="record is committed locally, not pushed"):
        commit_history_files(where, {"svc/c.json": b"3\n"}, "perfgate: record")
    local = work.git("rev-parse", HISTORY_BRANCH)
    assert work.git("show", f"{local}:svc/c.json") == "3"
    assert bare.git("log", "--format=%s", HISTORY_BRANCH).split("\n").count("race") == 5


def test_unpushed_local_records_go_out_with_the_next_push(remote_pair):
    work, _, bare = remote_pair
    record(work, {"svc/a.json": "1\n"})
    record(work, {"svc/b.json": "2\n"}, push=True)
    assert bare.git("ls-tree", "-r", "--name-only", HISTORY_BRANCH).split() == [
        "svc/a.json",
        "svc/b.json",
    ]


def test_refusals_come_before_anything_is_measured(repo, make_repo):
    with pytest.raises(PerfgateError, match="no remote 'origin'"):
        check_history_writable(repo.path, push=True)
    repo.git("branch", HISTORY_BRANCH)
    repo.git("checkout", "-q", HISTORY_BRANCH)
    with pytest.raises(PerfgateError, match="checked out here"):
        check_history_writable(repo.path)
    anonymous = make_repo("anon", identity=False)
    with pytest.raises(PerfgateError, match="who to commit the history record as"):
        check_history_writable(anonymous.path, env={})


def test_in_actions_without_identity_the_bot_commits(make_repo):
    anonymous = make_repo("anon", identity=False)
    where = check_history_writable(anonymous.path, env={"GITHUB_ACTIONS": "true"})
    commit_history_files(where, {"svc/a.json": b"{}"}, "perfgate: record")
    author = anonymous.git("log", "-1", "--format=%an", HISTORY_BRANCH)
    assert author == "github-actions[bot]"


def test_measured_head_needs_a_clean_checkout(repo):
    info, warnings = measured_head(repo.path, env={})
    assert info.sha == repo.head() and info.branch == "main" and info.parents == []
    assert info.subject == "initial" and warnings == []
    repo.write("main.go", "package main\n// dirty\n")
    with pytest.raises(PerfgateError, match="uncommitted changes"):
        measured_head(repo.path, env={})


def test_measured_head_on_a_detached_checkout_takes_the_branch_from_actions(repo):
    repo.write("README.md", "two\n")
    second = repo.commit_all("second")
    repo.git("checkout", "-q", "--detach")
    info, _ = measured_head(repo.path, env={"GITHUB_REF": "refs/heads/main"})
    assert info.branch == "main" and info.sha == second and info.parents == [repo.head("HEAD~1")]


def test_first_parent_order_of_a_branch(repo, tmp_path):
    first = repo.head()
    repo.git("checkout", "-q", "-b", "side")
    repo.write("side.txt", "x\n")
    side = repo.commit_all("side work")
    repo.git("checkout", "-q", "main")
    repo.write("README.md", "main\n")
    repo.commit_all("main work")
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    order = first_parent_commits(repo.path, "main")
    assert order is not None and order[-1] == first and side not in order
    assert len(order) == 3
    assert first_parent_commits(repo.path, "nope") is None
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)], check=True
    )
    assert first_parent_commits(Path(shallow), "main") is None
