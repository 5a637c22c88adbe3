"""Golden tests: committed reports rendered as the terminal table and as Markdown.

On a mismatch the actual output is written next to the golden file as ``*.actual`` for review;
regenerate on purpose with ``PERFGATE_UPDATE_GOLDEN=1 pytest tests/render``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfgate.render.markdown import render_markdown
from perfgate.render.text import render_text
from perfgate.report import load_report

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem.removesuffix(".report") for p in GOLDEN.glob("*.report.json"))


def check_golden(path: Path, actual: str) -> None:
    if os.environ.get("PERFGATE_UPDATE_GOLDEN"):
        path.write_text(actual)
    expected = path.read_text() if path.exists() else None
    if actual != expected:
        path.with_name(path.name + ".actual").write_text(actual)
        pytest.fail(f"{path.name} differs; actual output written to {path.name}.actual")


@pytest.mark.parametrize("case", CASES)
def test_text(case):
    report = load_report(GOLDEN / f"{case}.report.json")
    check_golden(GOLDEN / f"{case}.txt", render_text(report))


@pytest.mark.parametrize("case", CASES)
def test_markdown(case):
    report = load_report(GOLDEN / f"{case}.report.json")
    check_golden(GOLDEN / f"{case}.md", render_markdown(report))


def test_there_are_golden_cases():
    assert {"all_verdicts", "against"} <= set(CASES)
