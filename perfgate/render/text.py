"""The terminal table, and the pieces every rendering of a report shares: the columns, one row
per handler, the warnings, the heading and the one-line summary.

Pure functions from a :class:`~perfgate.report.Report` to text. The shared pieces return the
report's text as it is; each renderer neutralises it for its medium (:mod:`perfgate.render.escape`)
where it writes it. The heading and the summary line say what the handlers' verdicts add up to
(:func:`~perfgate.report.overall_verdict`), never what a report's own ``verdict`` field claims.
"""

from __future__ import annotations

from collections.abc import Callable

from tabulate import tabulate

from perfgate.render import escape
from perfgate.report import (
    HandlerResult,
    Mode,
    Report,
    ReportVerdict,
    TrendNote,
    Verdict,
    overall_verdict,
)
from perfgate.units import format_ns, format_pct

VERDICT_ICON = {
    Verdict.PASS: "✅",
    Verdict.REGRESSED: "❌",
    Verdict.IMPROVED: "🚀",
    Verdict.NEW: "🆕",
    Verdict.MISSING: "❌",
    Verdict.INSUFFICIENT: "⚠️",
    Verdict.INCONCLUSIVE: "❔",
}


def base_word(report: Report) -> str:
    """What the other side is called: the committed ``baseline``, or the ``base`` REF in A/B."""
    return "base" if report.mode == Mode.AGAINST else "baseline"


def headers(report: Report) -> list[str]:
    """Column names; in A/B mode the "baseline" side is the REF measured in the same run."""
    base = f"{base_word(report)} p95"
    return ["handler", "samples", base, "current p95", "Δ p95 [interval]", "verdict", "note"]


def label(h: HandlerResult, multi_target: bool) -> str:
    """A handler's name, prefixed with its target when the report has several."""
    return f"{h.target}: {h.name}" if multi_target else h.name


def multi_target(report: Report) -> bool:
    return len({h.target for h in report.handlers}) > 1


def _row(h: HandlerResult, multi: bool, icons: bool) -> list[str]:
    verdict = f"{VERDICT_ICON[h.verdict]} {h.verdict.value}" if icons else h.verdict.value
    note = h.note
    if h.reference is not None and h.reference.count:
        drift = (
            f" (base today {format_pct(h.reference_drift_pct)})"
            if h.reference_drift_pct is not None
            else ""
        )
        reference = f"committed baseline p95 {format_ns(h.reference.p95_ns)}{drift}"
        note = f"{note}; {reference}".lstrip("; ")
    return [
        label(h, multi),
        str(h.current.count) if h.current else "0",
        format_ns(h.baseline.p95_ns if h.baseline else None),
        format_ns(h.current.p95_ns if h.current else None),
        change_cell(h),
        verdict,
        note,
    ]


def change_cell(h: HandlerResult) -> str:
    """The pooled p95's change and the interval the gate judged it by: ``+28.0% [+19, +37]``;
    when a shift all handlers share was taken out, the change beyond it too."""
    if h.delta_pct is None or h.delta_ci_pct is None:
        return format_pct(h.delta_pct)
    lo, hi = h.delta_ci_pct
    interval = f"[{lo:+.0f}, {hi:+.0f}]"
    if h.shift_pct is not None:
        beyond = ((1 + h.delta_pct / 100) / (1 + h.shift_pct / 100) - 1) * 100
        return f"{format_pct(h.delta_pct)} ({beyond:+.1f}% beyond shift {interval})"
    return f"{format_pct(h.delta_pct)} {interval}"


def rows(report: Report, icons: bool) -> list[list[str]]:
    """One row of cells per handler, in report order (``icons``: an emoji before the verdict)."""
    multi = multi_target(report)
    return [_row(h, multi, icons) for h in report.handlers]


def verdict_heading(report: Report, verdict: ReportVerdict | None = None) -> tuple[str, str]:
    """The icon and words of a report's heading, from its handlers' verdicts (``verdict``: of
    more handlers than ``report`` shows, when its table was cut)."""
    verdict = verdict or overall_verdict(report.handlers)
    if verdict == ReportVerdict.FAIL:
        return "❌", "regression found"
    if verdict == ReportVerdict.INCONCLUSIVE:
        return "⚠️", "inconclusive (a rise not beyond noise, or a busy machine: run it again)"
    return "✅", "no regression"


