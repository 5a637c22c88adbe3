"""JUnit XML: reports built here, rendered, and parsed back."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from perfgate.render.junit import render_junit
from perfgate.report import HandlerResult, HandlerStats, Report, TargetInfo, Verdict, load_report

GOLDEN = Path(__file__).parents[1] / "render" / "golden"


def words(text: str) -> set[str]:
    return set(text.split())


# The JUnit shape Jenkins' and GitLab's readers take (junit-10.xsd): the elements each
# element may contain, and its allowed and required attributes.
SCHEMA: dict[str, tuple[set[str], set[str], set[str]]] = {
    "testsuites": ({"testsuite"}, words("name time tests failures disabled errors"), set()),
    "testsuite": (
        words("testsuite properties testcase system-out system-err"),
        words(
            "name tests failures errors time disabled skipped skips timestamp hostname id"
            " package assertions file skip log url"
        ),
        {"tests"},
    ),
    "properties": ({"property"}, set(), set()),
    "property": (set(), {"name", "value"}, {"name", "value"}),
    "testcase": (
        words("skipped error failure system-out system-err"),
        words("name assertions time timestamp classname status class file line log group url"),
        {"name"},
    ),
    "failure": (set(), {"type", "message"}, set()),
    "error": (set(), {"type", "message"}, set()),
    "skipped": (set(), {"type", "message"}, set()),
    "system-out": (set(), set(), set()),
    "system-err": (set(), set(), set()),
}


def check_schema(el: ET.Element) -> None:
    """Fail unless el and everything in it fit SCHEMA."""
    children, allowed, required = SCHEMA[el.tag]
    assert set(el.attrib) <= allowed, (el.tag, set(el.attrib) - allowed)
    assert required <= set(el.attrib), (el.tag, required - set(el.attrib))
    for child in el:
        assert child.tag in children, (el.tag, child.tag)
        check_schema(child)
    if el.tag in ("testsuites", "testsuite", "testcase"):
        assert float(el.get("time", "0")) >= 0
    if el.tag in ("testsuites", "testsuite"):
        for count in ("tests", "failures", "errors", "skipped"):
            assert int(el.get(count, "0")) >= 0
    if el.tag == "testsuite":  # a strict reader wants properties before the test cases
        tags = [c.tag for c in el]
        if "properties" in tags:
            assert tags.index("properties") == 0


def stats(p95: int, count: int = 9000) -> HandlerStats:
    return HandlerStats(count=count, p50_ns=p95 // 2, p95_ns=p95, p99_ns=p95 * 2)


def handler(name: str, verdict: Verdict, target: str = "orders", **kw) -> HandlerResult:
    return HandlerResult(name=name, target=target, verdict=verdict, **kw)


def sample_report() -> Report:
    # fmt: off
    handlers = [
        handler("GET /healthz", Verdict.PASS, baseline=stats(5600), current=stats(5100),
                delta_pct=-8.9, threshold_pct=12, note="within ±12%"),
        handler("POST /checkout", Verdict.REGRESSED,
                baseline=stats(280_000), current=stats(372_000), delta_pct=32.857,
                run_delta_pct=30.0, threshold_pct=12, p_value=4.3e-5,
                note="run p95 median 280µs → 372µs, 15 vs 15 runs; p=4.3e-05"),
        handler("GET /fast", Verdict.IMPROVED, baseline=stats(90_000), current=stats(45_000),
                delta_pct=-50.0, note="run p95 median 90.0µs → 45.0µs"),
        handler("GET /new", Verdict.NEW, current=stats(1000),
                note="not in the baseline (run 'perfgate baseline update' to add it)"),
        handler("GET /gone", Verdict.MISSING, baseline=stats(1000),
                note="in the baseline but no requests were measured"),
        handler("GET /rare", Verdict.INSUFFICIENT, baseline=stats(1000), current=stats(1000, 40),
                note="too few samples for p95 (current 40 < 59)"),
        handler("GET /busy", Verdict.INCONCLUSIVE, baseline=stats(1000), current=stats(1500),
                delta_pct=50.0, busy_machine=True, note="regressed on a busy machine, not judged"),
        handler("GET /ok", Verdict.PASS, target="payments",
                baseline=stats(1000), current=stats(1000), delta_pct=0.0, note=""),
    ]
    # fmt: on
    return Report(
        verdict="fail",
        commit="abc123",
        created="2026-11-28T03:06:56+01:00",
        perfgate_version="0.1.0",
        targets=[
            TargetInfo(
                name="orders",
                package="./orders",
                runs=15,
                warnings=["2 incomplete tasks"],
                machine_mismatch=["cpu: A → B"],
                cpu_share=1.05,
            ),
            TargetInfo(name="payments", package="./payments", runs=15),
        ],
        handlers=handlers,
        warnings=["all 4 handlers are slower"],
    )


def parse(report: Report) -> ET.Element:
    xml = render_junit(report)
    assert xml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(xml.encode("utf-8"))
    check_schema(root)
    return root


def cases(root: ET.Element) -> dict[str, ET.Element]:
    return {f"{c.get('classname')}:{c.get('name')}": c for c in root.iter("testcase")}


def test_one_suite_per_target_one_case_per_handler():
    root = parse(sample_report())
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("8", "2", "0")
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["orders", "payments"]
    orders, payments = suites
    assert (orders.get("tests"), orders.get("failures"), orders.get("skipped")) == ("7", "2", "3")
    assert [payments.get(k) for k in ("tests", "failures", "skipped")] == ["1", "0", "0"]
    assert [c.get("name") for c in orders.iter("testcase")] == [
        "GET /healthz", "POST /checkout", "GET /fast", "GET /new", "GET /gone", "GET /rare",
        "GET /busy",
    ]  # fmt: skip
    assert all(c.get("classname") == "orders" for c in orders.iter("testcase"))
    assert orders.get("timestamp") == "2026-11-28T02:06:56"


@pytest.mark.parametrize(
    ("case", "outcome"),
    [
        ("orders:GET /healthz", None),
        ("orders:POST /checkout", "failure"),
        ("orders:GET /fast", None),
        ("orders:GET /new", "skipped"),
        ("orders:GET /gone", "failure"),
        ("orders:GET /rare", "skipped"),
        ("orders:GET /busy", "skipped"),
        ("payments:GET /ok", None),
    ],
)
def test_verdicts_become_failures_and_skips(case, outcome):
    report = sample_report()
    h = next(h for h in report.handlers if f"{h.target}:{h.name}" == case)
    c = cases(parse(report))[case]
    tags = [e.tag for e in c]
    assert tags == ([outcome] if outcome else []) + ["system-out"]
    if outcome:
        el = c.find(outcome)
        assert el.get("message") == (h.note or h.verdict.value)
        assert el.text == c.find("system-out").text  # the numbers, shown in the test view too
    if outcome == "failure":
        assert c.find("failure").get("type") == h.verdict.value


def test_the_numbers_are_in_system_out():
    out = cases(parse(sample_report()))["orders:POST /checkout"].find("system-out").text
    assert out.splitlines() == [
        "verdict: regressed",
        "note: run p95 median 280µs → 372µs, 15 vs 15 runs; p=4.3e-05",
        "baseline p95: 280000 ns (9000 samples)",
        "current p95: 372000 ns (9000 samples)",
        "p95 change: +32.9% (threshold 12%)",
        "median run p95 change: +30.0%",
        "p-value: 4.3e-05",
    ]
    busy = cases(parse(sample_report()))["orders:GET /busy"].find("system-out").text
    assert busy.splitlines()[0] == "verdict: inconclusive (busy machine, not judged)"


def test_suite_properties_and_warnings():
    orders = parse(sample_report()).find("testsuite")
    props = {p.get("name"): p.get("value") for p in orders.find("properties")}
    assert props == {
        "verdict": "fail", "mode": "baseline", "commit": "abc123", "perfgate_version": "0.1.0",
        "package": "./orders", "runs": "15", "cpu_share": "1.05",
    }  # fmt: skip
    assert orders.find("system-err").text.splitlines() == [
        "all 4 handlers are slower",
        "2 incomplete tasks",
        "machine differs from the baseline's: cpu: A → B",
    ]


def test_against_mode_names_the_base():
    report = sample_report()
    report.mode, report.against_ref = "against", "main"
    report.handlers[1].reference = stats(250_000)
    root = parse(report)
    out = cases(root)["orders:POST /checkout"].find("system-out").text
    assert "base (main) p95: 280000 ns (9000 samples)" in out
    assert "committed baseline p95: 250000 ns" in out
    props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert props["mode"] == "against" and props["against"] == "main"


HOSTILE = "GET /a<b>&\"c'\x00\x01\x08\x0b\x0c\x1b\x7f\ud800\ufffe\uffff]]>\n\tend"
CLEAN = "GET /a<b>&\"c'\x7f]]>\n\tend"


def test_hostile_names_and_notes_stay_valid_xml():
    report = Report(
        targets=[TargetInfo(name="t\x00<x>")],
        handlers=[
            handler(
                HOSTILE,
                Verdict.REGRESSED,
                target="t\x00<x>",
                note=HOSTILE,
                baseline=stats(1),
                current=stats(2),
            ),
            handler("GET /ünïcødé/😀", Verdict.NEW, target="t\x00<x>", note="\x1b[31mred\x1b[0m"),
        ],
        warnings=["bad \x00 warning"],
    )
    xml = render_junit(report)
    root = ET.fromstring(xml.encode("utf-8"))
    check_schema(root)
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "t<x>"
    first, second = suite.findall("testcase")
    assert first.get("name") == CLEAN and first.get("classname") == "t<x>"
    assert first.find("failure").get("message") == CLEAN  # newline and tab kept in the attribute
    assert second.get("name") == "GET /ünïcødé/😀"
    assert second.find("skipped").get("message") == "[31mred[0m"
    assert suite.find("system-err").text == "bad  warning"


def test_empty_report():
    root = parse(Report())
    assert root.findall("testsuite") == [] and root.get("tests") == "0"


def test_targets_without_handlers_and_handlers_without_targets():
    report = Report(
        targets=[TargetInfo(name="quiet")],
        handlers=[handler("GET /x", Verdict.PASS, target="loud")],
        created="not a date",
    )
    suites = parse(report).findall("testsuite")
    assert [(s.get("name"), s.get("tests")) for s in suites] == [("quiet", "0"), ("loud", "1")]
    assert all(s.get("timestamp") is None for s in suites)


@pytest.mark.parametrize("path", sorted(GOLDEN.glob("*.report.json")), ids=lambda p: p.stem)
def test_every_golden_report_renders(path):
    report = load_report(path)
    root = parse(report)
    failing = sum(h.verdict.fails for h in report.handlers)
    assert root.get("failures") == str(failing)
    assert len(list(root.iter("testcase"))) == len(report.handlers)
