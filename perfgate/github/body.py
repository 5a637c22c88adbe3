"""The sticky comment's text: hidden markers, the stamp, and the Markdown cut to GitHub's limits.

Pure functions from a :class:`~perfgate.report.Report` to strings and back (parsing the stamp of
an existing comment). Two hidden HTML comments make a body recognisable on later runs:

* ``<!-- perfgate:marker:KEY -->`` says "this is perfgate's comment for this set of targets";
  ``KEY`` is derived from the target names, or given by the user (``--comment-key``), so matrix
  jobs gating different targets each keep their own comment.
* ``<!-- perfgate:stamp sha=… run=… attempt=… time=… verdicts=… -->`` records which head commit
  and which workflow run produced the result, so an older run does not overwrite a newer result,
  and a digest of the verdicts shown, so ``--comment-when changes`` can tell whether they changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass

from perfgate.render.markdown import render_markdown
from perfgate.render.text import summary_line, verdict_heading
from perfgate.report import Report, Verdict

COMMENT_LIMIT = 65_536  # GitHub rejects issue-comment bodies longer than this (422)
COMMENT_BUDGET = 65_000  # what a body is cut to: a margin below the hard limit
SUMMARY_LIMIT = 1024 * 1024  # GITHUB_STEP_SUMMARY: at most 1 MiB per step, in bytes

MARKER_PREFIX = "<!-- perfgate:marker:"
STAMP_PREFIX = "<!-- perfgate:stamp "
_KEY_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]+")
_MAX_KEY = 64
_STAMP_RE = re.compile(r"<!-- perfgate:stamp ([^>]*?) -->")
_STAMP_UNSAFE = re.compile(r"[\s<>=]+")
_SHA_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")
_DIGEST_RE = re.compile(r"^[0-9a-f]{16}$")
_NOTE_RESERVE = 600  # room kept for the cut note when fitting a table

# Failing rows first when a table must be cut, then the ones worth a look, then the rest.
_CUT_ORDER = {
    Verdict.REGRESSED: 0,
    Verdict.MISSING: 0,
    Verdict.NEW: 1,
    Verdict.INSUFFICIENT: 1,
    Verdict.INCONCLUSIVE: 1,
    Verdict.IMPROVED: 2,
    Verdict.PASS: 3,
}


def _sanitize_key(raw: str) -> str:
    key = _KEY_UNSAFE.sub("-", raw.strip()).strip("-")
    if len(key) > _MAX_KEY:
        digest = hashlib.sha256(key.encode()).hexdigest()[:12]
        key = f"{key[: _MAX_KEY - 13]}~{digest}"
    return key


def derive_comment_key(report: Report, user_key: str | None = None) -> str:
    """The marker key: the user's ``--comment-key``, else the sorted target names joined by '+'.

    Only ``[A-Za-z0-9._+-]`` survive (a key must not be able to close the HTML comment); long keys
    are shortened with a hash so they stay unique.
    """
    if user_key and _sanitize_key(user_key):
        return _sanitize_key(user_key)
    names = sorted({t.name for t in report.targets} | {h.target for h in report.handlers})
    return _sanitize_key("+".join(names)) or "default"


def marker(key: str) -> str:
    """The hidden line that identifies perfgate's comment for ``key``."""
    return f"{MARKER_PREFIX}{key} -->"


def has_marker(body: str | None, key: str) -> bool:
    """True if ``body`` has this key's marker line (not one whose key merely starts the same)."""
    return bool(body) and marker(key) in body.splitlines()  # type: ignore[union-attr]


@dataclass(frozen=True)
class Stamp:
    """Which head commit and workflow run produced a comment, and when (UTC, ISO 8601)."""

    sha: str | None = None
    run_id: int | None = None
    run_attempt: int | None = None
    time: str | None = None
    verdicts: str | None = None  # verdict_digest() of the report shown


