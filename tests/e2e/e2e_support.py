"""Real Go, real code: copies of this repository's Go module in temp dirs, and perfgate run as
a subprocess on them, exactly as a user would run it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    code: int
    out: str
    err: str


def perfgate(*args: str, cwd: Path, env: dict[str, str] | None = None) -> Result:
    """Run the installed perfgate CLI in a subprocess."""
    # Outside a simulated Actions job: never write to a real job's summary or comment.
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**base, "GOTOOLCHAIN": "local", **(env or {})},
        timeout=900,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


def copy_module(dest: Path) -> Path:
    """This repository's Go module (example_service, the perftest package it uses, baselines,
    perfgate.toml) under dest."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "go.mod", dest / "go.mod")
    shutil.copy2(REPO / "perfgate.toml", dest / "perfgate.toml")
    shutil.copytree(REPO / "example_service", dest / "example_service")
    shutil.copytree(REPO / "perftest", dest / "perftest")
    shutil.copytree(REPO / "baselines", dest / "baselines", ignore=shutil.ignore_patterns("*.md"))
    return dest


def slow_down(go_file: Path, func: str, micros: int) -> None:
    """Add a busy wait of ``micros`` µs at the top of Go function ``func`` (file imports time)."""
    text = go_file.read_text()
    pattern = re.compile(rf"^(func (?:\([^)]*\) )?{re.escape(func)}\([^\n]*\{{)$", re.M)
    new, n = pattern.subn(
        rf"\1\n\tfor t0 := time.Now(); time.Since(t0) < {micros}*time.Microsecond; {{}}",
        text,
    )
    assert n == 1, f"function {func} not found in {go_file}"
    go_file.write_text(new)


def handler_p95_us(baseline: Path, handler: str) -> float:
    return json.loads(baseline.read_text())["handlers"][handler]["p95_ns"] / 1000
