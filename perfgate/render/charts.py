"""Charts as text: a Mermaid bar chart for Markdown, and inline SVG for the HTML report.

Pure functions from numbers to strings. The SVG uses no scripts, fonts or external resources
(the HTML report must render anywhere, offline); every label is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.render import escape
from perfgate.units import format_ns_short, plain_us

MERMAID_MAX_BARS = 20  # more rows than this are unreadable in a Mermaid chart
BASE_COLOR = "#4c78a8"
CURRENT_COLOR = "#e45756"
LOG_SPREAD = 20.0  # a quantile plot gets a log-scaled latency axis when max/min is at least this
TAIL_TOP = 2.5  # the maximum's height on the quantile axis (99% is at 2, 90% at 1)


@dataclass(frozen=True)
class Bar:
    """One handler's p95 on each side (ns; None: not measured there)."""

    label: str
    baseline_ns: int | None
    current_ns: int | None


# --- Mermaid --------------------------------------------------------------------------------


def _svg_open(width: int, height: int, left: int, title: str) -> list[str]:
    """A chart's opening tag (labelled with its title) and the title line."""
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape.html(title)}">',
        f'<text x="{left}" y="18" class="title">{escape.html(title)}</text>',
    ]


def _mermaid_label(text: str, limit: int = 48) -> str:
    """A quoted x-axis label (:func:`perfgate.render.escape.mermaid`)."""
    return escape.mermaid(text, limit)


