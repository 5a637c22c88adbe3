"""Helpers for the packaging tests: the built distributions, fresh virtual environments, an
offline install into one (conftest.py builds the distributions once per session)."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path
    wheelhouse: Path  # the wheels of perfgate's dependencies and build requirements


def run_ok(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@dataclass(frozen=True)
class Env:
    root: Path
    python: Path


def fresh_env(path: Path) -> Env:
    """A new virtual environment without pip (the test's own pip installs into it: faster)."""
    venv.EnvBuilder(with_pip=False, clear=True).create(path)
    scripts = path / ("Scripts" if os.name == "nt" else "bin")
    return Env(path, scripts / ("python.exe" if os.name == "nt" else "python"))


def pip_install(env: Env, what: Path, house: Path, extra_env: dict[str, str] | None = None):
    """Install ``what`` offline from the wheelhouse (no cache: nothing built before is reused)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PERFGATE_", "PIP_"))}
    return run_ok(
        [sys.executable, "-m", "pip", "--python", str(env.python), "install",
         "--no-cache-dir", "--no-compile", "--disable-pip-version-check",
         "--no-index", "--find-links", str(house), str(what)],
        env={**base, **(extra_env or {})},
    )  # fmt: skip