def summary_line(report: Report, esc: Callable[[object], str] = escape.text) -> str:
    """One line: the verdict the handlers add up to, and what drove it. ``esc`` neutralises
    the report's own text (the ``--against`` ref) for the medium."""
    counts: dict[Verdict, int] = {}
    for h in report.handlers:
        counts[h.verdict] = counts.get(h.verdict, 0) + 1
    parts = [f"{n} {v.value}" for v, n in counts.items()]
    word = overall_verdict(report.handlers).value.upper()
    mode = f" (A/B against {esc(report.against_ref)})" if report.mode == Mode.AGAINST else ""
    return f"perfgate: {word}{mode} — {len(report.handlers)} handlers: " + ", ".join(parts)


def all_warnings(report: Report) -> list[str]:
    """The report's warnings, then each target's, then any machine mismatch with the baseline
    (as they are: the caller escapes them)."""
    out = list(report.warnings)
    for t in report.targets:
        out.extend(f"{t.name}: {w}" for w in t.warnings)
        if t.machine_mismatch:
            out.append(
                f"{t.name}: baseline was measured on a different machine "
                f"({'; '.join(t.machine_mismatch)}): compare with care"
            )
    return out


STALE_PCT = 10.0  # the base measured now this far from the committed baseline: refresh it


def reference_lines(report: Report) -> list[str]:
    """A/B mode: per target, where and when the committed baseline shown for reference was
    measured, and how far the base measured now sits from it (median over its handlers) — so
    reviewers see when the committed numbers have gone stale (as they are: the caller escapes
    them)."""
    out = []
    for t in report.targets:
        if report.mode != Mode.AGAINST or t.baseline_path is None:
            continue
        where = [t.baseline_path]
        if t.baseline_commit:
            where.append(f"commit {t.baseline_commit[:7]}")
        if t.reference_machine:
            where.append(f"measured on {t.reference_machine}")
        if t.reference_created:
            where.append(t.reference_created)
        line = f"{t.name}: committed baseline ({', '.join(where)})"
        if t.reference_drift_pct is not None:
            line += (
                f": the base measured now sits {format_pct(t.reference_drift_pct)} from it "
                "(median over handlers)"
            )
            if abs(t.reference_drift_pct) >= STALE_PCT:
                line += (
                    " — the committed numbers have gone stale here: refresh them "
                    "('perfgate baseline update') before relying on compare: baseline"
                )
        out.append(line)
    return out


def gate_files_notice(report: Report) -> str | None:
    """The plain words for a pull request that changes the gate's own files, or None."""
    if not report.gate_files_changed:
        return None
    files = ", ".join(report.gate_files_changed)
    return (
        f"this pull request changes {files}: the bar moved (the baseline or the rules this "
        "check compares with are part of the change under review)"
    )


def trend_line(
    note: TrendNote, with_target: bool = False, esc: Callable[[object], str] = escape.text
) -> str:
    """One line for a trend: ``POST /checkout: +14% over the last 9 merges, since abc1234
    (p95 250µs → 285µs)``. ``esc`` neutralises the note's own text (target, handler, commit)
    for the medium."""
    name = f"{esc(note.target)}: {esc(note.handler)}" if with_target else esc(note.handler)
    merges = "the last merge" if note.merges == 1 else f"the last {note.merges} merges"
    kind = ", in several steps" if note.kind == "drift" else ""
    return (
        f"{name}: {note.delta_pct:+.0f}% over {merges}, since {esc(note.since_commit[:7])} "
        f"(p95 {format_ns(note.before_p95_ns)} → {format_ns(note.after_p95_ns)}{kind})"
    )


def render_text(report: Report) -> str:
    """The terminal table, followed by warnings, main's recent trends and the one-line
    summary. Every field is :func:`~perfgate.render.escape.text`: no line can be a GitHub
    workflow command."""
    cells = [[escape.text(c) for c in row] for row in rows(report, icons=False)]
    lines = [tabulate(cells, headers=headers(report), disable_numparse=True)]
    notice = gate_files_notice(report)
    if notice:
        lines.append(f"warning: {escape.text(notice)}")
    for w in all_warnings(report):
        lines.append(f"warning: {escape.text(w)}")
    for r in reference_lines(report):
        lines.append(f"reference: {escape.text(r)}")
    multi = multi_target(report)
    for t in report.trends:
        lines.append(f"on main: {trend_line(t, multi, esc=escape.text)}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"
