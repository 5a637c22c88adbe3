"""The committed baseline's line under an A/B table: where and when it was measured, how far the
base measured now sits from it, and when that gap says the committed numbers are stale."""

from __future__ import annotations

from pathlib import Path

import pytest

from perfgate.render.text import STALE_PCT, reference_lines
from perfgate.report import Mode, load_report

AGAINST = Path(__file__).parent / "golden" / "against.report.json"


def with_target(**update):
    report = load_report(AGAINST)
    target = report.targets[0].model_copy(update=update)
    return report.model_copy(update={"targets": [target]})


def test_the_line_names_file_commit_machine_date_and_median_gap():
    (line,) = reference_lines(with_target(reference_drift_pct=-3.5))
    assert line.startswith("svc: committed baseline (baselines/svc.json, commit 0123abc, ")
    assert "measured on AMD EPYC 7763 64-Core Processor, GOMAXPROCS 2, go1.26.0" in line
    assert "2026-11-20T10:00:00+00:00" in line
    assert "sits -3.5% from it (median over handlers)" in line
    assert "stale" not in line


@pytest.mark.parametrize("gap", [STALE_PCT, -STALE_PCT, 25.0, -40.0])
def test_a_gap_past_the_stale_mark_says_refresh(gap):
    (line,) = reference_lines(with_target(reference_drift_pct=gap))
    assert "gone stale" in line and "perfgate baseline update" in line


def test_a_gap_inside_the_mark_does_not(gap=STALE_PCT - 0.1):
    (line,) = reference_lines(with_target(reference_drift_pct=gap))
    assert "stale" not in line


def test_unknown_gap_still_says_where_the_baseline_came_from():
    (line,) = reference_lines(with_target(reference_drift_pct=None))
    assert "measured on AMD EPYC" in line and "sits" not in line


def test_no_committed_baseline_no_line():
    assert reference_lines(with_target(baseline_path=None)) == []


def test_committed_mode_has_no_reference_line():
    report = load_report(AGAINST).model_copy(update={"mode": Mode.BASELINE})
    assert reference_lines(report) == []
