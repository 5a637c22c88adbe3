"""``perfgate report``'s output: the per task type table, or the ``--json`` document.

Pure: the statistics come from :mod:`perfgate.trace_summary`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from perfgate.render import escape
from perfgate.trace import TraceData, scanner_name
from perfgate.trace_summary import ReportStats
from perfgate.units import format_ns


def to_json(
    traces: Sequence[TraceData],
    stats: dict[str, ReportStats],
    runtime: dict[str, dict[str, int]] | None = None,
) -> str:
    """The ``--json`` document (integers in ns); with ``runtime`` (``--states``), each handler
    has ``runtime``: mean ns per request in each runtime state."""
    versions = sorted({t.version for t in traces})
    doc = {
        "handlers": [
            {
                "name": name,
                "count": s.count,
                "p50_ns": s.p50_ns,
                "p90_ns": s.p90_ns,
                "p95_ns": s.p95_ns,
                "p99_ns": s.p99_ns,
                "max_ns": s.max_ns,
                "mean_ns": s.mean_ns,
                **({} if runtime is None else {"runtime": runtime.get(name, {})}),
            }
            for name, s in stats.items()
        ],
        "incomplete_tasks": sum(t.incomplete_tasks for t in traces),
        "truncated": any(t.truncated for t in traces),
        "trace_version": versions[0] if len(versions) == 1 else versions,
        # "c" or "python": the native reader's event scanner (null: no trace read natively)
        "scanner": scanner_name() if any(t.reader == "native" for t in traces) else None,
        "traces": [
            {
                "path": t.path,
                "trace_version": t.version,
                "reader": t.reader,
                "size_bytes": t.size,
                "bytes_read": t.bytes_read,
                "generations": t.generations,
                "tasks": len(t.annotations.tasks),
                "incomplete_tasks": t.incomplete_tasks,
                "truncated": t.truncated,
                "truncation_note": t.truncation_note,
                "notes": t.notes,
            }
            for t in traces
        ],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def to_text(
    traces: Sequence[TraceData],
    stats: dict[str, ReportStats],
    runtime: dict[str, dict[str, int]] | None = None,
) -> str:
    """A table per task type (and with ``runtime``, a table of mean time per request in each
    runtime state), then one line per trace about what was (not) read. Task names are the
    traced program's: :func:`perfgate.render.escape.text` keeps each to one harmless line."""
    from tabulate import tabulate  # here: --json needs it not (4 MB of report's budget)

    headers = ["handler", "count", "p50", "p90", "p95", "p99", "max", "mean"]
    rows = [
        [
            escape.text(name),
            s.count,
            *(format_ns(v) for v in (s.p50_ns, s.p90_ns, s.p95_ns, s.p99_ns, s.max_ns, s.mean_ns)),
        ]
        for name, s in stats.items()
    ]
    out = [tabulate(rows, headers=headers, disable_numparse=True, colalign=("left",))]
    if runtime is not None:
        out += ["", "mean time per request by goroutine state (the task's goroutines):"]
        state_rows = [
            [escape.text(name), escape.text(what.removeprefix("runtime: ")), format_ns(ns)]
            for name, parts in runtime.items()
            for what, ns in parts.items()
        ]
        out.append(
            tabulate(state_rows, headers=["handler", "state", "mean"], disable_numparse=True)
        )
    for t in traces:
        line = f"{escape.text(t.path)}: Go {t.version} trace, {len(t.annotations.tasks)} tasks"
        if t.incomplete_tasks:
            line += f", {t.incomplete_tasks} incomplete (left out)"
        if t.reader != "native":
            line += f", read with {t.reader}"
        out.append(line)
        out.extend(f"  note: {escape.text(n)}" for n in t.notes)
        if t.truncated:
            out.append(f"  warning: truncated trace: {escape.text(t.truncation_note)}")
    return "\n".join(out) + "\n"
