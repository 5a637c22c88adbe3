"""Helpers for the trace-reader tests: the committed traces, their answers, a Go to run."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

TRACES = Path(__file__).resolve().parent.parent / "fixtures" / "traces"


def full_traces() -> list[Path]:
    """Every uncut fixture written by a Go toolchain (with its expected answer beside it)."""
    return sorted(
        p
        for p in TRACES.glob("go1.*.trace")
        if "-cut" not in p.name and p.with_suffix(".expected.json").exists()
    )


def cut_traces() -> list[Path]:
    return sorted(TRACES.glob("go1.*-cut*.trace"))


def expected(trace: Path) -> dict:
    return json.loads(trace.with_suffix(".expected.json").read_text())


def system_go_path() -> str | None:
    go = os.environ.get("PERFGATE_GO") or shutil.which("go")
    if not go:
        return None
    try:
        out = subprocess.run(
            [go, "env", "GOVERSION"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "GOTOOLCHAIN": "local"},
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # The go reader needs a toolchain that reads every fixture version (1.26+).
    try:
        minor = int(out.strip().removeprefix("go1.").split(".")[0])
    except ValueError:
        return None
    return go if minor >= 26 else None
