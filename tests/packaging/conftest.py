"""Build perfgate's sdist and wheel once per session (``python -m build``) for the packaging
tests, with a wheelhouse of what installing them needs, so fresh environments install offline."""

from __future__ import annotations

import os
import sys

import pytest
from pkgsupport import REPO, Dist, run_ok


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """``python -m build`` (the sdist, then the wheel built from that sdist), and one download
    of what installing them needs, so every fresh environment installs offline."""
    pytest.importorskip("build", reason="`build` is in the test extra")
    out = tmp_path_factory.mktemp("dist")
    env = {k: v for k, v in os.environ.items() if k != "PERFGATE_REQUIRE_EXTENSION"}
    run_ok([sys.executable, "-m", "build", "--outdir", str(out), str(REPO)], env=env)
    (sdist,) = out.glob("perfgate-*.tar.gz")
    (wheel,) = out.glob("perfgate-*.whl")
    house = tmp_path_factory.mktemp("wheelhouse")
    build_requires = ["setuptools>=77"]
    run_ok(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
         "--dest", str(house), str(wheel), *build_requires]
    )  # fmt: skip
    return Dist(sdist, wheel, house)
