"""``perfgate history``'s output: a table of p95 per handler per baseline version, and in
Markdown a Mermaid line chart with a legend.

Pure: the history comes from :mod:`perfgate.history`.
"""

from __future__ import annotations

import math

from tabulate import tabulate

from perfgate.history import BaselineHistory
from perfgate.render import escape
from perfgate.units import format_ns, plain_us

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


def render_history_text(history: BaselineHistory) -> str:
    """A terminal table: one row per version (oldest first), one column per handler."""
    lines = [f"p95 history of {escape.text(history.path)}"]
    if history.points:
        headers, rows = _table(history)
        cells = [[escape.text(c) for c in r] for r in rows]
        lines.append(
            tabulate(cells, headers=[escape.text(h) for h in headers], disable_numparse=True)
        )
    else:
        lines.append("no readable versions")
    lines += [f"note: {escape.text(n)}" for n in history.notes]
    return "\n".join(lines) + "\n"


def render_history_markdown(history: BaselineHistory) -> str:
    """GitHub Markdown: the table and a Mermaid xychart-beta line chart with a legend."""
    parts = [f"### p95 history of {escape.code(history.path)}", ""]
    if not history.points:
        parts += ["No readable versions.", ""]
    else:
        headers, rows = _table(history)
        md_rows = [[escape.cell(c) for c in r] for r in rows]
        md_headers = [escape.cell(h) for h in headers]
        parts += [tabulate(md_rows, headers=md_headers, tablefmt="github", disable_numparse=True)]
        parts += ["", *_chart(history)]
    parts += [f"> {escape.md(n)}" for n in history.notes]
    return "\n".join(parts).rstrip("\n") + "\n"


def _table(history: BaselineHistory) -> tuple[list[str], list[list[str]]]:
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


def _chart(history: BaselineHistory) -> list[str]:
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
        x_axis = ", ".join(f'"{p.short_sha}"' for p in points)
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
