"""``perfgate comment`` and ``perfgate merge`` through click, against the stand-in."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from ghserver import Fault
from ghserver.fixtures import HEAD, NEWER_HEAD, PR, handler, make_report

from perfgate.cli import main
from perfgate.commands.comment import comment as comment_command
from perfgate.commands.merge import merge as merge_command
from perfgate.github.body import marker
from perfgate.report import Mode, Report, Verdict, load_report


def invoke(command, args: list[str], env: dict[str, str] | None = None):
    """Run ``perfgate <command> ARGS`` (through the main group and its error handler) with
    exactly ``env`` as its GitHub environment (nothing leaks in)."""
    clean: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("GITHUB_", "PERFGATE_", "GH_"))
    }
    return CliRunner().invoke(main, [command.name, *args], env={**clean, **(env or {})})


def save(report: Report, path: Path) -> str:
    path.write_text(report.to_json(), encoding="utf-8")
    return str(path)


@pytest.fixture
def two_reports(tmp_path: Path) -> list[str]:
    a = make_report(handler("GET /a", target="svc_a"), handler("GET /a2", target="svc_a"))
    b = make_report(handler("GET /b", Verdict.REGRESSED, target="svc_b"))
    return [save(a, tmp_path / "a.json"), save(b, tmp_path / "b.json")]


def test_merge_combines_reports_and_exits_like_check(two_reports, tmp_path):
    out_json, out_md = tmp_path / "merged.json", tmp_path / "merged.md"
    result = invoke(
        merge_command, [*two_reports, "--json-out", str(out_json), "--markdown-out", str(out_md)]
    )
    assert result.exit_code == 1, result.output
    merged = load_report(out_json)
    assert [t.name for t in merged.targets] == ["svc_a", "svc_b"]
    assert [h.name for h in merged.handlers] == ["GET /a", "GET /a2", "GET /b"]
    assert merged.verdict == "fail"
    assert "svc_b: GET /b" in out_md.read_text(encoding="utf-8")
    assert "perfgate: FAIL" in result.output


def test_merge_of_passing_reports_exits_0(tmp_path):
    a = save(make_report(handler("GET /a", target="svc_a")), tmp_path / "a.json")
    b = save(make_report(handler("GET /b", target="svc_b")), tmp_path / "b.json")
    assert invoke(merge_command, [a, b]).exit_code == 0


def test_merge_rejects_a_target_in_two_reports(tmp_path):
    a = save(make_report(handler("GET /a", target="svc")), tmp_path / "a.json")
    b = save(make_report(handler("GET /b", target="svc")), tmp_path / "b.json")
    result = invoke(merge_command, [a, b])
    assert result.exit_code == 2
    assert "target 'svc' is in both" in result.output and "--target" in result.output


def test_merge_rejects_bad_input(tmp_path):
    result = invoke(merge_command, [str(tmp_path / "missing.json")])
    assert result.exit_code == 2 and "report file not found" in result.output

    a = make_report(handler("GET /a", target="svc_a"))
    b = make_report(handler("GET /b", target="svc_b"))
    b.commit = NEWER_HEAD
    result = invoke(merge_command, [save(a, tmp_path / "a.json"), save(b, tmp_path / "b.json")])
    assert result.exit_code == 2 and "disagree on the commit" in result.output

    b.commit, b.mode = a.commit, Mode.AGAINST
    result = invoke(merge_command, [save(a, tmp_path / "a.json"), save(b, tmp_path / "b.json")])
    assert result.exit_code == 2 and "disagree on the mode" in result.output


def test_merge_posts_one_comment_for_all_jobs(two_reports, actions_env, standin):
    result = invoke(merge_command, two_reports, actions_env)
    assert result.exit_code == 1, result.output
    (comment,) = standin.comment_list(PR)
    assert marker("svc_a+svc_b") in comment["body"].splitlines()
    assert "svc_a: GET /a" in comment["body"] and "svc_b: GET /b" in comment["body"]
    assert "::error title=perfgate%3A svc_b%3A GET /b regressed::" in result.output
    outputs = Path(actions_env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
    assert "verdict<<" in outputs and "\nfail\n" in outputs


def test_merge_with_a_fork_token_keeps_the_gates_exit_code(two_reports, actions_env, standin):
    result = invoke(merge_command, two_reports, {**actions_env, "GITHUB_TOKEN": "fork-token"})
    assert result.exit_code == 1
    assert "perfgate: warning:" in result.output and "workflow_run" in result.output
    assert standin.comment_list(PR) == []


def workflow_run_env(tmp_path: Path, standin, *, head_sha: str = HEAD) -> dict[str, str]:
    """The privileged workflow_run job that posts a fork PR's report."""
    event = {
        "action": "completed",
        "workflow_run": {
            "id": 8800,
            "run_attempt": 1,
            "event": "pull_request",
            "head_sha": head_sha,
            "html_url": "https://github.com/acme/shop/actions/runs/8800",
            "head_repository": {"full_name": "mallory/shop"},
            "repository": {"full_name": "acme/shop"},
            "pull_requests": [],
        },
    }
    path = tmp_path / "workflow_run.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": standin.url,
        "GITHUB_TOKEN": "actions-token",
        "GITHUB_RUN_ID": "8801",
        "PERFGATE_GITHUB_BACKOFF": "0.01",
        "PERFGATE_GITHUB_TIMEOUT": "1",
    }


