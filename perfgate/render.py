"""Render a :class:`~perfgate.report.Report` for people: a terminal table and GitHub Markdown.

Pure functions from report to text; delivery (stdout, files, GitHub) lives elsewhere.
"""

from __future__ import annotations

from tabulate import tabulate

from perfgate.charts import MERMAID_MAX_BARS, Bar, mermaid_p95_chart
from perfgate.explain import WINDOW_TEXT
from perfgate.report import ExplainItem, HandlerResult, Report, Verdict

VERDICT_ICON = {
    Verdict.PASS: "✅",
    Verdict.REGRESSED: "❌",
    Verdict.IMPROVED: "🚀",
    Verdict.NEW: "🆕",
    Verdict.MISSING: "❌",
    Verdict.INSUFFICIENT: "⚠️",
    Verdict.INCONCLUSIVE: "❔",
}
EXPLAIN_TOP = 5  # contributors listed per regressed handler in Markdown (the JSON has them all)


def headers(report: Report) -> list[str]:
    """Column names; in A/B mode the "baseline" side is the REF measured in the same run."""
    base = "base p95" if report.mode == "against" else "baseline p95"
    return ["handler", "samples", base, "current p95", "Δ p95", "verdict", "note"]


def format_ns(ns: int | float | None) -> str:
    """A duration in the largest unit that keeps it readable: 812ns, 43.1µs, 12.4ms, 1.20s."""
    if ns is None:
        return "—"
    ns = float(ns)
    if ns < 1e3:
        return f"{ns:.0f}ns"
    for unit, scale in (("µs", 1e3), ("ms", 1e6)):
        if ns < scale * 1e3:
            value = ns / scale
            return f"{value:.1f}{unit}" if value < 100 else f"{value:.0f}{unit}"
    return f"{ns / 1e9:.2f}s"


def format_pct(pct: float | None) -> str:
    if pct is None:
        return "—"
    return f"{pct:+.1f}%"


def _label(h: HandlerResult, multi_target: bool) -> str:
    return f"{h.target}: {h.name}" if multi_target else h.name


def _multi_target(report: Report) -> bool:
    return len({h.target for h in report.handlers}) > 1


def _row(h: HandlerResult, multi_target: bool, icons: bool) -> list[str]:
    name = _label(h, multi_target)
    verdict = f"{VERDICT_ICON[h.verdict]} {h.verdict.value}" if icons else h.verdict.value
    note = h.note
    if h.reference is not None and h.reference.count:
        note = f"{note}; committed baseline p95 {format_ns(h.reference.p95_ns)}".lstrip("; ")
    return [
        name,
        str(h.current.count) if h.current else "0",
        format_ns(h.baseline.p95_ns if h.baseline else None),
        format_ns(h.current.p95_ns if h.current else None),
        format_pct(h.delta_pct),
        verdict,
        note,
    ]


def _rows(report: Report, icons: bool) -> list[list[str]]:
    multi = _multi_target(report)
    return [_row(h, multi, icons) for h in report.handlers]


def verdict_heading(report: Report) -> tuple[str, str]:
    """The icon and words of a report's heading."""
    if report.verdict == "fail":
        return "❌", "regression found"
    if report.verdict == "inconclusive":
        return "⚠️", "inconclusive (the machine was busy; run it again)"
    return "✅", "no regression"


def summary_line(report: Report) -> str:
    """One line: the verdict and what drove it."""
    counts: dict[Verdict, int] = {}
    for h in report.handlers:
        counts[h.verdict] = counts.get(h.verdict, 0) + 1
    parts = [f"{n} {v.value}" for v, n in counts.items()]
    word = report.verdict.upper()
    mode = f" (A/B against {report.against_ref})" if report.mode == "against" else ""
    return f"perfgate: {word}{mode} — {len(report.handlers)} handlers: " + ", ".join(parts)


def render_text(report: Report) -> str:
    """The terminal table, followed by warnings and the one-line summary."""
    lines = [tabulate(_rows(report, icons=False), headers=headers(report), disable_numparse=True)]
    for w in all_warnings(report):
        lines.append(f"warning: {w}")
    lines.append(summary_line(report))
    return "\n".join(lines) + "\n"


def all_warnings(report: Report) -> list[str]:
    out = list(report.warnings)
    for t in report.targets:
        out.extend(f"{t.name}: {w}" for w in t.warnings)
        if t.machine_mismatch:
            out.append(
                f"{t.name}: baseline was measured on a different machine "
                f"({'; '.join(t.machine_mismatch)}): compare with care"
            )
    return out


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A GitHub table without padding: the same bytes whatever width emoji are counted as."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _md_code(text: str) -> str:
    """``text`` as a code span (for a table cell): literal, so no HTML and no @mentions."""
    clean = " ".join(text.replace("`", "'").split())
    return f"`{clean}`"


