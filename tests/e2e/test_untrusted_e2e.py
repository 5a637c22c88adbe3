"""The pull request's code is untrusted (issue 12), end to end with the real Go toolchain: a tiny
Go module whose perf test names its tasks with workflow commands, prints its environment, reads
its parent's environment to leak the token, and sleeps so that it can be stopped mid-run.

* The test binary (and the go commands) get no GITHUB_TOKEN, GH_TOKEN, ACTIONS_*, *TOKEN*,
  *SECRET*, *PASSWORD* or Actions file-command variables, unless the target's env sets them;
  GOFLAGS still reaches the build.
* No line perfgate prints (stdout, stderr) in Actions can start a workflow command, whatever
  the task names or the failing test's output; secrets are redacted from every path.
* On a pull request, the check, the job summary and the comment say that it changes
  baselines/ and perfgate.toml.
* A baseline with a zero p95 is exit 2 before anything is measured; include/exclude that leave
  no handler are exit 2, not a pass that judged nothing.
* SIGTERM, SIGINT and SIGHUP in the middle of ``check --against`` remove the worktree and the
  scratch files and exit 128 + the signal.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_support import perfgate

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.usefixtures("go_available")]

TASK_NAMES = [
    "GET /plain",
    "GET /x\n::error::forged by a task name",
    "::stop-commands::pwned",
    "  ::add-mask::GET /y",
    "##[error]old form",
    "GET /z @octocat <img src=x> <!-- perfgate:marker:hostile -->",
]
SECRET = "ghs_e2e0123456789abcdef"

PERF_TEST = """//go:build perfenv

package hostile

import (
	"context"
	"fmt"
	"os"
	"runtime/trace"
	"strconv"
	"strings"
	"testing"
	"time"
)

var names = []string{%s}

func busy(d time.Duration) {
	for t0 := time.Now(); time.Since(t0) < d; {
	}
}

