"""check_refresh_allowed and commit_baselines on real repositories."""

from __future__ import annotations

import subprocess

import pytest

from perfgate.errors import PerfgateError
from perfgate.git import (
    BOT_EMAIL,
    BOT_NAME,
    DEFAULT_RELEASE_GLOBS,
    check_refresh_allowed,
    commit_baselines,
)

BASELINE = "baselines/svc.json"
GLOBS = list(DEFAULT_RELEASE_GLOBS)


def refresh(repo, p95s=None):
    """Write a changed baseline, as a measurement would."""
    return repo.write_baseline(p95s or {"GET /items": 45_000, "POST /items": 118_000})


# --- which branches may refresh -------------------------------------------------------------


@pytest.mark.parametrize("branch", ["release/1.0", "release-2", "release/1.0/hotfix"])
def test_release_branches_are_allowed(repo, branch):
    repo.git("checkout", "-q", "-b", branch)
    ctx = check_refresh_allowed(repo.path, GLOBS, force=False)
    assert ctx.branch == branch
    assert ctx.head_sha == repo.head()
    assert ctx.repo_root == repo.path


@pytest.mark.parametrize("branch", ["feature/x", "main", "my-release-1", "Release/1.0"])
def test_other_branches_are_refused(repo, branch):
    if branch != "main":
        repo.git("checkout", "-q", "-b", branch)
    with pytest.raises(PerfgateError) as err:
        check_refresh_allowed(repo.path, GLOBS, force=False)
    assert repr(branch) in err.value.message
    assert "release/*" in err.value.message
    assert "--force" in (err.value.hint or "")


def test_force_allows_any_branch(repo):
    repo.git("checkout", "-q", "-b", "feature/x")
    assert check_refresh_allowed(repo.path, GLOBS, force=True).branch == "feature/x"


def test_configured_globs_replace_the_defaults(repo):
    repo.git("checkout", "-q", "-b", "stable/3")
    assert check_refresh_allowed(repo.path, ["stable/*"], force=False).branch == "stable/3"
    with pytest.raises(PerfgateError):
        check_refresh_allowed(repo.path, [], force=False)
    repo.git("checkout", "-q", "-b", "release/1.0")
    with pytest.raises(PerfgateError):
        check_refresh_allowed(repo.path, ["stable/*"], force=False)


def test_refs_heads_prefix_in_a_glob_is_ignored(repo):
    repo.git("checkout", "-q", "-b", "release/1.0")
    assert check_refresh_allowed(repo.path, ["refs/heads/release/*"], force=False)


def test_detached_head_is_refused_even_with_force(release_repo):
    release_repo.git("checkout", "-q", "--detach")
    with pytest.raises(PerfgateError, match="detached"):
        check_refresh_allowed(release_repo.path, GLOBS, force=True)


def test_not_a_repository(tmp_path):
    with pytest.raises(PerfgateError, match="not a git repository"):
        check_refresh_allowed(tmp_path, GLOBS, force=True)


def test_repository_without_commits(tmp_path):
    fresh = tmp_path / "fresh"
    subprocess.run(["git", "init", "-q", "-b", "release/1.0", str(fresh)], check=True)
    with pytest.raises(PerfgateError, match="no commits"):
        check_refresh_allowed(fresh, GLOBS, force=False)


def test_subdirectory_finds_the_repository(release_repo):
    ctx = check_refresh_allowed(release_repo.path / "baselines", GLOBS, force=False)
    assert ctx.repo_root == release_repo.path


# --- the tree must be clean -----------------------------------------------------------------


@pytest.mark.parametrize("staged", [False, True])
def test_modified_tracked_file_is_refused_and_nothing_changes(release_repo, staged):
    release_repo.write("main.go", "package main\n\nfunc main() { println() }\n")
    if staged:
        release_repo.git("add", "main.go")
    head, status = release_repo.head(), release_repo.status()
    with pytest.raises(PerfgateError, match=r"uncommitted changes \(main.go\)"):
        check_refresh_allowed(release_repo.path, GLOBS, force=True)
    assert release_repo.head() == head
    assert release_repo.status() == status