def _html_text(text: str) -> str:
    """Text for inside an HTML element such as <summary>: no tags, no @mentions, one line."""
    safe = text.replace("<", "&lt;").replace(">", "&gt;").replace("`", "'")
    return " ".join(safe.replace("@", "@\u200b").split())


def _explain_block(h: HandlerResult, multi_target: bool, base_word: str) -> list[str]:
    """A collapsed <details> block: the top contributors to a regressed handler's p95 change."""
    top = h.explain[:EXPLAIN_TOP]
    share = "" if top[0].share_pct is None else f" ({top[0].share_pct:.0f}% of the change)"
    lead = f"{top[0].what} {format_delta(top[0].delta_ns)}{share}"
    lines = [
        f"<details><summary>Why is {_html_text(_label(h, multi_target))} slower? "
        f"Top contributor: {_html_text(lead)}</summary>",
        "",
        f"Mean time per request among the requests around the p95 ({WINDOW_TEXT}), "
        f"{base_word} vs current, by where it was spent; largest change first.",
        "",
    ]
    rows = [_item_row(i) for i in top]
    lines.append(markdown_table(["where", base_word, "current", "Δ", "share of Δ"], rows))
    if len(h.explain) > len(top):
        lines += ["", f"… and {len(h.explain) - len(top)} more in the JSON report (`explain`)."]
    if h.runtime:
        lines += [
            "",
            "What the handler's goroutines were doing meanwhile (runtime states from the trace; "
            "GC and stop-the-world overlap the states, so they have no share):",
            "",
            markdown_table(
                ["state", base_word, "current", "Δ", "share of Δ"],
                [_item_row(i) for i in h.runtime[:EXPLAIN_TOP]],
            ),
        ]
    lines += ["", "</details>", ""]
    return lines


def _item_row(i: ExplainItem) -> list[str]:
    return [
        _md_code(i.what),
        format_ns(i.baseline_ns),
        format_ns(i.current_ns),
        format_delta(i.delta_ns),
        "—" if i.share_pct is None else f"{i.share_pct:.0f}%",
    ]


def format_delta(ns: int) -> str:
    """A signed duration: +95.0µs, -1.2ms."""
    return ("+" if ns >= 0 else "-") + format_ns(abs(ns))


def _p95_chart(report: Report, base_word: str) -> str | None:
    """The Mermaid chart of p95s: every handler measured on both sides, or when there are more
    than a chart can show, only those not passing (the ones the reader looks for)."""
    multi = _multi_target(report)
    both = [h for h in report.handlers if h.baseline and h.baseline.count and h.current]
    note = ""
    if len(both) > MERMAID_MAX_BARS:
        flagged = [h for h in both if h.verdict != Verdict.PASS]
        note = f"the {min(len(flagged), MERMAID_MAX_BARS)} of {len(both)} handlers not passing"
        both = flagged[:MERMAID_MAX_BARS]
    bars = [
        Bar(_label(h, multi), h.baseline.p95_ns, h.current.p95_ns)
        for h in both
        if h.baseline and h.current
    ]
    return mermaid_p95_chart(bars, base_label=base_word, note=note)


def render_markdown(report: Report, title: str = "perfgate") -> str:
    """GitHub-flavoured Markdown: heading with the verdict, the table, warnings, for each
    regressed handler a collapsed list of what made it slower, and a chart of p95s."""
    icon, word = verdict_heading(report)
    head = f"### {icon} {title}: {word}"
    table = markdown_table(headers(report), _rows(report, icons=True))
    parts = [head, "", table, ""]
    warnings = all_warnings(report)
    if warnings:
        parts += [f"> ⚠️ {_md_escape(w)}" for w in warnings] + [""]
    multi = _multi_target(report)
    base_word = "base" if report.mode == "against" else "baseline"
    for h in report.handlers:
        if h.verdict == Verdict.REGRESSED and h.explain:
            parts += _explain_block(h, multi, base_word)
    chart = _p95_chart(report, base_word)
    if chart:
        parts += [chart, ""]
    test = (
        "Wilcoxon signed-rank on pairs of runs made back to back"
        if report.mode == "against"
        else "Mann-Whitney"
    )
    parts.append(
        "<sub>p95 = nearest-rank 95th percentile of each request's runtime/trace task "
        "duration, all runs pooled. A handler regresses only when its pooled p95 and its median "
        "run's p95 both rose by more than the threshold, and its per-run p95s differ beyond "
        f"run-to-run noise ({test}, Holm-adjusted).</sub>"
    )
    return "\n".join(parts) + "\n"
