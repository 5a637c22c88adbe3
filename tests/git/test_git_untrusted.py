"""Paths and pushes a pull request could redirect (issue 12), on real repositories with a bare
remote: a configured path outside the repository is refused before anything is measured or
written, and ``--push`` goes only to a remote release branch. Also: which of the gate's files a
pull request changes, compared with its base."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from perfgate.cli import main
from perfgate.git import changed_since_base, toplevel

CONFIG = '[[targets]]\nname = "svc"\npackage = "."\nrun = "^TestPerf$"\n'


def perfgate(*args: str):
    return CliRunner().invoke(main, list(args), env={"GITHUB_ACTIONS": None})


@pytest.mark.parametrize("command", [["baseline", "update"], ["check"], ["history"]])
def test_a_baseline_path_outside_the_repository_is_refused_before_anything_happens(
    repo, tmp_path, monkeypatch, command
):
    repo.write("perfgate.toml", CONFIG + 'baseline = "../elsewhere/x.json"\n')
    repo.commit_all("config")
    monkeypatch.chdir(repo.path)
    result = perfgate(*command)
    assert result.exit_code == 2, result.output
    assert "baseline = '../elsewhere/x.json'" in result.output
    assert "outside the repository" in result.output
    assert not (tmp_path / "elsewhere").exists()
    assert repo.status() == ""


def test_push_to_a_remote_branch_that_is_not_a_release_branch_is_refused(remote_pair, monkeypatch):
    """release/1.0 tracking origin/main: --commit --push must not push the baseline to main."""
    work, _other, bare = remote_pair
    work.write("perfgate.toml", CONFIG + 'baseline = "baselines/svc.json"\n')
    work.commit_all("config")
    work.git("branch", "--set-upstream-to=origin/main")
    main_before = bare.git("rev-parse", "main")
    monkeypatch.chdir(work.path)
    result = perfgate("baseline", "update", "--commit", "--push")
    assert result.exit_code == 2, result.output
    assert "would push to origin/main, which is not a release branch" in result.output
    result = perfgate("baseline", "update", "--commit", "--push", "--force")
    assert result.exit_code == 2 and "not a release branch" in result.output
    assert bare.git("rev-parse", "main") == main_before
    assert work.count("origin/release/1.0..HEAD") == 1  # only the config commit, not pushed


def test_the_files_a_pull_request_changes_among_the_gates(remote_pair, tmp_path):
    work, _other, _bare = remote_pair
    base = work.head()
    work.git("checkout", "-q", "-b", "feature")
    work.write("main.go", "package main\n\nfunc main() { println() }\n")
    work.write_baseline({"GET /items": 999_000_000})
    work.write("perfgate.toml", CONFIG)
    work.commit_all("loosen the gate")
    work.write("baselines/new.json", "{}\n")  # untracked, new
    paths = [work.path / "perfgate.toml", work.path / "baselines", work.path / "pyproject.toml"]

    by_sha = changed_since_base(work.path, paths, base_sha=base)
    assert by_sha.files == ("baselines/new.json", "baselines/svc.json", "perfgate.toml")
    assert by_sha.problem is None and by_sha.base == base
    by_ref = changed_since_base(work.path, paths, base_ref="release/1.0")
    assert by_ref.files == by_sha.files

    # The base branch moved on (someone refreshed its baseline): only the PR's own changes count.
    _other.write_baseline({"GET /items": 1})
    _other.commit_all("refresh on the base")
    _other.git("push", "-q", "origin", "release/1.0")
    work.git("fetch", "-q", "origin")
    work.git("checkout", "-q", "main.go")
    only_main = changed_since_base(work.path, [work.path / "main.go"], base_ref="release/1.0")
    assert only_main.files == ("main.go",)

    missing = changed_since_base(work.path, paths, base_sha="f" * 40)
    assert missing.files == () and "not in this clone" in (missing.problem or "")
    assert toplevel(work.path / "baselines") == work.path
    assert toplevel(tmp_path / "nowhere") is None


def test_outside_git_the_changes_cannot_be_told_but_nothing_fails(tmp_path):
    (tmp_path / "perfgate.toml").write_text(CONFIG)
    found = changed_since_base(tmp_path, [tmp_path / "perfgate.toml"], base_ref="main")
    assert found.files == () and "not a git repository" in (found.problem or "")
