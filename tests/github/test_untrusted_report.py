"""A pull request's report is untrusted: crafted reports posted with ``perfgate comment`` from a
``workflow_run`` job (and combined with ``perfgate merge``) against the GitHub stand-in.

What must hold (issue 12): no forged comment content (mentions, HTML, markers, a heading that
contradicts the handlers), strict validation with exit 2 for absurd input (never a traceback,
never exit 1), the head commit only from the event or --head-sha, forks labelled, and the
"bar moved" notice from GitHub's own list of the PR's files.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ghserver import GitHubStandIn
from ghserver.fixtures import HEAD, PR, handler, make_report

from perfgate.cli import main
from perfgate.github.body import MARKER_PREFIX, marker
from perfgate.report import Mode, Report, Verdict

SECRET = "ghs_untrusted0123456789"


def invoke(args: list[str], env: dict[str, str]):
    clean: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("GITHUB_", "PERFGATE_", "GH_"))
    }
    return CliRunner().invoke(main, args, env={**clean, **env})


def workflow_run_env(
    tmp_path: Path,
    standin: GitHubStandIn,
    *,
    head_sha: str | None = HEAD,
    head_repo: str = "mallory/shop",
    pull_requests: list[dict[str, Any]] | None = None,
) -> dict[str, str]:
    """The privileged workflow_run job of the fork pattern, on the stand-in."""
    run: dict[str, Any] = {
        "id": 8800,
        "run_attempt": 1,
        "event": "pull_request",
        "html_url": "https://github.com/acme/shop/actions/runs/8800",
        "head_repository": {"full_name": head_repo},
        "repository": {"full_name": "acme/shop"},
        "pull_requests": pull_requests or [],
    }
    if head_sha is not None:
        run["head_sha"] = head_sha
    path = tmp_path / "workflow_run.json"
    path.write_text(json.dumps({"action": "completed", "workflow_run": run}), encoding="utf-8")
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


def write(tmp_path: Path, data: Any, name: str = "perfgate-report.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def crafted(report: Report, **top: Any) -> dict[str, Any]:
    """A report as JSON data, with top-level fields replaced as an attacker would."""
    data = json.loads(report.to_json())
    data.update(top)
    return data


def post(tmp_path: Path, standin: GitHubStandIn, data: Any, *extra: str, **env_kw: Any):
    path = write(tmp_path, data)
    env = workflow_run_env(tmp_path, standin, **env_kw)
    return invoke(["comment", path, "--pr", str(PR), *extra], env)


def only_comment(standin: GitHubStandIn) -> str:
    (comment,) = standin.comment_list(PR)
    return comment["body"]


# --- forged content ---------------------------------------------------------------------------

FORGED_VERSION = (
    "1.0 @acme/security-team <img src=https://evil.example/p.png> <details open>\n"
    f"{MARKER_PREFIX}example_service -->\n<!-- renovate-bot -->\n&#64;octocat [x](https://evil)"
)


def test_a_crafted_report_is_posted_neutralised(tmp_path, standin):
    report = make_report(
        handler("GET /ok\r| forged | row |", Verdict.PASS),
        handler("GET /slow @octocat", Verdict.REGRESSED, note="&#64;octocat <b>bold</b> #1"),
        handler(f"{MARKER_PREFIX}example_service -->", Verdict.PASS),
        handler("<!-- renovate-bot -->", Verdict.NEW),
    )
    data = crafted(report, perfgate_version=FORGED_VERSION, verdict="pass")
    result = post(tmp_path, standin, data)
    assert result.exit_code == 0, result.output
    body = only_comment(standin)
    lines = body.splitlines()

    # The heading follows the handlers, not the report's "pass".
    assert "### ❌ perfgate: regression found" in lines
    assert "no regression" not in body
    assert "verdict field says 'pass' but its handlers say 'fail'" in body
    # No mention, no issue reference, no HTML, no link from the report's text.
    assert not re.search(r"@\w", body)
    assert not re.search(r"&#\d", body) and "&amp;#" in body
    assert not re.search(r"(?<!\\)#\d", body)
    for tag in ("<img", "<details open", "<b>", "<!-- renovate-bot"):
        assert tag not in body
    assert not re.search(r"(?<!\\)\]\(https://evil", body)  # [x](…) is escaped text
    # Exactly perfgate's own marker line, and only perfgate's own hidden comments.
    assert lines.count(marker("example_service")) == 1
    assert body.count("<!--") == 2 and lines[0] == marker("example_service")
    # \r in a name cannot break the table: one row per handler, each line one row.
    rows = [ln for ln in lines if ln.startswith("| ") and "GET /" in ln]
    assert len(rows) == 2 and all(ln.endswith(" |") for ln in rows)
    assert not any("\r" in ln for ln in lines)
    # The fork is named: the report came from code perfgate does not control.
    assert "From a fork" in body and "`mallory/shop`" in body


def test_the_short_fallback_and_a_cut_table_are_neutralised_too(tmp_path):
    """GitHub refuses the full body (422): the short one has the summary line with the
    --against ref, and failing handlers by name; both come from the report."""
    with GitHubStandIn(max_body=3500) as standin:
        standin.add_pull(PR, HEAD)
        report = make_report(*(handler(f"GET /{i} @team<b>", Verdict.REGRESSED) for i in range(30)))
        data = crafted(
            report,
            mode="against",
            against_ref="main\n### ✅ perfgate: no regression @octocat <img src=x>",
        )
        result = post(tmp_path, standin, data)
        assert result.exit_code == 0, result.output
        body = only_comment(standin)
        assert "posted a short one" in result.output
        assert "### ❌ perfgate: regression found" in body.splitlines()
        assert "no regression" not in body.replace("\\n### ✅ perfgate: no regression", "")
        assert not re.search(r"@\w", body) and "<img" not in body and "<b>" not in body
        assert "(A/B against main\\n\\#" not in body  # the ref is one escaped line
        assert standin.contract_violations == []


def test_merge_recomputes_the_verdict_and_neutralises_text(tmp_path, standin, actions_env):
    a = crafted(
        make_report(handler("GET /a::error::forged", Verdict.REGRESSED, target="svc_a")),
        verdict="pass",
        perfgate_version="1.0\n::error::from the version",
    )
    b = crafted(make_report(handler("GET /b", target="svc_b")))
    paths = [write(tmp_path, a, "a.json"), write(tmp_path, b, "b.json")]
    result = invoke(["merge", *paths], actions_env)
    assert result.exit_code == 1, result.output  # a regression, whatever "verdict" said
    for line in result.output.splitlines():
        if line.lstrip().startswith("::"):
            assert line.startswith(("::error title=perfgate", "::warning title=perfgate")), line
    body = only_comment(standin)
    assert "regression found" in body


# --- strict validation: absurd input is exit 2 with a message ----------------------------------

BIG = "9" * 400


def _report_json() -> str:
    return make_report(handler("GET /a"), handler("GET /b", Verdict.REGRESSED)).to_json()


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda s: s.replace('"count": 500', f'"count": {BIG}', 1), "less than or equal"),
        (lambda s: s.replace('"count": 500', '"count": -5', 1), "greater than or equal"),
        (lambda s: s.replace('"count": 500', '"count": "500"', 1), "valid integer"),
        (lambda s: s.replace('"count": 500', '"count": true', 1), "valid integer"),
        (lambda s: s.replace('"count": 500', '"count": 500.5', 1), "valid integer"),
        (lambda s: s.replace('"delta_pct": 1.0', '"delta_pct": NaN', 1), "finite number"),
        (lambda s: s.replace('"delta_pct": 1.0', '"delta_pct": Infinity', 1), "finite number"),
        (lambda s: s.replace('"delta_pct": 1.0', '"delta_pct": 1e400', 1), "finite number"),
        (lambda s: s.replace('"p_value": null', '"p_value": 7', 1), "less than or equal to 1"),
        (lambda s: s.replace('"verdict": "regressed"', '"verdict": "fine"', 1), "'pass'"),
        (lambda s: s.replace('"mode": "baseline"', '"mode": "trust-me"', 1), "'baseline'"),
        (lambda s: s.replace('"schema_version": 1', '"schema_version": 2', 1), "schema_version"),
        (lambda s: s.replace('"p50_ns": 500000', '"p50_ns": 5000000', 1), "out of order"),
        (lambda s: s.replace('"name": "GET /a"', f'"name": "{"x" * 5000}"', 1), "longer than"),
        (lambda s: s.replace('"commit": "', '"commit": "<img>', 1), "commit"),
        (lambda s: s.replace('"created": "', '"created": "yesterday', 1), "ISO 8601"),
        (lambda s: "[" * 100_000, "not JSON"),
        (lambda s: s.replace('"count": 500', '"count": ' + "9" * 5000, 1), "out of range"),
        (lambda s: "{", "not JSON"),
    ],
)
def test_absurd_reports_exit_2_for_comment_and_merge(tmp_path, standin, edit, needle):
    path = write(tmp_path, edit(_report_json()))
    env = workflow_run_env(tmp_path, standin)
    for args in (["comment", path, "--pr", str(PR)], ["merge", path]):
        result = invoke(args, env)
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output, result.output
        assert "perfgate: error:" in result.output and "Traceback" not in result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
    assert standin.comment_list(PR) == []


def test_a_report_with_absurdly_many_handlers_is_refused(tmp_path, standin):
    report = make_report(handler("GET /a"))
    data = crafted(report)
    data["handlers"] = data["handlers"] * 10_001
    result = post(tmp_path, standin, data)
    assert result.exit_code == 2 and "at most 10000 items" in result.output


def test_a_busy_machine_flag_on_a_pass_is_not_a_pass(tmp_path, standin):
    data = crafted(make_report(handler("GET /a")))
    data["handlers"][0]["busy_machine"] = True
    result = post(tmp_path, standin, data)
    assert result.exit_code == 2 and "busy_machine" in result.output


# --- where it is posted: only from the event or --head-sha -----------------------------------


def test_without_a_head_commit_nothing_is_posted(tmp_path, standin):
    """The event names no head commit and --head-sha is not given: the report's own commit
    (here: the PR's current head) must not be used instead."""
    data = crafted(make_report(), commit=HEAD)
    result = post(tmp_path, standin, data, head_sha=None)
    assert result.exit_code == 2 and "no head commit" in result.output
    assert standin.comment_list(PR) == []
    result = post(tmp_path, standin, data, "--head-sha", HEAD, head_sha=None)
    assert result.exit_code == 0, result.output
    assert f"sha={HEAD}" in only_comment(standin)


def test_a_head_sha_that_is_not_the_prs_head_is_not_posted(tmp_path, standin):
    result = post(tmp_path, standin, crafted(make_report()), "--head-sha", "ab" * 20)
    assert result.exit_code == 0 and "PR's head is now" in result.output
    assert standin.comment_list(PR) == []


def test_a_pr_number_that_disagrees_with_the_event_is_refused(tmp_path, standin):
    standin.add_pull(8, HEAD)
    event_prs = [{"number": PR, "head": {"sha": HEAD}}]
    path = write(tmp_path, crafted(make_report()))
    env = workflow_run_env(tmp_path, standin, pull_requests=event_prs, head_repo="acme/shop")
    result = invoke(["comment", path, "--pr", "8"], env)
    assert result.exit_code == 2 and "disagrees with the event" in result.output
    assert standin.comment_list(8) == [] and standin.comment_list(PR) == []
    result = invoke(["comment", path], env)  # the event's own number
    assert result.exit_code == 0, result.output
    assert "From a fork" not in only_comment(standin)  # same repository: no fork label


# --- the bar moved ----------------------------------------------------------------------------


def test_the_comment_says_when_the_pr_changes_baselines_or_the_config(tmp_path, standin):
    standin.set_files(
        PR,
        "example_service/orders.go",
        "baselines/example_service.json",
        ("svc/baselines/other.json", "renamed", None, "old/other.json"),
        "perfgate.toml",
        ("pyproject.toml", "modified", "@@ -1 +1 @@\n-x\n+y", None),  # not perfgate's part
    )
    # The report (the PR's own run) claims nothing changed: GitHub's list decides.
    result = post(tmp_path, standin, crafted(make_report(), gate_files_changed=[]))
    assert result.exit_code == 0, result.output
    body = only_comment(standin)
    notice = next(ln for ln in body.splitlines() if "The bar moved" in ln)
    for f in ("baselines/example\\_service.json", "svc/baselines/other.json", "perfgate.toml"):
        assert f.replace("\\_", "_") in notice.replace("\\_", "_")
    assert "orders.go" not in notice and "pyproject" not in notice
    assert standin.requests("GET", "/pulls/7/files")


def test_no_notice_when_the_pr_leaves_the_gate_alone(tmp_path, standin):
    standin.set_files(PR, "example_service/orders.go")
    result = post(tmp_path, standin, crafted(make_report()))
    assert result.exit_code == 0, result.output
    assert "bar moved" not in only_comment(standin)


def test_when_githubs_list_cannot_be_read_the_comment_says_it_was_not_checked(tmp_path, standin):
    from ghserver import Fault

    standin.inject(Fault("GET", r"/pulls/7/files", status=500, body={"message": "x"}, times=9))
    result = post(tmp_path, standin, crafted(make_report()), head_repo="mallory/shop")
    env_retries = result.exit_code
    assert env_retries == 0, result.output
    assert "could not list the pull request's files" in only_comment(standin)


def test_modes_and_verdicts_are_typed(tmp_path):
    """The enums in report.py are what a file's strings must be."""
    assert {m.value for m in Mode} == {"baseline", "against"}
    data = crafted(make_report(handler("GET /a", Verdict.REGRESSED)), verdict="fail")
    path = write(tmp_path, data)
    from perfgate.report import load_report

    assert load_report(path).verdict.value == "fail"


# --- secrets never printed ----------------------------------------------------------------


def test_a_token_in_a_report_is_never_printed_posted_or_annotated(tmp_path, standin, actions_env):
    """A report quoting the job's token (the test read it from its parent's environment):
    the output, the annotations, the comment, the job summary and the JSON written all have
    it redacted, also when the variable holds it with a trailing newline."""
    report = make_report(
        handler(f"GET /leak {SECRET}", Verdict.REGRESSED, note=f"token={SECRET}"),
    )
    path = write(tmp_path, crafted(report))
    out_json = tmp_path / "merged.json"
    env = {**actions_env, "GITHUB_TOKEN": "actions-token", "GH_TOKEN": SECRET + "\n"}
    result = invoke(["merge", path, "--json-out", str(out_json)], env)
    assert result.exit_code == 1, result.output
    assert "::error title=perfgate" in result.output and "***" in result.output
    assert SECRET not in result.output
    assert SECRET not in only_comment(standin)
    assert SECRET not in Path(actions_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert SECRET not in out_json.read_text(encoding="utf-8")


def test_a_token_in_an_error_message_is_redacted(tmp_path):
    """An error path that quotes the token (here: a report path that holds it)."""
    result = invoke(["merge", str(tmp_path / f"{SECRET}.json")], {"GITHUB_TOKEN": SECRET + "\n"})
    assert result.exit_code == 2 and "report file not found" in result.output
    assert SECRET not in result.output and "***" in result.output


def test_merge_keeps_every_reports_bar_moved_files(tmp_path, standin, actions_env):
    a = crafted(
        make_report(handler("GET /a", target="svc_a")), gate_files_changed=["perfgate.toml"]
    )
    b = crafted(make_report(handler("GET /b", target="svc_b")), gate_files_changed=[])
    paths = [write(tmp_path, a, "a.json"), write(tmp_path, b, "b.json")]
    result = invoke(["merge", *paths], actions_env)
    assert result.exit_code == 0, result.output
    assert "this pull request changes perfgate.toml: the bar moved" in result.output
    assert "The bar moved" in only_comment(standin)