def test_comment_posts_a_fork_prs_report_from_workflow_run(tmp_path, standin, failing_report):
    path = save(failing_report, tmp_path / "perfgate-report.json")
    result = invoke(comment_command, [path, "--pr", str(PR)], workflow_run_env(tmp_path, standin))
    assert result.exit_code == 0, result.output
    (comment,) = standin.comment_list(PR)
    assert comment["user"]["login"] == "github-actions[bot]"
    assert "regression found" in comment["body"]
    assert "https://github.com/acme/shop/actions/runs/8800" in comment["body"]
    assert f"sha={HEAD}" in comment["body"]
    assert "PR comment created" in result.output

    # Posting again edits it.
    result = invoke(comment_command, [path, "--pr", str(PR)], workflow_run_env(tmp_path, standin))
    assert result.exit_code == 0 and len(standin.comment_list(PR)) == 1


def test_comment_refuses_a_report_for_another_head(tmp_path, standin, report):
    path = save(report, tmp_path / "r.json")
    env = workflow_run_env(tmp_path, standin, head_sha=NEWER_HEAD)
    result = invoke(comment_command, [path, "--pr", str(PR)], env)
    assert result.exit_code == 0
    assert "PR's head is now" in result.output
    assert standin.comment_list(PR) == []


def test_comment_bad_input_exits_2(tmp_path, standin, report):
    path = save(report, tmp_path / "r.json")
    env = workflow_run_env(tmp_path, standin)
    result = invoke(comment_command, [path], env)
    assert result.exit_code == 2 and "no pull-request number" in result.output

    result = invoke(comment_command, [path, "--pr", "7"], {**env, "GITHUB_TOKEN": ""})
    assert result.exit_code == 2 and "no GitHub token" in result.output

    result = invoke(comment_command, [path, "--pr", "7", "--repo", "not a repo"], env)
    assert result.exit_code == 2 and "--repo OWNER/NAME" in result.output

    result = invoke(comment_command, [path, "--pr", "7", "--head-sha", "zzz"], env)
    assert result.exit_code == 2 and "not a commit sha" in result.output

    result = invoke(comment_command, [str(tmp_path / "nope.json"), "--pr", "7"], env)
    assert result.exit_code == 2 and "report file not found" in result.output
    assert standin.requests() == []


def test_comment_api_trouble_exits_0_with_a_warning(tmp_path, standin, report):
    path = save(report, tmp_path / "r.json")
    env = workflow_run_env(tmp_path, standin)
    standin.inject(Fault("*", "/pulls/", status=500, body={"message": "down"}, times=99))
    result = invoke(
        comment_command, [path, "--pr", str(PR)], {**env, "PERFGATE_GITHUB_RETRIES": "2"}
    )
    assert result.exit_code == 0
    assert "perfgate: warning: could not post the PR comment" in result.output
    assert "::warning title=perfgate::" in result.output


def test_comment_takes_the_pr_from_the_event_or_pr_not_from_the_report(tmp_path, standin, report):
    """perfgate writes no "github" object into reports, so none is read from one: the PR comes
    from the event or --pr (a fork PR's artifact passes it along, see perfgate-comment.yml)."""
    data = json.loads(report.to_json())
    data["github"] = {"pull_request": PR, "head_sha": HEAD, "repository": "acme/shop"}
    path = tmp_path / "r.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    env = {
        "GITHUB_API_URL": standin.url,
        "GITHUB_TOKEN": "user-token",
        "GITHUB_REPOSITORY": "acme/shop",
        "PERFGATE_GITHUB_BACKOFF": "0",
    }
    result = invoke(comment_command, [str(path)], env)
    assert result.exit_code == 2 and "no pull-request number" in result.output
    # nor the head commit: without the event's or --head-sha, nothing is posted
    result = invoke(comment_command, [str(path), "--pr", str(PR)], env)
    assert result.exit_code == 2 and "no head commit" in result.output
    assert standin.comment_list(PR) == []
    result = invoke(comment_command, [str(path), "--pr", str(PR), "--head-sha", HEAD], env)
    assert result.exit_code == 0, result.output
    (comment,) = standin.comment_list(PR)
    assert comment["user"]["login"] == "perfgate-dev"


def test_comment_dry_run_prints_the_body(tmp_path, standin, report):
    path = save(report, tmp_path / "r.json")
    args = [path, "--pr", "7", "--repo", "acme/shop", "--dry-run", "--comment-key", "k1"]
    args += ["--head-sha", HEAD]
    result = invoke(comment_command, args, {})
    assert result.exit_code == 0
    assert result.output.startswith(marker("k1"))
    assert standin.requests() == []


def test_the_main_cli_registers_both_commands():
    # commands are imported when first used (perfgate.cli.PerfgateGroup.get_command)
    assert main.get_command(None, "comment") is comment_command
    assert main.get_command(None, "merge") is merge_command
    assert {"comment", "merge"} <= set(main.list_commands(None))
