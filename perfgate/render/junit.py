"""A report as JUnit XML, so CI systems without perfgate's PR comment (GitLab, Jenkins,
Buildkite) show its verdicts in their own test views.

One ``<testsuite>`` per target and one ``<testcase>`` per handler (classname the target, name
the handler). A ``regressed`` or ``missing`` handler has a ``<failure>``; an ``insufficient``,
``new`` or ``inconclusive`` one is ``<skipped>``. The handler's note is the message, and the
numbers go in the element's text and in ``<system-out>``. The shape is the common one of
Jenkins' and GitLab's JUnit readers (the ``junit-10.xsd`` flavour): counts on every suite,
``time`` in seconds, and nothing a strict reader rejects. Handler names are user input:
characters XML cannot carry are dropped, and the serializer escapes everything else.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from perfgate.report import HandlerResult, Report, TargetInfo, Verdict, overall_verdict

SKIPPED = frozenset({Verdict.INSUFFICIENT, Verdict.NEW, Verdict.INCONCLUSIVE})

# Characters outside XML 1.0's Char production: C0 controls but tab, LF and CR; lone
# surrogates; U+FFFE and U+FFFF.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(report: Report) -> str:
    """The report as a JUnit XML document (UTF-8 declared; write it encoded as UTF-8)."""
    suites = [_suite(report, target, hs) for target, hs in _by_target(report)]
    root = ET.Element(
        "testsuites",
        _attrs(
            name="perfgate",
            tests=sum(int(s.get("tests", 0)) for s in suites),
            failures=sum(int(s.get("failures", 0)) for s in suites),
            errors=0,
            time=0,
        ),
    )
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _by_target(report: Report) -> list[tuple[TargetInfo, list[HandlerResult]]]:
    """Each target with its handlers, in the report's order; a target only named by its
    handlers still gets a suite."""
    targets = {t.name: t for t in report.targets}
    for h in report.handlers:
        targets.setdefault(h.target, TargetInfo(name=h.target))
    return [(t, [h for h in report.handlers if h.target == name]) for name, t in targets.items()]


def _suite(report: Report, target: TargetInfo, handlers: list[HandlerResult]) -> ET.Element:
    suite = ET.Element(
        "testsuite",
        _attrs(
            name=target.name,
            tests=len(handlers),
            failures=sum(h.verdict.fails for h in handlers),
            errors=0,
            skipped=sum(h.verdict in SKIPPED for h in handlers),
            time=0,
            timestamp=_timestamp(report.created),
        ),
    )
    props = _properties(report, target)
    if props:
        el = ET.SubElement(suite, "properties")
        for name, value in props.items():
            ET.SubElement(el, "property", _attrs(name=name, value=value))
    for h in handlers:
        suite.append(_case(report, h))
    warnings = [*report.warnings, *target.warnings]
    if target.machine_mismatch:
        differs = "; ".join(target.machine_mismatch)
        warnings.append(f"machine differs from the baseline's: {differs}")
    if warnings:
        ET.SubElement(suite, "system-err").text = _text("\n".join(warnings))
    return suite


def _case(report: Report, h: HandlerResult) -> ET.Element:
    case = ET.Element("testcase", _attrs(classname=h.target, name=h.name, time=0))
    details = _details(report, h)
    message = h.note or h.verdict.value
    if h.verdict.fails:
        el = ET.SubElement(case, "failure", _attrs(message=message, type=h.verdict.value))
        el.text = _text(details)  # what GitLab's test view shows of a failed or skipped test
    elif h.verdict in SKIPPED:
        el = ET.SubElement(case, "skipped", _attrs(message=message))
        el.text = _text(details)
    ET.SubElement(case, "system-out").text = _text(details)
    return case


def _details(report: Report, h: HandlerResult) -> str:
    """The numbers behind a verdict, one fact a line, times in nanoseconds."""
    base = "baseline" if report.mode != "against" else f"base ({report.against_ref or 'ref'})"
    busy = " (busy machine, not judged)" if h.busy_machine else ""
    lines = [f"verdict: {h.verdict.value}{busy}"]
    if h.note:
        lines.append(f"note: {h.note}")
    if h.baseline is not None:
        lines.append(f"{base} p95: {h.baseline.p95_ns} ns ({h.baseline.count} samples)")
    if h.current is not None:
        lines.append(f"current p95: {h.current.p95_ns} ns ({h.current.count} samples)")
    if h.delta_pct is not None:
        change = f"p95 change: {h.delta_pct:+.1f}%"
        if h.threshold_pct is not None:
            change += f" (threshold {h.threshold_pct:g}%)"
        lines.append(change)
    if h.run_delta_pct is not None:
        lines.append(f"median run p95 change: {h.run_delta_pct:+.1f}%")
    if h.p_value is not None:
        lines.append(f"p-value: {h.p_value:.2g}")
    if report.mode == "against" and h.reference is not None:
        lines.append(f"committed baseline p95: {h.reference.p95_ns} ns")
    return "\n".join(lines)


def _properties(report: Report, target: TargetInfo) -> dict[str, object]:
    props: dict[str, object] = {
        "verdict": overall_verdict(report.handlers),
        "mode": report.mode,
        "against": report.against_ref,
        "commit": report.commit,
        "perfgate_version": report.perfgate_version,
        "package": target.package,
        "runs": target.runs or None,
        "baseline": target.baseline_path,
        "baseline_commit": target.baseline_commit,
        "cpu_share": target.cpu_share,
        "baseline_cpu_share": target.baseline_cpu_share,
    }
    return {k: v for k, v in props.items() if v not in (None, "")}


def _timestamp(created: str | None) -> str | None:
    """ISO 8601 in UTC without a zone, the form strict JUnit readers take."""
    if not created:
        return None
    try:
        t = datetime.fromisoformat(created)
    except ValueError:
        return None
    if t.tzinfo is not None:
        t = t.astimezone(timezone.utc).replace(tzinfo=None)
    return t.replace(microsecond=0).isoformat()


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value))


def _attrs(**values: object) -> dict[str, str]:
    """XML attributes from keyword arguments; None leaves the attribute out."""
    return {k: _text(v) for k, v in values.items() if v is not None}
