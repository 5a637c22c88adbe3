"""``perfgate history``'s output: a table of p95 per handler per recorded commit (or baseline
version), the change points found in it, and the recent trends; in Markdown with a Mermaid line
chart and a legend, in HTML with an SVG chart marking the change points, and as JSON.

Pure: the history and its change points come from :mod:`perfgate.history`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence

from tabulate import tabulate

from perfgate import __version__
from perfgate.history.model import ChangePointResult, History
from perfgate.render import escape
from perfgate.render.charts import line_chart_svg
from perfgate.render.text import trend_line
from perfgate.units import format_ns, format_pct, plain_us

HISTORY_JSON_SCHEMA_VERSION = 1

CHART_MAX_POINTS = 30
_SUBJECT_WIDTH = 50

# Mermaid's xychart-beta has no legend: lines are told apart by colour, in this order, and the
# legend under the chart uses the emoji square of the same colour.
_PALETTE = (
    ("🟦", "#1f77b4"),
    ("🟧", "#ff7f0e"),
    ("🟩", "#2ca02c"),
    ("🟥", "#d62728"),
    ("🟪", "#9467bd"),
    ("🟫", "#8c564b"),
    ("🟨", "#e6b800"),
    ("⬛", "#333333"),
)


def _title(history: History, esc: Callable[[object], str], path: Callable[[object], str]) -> str:
    """The heading; ``esc`` neutralises the target's name and where the store is (a phrase),
    ``path`` a baseline file's path, for the medium."""
    if history.source == "store":
        return f"p95 history of {esc(history.target)} (from {esc(history.path)})"
    return f"p95 history of {path(history.path)}"


def _change_lines(history: History, esc: Callable[[object], str]) -> list[str]:
    """One line per change point; ``esc`` neutralises the handler's name and the commit."""

    def alongside(cp: ChangePointResult) -> str:
        if not cp.alongside:
            return ""
        moved = ", ".join(
            f"{esc(a.handler)} {format_pct(a.delta_pct)}"
            + (f" at {esc(a.commit[:7])}" if a.commit != cp.commit else "")
            for a in cp.alongside
        )
        return f"; alongside it: {moved}"

    return [
        f"{esc(cp.handler)}: {format_pct(cp.delta_pct)} at {esc(cp.commit[:7])} "
        f"(p95 {format_ns(cp.before_p95_ns)} → {format_ns(cp.after_p95_ns)}, "
        f"p = {cp.p_value:.3g}){alongside(cp)}"
        for cp in history.change_points
    ]


def render_history_text(history: History) -> str:
    """A terminal table: one row per commit or version (oldest first), one column per handler;
    then the change points and recent trends. Every field is
    :func:`~perfgate.render.escape.text`."""
    lines = [_title(history, escape.text, escape.text)]
    if history.points:
        headers, rows = _table(history)
        cells = [[escape.text(c) for c in r] for r in rows]
        lines.append(
            tabulate(cells, headers=[escape.text(h) for h in headers], disable_numparse=True)
        )
    else:
        lines.append("no readable versions")
    if history.change_points:
        lines += ["change points (first commit after each):"]
        lines += [f"  {line}" for line in _change_lines(history, escape.text)]
    lines += [f"trend: {trend_line(t, esc=escape.text)}" for t in history.trends]
    lines += [f"note: {escape.text(n)}" for n in history.notes]
    return "\n".join(lines) + "\n"


def render_history_markdown(history: History) -> str:
    """GitHub Markdown: the table, a Mermaid xychart-beta line chart with a legend, the change
    points and recent trends."""
    parts = [f"### {_title(history, escape.md, escape.code)}", ""]
    if not history.points:
        parts += ["No readable versions.", ""]
    else:
        headers, rows = _table(history)
        md_rows = [[escape.cell(c) for c in r] for r in rows]
        md_headers = [escape.cell(h) for h in headers]
        parts += [tabulate(md_rows, headers=md_headers, tablefmt="github", disable_numparse=True)]
        parts += ["", *_chart(history)]
    if history.change_points:
        parts += ["**Change points** (the first commit after each):", ""]
        parts += [f"- {line}" for line in _change_lines(history, escape.md)] + [""]
    if history.trends:
        parts += ["**Recently:**", ""]
        parts += [f"- {trend_line(t, esc=escape.md)}" for t in history.trends] + [""]
    parts += [f"> {escape.md(n)}" for n in history.notes]
    return "\n".join(parts).rstrip("\n") + "\n"


