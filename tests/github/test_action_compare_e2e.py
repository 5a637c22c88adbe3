"""The Action's `compare: base` end to end: its two steps (resolve and fetch the PR's base, then
`perfgate check`) run under bash as Actions runs them, with the real perfgate, real git and real
Go, on a copy of this repository's module in a pull_request job simulated by an event file.

Whatever this machine measures, the comparison must be the one the test set up: A/B against the
base when the base builds, and the committed baseline with a visible warning when it does not.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

REPO = Path(__file__).resolve().parents[2]
ACTION = REPO / "action.yml"
EXIT = {"pass": 0, "fail": 1, "inconclusive": 3}


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture(scope="module")
def origin(tmp_path_factory) -> tuple[Path, str, str]:
    """main: the module as committed (sha ``good``); broken: main plus a compile error (sha
    ``broken``); pr (checked out): broken plus a commit that fixes it and adds a note, so its
    merge-base with ``good`` is ``good``, with ``broken`` is ``broken``."""
    if shutil.which("go") is None or shutil.which("bash") is None:
        pytest.skip("needs a Go toolchain and bash")
    root = tmp_path_factory.mktemp("action-ab") / "repo"
    root.mkdir()
    shutil.copy2(REPO / "go.mod", root / "go.mod")
    shutil.copy2(REPO / "perfgate.toml", root / "perfgate.toml")
    for d in ("example_service", "perftest"):
        shutil.copytree(REPO / d, root / d)
    shutil.copytree(REPO / "baselines", root / "baselines", ignore=shutil.ignore_patterns("*.md"))
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "T")
    git(root, "config", "user.email", "t@example.com")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "service")
    good = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-qb", "broken")
    health = root / "example_service" / "health.go"
    health.write_text(health.read_text() + "\nfunc broken() { undefinedThing() }\n")
    git(root, "commit", "-qam", "broken")
    broken = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-qb", "pr")
    git(root, "checkout", "-q", good, "--", "example_service/health.go")  # the PR fixes it
    (root / "NOTES.md").write_text("nothing measured changes\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "fix the build, and docs")
    return root, good, broken


def run_action(repo: Path, tmp: Path, base_sha: str) -> tuple[int, str, dict, dict]:
    """The action's compare and check steps, as in a pull_request job whose base is base_sha,
    with 3 runs and no comment; returns the exit code, stdout, the step outputs, the report."""
    yaml = pytest.importorskip("ruamel.yaml", reason="ruamel.yaml comes with check-jsonschema")
    action = yaml.YAML(typ="safe").load(ACTION.read_text(encoding="utf-8"))
    steps = {s.get("id"): s for s in action["runs"]["steps"]}
    shim = tmp / "bin"
    shim.mkdir(exist_ok=True)
    (shim / "perfgate").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m perfgate "$@"\n')
    (shim / "perfgate").chmod(0o755)
    event = tmp / "event.json"
    pr = {"number": 3, "base": {"sha": base_sha, "ref": "main"}, "head": {"sha": "0" * 40}}
    event.write_text(json.dumps({"pull_request": pr}), encoding="utf-8")
    out = tmp / "github-output"
    out.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERFGATE_", "GH_"))}
    env.update(
        PATH=f"{shim}{os.pathsep}{env.get('PATH', '')}",
        GOTOOLCHAIN="local",
        GITHUB_EVENT_NAME="pull_request",
        GITHUB_EVENT_PATH=str(event),
        GITHUB_OUTPUT=str(out),
        INPUT_COMPARE="auto",
        EVENT_NAME="pull_request",
        BASE_SHA=base_sha,
        FETCH_TOKEN="",
    )
    for name, value in {
        "CONFIG": "",
        "TARGETS": "example_service",
        "RUNS": "3",
        "THRESHOLD": "",
        "COMMENT": "never",
        "COMMENT_KEY": "",
        "JSON_OUT": str(tmp / "r.json"),
        "MARKDOWN_OUT": str(tmp / "r.md"),
        "ARGS": "",
    }.items():
        env[f"INPUT_{name}"] = value
    bash = ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c"]
    resolved = subprocess.run(
        [*bash, steps["compare"]["run"]], cwd=repo, env=env, capture_output=True, text=True
    )
    assert resolved.returncode == 0, resolved.stdout + resolved.stderr
    outputs = dict(line.split("=", 1) for line in out.read_text().splitlines())
    env.update(COMPARE_MODE=outputs["mode"], COMPARE_PROBLEM=outputs["problem"])
    proc = subprocess.run(
        [*bash, steps["check"]["run"]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    outputs = dict(
        line.split("=", 1) for line in out.read_text().splitlines() if "=" in line
    )  # perfgate's own outputs are heredocs; the simple lines are enough here
    report = (
        json.loads((tmp / "r.json").read_text(encoding="utf-8"))
        if (tmp / "r.json").exists()
        else {}
    )
    return proc.returncode, proc.stdout + proc.stderr, outputs, report


def test_a_pull_request_is_measured_against_its_base_on_this_machine(origin, tmp_path):
    repo, good, _ = origin
    code, log, outputs, report = run_action(repo, tmp_path, good)
    assert report, log
    assert outputs["compared-with"] == "base"
    assert report["mode"] == "against" and report["against_ref"].startswith("merge-base (")
    assert good[:7] in report["against_ref"]
    assert code == EXIT[report["verdict"]], log
    assert "judged against the committed baseline instead" not in log


def test_a_base_that_does_not_build_falls_back_to_the_committed_baseline(origin, tmp_path):
    repo, _, broken = origin
    code, log, outputs, report = run_action(repo, tmp_path, broken)
    assert report, log
    assert "could not build" in log  # the A/B attempt's error stays in the log
    assert outputs["compared-with"] == "baseline"
    assert report["mode"] == "baseline"
    (warning,) = [w for w in report["warnings"] if "committed baseline instead" in w]
    assert warning.startswith("could not measure the pull request's base")
    assert f"::warning title=perfgate::{warning}" in log
    assert warning in (tmp_path / "r.md").read_text(encoding="utf-8")  # the comment's body
    assert code == EXIT[report["verdict"]], log
