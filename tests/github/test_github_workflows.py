"""The Action and the workflows: actionlint, GitHub's JSON schemas, ShellCheck, and the policies
the issue asks for (least privilege, the fork pattern, a refresh that cannot trigger itself).

actionlint and ShellCheck come from scripts/install_lint_tools.sh; a test skips, saying so, only
when its tool is not installed.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
INSTALL_HINT = "scripts/install_lint_tools.sh installs it"


def find_tool(name: str) -> str | None:
    """On PATH, in .venv/bin, or in Go's bin directory (where `go install` puts actionlint)."""
    found = shutil.which(name) or shutil.which(name, path=str(REPO / ".venv" / "bin"))
    if found:
        return found
    gopath = os.environ.get("GOPATH") or str(Path.home() / "go")
    candidate = Path(gopath) / "bin" / name
    return str(candidate) if candidate.is_file() and os.access(candidate, os.X_OK) else None


def load_yaml(path: Path) -> Any:
    yaml = pytest.importorskip("ruamel.yaml", reason="ruamel.yaml comes with check-jsonschema")
    return yaml.YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def test_the_workflows_exist():
    names = {p.name for p in WORKFLOWS}
    assert {
        "ci.yml",
        "perfgate.yml",
        "perfgate-comment.yml",
        "baseline-refresh.yml",
        "perfgate-history.yml",
    } <= names


def test_actionlint():
    exe = find_tool("actionlint")
    if exe is None:
        pytest.skip(f"actionlint is not installed ({INSTALL_HINT})")
    shellcheck = find_tool("shellcheck")
    # The files named: actionlint then needs no git repository around them (an unpacked sdist).
    args = [exe, "-color=false", f"-shellcheck={shellcheck or ''}", *map(str, WORKFLOWS)]
    proc = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("schema", "files"),
    [
        ("vendor.github-workflows", [str(p) for p in WORKFLOWS]),
        ("vendor.github-actions", [str(ACTION)]),
    ],
)
def test_github_json_schemas(schema: str, files: list[str]):
    pytest.importorskip("check_jsonschema", reason="check-jsonschema is in the test extra")
    cmd = [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *files]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_actions_run_scripts_pass_shellcheck(tmp_path: Path):
    exe = find_tool("shellcheck")
    if exe is None:
        pytest.skip(f"shellcheck is not installed ({INSTALL_HINT})")
    steps = load_yaml(ACTION)["runs"]["steps"]
    scripts = [s["run"] for s in steps if "run" in s]
    assert scripts
    for i, script in enumerate(scripts):
        assert "${{" not in script, "inputs must reach run: scripts through env, not ${{ }}"
        path = tmp_path / f"step{i}.sh"
        path.write_text(script, encoding="utf-8")
        proc = subprocess.run(
            [exe, "--shell=bash", str(path)], capture_output=True, text=True, timeout=60
        )
        assert proc.returncode == 0, proc.stdout


def all_uses(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["uses"]] if isinstance(node.get("uses"), str) else []
        return found + [u for v in node.values() for u in all_uses(v)]
    if isinstance(node, list):
        return [u for v in node for u in all_uses(v)]
    return []


def test_third_party_actions_are_pinned():
    for path in [*WORKFLOWS, ACTION]:
        for uses in all_uses(load_yaml(path)):
            if uses.startswith("./"):
                continue
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@(v\d+(\.\d+)*|[0-9a-f]{40})", uses), (
                f"{path.name}: {uses} is not pinned to a version tag or commit"
            )


def test_action_inputs_outputs_and_install():
    action = load_yaml(ACTION)
    for name in [
        "config",
        "targets",
        "runs",
        "threshold",
        "comment",
        "python-version",
        "go-version",
        "working-directory",
        "args",
    ]:
        assert name in action["inputs"], name
    assert {"verdict", "report"} <= set(action["outputs"])
    assert action["runs"]["using"] == "composite"
    uses = all_uses(action)
    assert any(u.startswith("actions/setup-python@") for u in uses)
    assert any(u.startswith("actions/setup-go@") for u in uses)
    text = ACTION.read_text(encoding="utf-8")
    assert "--json-out" in text and "--markdown-out" in text
    assert len(action["description"]) <= 125, "the Marketplace takes at most 125 characters"