def render_history_json(histories: Sequence[History]) -> str:
    """Every target's p95 per commit, then all change points and trends, as one JSON document:
    ``{"targets": [...], "change_points": [...], "trends": [...]}``."""
    doc = {
        "schema_version": HISTORY_JSON_SCHEMA_VERSION,
        "perfgate_version": __version__,
        "targets": [
            {
                "name": h.target,
                "source": h.source,
                "from": h.path,
                "handlers": h.handlers,
                "commits": [
                    {
                        "commit": p.commit,
                        "date": p.date.isoformat(),
                        "subject": p.subject,
                        "runs": p.runs,
                        "p95_ns": dict(sorted(p.p95_ns.items())),
                    }
                    for p in h.points
                ],
                "notes": h.notes,
            }
            for h in histories
        ],
        "change_points": [cp.model_dump(mode="json") for h in histories for cp in h.change_points],
        "trends": [t.model_dump(mode="json") for h in histories for t in h.trends],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


_HTML_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
       color: #1f2328; background: #fff; max-width: 1180px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 18px 0 6px; }
.note { color: #59636e; font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { border: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; }
th { background: #f6f8fa; } td.num { text-align: right; white-space: nowrap; }
svg.chart { background: #fff; font-size: 12px; }
svg .title { font-size: 13px; font-weight: 600; fill: #1f2328; }
svg .small { font-size: 11px; fill: #59636e; }
svg .frame { fill: none; stroke: #d1d9e0; } svg .grid { stroke: #eef1f4; }
svg .cp { stroke: #cf222e; stroke-dasharray: 4 3; }
"""


def render_history_html(histories: Sequence[History]) -> str:
    """A self-contained page (inline CSS and SVG, no scripts): per target a chart of p95 per
    handler over the commits with the change points marked, the change points and the table."""
    body = ["<h1>perfgate: p95 history</h1>"]
    for h in histories:
        body.append(f"<h2>{_title(h, escape.html, escape.html)}</h2>")
        if not h.points:
            body.append('<p class="note">No readable versions.</p>')
        for handler in h.handlers:
            at = [(i, p.p95_ns[handler]) for i, p in enumerate(h.points) if handler in p.p95_ns]
            marks = [
                (i, f"{cp.delta_pct:+.0f}%")
                for cp in h.every_change_point
                if cp.handler == handler
                for i, p in enumerate(h.points)
                if p.commit == cp.commit
            ]
            body.append(line_chart_svg(handler, [p.short_sha for p in h.points], at, marks))
        if h.change_points:
            body.append("<p><b>Change points</b> (the first commit after each):</p><ul>")
            body += [f"<li>{line}</li>" for line in _change_lines(h, escape.html)]
            body.append("</ul>")
        if h.trends:
            body.append("<p><b>Recently:</b></p><ul>")
            body += [f"<li>{trend_line(t, esc=escape.html)}</li>" for t in h.trends]
            body.append("</ul>")
        if h.points:
            headers, rows = _table(h)
            body.append("<table><tr>" + "".join(f"<th>{escape.html(c)}</th>" for c in headers))
            body.append("</tr>")
            for row in rows:
                body.append("<tr>" + "".join(f"<td>{escape.html(c)}</td>" for c in row) + "</tr>")
            body.append("</table>")
        body += [f'<p class="note">{escape.html(n)}</p>' for n in h.notes]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>perfgate: p95 history</title>"
        f"<style>{_HTML_CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )


def _table(history: History) -> tuple[list[str], list[list[str]]]:
    handlers = history.handlers
    headers = ["commit", "date", *handlers, "subject"]
    rows = [
        [
            p.short_sha,
            p.date.date().isoformat(),
            *(format_ns(p.p95_ns.get(h)) for h in handlers),
            _truncate(p.subject, _SUBJECT_WIDTH),
        ]
        for p in history.points
    ]
    return headers, rows


def _chart(history: History) -> list[str]:
    """The Mermaid block and its legend, for the last CHART_MAX_POINTS versions.

    xychart-beta cannot draw gaps, so a handler missing from any charted version is left out of
    the chart (and said so) rather than drawn at zero.
    """
    points = history.points[-CHART_MAX_POINTS:]
    charted = [h for h in history.handlers if all(h in p.p95_ns for p in points)]
    left_out = [h for h in history.handlers if h not in charted]
    out: list[str] = []
    if charted:
        colours = [_PALETTE[i % len(_PALETTE)] for i in range(len(charted))]
        palette = ", ".join(hex_ for _, hex_ in colours)
        top = max(p.p95_ns[h] for p in points for h in charted) / 1e3
        x_axis = ", ".join(escape.mermaid(p.short_sha, 12) for p in points)
        out += [
            "```mermaid",
            '%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "' + palette + '"}}}}%%',
            "xychart-beta",
            '    title "p95 per handler (µs)"',
            f"    x-axis [{x_axis}]",
            f'    y-axis "p95 (µs)" 0 --> {_axis_top(top)}',
        ]
        for h in charted:
            out.append("    line [" + ", ".join(plain_us(p.p95_ns[h], 3) for p in points) + "]")
        out += ["```", "", "Lines, in order:", ""]
        out += [f"{i + 1}. {colours[i][0]} {escape.code(h)}" for i, h in enumerate(charted)]
        out.append("")
    if len(history.points) > len(points):
        out += [f"Chart shows the last {len(points)} of {len(history.points)} versions.", ""]
    if left_out:
        names = ", ".join(escape.code(h) for h in left_out)
        out += [f"Not charted (missing from some charted versions): {names}.", ""]
    return out


def _axis_top(top_us: float) -> str:
    """A round upper bound at least 10% above the highest value: 125 → 140, 41.5 → 46."""
    if top_us <= 0:
        return "1"
    target = top_us * 1.1
    step = 10 ** math.floor(math.log10(target)) / 5  # two steps per leading digit
    return plain_us(round(math.ceil(target / step) * step * 1e3), 3)


def _truncate(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
