"""`perfgate check` end to end in a simulated GitHub Actions pull_request job.

The real CLI runs as a subprocess in the repository root (perfgate.toml: example_service, real
Go), with the Actions environment pointing GITHUB_API_URL at the GitHub stand-in. Whatever the
measurement says on this machine, the exit code must follow the report's verdict, the PR must
end up with exactly one perfgate comment, and the job summary, outputs and annotations must be
written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ghserver.fixtures import PR, write_event

from perfgate.github.body import marker

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]


# What each overall verdict exits with. Which verdict comes out depends on this machine against
# the committed baseline (measured elsewhere), so the tests take it from the report.
EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}


def check(env: dict[str, str], out_dir: Path) -> tuple[int, str, str, dict]:
    """Run `perfgate check` with only ``env``'s GitHub variables (none leak from the host)."""
    if shutil.which("go") is None:
        pytest.skip("needs a Go toolchain on PATH")
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERFGATE_", "GH_"))
    }
    report = out_dir / "perfgate-report.json"
    args = [
        "check",
        "--runs",
        "3",
        "--json-out",
        str(report),
        "--markdown-out",
        str(out_dir / "r.md"),
    ]
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", *args],
        cwd=REPO,
        env={**base, "GOTOOLCHAIN": "local", **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    return proc.returncode, proc.stdout, proc.stderr, data


def test_check_in_a_pull_request_job(standin, actions_env, tmp_path):
    code, out, err, report = check(actions_env, tmp_path)

    assert report, out + err
    assert code == EXIT[report["verdict"]], err
    (comment,) = standin.comment_list(PR)
    body = comment["body"]
    assert marker("example_service") in body.splitlines()
    for h in report["handlers"]:
        assert f"| {h['name']}" in body
    assert "actions/runs/5001" in body and comment["user"]["login"] == "github-actions[bot]"
    assert "PR comment created" in err

    summary = Path(actions_env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
    assert "### " in summary and all(f"| {h['name']}" in summary for h in report["handlers"])
    outputs = Path(actions_env["GITHUB_OUTPUT"]).read_text(encoding="utf-8")
    assert f"\n{report['verdict']}\n" in outputs
    assert f"\n{tmp_path / 'perfgate-report.json'}\n" in outputs
    failing = [h for h in report["handlers"] if h["verdict"] in ("regressed", "missing")]
    doubtful = [
        h for h in report["handlers"] if h["verdict"] in ("new", "insufficient", "inconclusive")
    ]  # an inconclusive handler (a busy runner) is annotated as a warning too
    assert out.count("::error title=perfgate%3A") == min(len(failing), 10)
    assert out.count("::warning title=perfgate%3A") == min(len(doubtful), 10)

    # A second run edits the same comment.
    code2, _, err2, report2 = check({**actions_env, "GITHUB_RUN_ID": "5002"}, tmp_path)
    assert code2 == EXIT[report2["verdict"]]
    (again,) = standin.comment_list(PR)
    assert again["id"] == comment["id"] and "actions/runs/5002" in again["body"]
    assert "PR comment updated" in err2


def test_check_on_a_fork_pr_keeps_its_exit_code_and_explains(standin, actions_env, tmp_path):
    env = {
        **actions_env,
        "GITHUB_TOKEN": "fork-token",
        "GITHUB_EVENT_PATH": str(write_event(tmp_path / "fork.json", head_repo="mallory/shop")),
    }
    code, out, err, report = check(env, tmp_path)

    assert report, out + err
    assert code == EXIT[report["verdict"]]
    assert "perfgate: warning:" in err and "workflow_run" in err
    assert "::warning title=perfgate::" in out
    assert standin.comment_list(PR) == []