def verdict_digest(report: Report) -> str:
    """A short digest of what the verdict table says (the overall verdict and each handler's
    target, name and verdict, not its numbers): equal digests, same verdicts."""
    rows = sorted((h.target, h.name, h.verdict.value) for h in report.handlers)
    payload = json.dumps([report.verdict, rows], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def format_stamp(stamp: Stamp) -> str:
    """The hidden stamp line; unknown fields are written as ``-``."""

    def v(x: object) -> str:
        return "-" if x is None else (_STAMP_UNSAFE.sub("", str(x)) or "-")

    return (
        f"{STAMP_PREFIX}sha={v(stamp.sha)} run={v(stamp.run_id)} "
        f"attempt={v(stamp.run_attempt)} time={v(stamp.time)} verdicts={v(stamp.verdicts)} -->"
    )


def parse_stamp(body: str | None) -> Stamp | None:
    """The stamp of an existing comment, or None when it has none (or a mangled one)."""
    m = _STAMP_RE.search(body or "")
    if not m:
        return None
    fields = dict(part.split("=", 1) for part in m.group(1).split() if "=" in part)

    def num(name: str) -> int | None:
        raw = fields.get(name, "-")
        return int(raw) if raw.isdigit() else None

    sha = fields.get("sha", "-")
    time = fields.get("time", "-")
    verdicts = fields.get("verdicts", "-")
    return Stamp(
        sha=sha if _SHA_RE.match(sha) else None,
        run_id=num("run"),
        run_attempt=num("attempt"),
        time=None if time == "-" else time,
        verdicts=verdicts if _DIGEST_RE.match(verdicts) else None,
    )


@dataclass(frozen=True)
class CommentInfo:
    """What the comment says besides the report: its key, stamp and where to read more."""

    key: str
    stamp: Stamp
    commit_url: str | None = None
    run_url: str | None = None
    title: str = "perfgate"


def defang(text: str) -> str:
    """Neutralise what a report's free text could do in Markdown on GitHub: ``@name`` mentions
    (which notify people) and raw HTML such as ``<!--`` (which could hide or fake markers).

    Reports can come from untrusted code: ``perfgate comment`` posts a fork PR's report with a
    write token.
    """
    return text.replace("<", "&lt;").replace("@", "@\u200b")


def defanged(report: Report) -> Report:
    """A copy of ``report`` with :func:`defang` applied to every name, note and warning."""
    handlers = [
        h.model_copy(
            update={"name": defang(h.name), "target": defang(h.target), "note": defang(h.note)}
        )
        for h in report.handlers
    ]
    targets = [
        t.model_copy(
            update={
                "name": defang(t.name),
                "warnings": [defang(w) for w in t.warnings],
                "machine_mismatch": [defang(m) for m in t.machine_mismatch],
            }
        )
        for t in report.targets
    ]
    warnings = [defang(w) for w in report.warnings]
    trends = [
        t.model_copy(update={"handler": defang(t.handler), "target": defang(t.target)})
        for t in report.trends
    ]
    return report.model_copy(
        update={"handlers": handlers, "targets": targets, "warnings": warnings, "trends": trends}
    )


def _ordered_for_cut(report: Report) -> Report:
    handlers = sorted(report.handlers, key=lambda h: _CUT_ORDER.get(h.verdict, 3))
    return report.model_copy(update={"handlers": handlers})


def fit_markdown(
    report: Report,
    budget: int,
    *,
    title: str = "perfgate",
    size: Callable[[str], int] = len,
    cut_note: Callable[[int, int], str],
) -> str:
    """``render_markdown(report)``, with table rows dropped until it fits in ``budget``.

    When rows must go, failing handlers are kept first (then new/insufficient, improved, pass),
    and ``cut_note(shown, total)`` is appended. ``size`` measures text (characters for a comment,
    UTF-8 bytes for the job summary). If not even the heading fits, a one-line summary is returned.
    """
    report = defanged(report)
    full = render_markdown(report, title=title)
    if size(full) <= budget:
        return full
    ordered = _ordered_for_cut(report)
    total = len(ordered.handlers)

    def attempt(k: int) -> str:
        return render_markdown(
            ordered.model_copy(update={"handlers": ordered.handlers[:k]}), title=title
        )

    room = budget - _NOTE_RESERVE
    if size(attempt(0)) > room:  # not even the heading and warnings fit
        short = f"{summary_line(report)}\n\n{cut_note(0, total)}\n"
        return short if size(short) <= budget else short[: max(budget, 0)]
    lo, hi = 0, total - 1  # the full table did not fit: find the largest k that does
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if size(attempt(mid)) <= room:
            lo = mid
        else:
            hi = mid - 1
    return attempt(lo) + "\n" + cut_note(lo, total) + "\n"


def _footer(report: Report, info: CommentInfo) -> str:
    parts = []
    sha = info.stamp.sha or report.commit
    if sha:
        short = f"`{sha[:12]}`"
        parts.append(f"head commit [{short}]({info.commit_url})" if info.commit_url else short)
    if info.run_url:
        parts.append(f"[workflow run]({info.run_url})")
    names = sorted({defang(t.name) for t in report.targets})
    if names:
        parts.append("targets: " + ", ".join(names))
    if report.perfgate_version:
        parts.append(f"perfgate {report.perfgate_version}")
    return "<sub>" + " · ".join(parts) + "</sub>" if parts else ""


def _head(info: CommentInfo) -> str:
    return f"{marker(info.key)}\n{format_stamp(info.stamp)}\n"


def _comment_cut_note(run_url: str | None) -> Callable[[int, int], str]:
    where = f"the job summary of [the workflow run]({run_url})" if run_url else "the job summary"

    def note(shown: int, total: int) -> str:
        return (
            f"> ✂️ Showing {shown} of {total} handlers (failing ones first): the table was cut "
            f"to fit GitHub's comment limit of {COMMENT_LIMIT:,} characters. "
            f"The full table is in {where}."
        )

    return note


def build_comment(report: Report, info: CommentInfo, limit: int = COMMENT_BUDGET) -> str:
    """The whole comment body: markers, verdict heading, table (cut to ``limit``), footer."""
    head = _head(info)
    footer = _footer(report, info)
    budget = limit - len(head) - len(footer) - 2
    table = fit_markdown(report, budget, title=info.title, cut_note=_comment_cut_note(info.run_url))
    return f"{head}{table}\n{footer}\n" if footer else f"{head}{table}"


def minimal_comment(report: Report, info: CommentInfo, max_listed: int = 20) -> str:
    """A short body for when GitHub refused the full one: verdict, counts, failing handlers."""
    icon, word = verdict_heading(report)
    lines = [f"### {icon} {info.title}: {word}", "", summary_line(report), ""]
    failing = [h for h in defanged(report).handlers if h.verdict.fails]
    for h in failing[:max_listed]:
        lines.append(f"- ❌ {h.target}: {h.name} — {h.verdict.value}")
    if len(failing) > max_listed:
        lines.append(f"- … and {len(failing) - max_listed} more")
    where = f"[the workflow run]({info.run_url})" if info.run_url else "the workflow run"
    lines += ["", f"> ✂️ The full table did not fit in a comment: see the job summary of {where}."]
    return _head(info) + "\n".join(lines) + "\n" + _footer(report, info) + "\n"


def summary_markdown(report: Report, budget_bytes: int, title: str = "perfgate") -> str:
    """The job-summary Markdown, cut (in UTF-8 bytes) to ``budget_bytes``."""

    def note(shown: int, total: int) -> str:
        return (
            f"> ✂️ Showing {shown} of {total} handlers (failing ones first): a job summary "
            "holds at most 1 MiB. The JSON report (`--json-out`) has every handler."
        )

    return fit_markdown(
        report,
        budget_bytes,
        title=title,
        size=lambda s: len(s.encode("utf-8")),
        cut_note=note,
    )