def test_deleted_tracked_file_is_refused(release_repo):
    (release_repo.path / "README.md").unlink()
    with pytest.raises(PerfgateError, match=r"README\.md"):
        check_refresh_allowed(release_repo.path, GLOBS, force=False)


def test_untracked_files_are_allowed_go_sources_warned(release_repo):
    release_repo.write("trace.out", "binary")
    release_repo.write("notes/todo.txt", "x")
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    assert ctx.warnings == ()
    release_repo.write("extra.go", "package main\n")
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    assert len(ctx.warnings) == 1 and "extra.go" in ctx.warnings[0]


def test_unfinished_merge_is_refused(release_repo):
    release_repo.git("checkout", "-q", "-b", "side")
    release_repo.write("side.txt", "side\n")
    release_repo.commit_all("side")
    release_repo.git("checkout", "-q", "release/1.0")
    release_repo.git("merge", "-q", "--no-commit", "--no-ff", "-s", "ours", "side")
    assert release_repo.status() == ""  # clean tree, yet a merge is pending
    with pytest.raises(PerfgateError, match="merge is in progress"):
        check_refresh_allowed(release_repo.path, GLOBS, force=False)


def test_push_without_any_remote_is_refused_before_measuring(release_repo):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    assert ctx.remote is None
    with pytest.raises(PerfgateError, match="nowhere to push"):
        check_refresh_allowed(release_repo.path, GLOBS, force=False, push=True)


def test_remote_defaults_to_origin_and_the_same_branch_name(release_repo, tmp_path):
    release_repo.git("remote", "add", "origin", str(tmp_path / "nowhere.git"))
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False, push=True)
    assert (ctx.remote, ctx.remote_branch) == ("origin", "release/1.0")


def test_upstream_decides_remote_and_branch(release_repo, tmp_path):
    release_repo.git("remote", "add", "origin", str(tmp_path / "a.git"))
    release_repo.git("remote", "add", "upstream", str(tmp_path / "b.git"))
    release_repo.git("config", "branch.release/1.0.remote", "upstream")
    release_repo.git("config", "branch.release/1.0.merge", "refs/heads/release-1.0")
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False, push=True)
    assert (ctx.remote, ctx.remote_branch) == ("upstream", "release-1.0")


@pytest.mark.parametrize("force", [False, True])
def test_push_only_to_a_remote_release_branch(release_repo, tmp_path, force):
    """A release/1.0 branch that tracks origin/main must not push the baseline to main, even
    with --force (which only lifts the rule for the local branch)."""
    release_repo.git("remote", "add", "origin", str(tmp_path / "a.git"))
    release_repo.git("config", "branch.release/1.0.remote", "origin")
    release_repo.git("config", "branch.release/1.0.merge", "refs/heads/main")
    with pytest.raises(PerfgateError, match="would push to origin/main, which is not a release"):
        check_refresh_allowed(release_repo.path, GLOBS, force=force, push=True)
    # without --push there is nothing to refuse: the commit stays local
    assert check_refresh_allowed(release_repo.path, GLOBS, force=force).remote_branch == "main"


# --- committing ------------------------------------------------------------------------------


def test_commit_contains_only_the_baseline_even_with_other_changes_staged(release_repo):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    release_repo.write("README.md", "staged meanwhile\n")
    release_repo.git("add", "README.md")
    release_repo.write("main.go", "package main // unstaged meanwhile\n")
    refresh(release_repo)

    sha = commit_baselines(ctx, [release_repo.path / BASELINE], ["svc"], ctx.head_sha)

    assert sha == release_repo.head()
    assert release_repo.head("HEAD~1") == ctx.head_sha
    assert release_repo.changed_files() == [BASELINE]
    # the other changes are exactly where they were: staged, and unstaged
    assert release_repo.git("diff", "--cached", "--name-only") == "README.md"
    assert release_repo.git("diff", "--name-only") == "main.go"
    assert "45000" in release_repo.git("show", f"HEAD:{BASELINE}")


