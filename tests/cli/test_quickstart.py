"""scripts/quickstart.sh: what it runs and the one line that says so. Python, pip and perfgate
are stubs here (the real first run is the README's; its Go runs are the e2e tests' business)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def quickstart(tmp_path: Path, *args: str) -> tuple[list[str], str]:
    """Run a copy of the script; returns perfgate's arguments and the script's stderr."""
    bash = shutil.which("bash")
    if bash is None:
        pytest.skip("needs bash")
    (tmp_path / "scripts").mkdir(exist_ok=True)
    script = tmp_path / "scripts" / "quickstart.sh"
    shutil.copy2(REPO / "scripts" / "quickstart.sh", script)
    stubs = {
        tmp_path / "stub" / "python3": "exit 0",  # python3 -m venv .venv
        tmp_path / ".venv" / "bin" / "python": "exit 0",  # pip install
        tmp_path / ".venv" / "bin" / "perfgate": 'printf "%s\\n" "$@"',
    }
    for path, body in stubs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"#!/usr/bin/env bash\n{body}\n", encoding="utf-8")
        path.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path / 'stub'}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run([bash, str(script), *args], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.splitlines(), proc.stderr


def test_the_first_run_compares_with_the_committed_code_and_says_so_in_one_line(tmp_path):
    argv, err = quickstart(tmp_path)
    assert argv == ["check", "--against", "HEAD"]
    (line,) = err.splitlines()
    assert line.startswith("quickstart: perfgate check --against HEAD")
    assert "measured now on this machine" in line
    argv, _ = quickstart(tmp_path, "--runs", "6")
    assert argv == ["check", "--against", "HEAD", "--runs", "6"]


def test_baseline_and_an_against_of_ones_own(tmp_path):
    argv, err = quickstart(tmp_path, "--baseline", "--runs", "6")
    assert argv == ["check", "--runs", "6"]
    assert "committed baseline" in err and "--against" not in err
    argv, err = quickstart(tmp_path, "--against", "main")
    assert argv == ["check", "--against", "main"] and err == ""