func TestPerfHostile(t *testing.T) {
	if path := os.Getenv("HOSTILE_ENV_DUMP"); path != "" {
		environ := []byte(strings.Join(os.Environ(), "\\x00"))
		if err := os.WriteFile(path, environ, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if os.Getenv("HOSTILE_LEAK") == "1" {
		raw, _ := os.ReadFile(fmt.Sprintf("/proc/%%d/environ", os.Getppid()))
		for _, kv := range strings.Split(string(raw), "\\x00") {
			if strings.HasPrefix(kv, "GITHUB_TOKEN=") || strings.HasPrefix(kv, "GH_TOKEN=") {
				fmt.Println("leaked:", kv)
			}
		}
		fmt.Println("::error::forged by the test output")
		fmt.Println("  ::add-mask::nothing")
		fmt.Println("\\x1b[31m::stop-commands::pwned")
		t.Fatal("failing on purpose")
	}
	if ms, _ := strconv.Atoi(os.Getenv("HOSTILE_SLEEP_MS")); ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	for i := 0; i < 100; i++ {
		for _, name := range names {
			_, task := trace.NewTask(context.Background(), name)
			busy(20 * time.Microsecond)
			task.End()
		}
	}
}
"""

CONFIG = """[[targets]]
name = "hostile"
package = "."
run = "^TestPerfHostile$"
runs = 3
baseline_runs = 3
env = { EXPLICIT_TOKEN = "from-perfgate-toml" }
"""

# Perfgate's own workflow commands: annotations with a title, and nothing else.
OWN_COMMAND = re.compile(r"^::(error|warning|notice) title=perfgate")


def go_string(s: str) -> str:
    return json.dumps(s)  # a JSON string is a valid Go string literal for these names


def git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=True, env=GIT_ENV
    )
    return proc.stdout.strip()


GIT_ENV = {
    **{k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GITHUB_"))},
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Dev",
    "GIT_AUTHOR_EMAIL": "dev@example.com",
    "GIT_COMMITTER_NAME": "Dev",
    "GIT_COMMITTER_EMAIL": "dev@example.com",
}
BUILD = {"GOFLAGS": "-tags=perfenv"}  # the build must get GOFLAGS, or there is no test at all


def assert_no_forged_commands(*outputs: str) -> None:
    for out in outputs:
        for line in out.splitlines():
            if line.lstrip().startswith("::"):
                assert OWN_COMMAND.match(line), f"a forged workflow command: {line!r}"
            assert "##[" not in line, f"an old-form workflow command: {line!r}"


@pytest.fixture(scope="module")
def pr_repo(tmp_path_factory) -> Path:
    """A git repository: main has the module, its config and a measured baseline; the checked
    out branch ``feature`` changes perfgate.toml and re-measures the baseline (the bar moved)."""
    repo = tmp_path_factory.mktemp("hostile")
    (repo / "go.mod").write_text("module example.com/hostile\n\ngo 1.22\n")
    (repo / "hostile.go").write_text("package hostile\n")
    names = ", ".join(go_string(n) for n in TASK_NAMES)
    (repo / "perf_test.go").write_text(PERF_TEST % names)
    (repo / "perfgate.toml").write_text(CONFIG)
    git(repo, "init", "-q", "-b", "main")
    r = perfgate("baseline", "update", cwd=repo, env=BUILD)
    assert r.code == 0, r.out + r.err
    assert_no_forged_commands(r.out, r.err)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the service and its gate")
    git(repo, "checkout", "-q", "-b", "feature")
    (repo / "perfgate.toml").write_text(CONFIG + "min_samples = 1000\n")  # all insufficient
    r = perfgate("baseline", "update", cwd=repo, env=BUILD)
    assert r.code == 0, r.out + r.err
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "loosen the gate")
    return repo


def actions_pr_env(repo: Path, tmp: Path, api_url: str) -> dict[str, str]:
    event = {
        "number": 7,
        "pull_request": {
            "number": 7,
            "head": {"sha": git(repo, "rev-parse", "HEAD"), "repo": {"full_name": "acme/shop"}},
            "base": {
                "sha": git(repo, "rev-parse", "main"),
                "ref": "main",
                "repo": {"full_name": "acme/shop"},
            },
        },
    }
    (tmp / "event.json").write_text(json.dumps(event))
    for name in ("summary.md", "output", "env", "path"):
        (tmp / name).write_text("")
    return {
        **BUILD,
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_EVENT_PATH": str(tmp / "event.json"),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": api_url,
        "GITHUB_BASE_REF": "main",
        "GITHUB_RUN_ID": "5001",
        "GITHUB_STEP_SUMMARY": str(tmp / "summary.md"),
        "GITHUB_OUTPUT": str(tmp / "output"),
        "GITHUB_ENV": str(tmp / "env"),
        "GITHUB_PATH": str(tmp / "path"),
        "GITHUB_TOKEN": "actions-token",
        "GH_TOKEN": SECRET + "\n",
        "ACTIONS_RUNTIME_TOKEN": "runtime-token-e2e",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-token-e2e",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/oidc",
        "ACTIONS_CACHE_URL": "https://cache.example/",
        "NPM_TOKEN": "npm-token-e2e",
        "DEPLOY_SECRET": "deploy-secret-e2e",
        "DB_PASSWORD": "db-password-e2e",
        "PERFGATE_GITHUB_BACKOFF": "0.01",
        "PERFGATE_GITHUB_TIMEOUT": "5",
    }


def test_a_pull_request_check_with_hostile_task_names_and_a_token(pr_repo, tmp_path):
    from ghserver import GitHubStandIn

    dump = tmp_path / "environ"
    with GitHubStandIn() as standin:
        standin.add_pull(7, git(pr_repo, "rev-parse", "HEAD"))
        env = {**actions_pr_env(pr_repo, tmp_path, standin.url), "HOSTILE_ENV_DUMP": str(dump)}
        report = tmp_path / "report.json"
        r = perfgate("check", "--json-out", str(report), cwd=pr_repo, env=env)
        assert r.code == 0, r.out + r.err
        (comment,) = standin.comment_list(7)
        body = comment["body"]
        assert standin.contract_violations == []

    # 1. The test ran without the job's secrets; the build still had GOFLAGS.
    environ = dict(kv.split("=", 1) for kv in dump.read_text().split("\0") if "=" in kv)
    for name in (
        "GITHUB_TOKEN",
        "GH_TOKEN",
        "ACTIONS_RUNTIME_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "ACTIONS_ID_TOKEN_REQUEST_URL",
        "ACTIONS_CACHE_URL",
        "NPM_TOKEN",
        "DEPLOY_SECRET",
        "DB_PASSWORD",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STEP_SUMMARY",
    ):
        assert name not in environ, name
    text = dump.read_text()
    for value in (SECRET, "actions-token", "runtime-token-e2e", "npm-token-e2e", "db-password"):
        assert value not in text
    assert environ["EXPLICIT_TOKEN"] == "from-perfgate-toml"  # the target's env sets any name
    assert environ["GOFLAGS"] == "-tags=perfenv" and environ["GITHUB_ACTIONS"] == "true"
    assert "PATH" in environ and "HOME" in environ

    # 2. No line perfgate printed can be a workflow command; its own annotations carry the
    #    names encoded, on one line.
    assert_no_forged_commands(r.out, r.err)
    warnings = [ln for ln in r.out.splitlines() if ln.startswith("::warning title=perfgate")]
    assert any("forged by a task name" in ln for ln in warnings)
    assert "::stop-commands" not in r.out + r.err and "::add-mask" not in r.out + r.err
    assert SECRET not in r.out + r.err

    # 3. The bar moved: said in the output, the job summary, the report and the comment.
    assert "this pull request changes baselines/hostile.json, perfgate.toml: the bar moved" in (
        r.out
    )
    summary = (tmp_path / "summary.md").read_text()
    assert "The bar moved" in summary and "baselines/hostile.json" in summary
    assert json.loads(report.read_text())["gate_files_changed"] == [
        "baselines/hostile.json",
        "perfgate.toml",
    ]
    assert "The bar moved" in body and "perfgate.toml" in body
    # and the comment holds the hostile names neutralised
    assert body.count("<!--") == 2 and "<img" not in body and not re.search(r"@\w", body)
    for path in ("env", "path"):
        assert (tmp_path / path).read_text() == ""  # the test could not reach them


def test_a_failing_test_that_leaks_the_token_and_forges_commands(pr_repo, tmp_path):
    """The test reads the token from its parent's environment (the scrub is no sandbox) and
    fails: its output is quoted in the error, with the token redacted (the variable holds it
    with a trailing newline) and no line a workflow command."""
    env = {**BUILD, "GITHUB_ACTIONS": "true", "GITHUB_TOKEN": SECRET + "\n", "HOSTILE_LEAK": "1"}
    r = perfgate("check", cwd=pr_repo, env=env)
    assert r.code == 2, r.out + r.err
    assert "failing on purpose" in r.err and "leaked: GITHUB_TOKEN=***" in r.err
    assert SECRET not in r.out + r.err
    assert_no_forged_commands(r.out, r.err)
    assert "\x1b" not in r.err  # the ANSI escape is spelled out


def test_perfgate_report_on_the_trace_neutralises_task_names(pr_repo, tmp_path):
    trace = tmp_path / "run.trace"
    env = {**os.environ, **BUILD, "GOTOOLCHAIN": "local"}
    subprocess.run(
        ["go", "test", "-run", "^TestPerfHostile$", "-count=1", f"-trace={trace}", "."],
        cwd=pr_repo,
        env=env,
        check=True,
        capture_output=True,
    )
    r = perfgate("report", str(trace), cwd=tmp_path, env={"GITHUB_ACTIONS": "true"})
    assert r.code == 0, r.err
    assert_no_forged_commands(r.out, r.err)
    assert "GET /x\\n:\u200b:error:\u200b:forged by a task name" in r.out


def test_a_baseline_with_a_zero_p95_is_exit_2_before_measuring(pr_repo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(pr_repo, root, ignore=shutil.ignore_patterns(".git"))
    path = root / "baselines" / "hostile.json"
    data = json.loads(path.read_text())
    data["handlers"]["GET /plain"]["p95_ns"] = 0
    path.write_text(json.dumps(data))
    r = perfgate("check", cwd=root, env=BUILD)
    assert r.code == 2, r.out + r.err
    assert "handlers.GET /plain" in r.err and "p95_ns" in r.err
    assert "run 1/" not in r.err  # nothing was measured


def test_filters_that_leave_no_handler_are_exit_2_not_a_pass(pr_repo, tmp_path):
    import shutil

    root = tmp_path / "copy"
    shutil.copytree(pr_repo, root, ignore=shutil.ignore_patterns(".git"))
    config = root / "perfgate.toml"
    config.write_text(config.read_text() + 'exclude = ["*"]\n')  # judge nothing, pass always
    r = perfgate("check", cwd=root, env=BUILD)
    assert r.code == 2, r.out + r.err
    assert "select none of the handlers" in r.err and "exclude ['*']" in r.err
    assert "PASS" not in r.out


# --- signals ---------------------------------------------------------------------------------


def _leftovers(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir())


@pytest.mark.parametrize(
    ("sig", "when"),
    [
        (signal.SIGTERM, "run 1/"),  # mid-measurement: a test binary is running
        (signal.SIGINT, "building"),  # while go builds both sides
        (signal.SIGHUP, "run 1/"),
    ],
)
def test_a_stop_signal_mid_check_cleans_up(pr_repo, tmp_path, sig, when):
    scratch_tmp = tmp_path / "tmp"
    scratch_tmp.mkdir()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env = {
        **base,
        **BUILD,
        "GOTOOLCHAIN": "local",
        "TMPDIR": str(scratch_tmp),
        "HOSTILE_SLEEP_MS": "1500",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfgate", "check", "--against", "main", "--runs", "4"],
        cwd=pr_repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen = []
    deadline = time.monotonic() + 300
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if when in line:
            break
        assert time.monotonic() < deadline, "".join(seen)
    # the worktree and a scratch directory exist now
    assert "perfgate-wt-" in git(pr_repo, "worktree", "list")
    assert any(n.startswith("perfgate-") for n in _leftovers(scratch_tmp))
    if when == "run 1/":
        time.sleep(0.5)  # run 2 is sleeping in the test binary
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    err = "".join(seen) + err
    assert proc.returncode == 128 + sig, err
    assert f"interrupted by {signal.Signals(sig).name}" in err
    assert "Traceback" not in err
    assert git(pr_repo, "worktree", "list").count("\n") == 0, "a worktree was left behind"
    assert _leftovers(scratch_tmp) == [], "scratch files were left behind"
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    assert str(scratch_tmp) not in ps, "a test binary or go process is still running"
