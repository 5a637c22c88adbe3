"""GitHub Actions workflow commands as text: annotations and step outputs (pure).

Annotations are lines on stdout (``::error title=…::message``) that the runner turns into
messages on the run and the PR's diff. Step outputs are appended to the file ``GITHUB_OUTPUT``
names, in the delimiter form that is safe for any value. The escaping follows the runner's own
rules (actions/toolkit ``command.ts``): :func:`perfgate.render.escape.data` and
:func:`~perfgate.render.escape.prop`. Names and notes in a message have their control characters
made visible first, so a message is one line however a task was named.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

from perfgate.render import escape
from perfgate.report import HandlerResult, Report, Verdict, overall_verdict
from perfgate.units import format_ns, format_pct

# GitHub shows at most 10 error and 10 warning annotations per step; more are dropped silently.
MAX_ANNOTATIONS_PER_LEVEL = 10


escape_data = escape.data  # an annotation's message: %, CR and LF
escape_property = escape.prop  # a property value (``title``): also : and ,


def annotation(level: str, message: str, title: str | None = None) -> str:
    """One workflow-command line: ``::LEVEL title=…::message`` (level: error, warning, notice)."""
    props = f" title={escape.prop(title)}" if title else ""
    return f"::{level}{props}::{escape.data(message)}"


def _handler_name(h: HandlerResult) -> str:
    return f"{escape.visible_controls(h.target)}: {escape.visible_controls(h.name)}"


def _describe(h: HandlerResult) -> str:
    base = format_ns(h.baseline.p95_ns if h.baseline else None)
    cur = format_ns(h.current.p95_ns if h.current else None)
    if h.verdict == Verdict.REGRESSED:
        text = f"p95 rose from {base} to {cur} ({format_pct(h.delta_pct)}"
        if h.threshold_pct is not None:
            text += f", threshold {h.threshold_pct:g}%"
        text += ")"
    elif h.verdict == Verdict.MISSING:
        text = f"in the baseline (p95 {base}) but not measured in this run"
    elif h.verdict == Verdict.NEW:
        text = f"not in the baseline yet (p95 {cur}): refresh the baseline to gate it"
    elif h.verdict == Verdict.INCONCLUSIVE:
        text = f"p95 {base} → {cur} ({format_pct(h.delta_pct)}), like every other handler"
    else:
        count = h.current.count if h.current else 0
        text = f"too few samples to judge ({count})"
    note = escape.visible_controls(h.note)
    return f"{text}. {note}" if note else f"{text}."


_LEVELS = {
    Verdict.REGRESSED: ("error", "regressed"),
    Verdict.MISSING: ("error", "missing"),
    Verdict.NEW: ("warning", "new handler"),
    Verdict.INSUFFICIENT: ("warning", "insufficient samples"),
    Verdict.INCONCLUSIVE: ("warning", "inconclusive"),
}


def report_annotations(report: Report, limit: int = MAX_ANNOTATIONS_PER_LEVEL) -> list[str]:
    """An error per regressed/missing handler, a warning per new/insufficient one.

    At most ``limit`` per level: past that, the last slot says how many more there are, since
    GitHub would drop the rest without a word.
    """
    by_level: dict[str, list[str]] = {"error": [], "warning": []}
    for h in report.handlers:
        if h.verdict not in _LEVELS:
            continue
        level, what = _LEVELS[h.verdict]
        by_level[level].append(
            annotation(level, _describe(h), title=f"perfgate: {_handler_name(h)} {what}")
        )
    lines: list[str] = []
    for level, found in by_level.items():
        if len(found) > limit:
            more = len(found) - (limit - 1)
            found = [
                *found[: limit - 1],
                annotation(
                    level,
                    f"{more} more handlers with this level: see the job summary.",
                    title=f"perfgate: {more} more",
                ),
            ]
        lines.extend(found)
    return lines


def output_block(name: str, value: str, delimiter: str | None = None) -> str:
    """One ``GITHUB_OUTPUT`` entry in the multiline-safe ``name<<DELIM`` form."""
    delimiter = delimiter or f"ghadelimiter_{secrets.token_hex(16)}"
    if delimiter in value or delimiter in name:  # pragma: no cover - 128 random bits
        raise ValueError("output delimiter occurs in the value")
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def outputs_text(outputs: Iterable[tuple[str, str]]) -> str:
    """All outputs as the text to append to ``GITHUB_OUTPUT``."""
    return "".join(output_block(k, v) for k, v in outputs)


def report_outputs(report: Report, report_path: str | None) -> list[tuple[str, str]]:
    """The step outputs: ``verdict`` (pass/fail), ``report`` (path or empty), ``regressed``."""
    return [
        ("verdict", overall_verdict(report.handlers).value),
        ("report", report_path or ""),
        ("regressed", str(len(report.regressed))),
    ]
