"""Golden tests: committed reports rendered as the terminal table and as Markdown.

On a mismatch the actual output is written next to the golden file as ``*.actual`` for review;
regenerate on purpose with ``PERFGATE_UPDATE_GOLDENS=1 pytest tests/render``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from golden import check_golden

from perfgate.render.markdown import render_markdown
from perfgate.render.text import render_text
from perfgate.report import load_report

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(p.stem.removesuffix(".report") for p in GOLDEN.glob("*.report.json"))


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
