"""Test data for the GitHub tests: reports, event payloads, well-known commits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from perfgate.report import (
    HandlerResult,
    HandlerStats,
    Report,
    TargetInfo,
    Verdict,
    overall_verdict,
)

HEAD = "1f0e7c2b" + "a" * 32
NEWER_HEAD = "2c9d4e1a" + "b" * 32
MERGE_SHA = "3e3e3e3e" + "c" * 32
PR = 7


def write_event(
    path: Path,
    *,
    number: int = PR,
    head_sha: str = HEAD,
    head_repo: str = "acme/shop",
    base_repo: str = "acme/shop",
) -> Path:
    """A ``pull_request`` event payload, trimmed to what perfgate reads plus a little context."""
    event = {
        "action": "synchronize",
        "number": number,
        "pull_request": {
            "number": number,
            "head": {"sha": head_sha, "ref": "feature", "repo": {"full_name": head_repo}},
            "base": {"sha": "b" * 40, "ref": "main", "repo": {"full_name": base_repo}},
        },
        "repository": {"full_name": base_repo},
    }
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


def stats(p95_ns: int, count: int = 500) -> HandlerStats:
    return HandlerStats(
        count=count, p50_ns=p95_ns // 2, p95_ns=p95_ns, p99_ns=p95_ns * 2, max_ns=p95_ns * 3
    )


def handler(
    name: str, verdict: Verdict = Verdict.PASS, target: str = "example_service", **kw: Any
) -> HandlerResult:
    base = kw.pop("baseline", stats(1_000_000))
    cur = kw.pop("current", stats(1_500_000 if verdict == Verdict.REGRESSED else 1_010_000))
    delta = kw.pop("delta_pct", 50.0 if verdict == Verdict.REGRESSED else 1.0)
    return HandlerResult(
        name=name,
        target=target,
        verdict=verdict,
        baseline=None if verdict == Verdict.NEW else base,
        current=None if verdict == Verdict.MISSING else cur,
        delta_pct=None if verdict in (Verdict.NEW, Verdict.MISSING) else delta,
        threshold_pct=10.0,
        **kw,
    )


def make_report(*handlers: HandlerResult, targets: list[str] | None = None) -> Report:
    """A report over ``handlers`` (default: two passing ones) with its verdict computed."""
    hs = list(handlers) or [handler("GET /products"), handler("POST /checkout")]
    names = targets or sorted({h.target for h in hs})
    report = Report(
        perfgate_version="0.1.0",
        verdict=overall_verdict(hs),
        commit=HEAD,
        created="2026-01-05T09:30:00Z",
        targets=[TargetInfo(name=n, package=f"./{n}", runs=5) for n in names],
        handlers=hs,
    )
    return report
