"""Goldens from raw inputs: recorded runs → the real judging path → text, Markdown and JSON.

``recorded/base.json`` and ``recorded/head.json`` are real measurements of example_service
(``scripts/record_runs.py``: pairs of runs, the head with POST /checkout slowed; a sample of
each run's requests with their breakdowns). From them, both modes are judged the way
``perfgate check`` judges, everything after measuring being the code under test:

* committed baseline: ``baseline update`` turns the base side into a baseline file
  (:func:`perfgate.baseline.build_baseline`), read back, then ``check`` compares the head side
  with it (:func:`perfgate.sides.committed`);
* A/B (``--against``): base and head as measured pairs (:func:`perfgate.sides.against`), the
  committed baseline riding along for reference.

The renderings are compared with ``golden/``, so a field that one path fills and the other
forgets changes a golden file. On a mismatch the actual output is written next to it as
``*.actual``; regenerate on purpose with ``PERFGATE_UPDATE_GOLDENS=1 pytest tests/pipeline``.
What would differ between machines or releases is fixed: the machine, dates and commits are
given, and perfgate's own version reads ``<version>`` in the files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from golden import check_golden
from recorded import load

from perfgate import __version__, sides
from perfgate.assess import Checked, Provenance, assess
from perfgate.baseline import Baseline, Machine, build_baseline
from perfgate.config import Config, Target
from perfgate.render.markdown import render_markdown
from perfgate.render.text import render_text
from perfgate.report import Mode

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"
RECORDED = HERE / "recorded"

MACHINE = Machine(
    go_version="go1.26.8", goos="linux", goarch="amd64", cpu="Recorded CPU", gomaxprocs=2
)
BASELINE_COMMIT = "1111111111111111111111111111111111111111"
HEAD_COMMIT = "2222222222222222222222222222222222222222"
BASELINE_CREATED = "2026-01-01T09:00:00+00:00"
CHECK_CREATED = "2026-01-02T09:00:00+00:00"
TARGET = Target(
    name="example_service",
    package="./example_service",
    run="^TestPerfExampleService$",
    runs=10,  # what was recorded: 10 pairs
)
CONFIG = Config(targets=[TARGET])  # every other setting at its default


def committed_baseline() -> Baseline:
    """``perfgate baseline update`` on the base side, written and read back as JSON."""
    made = build_baseline(
        TARGET, load(RECORDED / "base.json"), MACHINE, BASELINE_COMMIT, "main", BASELINE_CREATED
    )
    return Baseline.model_validate_json(made.to_json())


def check(mode: Mode) -> Checked:
    """``perfgate check`` (or ``check --against main``) on the recorded sides."""
    base, head = load(RECORDED / "base.json"), load(RECORDED / "head.json")
    if mode == Mode.BASELINE:
        target_sides = sides.committed(TARGET, committed_baseline(), head, MACHINE)
        provenance = Provenance(created=CHECK_CREATED, commit=HEAD_COMMIT)
    else:
        target_sides = sides.against(TARGET, base, head, committed_baseline(), MACHINE)
        provenance = Provenance(
            created=CHECK_CREATED, commit=HEAD_COMMIT, against_ref="main (1111111)"
        )
    return assess([target_sides], mode, CONFIG, provenance)


def normalized(text: str) -> str:
    """perfgate's own version as ``<version>``: a release must not change the goldens."""
    return text.replace(f'"perfgate_version": "{__version__}"', '"perfgate_version": "<version>"')


MODES = {"committed": Mode.BASELINE, "against": Mode.AGAINST}


@pytest.mark.parametrize("case", sorted(MODES))
def test_text(case):
    check_golden(GOLDEN / f"{case}.txt", render_text(check(MODES[case]).report))


@pytest.mark.parametrize("case", sorted(MODES))
def test_markdown(case):
    check_golden(GOLDEN / f"{case}.md", render_markdown(check(MODES[case]).report))


@pytest.mark.parametrize("case", sorted(MODES))
def test_json(case):
    check_golden(GOLDEN / f"{case}.json", normalized(check(MODES[case]).report.to_json()))


def test_both_modes_fill_the_same_fields():
    """Whatever a committed-mode report carries, an A/B report carries too (and the version
    perfgate really is), so the two paths cannot drift apart unnoticed."""
    reports = {case: check(mode).report for case, mode in MODES.items()}
    for report in reports.values():
        assert report.perfgate_version == __version__
        assert report.created == CHECK_CREATED and report.commit == HEAD_COMMIT
    docs = {case: json.loads(r.to_json()) for case, r in reports.items()}
    assert docs["committed"].keys() == docs["against"].keys()
    for key in ("targets", "handlers"):
        committed, against = docs["committed"][key][0], docs["against"][key][0]
        assert committed.keys() == against.keys()
        filled = {k for k, v in committed.items() if v not in (None, "", [], 0, False)}
        empty_in_ab = {k for k in filled if against[k] in (None, "", [], 0, False)}
        assert empty_in_ab <= {"machine_mismatch", "reference", "busy_machine"}, empty_in_ab


def test_the_recorded_slowdown_is_found_and_explained():
    """The recordings hold what they should: a slower POST /checkout, explained by its price
    region, in both modes (a re-recording that loses it would make the goldens pointless)."""
    for mode in MODES.values():
        checkout = next(h for h in check(mode).report.handlers if h.name == "POST /checkout")
        assert checkout.verdict == "regressed", (mode, checkout.note)
        assert checkout.explain[0].what == "region price"