def test_the_action_installs_its_own_version_from_a_cached_wheel():
    action = load_yaml(ACTION)
    steps = {s.get("name"): s for s in action["runs"]["steps"]}
    locate = steps["Locate perfgate"]
    assert locate["id"] == "locate"
    assert '"$GITHUB_ACTION_PATH/scripts/action_source_key.py"' in locate["run"]
    cache = steps["Cache perfgate's wheels"]
    assert cache["uses"].startswith("actions/cache@")
    key = cache["with"]["key"]
    for part in (
        "steps.locate.outputs.version",
        "steps.locate.outputs.source",
        "runner.os",
        "runner.arch",
        "steps.python.outputs.python-version",
    ):
        assert part in key, part
    assert cache["with"]["path"] == "${{ steps.locate.outputs.wheelhouse }}"
    build = steps["Build perfgate's wheel"]
    assert build["if"] == "steps.wheels.outputs.cache-hit != 'true'"
    assert "pip wheel" in build["run"] and '"$GITHUB_ACTION_PATH"' in build["run"]
    install = steps["Install perfgate"]["run"]
    assert "--no-index" in install and '"perfgate==$PERFGATE_VERSION"' in install
    assert "GITHUB_ACTION_PATH" not in install  # only the wheel built from it
    go = steps["Set up Go"]["with"]
    assert go["cache"] is True
    assert go["cache-dependency-path"].splitlines() == [
        "${{ inputs.working-directory }}/go.sum",
        "${{ inputs.working-directory }}/go.mod",
    ]


def test_ci_runs_the_matrix_with_read_only_permissions():
    ci = load_yaml(REPO / ".github" / "workflows" / "ci.yml")
    assert ci["permissions"] == {"contents": "read"}
    jobs = ci["jobs"]
    # The whole suite on every Python perfgate supports.
    assert jobs["test"]["strategy"]["matrix"]["python"] == ["3.10", "3.11", "3.12", "3.13", "3.14"]
    test_go = next(s for s in jobs["test"]["steps"] if "setup-go" in s.get("uses", ""))
    assert jobs["test"]["steps"][-1]["run"] == "scripts/test.sh -ra"
    # The end-to-end tests on every Go perfgate supports (the test job has the newest).
    e2e_go = jobs["e2e"]["strategy"]["matrix"]["go"]
    assert sorted([*e2e_go, test_go["with"]["go-version"]]) == [f"1.{m}" for m in range(22, 28)]
    assert jobs["e2e"]["steps"][-1]["run"] == "python -m pytest -m e2e -ra"
    # macOS and Windows: unit and reader tests, the C scanner built by their compilers.
    platforms = jobs["platforms"]
    assert platforms["strategy"]["matrix"]["os"] == ["macos-latest", "windows-latest"]
    install = next(s for s in platforms["steps"] if s.get("name", "").startswith("Install"))
    assert install["env"] == {"PERFGATE_REQUIRE_EXTENSION": "1"}
    assert (
        platforms["steps"][-1]["run"] == 'python -m pytest tests/unit tests/trace -m "not e2e" -ra'
    )
    assert not any("setup-go" in s.get("uses", "") for s in platforms["steps"])
    for name, job in jobs.items():
        assert isinstance(job.get("timeout-minutes"), int), name
        for step in job["steps"]:
            uses = step.get("uses", "")
            if uses.startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
            if uses.startswith("actions/setup-go@"):
                assert step["with"]["cache"] is True, name
            if uses.startswith("actions/setup-python@"):
                assert step["with"]["cache"] == "pip", name


