"""Reading the Actions environment and event payload."""

from __future__ import annotations

import json

from ghserver.fixtures import HEAD, write_event

from perfgate.github.context import context_from, load_context


def test_pull_request_event(tmp_path):
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "e.json")),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "77",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_TOKEN": "t",
        "GITHUB_SERVER_URL": "https://ghe.example/",
        "GITHUB_API_URL": "https://ghe.example/api/v3/",
    }
    ctx = load_context(env)
    assert ctx.in_actions and ctx.is_pr_event and not ctx.is_fork
    assert (ctx.pr_number, ctx.head_sha, ctx.repository) == (7, HEAD, "acme/shop")
    assert ctx.api_url == "https://ghe.example/api/v3"
    assert ctx.run_url == "https://ghe.example/acme/shop/actions/runs/77/attempts/2"
    assert ctx.commit_url(HEAD) == f"https://ghe.example/acme/shop/commit/{HEAD}"
    assert ctx.warnings == ()


def test_fork_pull_request(tmp_path):
    path = write_event(tmp_path / "e.json", head_repo="mallory/shop")
    ctx = load_context({"GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_EVENT_PATH": str(path)})
    assert ctx.is_pr_event and ctx.is_fork


def test_workflow_run_describes_the_triggering_run():
    event = {
        "workflow_run": {
            "id": 999,
            "run_attempt": 1,
            "head_sha": HEAD,
            "html_url": "https://github.com/acme/shop/actions/runs/999",
            "head_repository": {"full_name": "mallory/shop"},
            "repository": {"full_name": "acme/shop"},
            "pull_requests": [{"number": 7, "head": {"sha": HEAD}}],
        }
    }
    env = {
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_RUN_ID": "1000",
        "GITHUB_REPOSITORY": "acme/shop",
    }
    ctx = context_from(env, event)
    assert (ctx.run_id, ctx.head_sha, ctx.pr_number, ctx.is_fork) == (999, HEAD, 7, True)
    assert ctx.run_url == "https://github.com/acme/shop/actions/runs/999"
    # For fork PRs GitHub leaves pull_requests empty: no number then.
    event["workflow_run"]["pull_requests"] = []
    assert context_from(env, event).pr_number is None


def test_outside_actions_and_broken_event_files(tmp_path):
    ctx = load_context({})
    assert not ctx.in_actions and ctx.pr_number is None and ctx.token is None
    assert ctx.api_url == "https://api.github.com"

    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    assert "not JSON" in load_context({"GITHUB_EVENT_PATH": str(bad)}).warnings[0]
    missing = load_context({"GITHUB_EVENT_PATH": str(tmp_path / "nope.json")})
    assert "cannot read the event payload" in missing.warnings[0]
    bad.write_text(json.dumps([1, 2]), encoding="utf-8")
    assert "not a JSON object" in load_context({"GITHUB_EVENT_PATH": str(bad)}).warnings[0]


def test_gh_token_is_accepted_too():
    assert context_from({"GH_TOKEN": "x"}, None).token == "x"
    assert context_from({"GH_TOKEN": "x", "GITHUB_TOKEN": "y"}, None).token == "y"