def test_unchanged_baseline_makes_no_commit(release_repo):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    release_repo.write_baseline({"GET /items": 43_100, "POST /items": 120_000})  # same content
    assert commit_baselines(ctx, [release_repo.path / BASELINE], ["svc"], ctx.head_sha) is None
    assert release_repo.head() == ctx.head_sha
    assert release_repo.status() == ""


def test_commit_message_names_targets_commit_and_handlers(release_repo):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    refresh(release_repo)
    commit_baselines(ctx, [release_repo.path / BASELINE], ["svc"], ctx.head_sha[:10])
    subject = release_repo.git("log", "-1", "--format=%s")
    body = release_repo.git("log", "-1", "--format=%b")
    assert subject == f"perfgate: refresh baselines for svc at {ctx.head_sha[:7]}"
    assert f"- {BASELINE}: GET /items, POST /items" in body
    trailer = release_repo.git("log", "-1", "--format=%(trailers:key=Measured-commit,valueonly)")
    assert trailer == ctx.head_sha  # expanded to the full sha


def test_new_baseline_file_is_added(release_repo, monkeypatch):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    release_repo.write_baseline({"GET /health": 900}, rel="baselines/api.json")
    monkeypatch.chdir(release_repo.path)  # relative paths are taken from the current directory
    sha = commit_baselines(ctx, ["baselines/api.json"], ["api"], ctx.head_sha)
    assert sha is not None
    assert release_repo.changed_files() == ["baselines/api.json"]
    assert release_repo.status() == ""


def test_baseline_outside_the_repository_is_refused(release_repo, tmp_path):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    outside = tmp_path / "elsewhere.json"
    outside.write_text("{}")
    with pytest.raises(PerfgateError, match="outside the repository"):
        commit_baselines(ctx, [outside], ["svc"], ctx.head_sha)
    assert release_repo.head() == ctx.head_sha


def test_commit_refused_if_head_moved_while_measuring(release_repo):
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    release_repo.write("README.md", "someone committed meanwhile\n")
    moved = release_repo.commit_all("meanwhile")
    refresh(release_repo)
    with pytest.raises(PerfgateError, match="moved while measuring"):
        commit_baselines(ctx, [release_repo.path / BASELINE], ["svc"], ctx.head_sha)
    assert release_repo.head() == moved
    assert release_repo.git("diff", "--cached", "--name-only") == ""  # nothing staged


# --- who commits -------------------------------------------------------------------------------


def _author_and_committer(repo):
    return repo.git("log", "-1", "--format=%an <%ae>|%cn <%ce>").split("|")


def test_actions_without_identity_commits_as_the_bot(make_repo, monkeypatch):
    anon = make_repo("anon", identity=False)
    anon.git("checkout", "-q", "-b", "release/1.0")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    ctx = check_refresh_allowed(anon.path, GLOBS, force=False)
    assert ctx.identity == (BOT_NAME, BOT_EMAIL)
    refresh(anon)
    assert commit_baselines(ctx, [anon.path / BASELINE], ["svc"], ctx.head_sha)
    bot = f"{BOT_NAME} <{BOT_EMAIL}>"
    assert _author_and_committer(anon) == [bot, bot]


def test_actions_with_configured_identity_keeps_it(release_repo, monkeypatch):
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    ctx = check_refresh_allowed(release_repo.path, GLOBS, force=False)
    assert ctx.identity is None
    refresh(release_repo)
    commit_baselines(ctx, [release_repo.path / BASELINE], ["svc"], ctx.head_sha)
    me = "Test Dev <dev@example.com>"
    assert _author_and_committer(release_repo) == [me, me]


def test_no_identity_outside_actions_is_refused_before_measuring(make_repo):
    anon = make_repo("anon", identity=False)
    anon.git("checkout", "-q", "-b", "release/1.0")
    anon.git("config", "user.useConfigOnly", "true")  # no guessing from the host name
    with pytest.raises(PerfgateError, match="who to commit"):
        check_refresh_allowed(anon.path, GLOBS, force=False)