def test_the_gate_job_that_runs_pr_code_gets_no_write_token_and_no_secrets():
    """It runs the pull request's perf test, so it gets nothing worth stealing: a read-only
    token, no secrets, no persisted git credentials; the comment comes from workflow_run."""
    wf = load_yaml(REPO / ".github" / "workflows" / "perfgate.yml")
    assert list(wf["on"]) == ["pull_request"]
    assert wf["permissions"] == {"contents": "read"}
    assert "secrets." not in (REPO / ".github" / "workflows" / "perfgate.yml").read_text()
    steps = wf["jobs"]["gate"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    assert checkout["with"]["fetch-depth"] == 0  # the base commit: did the PR move the bar?
    gate = next(s for s in steps if s.get("uses") == "./")
    assert gate["with"]["comment"] == "never"
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact@"))
    assert upload["if"] == "always()" and upload["with"]["name"] == "perfgate-report"


def test_the_comment_workflow_is_fork_safe():
    wf = load_yaml(REPO / ".github" / "workflows" / "perfgate-comment.yml")
    assert wf["on"]["workflow_run"]["workflows"] == ["perfgate"]
    assert wf["permissions"]["pull-requests"] == "write"
    assert "contents" not in wf["permissions"] or wf["permissions"]["contents"] == "read"
    job = wf["jobs"]["comment"]
    assert "head_repository" not in job["if"]  # every PR's comment is posted from here
    for step in job["steps"]:
        if step.get("uses", "").startswith("actions/checkout@"):
            assert "ref" not in (step.get("with") or {}), "must not check out the PR's code"
    download = next(s for s in job["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
    post = job["steps"][-1]["run"]
    assert "perfgate comment" in post and "--pr" in post
    assert "${{" not in post


def test_the_baseline_refresh_cannot_trigger_itself():
    wf = load_yaml(REPO / ".github" / "workflows" / "baseline-refresh.yml")
    assert wf["on"]["push"]["branches"] == ["release/**", "release-*"]
    assert wf["permissions"] == {"contents": "write"}
    assert wf["concurrency"]["cancel-in-progress"] is False
    assert "github.ref" in wf["concurrency"]["group"]
    job = wf["jobs"]["refresh"]
    assert job["if"] == "github.actor != 'github-actions[bot]'"
    assert job["steps"][-1]["run"] == "perfgate baseline update --commit --push"


def test_the_history_records_main_only_with_write_access_where_it_pushes():
    wf = load_yaml(REPO / ".github" / "workflows" / "perfgate-history.yml")
    assert wf["on"] == {"push": {"branches": ["main"]}}  # never a pull request's code
    assert wf["permissions"] == {"contents": "read"}
    assert wf["concurrency"] == {"group": "perfgate-history", "cancel-in-progress": False}
    (job,) = wf["jobs"].values()
    assert job["permissions"] == {"contents": "write"}
    assert isinstance(job.get("timeout-minutes"), int)
    record = job["steps"][-1]["run"]
    assert record.startswith("perfgate history record") and "--push" in record
    assert "${{" not in record


# A stub perfgate: prints its arguments, one per line, and a "--" line; exits with
# $STUB_AGAINST_EXIT when called with --against, else with $STUB_EXIT (default 0).
STUB = """#!/usr/bin/env bash
printf "%s\\n" "$@" --
for a in "$@"; do
  if [ "$a" = --against ]; then exit "${STUB_AGAINST_EXIT:-0}"; fi
done
exit "${STUB_EXIT:-0}"
"""


def run_action_script(
    tmp_path: Path, step_id: str = "check", env_extra: dict[str, str] | None = None, **inputs: str
) -> subprocess.CompletedProcess[str]:
    """Run one of the action's steps under bash as Actions runs it (-e, pipefail), its inputs
    from ``inputs`` (else the action's defaults), a stub perfgate on PATH (:data:`STUB`)."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    step = next(s for s in load_yaml(ACTION)["runs"]["steps"] if s.get("id") == step_id)
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir(exist_ok=True)
    stub = stub_dir / "perfgate"
    stub.write_text(STUB, encoding="utf-8")
    stub.chmod(0o755)
    env = {"PATH": f"{stub_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    for name in step["env"]:
        if name.startswith("INPUT_"):
            default = load_yaml(ACTION)["inputs"][name[6:].lower().replace("_", "-")]["default"]
            env[name] = inputs.get(name[6:].lower(), default)
    env.update(env_extra or {})
    return subprocess.run(
        [bash, "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=env.pop("CWD", tmp_path),
        env=env,
        capture_output=True,
        text=True,
    )


def calls(proc: subprocess.CompletedProcess[str]) -> list[list[str]]:
    """The stub perfgate's invocations, each its argument list."""
    out, current = [], []
    for line in proc.stdout.splitlines():
        if line.startswith("::"):
            continue
        if line == "--":
            out.append(current)
            current = []
        else:
            current.append(line)
    return out


def test_the_action_passes_its_inputs_to_perfgate_check(tmp_path: Path):
    proc = run_action_script(
        tmp_path,
        config="ci/perfgate.toml",
        targets="svc_a, svc_b",
        runs="5",
        threshold="15%",
        comment="false",
        args="--against origin/main",
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "check",
        "--json-out",
        f"{tmp_path}/perfgate-report.json",
        "--markdown-out",
        f"{tmp_path}/perfgate-report.md",
        "--config",
        "ci/perfgate.toml",
        "--target",
        "svc_a",
        "--target",
        "svc_b",
        "--runs",
        "5",
        "--threshold",
        "15%",
        "--no-comment",
        "--against",
        "origin/main",
        "--",
    ]


def test_the_action_defaults_and_bad_comment_input(tmp_path: Path):
    proc = run_action_script(tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "check" and "--comment" not in proc.stdout
    assert "--target" not in proc.stdout

    proc = run_action_script(tmp_path, comment="maybe")
    assert proc.returncode == 2 and "::error title=perfgate::" in proc.stdout


@pytest.mark.parametrize(
    ("comment", "flags"),
    [
        ("always", []),
        ("auto", []),
        ("true", ["--comment"]),
        ("changes", ["--comment-when", "changes"]),
        ("regressions", ["--comment-when", "regressions"]),
        ("never", ["--no-comment"]),
        ("false", ["--no-comment"]),
    ],
)
def test_the_action_comment_input(tmp_path: Path, comment: str, flags: list[str]):
    proc = run_action_script(tmp_path, comment=comment)
    assert proc.returncode == 0, proc.stderr
    related = {"--comment", "--no-comment", "--comment-when", "changes", "regressions"}
    assert [a for a in proc.stdout.splitlines() if a in related] == flags


def test_the_release_workflow_has_least_privilege_per_job():
    text = (REPO / ".github" / "workflows" / "release.yml").read_text(encoding="utf-8")
    wf = load_yaml(REPO / ".github" / "workflows" / "release.yml")
    assert wf["on"]["push"] == {"tags": ["v*.*.*"]}
    assert wf["permissions"] == {}
    assert "secrets." not in text, "trusted publishing: no stored token"
    jobs = wf["jobs"]
    for name, job in jobs.items():
        assert isinstance(job.get("timeout-minutes"), int), name
        expected = {
            "publish": {"id-token": "write"},
            "github-release": {"contents": "write"},
        }.get(name, {"contents": "read"})
        assert job["permissions"] == expected, name
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name
    only_id_token = [n for n, j in jobs.items() if "id-token" in j["permissions"]]
    assert only_id_token == ["publish"]


def test_the_release_workflow_builds_tests_publishes_and_moves_the_major_tag():
    wf = load_yaml(REPO / ".github" / "workflows" / "release.yml")
    jobs = wf["jobs"]
    assert "scripts/release_version.py" in jobs["version"]["steps"][-1]["run"]
    assert set(jobs["version"]["outputs"]) == {"version", "major", "prerelease"}

    wheels = jobs["wheels"]
    assert set(wheels["strategy"]["matrix"]["os"]) == {
        "ubuntu-latest",  # manylinux + musllinux x86_64
        "ubuntu-24.04-arm",  # manylinux + musllinux aarch64
        "macos-15",  # arm64
        "macos-15-intel",  # x86_64
        "windows-latest",  # AMD64
    }
    assert any(s.get("uses", "").startswith("pypa/cibuildwheel@") for s in wheels["steps"])
    tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else None
    if tomllib is None:
        import tomli as tomllib
    cibw = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"][
        "cibuildwheel"
    ]
    assert cibw["build"].split() == [f"cp3{m}-*" for m in range(10, 15)]
    assert "smoke_test_install.py" in cibw["test-command"]
    assert "--scanner c" in cibw["test-command"]
    assert cibw["environment"] == {"PERFGATE_REQUIRE_EXTENSION": "1"}
    assert cibw["windows"]["archs"] == ["AMD64"]
    sdist_runs = " ".join(s.get("run", "") for s in jobs["sdist"]["steps"])
    assert "--sdist" in sdist_runs and "smoke_test_install.py" in sdist_runs

    publish = jobs["publish"]
    assert set(publish["needs"]) == {"version", "sdist", "wheels"}
    assert publish["if"] == "github.event_name == 'push' && github.ref_type == 'tag'"
    assert publish["environment"]["name"] == "pypi"
    step = next(s for s in publish["steps"] if "gh-action-pypi-publish" in s.get("uses", ""))
    assert not {"password", "user"} & set(step.get("with") or {})

    release = jobs["github-release"]
    assert release["needs"] == ["version", "publish"]
    runs = [s.get("run", "") for s in release["steps"]]
    assert any("gh release create" in r and "--verify-tag" in r for r in runs)
    move = next(s for s in release["steps"] if s.get("name") == "Move the major tag")
    assert move["if"] == "needs.version.outputs.prerelease == 'false'"
    assert "refs/tags/$MAJOR" in move["run"] and "$GITHUB_SHA" in move["run"]


def test_every_action_input_and_output_is_documented_in_the_readme():
    action = load_yaml(ACTION)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The Action") : readme.index("### Pull requests from forks")]
    rows = {m.group(1) for m in re.finditer(r"^\| `([a-z-]+)` \|", section, re.MULTILINE)}
    assert set(action["inputs"]) <= rows, set(action["inputs"]) - rows
    assert set(action["outputs"]) <= rows, set(action["outputs"]) - rows
    for mode in ("always", "changes", "regressions", "never"):
        assert f"`{mode}`" in section


# --- compare: base | baseline ---------------------------------------------------------------


def test_the_action_compares_with_the_prs_base_it_fetches_and_both_sides_share_the_go_cache():
    action = load_yaml(ACTION)
    compare = action["inputs"]["compare"]
    assert compare["default"] == "auto"
    assert "compared-with" in action["outputs"]
    steps = action["runs"]["steps"]
    names = [s.get("name") for s in steps]
    fetch = steps[names.index("Fetch the pull request's base")]
    check = steps[names.index("perfgate check")]
    assert (
        names.index("Set up Go")
        < names.index("Fetch the pull request's base")
        < names.index("perfgate check")
    )
    assert fetch["id"] == "compare"
    assert fetch["env"]["BASE_SHA"] == "${{ github.event.pull_request.base.sha }}"
    assert fetch["env"]["INPUT_COMPARE"] == "${{ inputs.compare }}"
    assert "fetch" in fetch["run"] and "--depth=1" in fetch["run"]
    assert check["env"]["COMPARE_MODE"] == "${{ steps.compare.outputs.mode }}"
    assert check["env"]["COMPARE_PROBLEM"] == "${{ steps.compare.outputs.problem }}"
    # One Go build cache for both sides: restored and saved by setup-go, never overridden.
    assert steps[names.index("Set up Go")]["with"]["cache"] is True
    assert "GOCACHE" not in ACTION.read_text(encoding="utf-8")


def test_the_pr_workflow_compares_with_the_base_and_keeps_the_untrusted_design():
    wf = load_yaml(REPO / ".github" / "workflows" / "perfgate.yml")
    assert wf["permissions"] == {"contents": "read"}
    steps = wf["jobs"]["gate"]["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    gate = next(s for s in steps if s.get("uses") == "./")
    assert gate["with"]["compare"] == "base" and gate["with"]["comment"] == "never"


BASE = {"COMPARE_MODE": "base", "COMPARE_PROBLEM": ""}


def test_base_mode_runs_against_and_keeps_its_verdict(tmp_path: Path):
    out = tmp_path / "out"
    for code in (0, 1, 3):
        out.write_text("")
        env = {**BASE, "STUB_AGAINST_EXIT": str(code), "GITHUB_OUTPUT": str(out)}
        proc = run_action_script(tmp_path, env_extra=env)
        assert proc.returncode == code, proc.stdout + proc.stderr
        (only,) = calls(proc)  # a regression or an inconclusive check is never re-run
        assert only[-1] == "--against" and "--warning" not in only
        assert out.read_text().splitlines() == ["compared-with=base"]
        assert "::warning" not in proc.stdout


@pytest.mark.parametrize("committed", [0, 1])
def test_a_base_that_cannot_be_measured_falls_back_to_the_committed_baseline(tmp_path, committed):
    out = tmp_path / "out"
    env = {**BASE, "STUB_AGAINST_EXIT": "2", "STUB_EXIT": str(committed), "GITHUB_OUTPUT": str(out)}
    proc = run_action_script(tmp_path, env_extra=env, args="--html-out r.html")
    assert proc.returncode == committed, proc.stdout + proc.stderr
    ab, fallback = calls(proc)
    assert ab[-1] == "--against"
    assert "--against" not in fallback and fallback[-2:] == ["--html-out", "r.html"]
    warning = fallback[fallback.index("--warning") + 1]
    assert "could not measure the pull request's base" in warning
    assert "judged against the committed baseline instead" in warning
    assert f"::warning title=perfgate::{warning}" in proc.stdout
    assert out.read_text().splitlines() == ["compared-with=baseline"]


def test_a_missing_base_commit_falls_back_without_trying(tmp_path: Path):
    env = {**BASE, "COMPARE_PROBLEM": "could not fetch the pull request's base commit abc"}
    proc = run_action_script(tmp_path, env_extra={**env, "STUB_EXIT": "2"})
    assert proc.returncode == 2  # no committed baseline either: still never a pass
    (only,) = calls(proc)
    assert "--against" not in only
    assert "could not fetch the pull request's base commit abc" in only[only.index("--warning") + 1]
    assert "::warning title=perfgate::" in proc.stdout


def test_baseline_mode_and_an_against_in_args(tmp_path: Path):
    proc = run_action_script(tmp_path, env_extra={"COMPARE_MODE": "baseline"})
    (only,) = calls(proc)
    assert proc.returncode == 0 and "--against" not in only and "--warning" not in only
    proc = run_action_script(tmp_path, env_extra=BASE, args="--against=origin/main")
    (only,) = calls(proc)  # the user's --against wins: no second --against, no fallback
    assert only[-1] == "--against=origin/main" and only.count("--against") == 0


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(cwd), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


@pytest.fixture
def shallow_pr_clone(tmp_path: Path) -> tuple[Path, str, str]:
    """A repository (base commit A, then a PR commit B on top) and a one-commit clone of B, as
    actions/checkout makes it; returns the clone, A's sha and an unknown sha."""
    if shutil.which("git") is None:
        pytest.skip("needs git")
    origin = tmp_path / "origin"
    origin.mkdir()
    git(origin, "init", "-q", "-b", "main")
    git(origin, "config", "user.name", "T")
    git(origin, "config", "user.email", "t@example.com")
    git(origin, "config", "uploadpack.allowAnySHA1InWant", "true")
    (origin / "a.txt").write_text("a\n")
    git(origin, "add", "-A")
    git(origin, "commit", "-qm", "A")
    base = git(origin, "rev-parse", "HEAD")
    (origin / "a.txt").write_text("b\n")
    git(origin, "commit", "-qam", "B")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth=1", f"file://{origin}", str(clone))
    return clone, base, "f" * 40


def resolve(tmp_path: Path, clone: Path, **env: str) -> tuple[subprocess.CompletedProcess, dict]:
    out = tmp_path / "compare-out"
    out.write_text("")
    inputs = {"compare": env.pop("compare", "auto")}
    proc = run_action_script(
        tmp_path,
        "compare",
        {"CWD": str(clone), "GITHUB_OUTPUT": str(out), "FETCH_TOKEN": "", **env},
        **inputs,
    )
    return proc, dict(line.split("=", 1) for line in out.read_text().splitlines())


def test_the_base_commit_is_fetched_into_a_shallow_checkout(tmp_path, shallow_pr_clone):
    clone, base, _ = shallow_pr_clone
    assert subprocess.run(["git", "-C", str(clone), "cat-file", "-e", base]).returncode != 0
    proc, out = resolve(tmp_path, clone, EVENT_NAME="pull_request", BASE_SHA=base)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert out == {"mode": "base", "problem": ""}
    assert git(clone, "cat-file", "-t", base) == "commit"


def test_an_unfetchable_or_absent_base_is_a_problem_not_a_pass(tmp_path, shallow_pr_clone):
    clone, _, unknown = shallow_pr_clone
    _, out = resolve(tmp_path, clone, EVENT_NAME="pull_request", BASE_SHA=unknown)
    assert out["mode"] == "base"
    assert out["problem"] == f"could not fetch the pull request's base commit {unknown}"
    _, out = resolve(tmp_path, clone, EVENT_NAME="push", BASE_SHA="", compare="base")
    assert out == {
        "mode": "base",
        "problem": "this push names no pull request base commit to measure",
    }


def test_compare_auto_is_base_on_pull_requests_only_and_bad_input_is_exit_2(
    tmp_path, shallow_pr_clone
):
    clone, base, _ = shallow_pr_clone
    _, out = resolve(tmp_path, clone, EVENT_NAME="push", BASE_SHA="")
    assert out == {"mode": "baseline", "problem": ""}
    _, out = resolve(tmp_path, clone, EVENT_NAME="pull_request", BASE_SHA=base, compare="baseline")
    assert out == {"mode": "baseline", "problem": ""}
    proc, out = resolve(tmp_path, clone, EVENT_NAME="pull_request", BASE_SHA=base, compare="ab")
    assert proc.returncode == 2 and out == {}
    assert "::error title=perfgate::input compare must be base or baseline" in proc.stdout
