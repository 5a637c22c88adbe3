"""Build perfgate's sdist and wheel once per session (``python -m build``), and make fresh
virtual environments to install them in, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Dist:
    sdist: Path
    wheel: Path
    wheelhouse: Path  # the wheels of perfgate's dependencies and build requirements


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}:\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """``python -m build`` (the sdist, then the wheel built from that sdist), and one download
    of what installing them needs, so every fresh environment installs offline."""
    pytest.importorskip("build", reason="`build` is in the test extra")
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PERFGATE_REQUIRE_EXTENSION"}
    _run([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], env=env)
    (sdist,) = out.glob("perfgate-*.tar.gz")
    (wheel,) = out.glob("perfgate-*.whl")
    house = tmp_path_factory.mktemp("wheelhouse")
    build_requires = ["setuptools>=77"]
    _run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--dest", str(house), str(wheel), *build_requires]
    )  # fmt: skip
    return Dist(sdist, wheel, house)


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
    return _run(
        [sys.executable, "-m", "pip", "--python", str(env.python), "install",
         "--no-cache-dir", "--no-compile", "--disable-pip-version-check",
         "--no-index", "--find-links", str(house), str(what)],
        env={**base, **(extra_env or {})},
    )  # fmt: skip
