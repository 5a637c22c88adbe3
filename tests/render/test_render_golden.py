"""Golden tests: committed reports rendered as the terminal table and as Markdown.

On a mismatch the actual output is written next to the golden file as ``*.actual`` for review;
regenerate on purpose with ``PERFGATE_UPDATE_GOLDEN=1 pytest tests/render``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from perfgate.render import format_ns, format_pct, render_markdown, render_text
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


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (None, "—"),
        (812, "812ns"),
        (43_100, "43.1µs"),
        (431_000, "431µs"),
        (12_400_000, "12.4ms"),
        (1_204_000_000, "1.20s"),
    ],
)
def test_format_ns(ns, text):
    assert format_ns(ns) == text


def test_format_pct():
    assert format_pct(12.345) == "+12.3%" and format_pct(-3) == "-3.0%" and format_pct(None) == "—"
