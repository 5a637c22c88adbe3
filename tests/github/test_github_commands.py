"""Workflow commands: annotation escaping and limits, step-output blocks (pure)."""

from __future__ import annotations

from ghserver.fixtures import handler, make_report

from perfgate.github.commands import (
    annotation,
    escape_data,
    escape_property,
    output_block,
    report_annotations,
    report_outputs,
)
from perfgate.report import Verdict


def test_escaping_follows_the_runner():
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a: b, c%\n") == "a%3A b%2C c%25%0A"
    assert (
        annotation("error", "p95 +50%\nbad", "t: x, y")
        == "::error title=t%3A x%2C y::p95 +50%25%0Abad"
    )
    assert annotation("warning", "plain") == "::warning::plain"


def test_one_annotation_per_interesting_handler():
    report = make_report(
        handler("GET /a"),
        handler("GET /b", Verdict.REGRESSED),
        handler("GET /c", Verdict.MISSING),
        handler("GET /d", Verdict.NEW),
        handler("GET /e", Verdict.INSUFFICIENT),
        handler("GET /f", Verdict.IMPROVED),
    )
    lines = report_annotations(report)
    assert [ln.split(" ", 1)[0] for ln in lines] == ["::error", "::error", "::warning", "::warning"]
    assert "GET /b regressed::p95 rose from 1.0ms to 1.5ms (+50.0%25, threshold 10%25)." in lines[0]
    assert "missing::in the baseline" in lines[1]
    assert "new handler::not in the baseline yet" in lines[2]
    assert "insufficient samples::too few samples" in lines[3]


def test_annotations_are_capped_with_a_count_of_the_rest():
    report = make_report(*[handler(f"GET /{i}", Verdict.REGRESSED) for i in range(25)])
    lines = report_annotations(report)
    assert len(lines) == 10
    assert "16 more handlers" in lines[-1]


def test_output_block_is_multiline_safe():
    block = output_block("report", "a\nb", delimiter="EOF_x")
    assert block == "report<<EOF_x\na\nb\nEOF_x\n"
    random_delim = output_block("verdict", "pass")
    name, rest = random_delim.split("<<", 1)
    delim = rest.split("\n", 1)[0]
    assert name == "verdict" and delim.startswith("ghadelimiter_") and len(delim) > 20


def test_report_outputs():
    report = make_report(handler("GET /a", Verdict.REGRESSED), handler("GET /b", Verdict.REGRESSED))
    assert report_outputs(report, None) == [("verdict", "fail"), ("report", ""), ("regressed", "2")]
