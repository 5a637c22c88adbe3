"""A self-contained HTML report: the table, the verdicts, each handler's latency distribution
on both sides, and what made a changed handler slower or faster.

One file with inline CSS and inline SVG: no scripts, no fonts, no external resources, so it can
be opened from a CI artifact anywhere, offline. Pure: report and sides in, a string out. Every
piece of text from the report (handler names, notes, region names) is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from perfgate.explain import WINDOW_TEXT
from perfgate.render.charts import (
    BASE_COLOR,
    CURRENT_COLOR,
    Bar,
    Series,
    p95_bars_svg,
    quantile_svg,
)
from perfgate.render.escape import html as escape
from perfgate.render.text import (
    all_warnings,
    base_word,
    gate_files_notice,
    headers,
    label,
    multi_target,
    summary_line,
)
from perfgate.report import (
    ExplainItem,
    HandlerResult,
    HandlerSides,
    Report,
    ReportVerdict,
    Verdict,
    overall_verdict,
)
from perfgate.units import format_delta, format_ns, format_pct

MAX_PLOTTED = 50  # above this many handlers, only those not passing get a distribution plot

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 24px;
       color: #1f2328; background: #fff; max-width: 1180px; }
h1 { font-size: 22px; margin: 0 0 6px; } h2 { font-size: 17px; margin: 0 0 6px; }
.meta, .note, .small { color: #59636e; font-size: 13px; }
table { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
th, td { border: 1px solid #d1d9e0; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; } td.num { text-align: right; white-space: nowrap; }
td:first-child { white-space: nowrap; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
         font-weight: 600; color: #fff; white-space: nowrap; }
.pass { background: #1a7f37; } .regressed, .missing { background: #cf222e; }
.improved { background: #0969da; } .new { background: #8250df; }
.insufficient { background: #9a6700; }
.verdict-fail { color: #cf222e; } .verdict-pass { color: #1a7f37; }
.warning { background: #fff8c5; border: 1px solid #d4a72c; padding: 6px 10px; margin: 6px 0;
           font-size: 13px; }
section.handler { border-top: 1px solid #d1d9e0; padding: 14px 0; }
.row { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
.explain { max-width: 520px; }
.bar { display: inline-block; height: 10px; vertical-align: middle; }
.up { background: #cf222e; } .down { background: #1a7f37; }
svg.chart { background: #fff; font-size: 12px; }
svg .title { font-size: 13px; font-weight: 600; fill: #1f2328; }
svg .small { font-size: 11px; fill: #59636e; }
svg .frame { fill: none; stroke: #d1d9e0; } svg .grid { stroke: #eef1f4; }
svg .p95 { stroke: #59636e; stroke-dasharray: 4 3; }
"""


def _badge(v: Verdict) -> str:
    return f'<span class="badge {v.value}">{v.value}</span>'


def _table(report: Report, multi: bool) -> str:
    cols = headers(report)
    rows = []
    for i, h in enumerate(report.handlers):
        samples = str(h.current.count) if h.current else "0"
        base = format_ns(h.baseline.p95_ns if h.baseline else None)
        cur = format_ns(h.current.p95_ns if h.current else None)
        rows.append(
            f'<tr><td><a href="#h{i}">{escape(label(h, multi))}</a></td>'
            f'<td class="num">{samples}</td><td class="num">{base}</td>'
            f'<td class="num">{cur}</td><td class="num">{format_pct(h.delta_pct)}</td>'
            f"<td>{_badge(h.verdict)}</td><td>{escape(h.note)}</td></tr>"
        )
    head = "".join(f"<th>{escape(c)}</th>" for c in cols)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _overall_delta(sides: HandlerSides | None, what: str) -> str:
    """The change of a component's mean over all requests (not just around the p95)."""
    base = sides.baseline.breakdown if sides and sides.baseline else None
    cur = sides.current.breakdown if sides and sides.current else None
    if base is None or cur is None:
        return "—"
    return format_delta(cur.overall.get(what, 0) - base.overall.get(what, 0))


def _explain_table(h: HandlerResult, sides: HandlerSides | None, base: str) -> str:
    """The contributors to the p95 change, with a bar per change (red slower, green faster),
    and the same component's change over all requests for comparison; then the same for the
    runtime states of the handler's goroutines."""
    if not h.explain:
        return ""
    tables = _items_table(h.explain, sides, base, "where")
    if h.runtime:
        tables += _items_table(h.runtime, sides, base, "runtime state")
    return (
        '<div class="explain"><p class="small">Where the requests around the p95 '
        f"({WINDOW_TEXT}) spent their time: mean per request, largest change first; the last "
        "column is the change of the mean over all requests. Runtime states: what the "
        "handler's goroutines were doing (GC and stop-the-world overlap them).</p>"
        f"{tables}</div>"
    )


