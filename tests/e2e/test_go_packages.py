"""The repository's own Go code: go vet, and the Go tests of perftest, example_service and
baselines (the perf test itself skips under -short; the e2e tests run it under perfgate)."""

from __future__ import annotations

import os
import subprocess

import pytest
from e2e_support import REPO

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("go_available")]


@pytest.mark.parametrize(
    "command",
    [["go", "vet", "./..."], ["go", "test", "-short", "-count=1", "./..."]],
    ids=["vet", "test"],
)
def test_go(command):
    proc = subprocess.run(
        command,
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "GOTOOLCHAIN": "local"},
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