def _nice_ceiling(x: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k that is ≥ x (an axis end that reads well)."""
    if x <= 0:
        return 1.0
    scale = 10 ** math.floor(math.log10(x))
    for step in (1, 2, 2.5, 5, 10):
        if step * scale >= x * (1 - 1e-9):
            return step * scale
    return 10 * scale  # pragma: no cover


def mermaid_p95_chart(
    bars: Sequence[Bar], base_label: str = "baseline", note: str = ""
) -> str | None:
    """A Mermaid ``xychart-beta`` of p95 per handler in µs: bars current, line ``base_label``.

    Horizontal, so long route names stay readable. Two bar series would be drawn on top of each
    other (xychart has no grouped bars), hence bar + line. Only handlers measured on both sides
    (at most :data:`MERMAID_MAX_BARS`; the caller chooses which); None when there are none.
    ``note`` is added to the title, e.g. which handlers were chosen.
    """
    shown = [b for b in bars if b.baseline_ns is not None and b.current_ns is not None]
    shown = shown[:MERMAID_MAX_BARS]
    if not shown:
        return None
    top = max(max(b.baseline_ns or 0, b.current_ns or 0) for b in shown) / 1000
    more = f"; {note}" if note else ""
    title = f"p95 per handler, µs (bars: current, line: {base_label}{more})"
    lines = [
        "```mermaid",
        "xychart-beta horizontal",
        f"    title {_mermaid_label(title, 120)}",
        "    x-axis [" + ", ".join(_mermaid_label(b.label) for b in shown) + "]",
        f'    y-axis "p95 (µs)" 0 --> {_nice_ceiling(top * 1.05):g}',
        "    bar [" + ", ".join(plain_us(b.current_ns or 0, 1) for b in shown) + "]",
        "    line [" + ", ".join(plain_us(b.baseline_ns or 0, 1) for b in shown) + "]",
        "```",
    ]
    return "\n".join(lines)


# --- SVG ------------------------------------------------------------------------------------


def linear_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering [lo, hi]."""
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    step = _nice_ceiling(raw)
    first = math.ceil(lo / step) * step
    ticks = []
    t = first
    while t <= hi * (1 + 1e-9):
        ticks.append(t)
        t += step
    return ticks


def log_ticks(lo: float, hi: float) -> list[float]:
    """1-2-5 ticks per decade within [lo, hi] (just the decades when there are many)."""
    ticks: list[float] = []
    decade = 10 ** math.floor(math.log10(lo))
    mults = (1, 2, 5) if hi / lo < 1e4 else (1,)
    while decade <= hi:
        ticks.extend(m * decade for m in mults if lo <= m * decade <= hi)
        decade *= 10
    return ticks


@dataclass(frozen=True)
class Series:
    """One line of a quantile plot: ``quantiles_ns[i]`` is the i-th of evenly spaced quantiles
    from 0% to 100% (a baseline's 101-point sketch)."""

    label: str
    color: str
    quantiles_ns: Sequence[int]


def tail_position(q: float) -> float:
    """Height of quantile ``q`` on a tail-stretching axis: -log10(1 - q), so 0%, 90%, 99% sit
    at 0, 1, 2 — the tail, where the p95 lives, gets as much room as the body — and the maximum
    (q = 1) just above 99%, at :data:`TAIL_TOP`."""
    return TAIL_TOP if q >= 1 else min(-math.log10(1 - q), TAIL_TOP)


def quantile_svg(series: Sequence[Series], title: str, width: int = 560, height: int = 300) -> str:
    """A quantile plot: latency on x (log-scaled when the spread is large), quantile on y.

    Each series is a line through its quantiles; y stretches the tail (:func:`tail_position`)
    and a dashed line marks the 95th percentile, so where each side crosses it is its p95. A
    curve further right is slower at that quantile.
    """
    drawn = [s for s in series if len(s.quantiles_ns) >= 2]
    left, right, top, bottom = 48, 16, 28, 40
    pw, ph = width - left - right, height - top - bottom
    out = [
        *_svg_open(width, height, left, title),
    ]
    if not drawn:
        out.append(f'<text x="{left}" y="{top + ph / 2}">no distribution recorded</text></svg>')
        return "".join(out)
    values = [v for s in drawn for v in s.quantiles_ns]
    lo, hi = max(min(values), 1), max(max(values), 2)
    if hi <= lo:
        hi = lo + 1
    log = hi / lo >= LOG_SPREAD
    if log:
        llo, lhi = math.log10(lo), math.log10(hi)

        def x_of(v: float) -> float:
            return left + (math.log10(max(v, lo)) - llo) / (lhi - llo) * pw

        ticks = log_ticks(lo, hi)
    else:
        ticks = linear_ticks(lo, hi)

        def x_of(v: float) -> float:
            return left + (v - lo) / (hi - lo) * pw

    def y_of(q: float) -> float:
        return top + (1 - tail_position(q) / TAIL_TOP) * ph

    out.append(
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>'
        f'<line x1="{left}" x2="{left + pw}" y1="{y_of(0.95):.1f}" y2="{y_of(0.95):.1f}" '
        'class="p95"/>'
        f'<text x="{left - 6}" y="{y_of(0.95) + 4:.1f}" class="small" '
        'text-anchor="end">p95</text>'
    )
    for q, text in ((0, "0%"), (0.5, "50%"), (0.9, "90%"), (0.99, "99%"), (1, "max")):
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y_of(q):.1f}" y2="{y_of(q):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y_of(q) + 4:.1f}" class="small" '
            f'text-anchor="end">{text}</text>'
        )
    for t in ticks:
        x = x_of(t)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="grid"/>'
            f'<text x="{x:.1f}" y="{top + ph + 14}" class="small" '
            f'text-anchor="middle">{escape.html(format_ns_short(t))}</text>'
        )
    axis = "latency (log scale)" if log else "latency"
    out.append(
        f'<text x="{left + pw / 2}" y="{height - 6}" class="small" '
        f'text-anchor="middle">{axis}</text>'
    )
    for s in drawn:
        n = len(s.quantiles_ns) - 1
        points = [f"{x_of(v):.1f},{y_of(i / n):.1f}" for i, v in enumerate(s.quantiles_ns)]
        out.append(
            f'<polyline points="{" ".join(points)}" fill="none" stroke="{s.color}" '
            'stroke-width="2"/>'
        )
    legend_x = left + pw - 90  # bottom right: a quantile curve never goes there
    for i, s in enumerate(drawn):
        y = top + ph - 10 - (len(drawn) - 1 - i) * 16
        out.append(
            f'<rect x="{legend_x}" y="{y - 9}" width="12" height="10" fill="{s.color}"/>'
            f'<text x="{legend_x + 16}" y="{y}" class="small">{escape.html(s.label)}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def p95_bars_svg(bars: Sequence[Bar], base_label: str = "baseline", width: int = 720) -> str:
    """Grouped horizontal bars: each handler's p95, ``base_label`` above current."""
    row, label_w, right = 34, 220, 70
    height = 36 + row * len(bars) + 8
    pw = width - label_w - right
    top_ns = max([v for b in bars for v in (b.baseline_ns, b.current_ns) if v] or [1])
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
        'aria-label="p95 per handler">',
        '<text x="0" y="16" class="title">p95 per handler</text>',
        f'<rect x="{label_w}" y="6" width="12" height="10" fill="{BASE_COLOR}"/>'
        f'<text x="{label_w + 16}" y="15" class="small">{escape.html(base_label)}</text>'
        f'<rect x="{label_w + 110}" y="6" width="12" height="10" fill="{CURRENT_COLOR}"/>'
        f'<text x="{label_w + 126}" y="15" class="small">current</text>',
    ]
    for i, b in enumerate(bars):
        y = 30 + i * row
        label = b.label if len(b.label) <= 34 else b.label[:33] + "…"
        out.append(
            f'<text x="{label_w - 8}" y="{y + 17}" class="small" '
            f'text-anchor="end">{escape.html(label)}</text>'
        )
        for j, (value, color) in enumerate(
            ((b.baseline_ns, BASE_COLOR), (b.current_ns, CURRENT_COLOR))
        ):
            by = y + 3 + j * 13
            if value is None:
                out.append(f'<text x="{label_w + 4}" y="{by + 10}" class="small">—</text>')
                continue
            w = max(value / top_ns * pw, 1)
            out.append(
                f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="11" fill="{color}"/>'
                f'<text x="{label_w + w + 4:.1f}" y="{by + 10}" '
                f'class="small">{escape.html(format_ns_short(value))}</text>'
            )
    out.append("</svg>")
    return "".join(out)