def _items_table(
    items: list[ExplainItem], sides: HandlerSides | None, base: str, first: str
) -> str:
    widest = max(abs(i.delta_ns) for i in items) or 1
    rows = []
    for i in items:
        width = round(120 * abs(i.delta_ns) / widest)
        direction = "up" if i.delta_ns > 0 else "down"
        share = "—" if i.share_pct is None else f"{i.share_pct:.0f}%"
        rows.append(
            f"<tr><td>{escape(i.what)}</td><td class='num'>{format_ns(i.baseline_ns)}</td>"
            f"<td class='num'>{format_ns(i.current_ns)}</td>"
            f"<td class='num'>{format_delta(i.delta_ns)}</td><td class='num'>{share}</td>"
            f'<td><span class="bar {direction}" style="width:{width}px"></span></td>'
            f"<td class='num'>{_overall_delta(sides, i.what)}</td></tr>"
        )
    return (
        f"<table><thead><tr><th>{escape(first)}</th><th>{escape(base)}</th>"
        "<th>current</th><th>Δ</th><th>share of Δ</th><th></th><th>Δ all</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _handler_section(
    i: int, h: HandlerResult, sides: HandlerSides | None, multi: bool, base: str
) -> str:
    name = label(h, multi)
    series = []
    if sides is not None and sides.baseline is not None:
        series.append(Series(base, BASE_COLOR, sides.baseline.sketch_ns))
    if sides is not None and sides.current is not None:
        series.append(Series("current", CURRENT_COLOR, sides.current.sketch_ns))
    plot = quantile_svg(series, f"{name}: latency distribution")
    change = ""
    if h.baseline is not None and h.current is not None:
        change = (
            f"p95 {format_ns(h.baseline.p95_ns)} → {format_ns(h.current.p95_ns)} "
            f"({format_pct(h.delta_pct)}) · "
        )
    return (
        f'<section class="handler" id="h{i}"><h2>{escape(name)} {_badge(h.verdict)}</h2>'
        f'<p class="note">{escape(change + h.note)}</p>'
        f'<div class="row"><div>{plot}</div>{_explain_table(h, sides, base)}</div></section>'
    )


def render_html(report: Report, sides: Sequence[HandlerSides] = ()) -> str:
    """The whole HTML document. ``sides`` (from the check) carry each handler's quantile sketch
    on both sides; a handler without one gets "no distribution recorded"."""
    multi = multi_target(report)
    base = base_word(report)
    by_key = {(s.target, s.name): s for s in sides}
    verdict = overall_verdict(report.handlers)
    failed = verdict == ReportVerdict.FAIL
    title = "perfgate: regression found" if failed else "perfgate: no regression"
    meta = [f"created {report.created}" if report.created else ""]
    if report.commit:
        meta.append(f"commit {report.commit[:12]}")
    if report.against_ref:
        meta.append(f"A/B against {report.against_ref} on this machine")
    for t in report.targets:
        meta.append(f"target {t.name}: {t.runs} runs of {t.package}")
    if report.perfgate_version:
        meta.append(f"perfgate {report.perfgate_version}")
    notice = gate_files_notice(report)
    warnings = "".join(
        f'<div class="warning">{escape(w)}</div>'
        for w in ([notice] if notice else []) + all_warnings(report)
    )
    bars = [
        Bar(
            label(h, multi),
            h.baseline.p95_ns if h.baseline and h.baseline.count else None,
            h.current.p95_ns if h.current else None,
        )
        for h in report.handlers
    ]
    plotted = [
        (i, h)
        for i, h in enumerate(report.handlers)
        if len(report.handlers) <= MAX_PLOTTED or h.verdict != Verdict.PASS
    ]
    sections = "".join(
        _handler_section(i, h, by_key.get((h.target, h.name)), multi, base) for i, h in plotted
    )
    left_out = len(report.handlers) - len(plotted)
    if left_out:
        sections += f'<p class="small">{left_out} passing handlers are not plotted.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
        f'<h1 class="verdict-{verdict.value}">{escape(title)}</h1>'
        f"<p>{escape(summary_line(report, esc=str))}</p>"
        f'<p class="meta">{escape(" · ".join(m for m in meta if m))}</p>'
        f"{warnings}{_table(report, multi)}"
        f"{p95_bars_svg(bars, base_label=base) if bars else ''}"
        f"{sections}"
        '<p class="small">p95 = nearest-rank 95th percentile of each request\'s runtime/trace '
        "task duration, all runs pooled. Distribution plots: each line runs through a side's "
        "quantiles from 0% to 100% (a curve further right is slower at that quantile); the "
        "dashed line marks the p95.</p>"
        "</body></html>\n"
    )
