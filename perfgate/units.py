"""Durations and percentages as people read them: the one place that formats ns and %.

Every stage that writes a number into text — the judge's notes, the explanation, the tables,
charts and GitHub annotations — formats it here, so a duration reads the same everywhere and
nothing that judges has to import a renderer to word its evidence.
"""

from __future__ import annotations


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


def format_delta(ns: int) -> str:
    """A signed duration: +95.0µs, -1.2ms."""
    return ("+" if ns >= 0 else "-") + format_ns(abs(ns))


def format_pct(pct: float | None) -> str:
    """A signed change in percent with one decimal: +12.3%, -3.0% (None: —)."""
    if pct is None:
        return "—"
    return f"{pct:+.1f}%"


def format_ns_short(ns: float) -> str:
    """An axis label, three significant digits: 850ns, 12µs, 1.5ms, 2s."""
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3g}{unit}"
    return f"{ns:.3g}ns"


def plain_us(ns: float, decimals: int) -> str:
    """ns as a plain number of µs for chart data (Mermaid takes no units), at most ``decimals``
    decimals and no trailing zeros: ``plain_us(43100, 3)`` → ``43.1``, ``plain_us(5000, 1)`` →
    ``5``."""
    return f"{ns / 1e3:.{decimals}f}".rstrip("0").rstrip(".")
