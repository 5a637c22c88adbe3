"""A :class:`~perfgate.report.Report` as GitHub Markdown: the PR comment's and the job summary's
text, with the explanation of each regressed handler and a chart of p95s.

Pure functions from report to text; delivery (stdout, files, GitHub) lives elsewhere. Every
piece of the report's own text is neutralised where it is written (:mod:`perfgate.render.escape`):
table cells and quote lines with :func:`~perfgate.render.escape.cell` /
:func:`~perfgate.render.escape.md`, text inside HTML elements with
:func:`~perfgate.render.escape.gh_html`, region names as code spans.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.explain import WINDOW_TEXT
from perfgate.render import escape
from perfgate.render.charts import (
    MERMAID_MAX_BARS,
    Bar,
    mermaid_p95_chart,
    mermaid_trend_chart,
)
from perfgate.render.text import (
    all_warnings,
    base_word,
    gate_files_notice,
    headers,
    label,
    multi_target,
    reference_lines,
    rows,
    trend_line,
    verdict_heading,
)
from perfgate.report import ExplainItem, HandlerResult, Mode, Report, ReportVerdict, Verdict
from perfgate.units import format_delta, format_ns

EXPLAIN_TOP = 5  # contributors listed per regressed handler in Markdown (the JSON has them all)
TREND_CHARTS = 3  # trend charts at most (the handlers that moved most)
TREND_CHART_COMMITS = 12  # commits in a trend chart at least (more when the trend is longer)


def markdown_table(header: list[str], cells: list[list[str]]) -> str:
    """A GitHub table without padding: the same bytes whatever width emoji are counted as.

    ``cells`` are already Markdown (escaped with :func:`~perfgate.render.escape.cell` or
    made by :func:`~perfgate.render.escape.code`)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


def _explain_block(h: HandlerResult, multi: bool, base: str) -> list[str]:
    """A collapsed <details> block: the top contributors to a regressed handler's p95 change."""
    top = h.explain[:EXPLAIN_TOP]
    share = "" if top[0].share_pct is None else f" ({top[0].share_pct:.0f}% of the change)"
    lead = f"{top[0].what} {format_delta(top[0].delta_ns)}{share}"
    lines = [
        f"<details><summary>Why is {escape.gh_html(label(h, multi))} slower? "
        f"Top contributor: {escape.gh_html(lead)}</summary>",
        "",
        f"Mean time per request among the requests around the p95 ({WINDOW_TEXT}), "
        f"{base} vs current, by where it was spent; largest change first.",
        "",
    ]
    items = [_item_row(i) for i in top]
    lines.append(markdown_table(["where", base, "current", "Δ", "share of Δ"], items))
    if len(h.explain) > len(top):
        lines += ["", f"… and {len(h.explain) - len(top)} more in the JSON report (`explain`)."]
    if h.runtime:
        lines += [
            "",
            "What the handler's goroutines were doing meanwhile (runtime states from the trace; "
            "GC and stop-the-world overlap the states, so they have no share):",
            "",
            markdown_table(
                ["state", base, "current", "Δ", "share of Δ"],
                [_item_row(i) for i in h.runtime[:EXPLAIN_TOP]],
            ),
        ]
    lines += ["", "</details>", ""]
    return lines


def _item_row(i: ExplainItem) -> list[str]:
    return [
        escape.code(i.what, table=True),
        format_ns(i.baseline_ns),
        format_ns(i.current_ns),
        format_delta(i.delta_ns),
        "—" if i.share_pct is None else f"{i.share_pct:.0f}%",
    ]


def _p95_chart(report: Report, base: str) -> str | None:
    """The Mermaid chart of p95s: every handler measured on both sides, or when there are more
    than a chart can show, only those not passing (the ones the reader looks for)."""
    multi = multi_target(report)
    both = [h for h in report.handlers if h.baseline and h.baseline.count and h.current]
    note = ""
    if len(both) > MERMAID_MAX_BARS:
        flagged = [h for h in both if h.verdict != Verdict.PASS]
        note = f"the {min(len(flagged), MERMAID_MAX_BARS)} of {len(both)} handlers not passing"
        both = flagged[:MERMAID_MAX_BARS]
    bars = [
        Bar(label(h, multi), h.baseline.p95_ns, h.current.p95_ns)
        for h in both
        if h.baseline and h.current
    ]
    return mermaid_p95_chart(bars, base_label=base, note=note)


