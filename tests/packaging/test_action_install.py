"""The Action's install steps, run for real on a copy of this checkout: locate the action's
own perfgate, build its wheel into the wheelhouse, install exactly that version from it (never
from an index) into a fresh environment standing in for the runner's Python. Offline: the
wheelhouse the session built serves the build requirements and dependencies (PIP_NO_INDEX)."""

from __future__ import annotations

import os
import shutil
import subprocess
import venv
from pathlib import Path

import pytest
from pkgsupport import REPO, Dist
from ruamel.yaml import YAML

from perfgate import __version__

pytestmark = pytest.mark.slow


def action_steps() -> dict[str, dict]:
    action = YAML(typ="safe").load((REPO / "action.yml").read_text(encoding="utf-8"))
    return {s["name"]: s for s in action["runs"]["steps"]}


def test_the_action_installs_the_wheel_built_from_its_own_checkout(dist: Dist, tmp_path: Path):
    bash = shutil.which("bash")
    if bash is None or os.name == "nt":
        pytest.skip("runs the steps under bash on a Unix runner")
    runner_python = tmp_path / "python"
    venv.EnvBuilder(with_pip=True).create(runner_python)
    bindir = runner_python / "bin"
    # The action's checkout: a clean copy (pip builds in the tree it is given).
    action_path = tmp_path / "action"
    shutil.copytree(
        REPO,
        action_path,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*_cache", ".hypothesis",
            ".openapi", "*.so", "*.pyd",
        ),
    )  # fmt: skip
    output = tmp_path / "github_output"
    output.touch()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PERFGATE_"))}
    base.pop("VIRTUAL_ENV", None)
    env = {
        **base,
        "PATH": f"{bindir}{os.pathsep}{base.get('PATH', '')}",
        "GITHUB_ACTION_PATH": str(action_path),
        "GITHUB_OUTPUT": str(output),
        "RUNNER_TEMP": str(tmp_path / "runner-temp"),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(dist.wheelhouse),
    }
    steps = action_steps()

    def run_step(name: str, **step_env: str) -> str:
        proc = subprocess.run(
            [bash, "-e", "-c", steps[name]["run"]],
            env={**env, **step_env},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert proc.returncode == 0, f"{name}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout

    run_step("Locate perfgate")
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines())
    assert outputs["version"] == __version__
    assert len(outputs["source"]) == 16
    wheelhouse = Path(outputs["wheelhouse"])
    assert wheelhouse == tmp_path / "runner-temp" / "perfgate-wheelhouse"

    run_step("Build perfgate's wheel", WHEELHOUSE=str(wheelhouse))
    built = sorted(p.name for p in wheelhouse.glob("perfgate-*.whl"))
    assert len(built) == 1 and built[0].startswith(f"perfgate-{__version__}-"), built

    out = run_step("Install perfgate", WHEELHOUSE=str(wheelhouse), PERFGATE_VERSION=__version__)
    assert f"perfgate, version {__version__}" in out
    assert "trace scanner: c" in out
    which = subprocess.run(
        [str(bindir / "python"), "-c", "import perfgate; print(perfgate.__file__)"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert str(runner_python) in which.stdout  # installed, not the checkout on sys.path

    # A version the wheelhouse does not have is not fetched from anywhere else.
    proc = subprocess.run(
        [bash, "-e", "-c", steps["Install perfgate"]["run"]],
        env={**env, "WHEELHOUSE": str(wheelhouse), "PERFGATE_VERSION": "999.0.0",
             "PIP_NO_INDEX": "0"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert proc.returncode != 0 and "perfgate==999.0.0" in proc.stdout + proc.stderr
