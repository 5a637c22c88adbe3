"""scripts/release_version.py: the tag being released must be v + perfgate.__version__."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pkgsupport import REPO

from perfgate import __version__

SCRIPT = REPO / "scripts" / "release_version.py"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
    )


def test_the_version_comes_from_perfgate_init_and_names_the_major_tag(tmp_path: Path):
    out = tmp_path / "github_output"
    r = run("--github-output", str(out), GITHUB_REF_TYPE="tag", GITHUB_REF_NAME=f"v{__version__}")
    assert r.returncode == 0, r.stderr
    major = __version__.split(".")[0]
    expected = f"version={__version__}\nmajor=v{major}\nprerelease=false\n"
    assert r.stdout == expected and out.read_text() == expected


def test_a_tag_that_differs_from_the_version_fails_with_what_to_do():
    r = run(GITHUB_REF_TYPE="tag", GITHUB_REF_NAME="v99.0.0")
    assert r.returncode == 1
    assert "v99.0.0" in r.stderr and __version__ in r.stderr
    r = run("--tag", f"{__version__}")  # no "v"
    assert r.returncode == 1


def test_a_manual_run_checks_only_the_version():
    r = run(GITHUB_REF_TYPE="branch", GITHUB_REF_NAME="main")
    assert r.returncode == 0 and f"version={__version__}" in r.stdout


def test_pre_releases_do_not_move_the_major_tag(tmp_path: Path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import release_version
    finally:
        sys.path.remove(str(SCRIPT.parent))
    init = tmp_path / "__init__.py"
    for version, ok in [("2.0.0rc1", True), ("1.2.3", True), ("1.2", False), ("1.2.3.dev1", False)]:
        init.write_text(f'"""doc"""\n\n__version__ = "{version}"\n')
        assert release_version.package_version(init) == version
        assert (release_version.VERSION_RE.fullmatch(version) is not None) is ok
    assert release_version.VERSION_RE.fullmatch("2.0.0rc1").group(4) == "rc1"
