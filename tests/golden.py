"""Golden files: compare an output with its committed copy; on a mismatch write the actual
output beside it as ``<golden>.actual`` (gitignored) for review. ``PERFGATE_UPDATE_GOLDENS=1``
rewrites the goldens on purpose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

UPDATE_ENV = "PERFGATE_UPDATE_GOLDENS"
REPO = Path(__file__).resolve().parents[1]


def check_golden(path: Path, actual: str) -> None:
    """Fail, naming the file and how to regenerate it, unless ``actual`` equals ``path``
    (a golden in ``tests/<dir>/golden/``)."""
    if os.environ.get(UPDATE_ENV):
        path.write_text(actual, encoding="utf-8")
    expected = path.read_text(encoding="utf-8") if path.exists() else None
    if actual != expected:
        path.with_name(path.name + ".actual").write_text(actual, encoding="utf-8")
        pytest.fail(
            f"{path.name} differs; actual output written to {path.name}.actual (regenerate on "
            f"purpose: {UPDATE_ENV}=1 pytest {path.resolve().parents[1].relative_to(REPO)})"
        )
