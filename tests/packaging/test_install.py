"""What a user installs: the wheel and the sdist that ``python -m build`` makes, each installed
into a fresh virtual environment (the sdist once with a C compiler and once without), then
``perfgate --version`` and ``perfgate report`` on a fixture trace, through the console script
(scripts/smoke_test_install.py, which the release workflow runs on every wheel too).

Also what the archives carry: the license, metadata a package index shows, no C source in the
wheel, and everything a distribution packager needs to run this test suite in the sdist.
"""

from __future__ import annotations

import email
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from pkgsupport import REPO, Dist, fresh_env, pip_install

from perfgate import __version__

pytestmark = pytest.mark.slow

TRACE = REPO / "tests" / "fixtures" / "traces" / "go1.26.trace"
SMOKE = REPO / "scripts" / "smoke_test_install.py"


def smoke(python: Path, scanner: str) -> str:
    proc = subprocess.run(
        [str(python), str(SMOKE), str(TRACE), "--scanner", scanner, "--version", __version__],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=python.parent,  # not the repository: nothing may be imported from the checkout
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def has_compiler() -> bool:
    import sysconfig

    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None


def test_the_wheel_installs_and_reads_a_trace_with_the_c_scanner(dist: Dist, tmp_path: Path):
    if "-none-any" in dist.wheel.name:
        pytest.fail(f"{dist.wheel.name}: the C extension was not built into the wheel")
    env = fresh_env(tmp_path / "venv")
    pip_install(env, dist.wheel, dist.wheelhouse)
    out = smoke(env.python, "c")
    assert f"perfgate, version {__version__}" in out and "scanner c" in out


def test_the_sdist_builds_the_extension_with_a_compiler(dist: Dist, tmp_path: Path):
    if not has_compiler():
        pytest.skip("no C compiler here")
    env = fresh_env(tmp_path / "venv")
    pip_install(env, dist.sdist, dist.wheelhouse)
    assert "scanner c" in smoke(env.python, "c")


@pytest.mark.skipif(os.name == "nt", reason="CC=/bin/false is how a missing compiler is made")
def test_the_sdist_installs_without_a_compiler_and_says_it_uses_the_fallback(
    dist: Dist, tmp_path: Path
):
    env = fresh_env(tmp_path / "venv")
    pip_install(env, dist.sdist, dist.wheelhouse, {"CC": "/bin/false", "CXX": "/bin/false"})
    probe = subprocess.run(
        [str(env.python), "-c", "import perfgate.trace._scan"], capture_output=True, cwd=tmp_path
    )
    assert probe.returncode != 0, "the extension was built although there was no compiler"
    assert "scanner python" in smoke(env.python, "python")


def test_the_wheel_carries_the_license_and_index_metadata_but_no_c_source(dist: Dist):
    with zipfile.ZipFile(dist.wheel) as zf:
        names = zf.namelist()
        info = f"perfgate-{__version__}.dist-info"
        meta = email.message_from_bytes(zf.read(f"{info}/METADATA"))
        license_text = zf.read(f"{info}/licenses/LICENSE").decode()
    assert not [n for n in names if n.endswith((".c", ".h"))], names
    assert any(re.fullmatch(r"perfgate/trace/_scan\.[^/]+\.(so|pyd)", n) for n in names), names
    assert not [n for n in names if n.startswith(("tests/", "scripts/"))]
    assert "Copyright (c) 2026 the perfgate authors" in license_text
    assert license_text == (REPO / "LICENSE").read_text(encoding="utf-8")
    assert meta["Name"] == "perfgate" and meta["Version"] == __version__
    assert meta["License-Expression"] == "MIT"
    assert meta["Requires-Python"] == ">=3.10"
    classifiers = meta.get_all("Classifier")
    for minor in range(10, 15):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL"))
    assert urls["Source"] == "https://github.com/perfgate/perfgate"
    assert all(u.startswith("https://github.com/perfgate/perfgate") for u in urls.values())
    assert meta["Description-Content-Type"] == "text/markdown"


def test_the_readme_renders_on_the_index_page():
    """A package index shows the README without the repository around it: every link must be
    absolute (or an anchor on the page)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'(?:href|src)="([^"]+)"', text)
    assert links
    relative = [u for u in links if not u.startswith(("https://", "http://", "#", "mailto:"))]
    assert not relative, f"relative links break on the package index: {relative}"


def git_files() -> list[str] | None:
    if shutil.which("git") is None or not (REPO / ".git").exists():
        return None
    proc = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    return [f for f in proc.stdout.split("\0") if f] if proc.returncode == 0 else None


def test_the_sdist_carries_the_source_the_tests_and_what_they_need(dist: Dist):
    with tarfile.open(dist.sdist) as tf:
        prefix = f"perfgate-{__version__}/"
        names = {m.name.removeprefix(prefix) for m in tf.getmembers() if m.isfile()}
    for needed in [
        "LICENSE",
        "README.md",
        "pyproject.toml",
        "setup.py",
        "perfgate/trace/_scan.c",
        "perfgate/trace/_scan_compat.h",
        "tests/fixtures/traces/go1.26.trace",
        "scripts/test.sh",
        "scripts/smoke_test_install.py",
        "example_service/perf_test.go",
        "go.mod",
        "perfgate.toml",
        "action.yml",
        ".github/workflows/release.yml",
    ]:
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".so", ".pyd"))]
    tracked = git_files()
    if tracked is None:
        pytest.skip("not a git checkout: cannot compare with the tracked files")
    missing = sorted(set(tracked) - names)
    assert not missing, f"tracked files missing from the sdist (add them to MANIFEST.in): {missing}"


def test_perfgate_version_is_the_package_version():
    proc = subprocess.run(
        [sys.executable, "-m", "perfgate", "--version"], capture_output=True, text=True
    )
    assert proc.stdout.strip() == f"perfgate, version {__version__}"
