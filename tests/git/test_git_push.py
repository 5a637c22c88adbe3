"""push_baseline_commit against bare remotes, with a second clone playing the colleague."""

from __future__ import annotations

import pytest

from perfgate.errors import PerfgateError
from perfgate.git import check_refresh_allowed, commit_baselines, push_baseline_commit

BASELINE = "baselines/svc.json"
GLOBS = ["release/*"]


def refresh_and_commit(work, p95s=None):
    ctx = check_refresh_allowed(work.path, GLOBS, force=False, push=True)
    work.write_baseline(p95s or {"GET /items": 45_000, "POST /items": 118_000})
    sha = commit_baselines(ctx, [work.path / BASELINE], ["svc"], ctx.head_sha)
    assert sha is not None
    return ctx, sha


def no_rebase_left_behind(repo):
    for marker in ("rebase-merge", "rebase-apply"):
        assert not (repo.path / ".git" / marker).exists()
    assert repo.git("symbolic-ref", "--short", "HEAD") == "release/1.0"


def test_push_sends_exactly_the_baseline_commit(remote_pair):
    work, _, bare = remote_pair
    before = bare.head("release/1.0")
    ctx, sha = refresh_and_commit(work)

    result = push_baseline_commit(ctx)

    assert (result.remote, result.remote_branch, result.commit) == ("origin", "release/1.0", sha)
    assert not result.rebased
    assert result.summary == f"pushed {sha[:7]} to origin release/1.0"
    assert bare.head("release/1.0") == sha
    assert bare.count(f"{before}..release/1.0") == 1
    assert bare.changed_files("release/1.0") == [BASELINE]
    assert bare.head("main") == before  # no other branch touched
    assert work.status() == ""


def test_remote_moved_with_an_unrelated_commit_is_rebased_and_pushed(remote_pair):
    work, other, bare = remote_pair
    ctx, local_sha = refresh_and_commit(work)
    other.write("README.md", "a colleague's change\n")
    theirs = other.commit_all("docs: readme")
    other.git("push", "-q", "origin", "release/1.0")

    result = push_baseline_commit(ctx)

    assert result.rebased
    assert result.commit != local_sha  # the rebased copy
    assert bare.head("release/1.0") == result.commit == work.head()
    assert bare.head("release/1.0~1") == theirs
    assert bare.changed_files("release/1.0") == [BASELINE]
    assert bare.git("log", "-1", "--format=%s", "release/1.0").startswith(
        "perfgate: refresh baselines for svc at"
    )
    assert work.status() == ""
    no_rebase_left_behind(work)


def test_conflicting_remote_change_keeps_the_local_commit_and_explains(remote_pair):
    work, other, bare = remote_pair
    ctx, local_sha = refresh_and_commit(work, {"GET /items": 45_000, "POST /items": 118_000})
    other.write_baseline({"GET /items": 50_000, "POST /items": 130_000})
    theirs = other.commit_all("their refresh")
    other.git("push", "-q", "origin", "release/1.0")

    with pytest.raises(PerfgateError) as err:
        push_baseline_commit(ctx)

    assert BASELINE in err.value.message
    assert local_sha[:7] in err.value.message
    assert "git pull --rebase origin release/1.0" in (err.value.hint or "")
    assert work.head() == local_sha
    assert work.status() == ""
    no_rebase_left_behind(work)
    assert bare.head("release/1.0") == theirs


def test_rejection_for_another_reason_is_not_retried(remote_pair):
    work, _, bare = remote_pair
    hook = bare.path / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n")
    hook.chmod(0o755)
    before = bare.head("release/1.0")
    ctx, local_sha = refresh_and_commit(work)

    with pytest.raises(PerfgateError) as err:
        push_baseline_commit(ctx)

    assert "branch is protected" in err.value.message
    assert "contents: write" in (err.value.hint or "")
    assert work.head() == local_sha
    assert bare.head("release/1.0") == before


def test_pushes_to_the_upstream_branch_name(remote_pair):
    work, _, bare = remote_pair
    work.git("checkout", "-q", "-b", "release/1.0-local", "--track", "origin/release/1.0")
    ctx = check_refresh_allowed(work.path, GLOBS, force=False, push=True)
    assert ctx.remote_branch == "release/1.0"
    work.write_baseline({"GET /items": 1_000})
    sha = commit_baselines(ctx, [work.path / BASELINE], ["svc"], ctx.head_sha)
    assert push_baseline_commit(ctx).commit == sha
    assert bare.head("release/1.0") == sha
    assert bare.git("branch", "--list", "release/1.0-local") == ""


def test_actions_bot_identity_also_rebases(remote_pair, monkeypatch):
    work, other, bare = remote_pair
    work.git("config", "--unset", "user.name")
    work.git("config", "--unset", "user.email")
    work.git("config", "user.useConfigOnly", "true")  # git may not guess an identity
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    ctx, _ = refresh_and_commit(work)
    other.write("README.md", "moved\n")
    other.commit_all("meanwhile")
    other.git("push", "-q", "origin", "release/1.0")

    assert push_baseline_commit(ctx).rebased
    bot = "github-actions[bot] <41898282+github-actions[bot]@users.noreply.github.com>"
    assert bare.git("log", "-1", "--format=%an <%ae>|%cn <%ce>", "release/1.0") == f"{bot}|{bot}"