def line_chart_svg(
    title: str,
    x_labels: Sequence[str],
    points: Sequence[tuple[int, int]],
    marks: Sequence[tuple[int, str]] = (),
    width: int = 720,
    height: int = 220,
) -> str:
    """A value over a sequence (p95 per commit): ``points`` are (x index, ns), x labelled by
    ``x_labels``; each mark draws a dashed vertical line before its x index with a label (a
    change point). The y axis spans the values (not from zero), so a 10% step is visible."""
    left, right, top, bottom = 56, 16, 28, 44
    pw, ph = width - left - right, height - top - bottom
    out = [
        *_svg_open(width, height, left, title),
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" class="frame"/>',
    ]
    if not points:
        out.append(f'<text x="{left + 8}" y="{top + ph / 2}">no data</text></svg>')
        return "".join(out)
    values = [v for _, v in points]
    lo, hi = min(values) * 0.95, max(values) * 1.05
    if hi <= lo:
        hi = lo + 1
    n = max(len(x_labels) - 1, 1)

    def x_of(i: float) -> float:
        return left + i / n * pw

    def y_of(v: float) -> float:
        return top + (1 - (v - lo) / (hi - lo)) * ph

    for t in linear_ticks(lo, hi, 4):
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{y_of(t):.1f}" y2="{y_of(t):.1f}" '
            f'class="grid"/><text x="{left - 6}" y="{y_of(t) + 4:.1f}" class="small" '
            f'text-anchor="end">{escape.html(format_ns_short(t))}</text>'
        )
    step = max(1, math.ceil(len(x_labels) / 12))  # at most about a dozen labels
    for i in range(0, len(x_labels), step):
        out.append(
            f'<text x="{x_of(i):.1f}" y="{top + ph + 14}" class="small" '
            f'text-anchor="middle">{escape.html(x_labels[i])}</text>'
        )
    for i, text in marks:
        x = x_of(i - 0.5)
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + ph}" class="cp"/>'
            f'<text x="{x + 3:.1f}" y="{top + 12}" class="small">{escape.html(text)}</text>'
        )
    path = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, v in points)
    out.append(f'<polyline points="{path}" fill="none" stroke="{BASE_COLOR}" stroke-width="2"/>')
    out += [
        f'<circle cx="{x_of(i):.1f}" cy="{y_of(v):.1f}" r="2.5" fill="{BASE_COLOR}"/>'
        for i, v in points
    ]
    out.append("</svg>")
    return "".join(out)


def mermaid_trend_chart(title: str, x_labels: Sequence[str], values_ns: Sequence[int]) -> str:
    """A small Mermaid ``xychart-beta`` line of one handler's recent p95s (µs) on main."""
    top = max(values_ns) / 1000 if values_ns else 1
    bottom = min(values_ns) / 1000 if values_ns else 0
    lines = [
        "```mermaid",
        "xychart-beta",
        f"    title {_mermaid_label(title, 120)}",
        "    x-axis [" + ", ".join(_mermaid_label(x, 12) for x in x_labels) + "]",
        f'    y-axis "p95 (µs)" {_two_digits(bottom * 0.9, up=False):g} --> '
        f"{_two_digits(top * 1.05, up=True):g}",
        "    line [" + ", ".join(plain_us(v, 1) for v in values_ns) + "]",
        "```",
    ]
    return "\n".join(lines)


def _two_digits(x: float, up: bool) -> float:
    """``x`` rounded to two significant digits, up or down: 305 → 310 (up), 225 → 220 (down).
    An axis end close to the values, so a 10% change fills the chart."""
    if x <= 0:
        return 0.0
    scale = 10 ** (math.floor(math.log10(x)) - 1)
    steps = x / scale
    return round((math.ceil(steps - 1e-9) if up else math.floor(steps + 1e-9)) * scale, 12)
