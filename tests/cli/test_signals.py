"""Stop signals during a check clean up (issue 12), with a real perfgate process and a real git
repository, and a stand-in ``go`` (``PERFGATE_GO``) whose test binary is a shell script that
sleeps: so this runs in a second, without building or measuring anything. The same with the
real Go toolchain is in tests/e2e/test_untrusted_e2e.py.

What must hold: the process exits 128 + the signal and says so; the A/B worktree, the scratch
directory and go's temporary files are gone; no test binary (nor a child of it) is left running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals and shell scripts")

# The fake test's sleep, in seconds: unique to this test process, so that another run of these
# tests on the same machine (another checkout) is neither counted nor killed here.
SLEEP = str(3_600_000 + os.getpid())

FAKE_GO = """#!/bin/sh
# A stand-in go: 'env' for perfgate's version check, 'list' for the package directory,
# 'test -c -o OUT' writes a "test binary" that sleeps (in a child process).
case "$1" in
  env) echo go1.26.0; echo linux; echo amd64 ;;
  list) pwd ;;
  test)
    mkdir -p "$GOTMPDIR/go-build-fake"
    printf '#!/bin/sh\\nsleep %s\\n' "{sleep}" > "$4"
    chmod +x "$4"
    ;;
  *) echo "fake go: $*" >&2; exit 1 ;;
esac
"""

CONFIG = '[[targets]]\nname = "svc"\npackage = "."\nrun = "^TestPerf$"\nruns = 2\n'


def git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Dev",
        "GIT_AUTHOR_EMAIL": "dev@example.com",
        "GIT_COMMITTER_NAME": "Dev",
        "GIT_COMMITTER_EMAIL": "dev@example.com",
    }
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "perfgate.toml").write_text(CONFIG)
    (repo / "go.mod").write_text("module example.com/svc\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "one")
    return repo


def sleepers() -> list[int]:
    """The pids of the fake test's sleeping children."""
    ps = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True).stdout
    return [int(line.split()[0]) for line in ps.splitlines() if line.endswith(f"sleep {SLEEP}")]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_mid_run_removes_the_worktree_and_scratch_and_the_test(repo, tmp_path, sig):
    fake = tmp_path / "go"
    fake.write_text(FAKE_GO.replace("{sleep}", SLEEP))
    fake.chmod(0o755)
    scratch_tmp = tmp_path / "tmp"
    scratch_tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env.update({"PERFGATE_GO": str(fake), "TMPDIR": str(scratch_tmp), "GOTOOLCHAIN": "local"})
    env.update({"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"})
    proc = subprocess.Popen(
        [sys.executable, "-m", "perfgate", "check", "--against", "HEAD"],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not sleepers():  # the fake test binary is running
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the test binary never started"
        time.sleep(0.05)
    assert "perfgate-wt-" in git(repo, "worktree", "list")
    names = {p.name.split("-")[0] + "-" for p in scratch_tmp.iterdir()}
    assert names == {"perfgate-"}  # the worktree holder and the scratch directory
    proc.send_signal(sig)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + sig, err
    assert f"perfgate: interrupted by {signal.Signals(sig).name}" in err
    assert "Traceback" not in err
    assert git(repo, "worktree", "list").count("\n") == 0, "a worktree was left behind"
    assert list(scratch_tmp.iterdir()) == [], "scratch files were left behind"
    time.sleep(0.2)
    assert sleepers() == [], "the test binary's child outlived perfgate"


def test_without_a_signal_handler_the_child_would_outlive_it(tmp_path):
    """The check above can fail: a shell script's sleeping child survives the kill of the shell
    alone (what subprocess.run does), and only the process-group kill ends it."""
    script = tmp_path / "t.sh"
    script.write_text(f"#!/bin/sh\nsleep {SLEEP}\n")
    script.chmod(0o755)
    proc = subprocess.Popen([str(script)])
    try:
        while not sleepers():
            time.sleep(0.05)
        proc.kill()
        proc.wait()
        time.sleep(0.2)
        assert sleepers(), "the orphaned sleep should still run"
    finally:
        for pid in sleepers():  # the orphan this test made
            os.kill(pid, signal.SIGKILL)