def gate_files_block(report: Report) -> list[str]:
    """The plain notice that this pull request changes the gate's own files (empty: it does
    not), as Markdown lines."""
    notice = gate_files_notice(report)
    if notice is None:
        return []
    return [
        f"> 🚧 **The bar moved:** {escape.md(notice)}. Review them as carefully as the code.",
        "",
    ]


def _trend_lines(report: Report) -> list[str]:
    """main's recent change points and drifts, one line per handler (names :func:`escape.md`)."""
    multi = multi_target(report)
    lines = ["**On main** (recorded history):", ""]
    for t in report.trends:
        icon = "📈" if t.delta_pct > 0 else "📉"
        lines.append(f"- {icon} {trend_line(t, multi, esc=escape.md)}")
    return [*lines, ""]


def _trend_charts(report: Report) -> list[str]:
    """A small chart of the recent p95s on main of the handlers that moved most (the title and
    the commit labels are quoted by :func:`escape.mermaid` in :func:`mermaid_trend_chart`)."""
    multi = multi_target(report)
    out: list[str] = []
    for t in sorted(report.trends, key=lambda t: -abs(t.delta_pct))[:TREND_CHARTS]:
        name = f"{t.target}: {t.handler}" if multi else t.handler
        shown = max(TREND_CHART_COMMITS, t.merges + 4)
        chart = mermaid_trend_chart(
            f"{name}: p95 on main, µs (since {t.since_commit[:7]}: {t.delta_pct:+.0f}%)",
            [c[:7] for c in t.recent_commits[-shown:]],
            t.recent_p95_ns[-shown:],
        )
        out += [chart, ""]
    return out


def render_markdown(
    report: Report,
    title: str = "perfgate",
    notices: Sequence[str] = (),
    verdict: ReportVerdict | None = None,
) -> str:
    """GitHub-flavoured Markdown: heading with the verdict, the table, warnings, main's recent
    trends (when the report carries any), for each regressed handler a collapsed list of what
    made it slower, a chart of p95s, and charts of the trends.

    ``notices`` are Markdown lines (already safe) put right under the heading, like the label of
    a report from a fork. ``verdict``: the heading's, when ``report`` holds only some of the
    handlers (a table cut to fit); by default what its handlers add up to."""
    icon, word = verdict_heading(report, verdict)
    head = f"### {icon} {title}: {word}"
    cells = [[escape.cell(c) for c in row] for row in rows(report, icons=True)]
    table = markdown_table(headers(report), cells)
    parts = [head, ""]
    for n in notices:
        parts += [n, ""]
    parts += gate_files_block(report)
    parts += [table, ""]
    warnings = all_warnings(report)
    if warnings:
        parts += [f"> ⚠️ {escape.md(w)}" for w in warnings] + [""]
    references = reference_lines(report)
    if references:
        parts += [f"📏 {escape.md(r)}" for r in references] + [""]
    if report.trends:
        parts += _trend_lines(report)
    multi = multi_target(report)
    base = base_word(report)
    for h in report.handlers:
        if h.verdict == Verdict.REGRESSED and h.explain:
            parts += _explain_block(h, multi, base)
    chart = _p95_chart(report, base)
    if chart:
        parts += [chart, ""]
    if report.trends:
        parts += _trend_charts(report)
    pairs = " (runs made in pairs, back to back)" if report.mode == Mode.AGAINST else ""
    parts.append(
        "<sub>p95 = nearest-rank 95th percentile of each request's runtime/trace task "
        "duration, all runs pooled. [interval] = confidence interval of its change at the gate's "
        f"level, from the spread between runs{pairs}. A handler regresses when its p95 rose by "
        "more than the threshold and the interval lies above zero.</sub>"
    )
    return "\n".join(parts) + "\n"
