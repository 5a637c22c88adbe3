"""The gate's result as typed data: per-handler verdicts with their evidence.

A :class:`Report` is what every renderer (terminal table, Markdown, JSON, GitHub comment) and every
delivery (stdout, PR comment, job summary, step outputs) consumes. It is also the JSON that
``--json-out`` writes and that ``perfgate comment`` / ``perfgate merge`` read back.
"""

from __future__ import annotations

import json
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfgate.errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_REGRESSION, PerfgateError

REPORT_SCHEMA_VERSION = 1


class Verdict(str, Enum):
    """One handler's outcome. Only ``regressed`` and ``missing`` fail the gate."""

    PASS = "pass"
    REGRESSED = "regressed"
    IMPROVED = "improved"
    NEW = "new"
    MISSING = "missing"
    INSUFFICIENT = "insufficient"
    INCONCLUSIVE = "inconclusive"  # moved with every other handler: the machine, not the code?

    @property
    def fails(self) -> bool:
        return self in (Verdict.REGRESSED, Verdict.MISSING)


class HandlerStats(BaseModel):
    """Latency statistics of one handler over one or more runs (all times in ns).

    Percentiles are nearest-rank over all requests of all runs pooled; ``run_p95_ns`` holds each
    run's own p95, the unit the noise test works on.
    """

    model_config = ConfigDict(extra="ignore")

    count: int
    p50_ns: int
    p90_ns: int = 0
    p95_ns: int
    p99_ns: int
    max_ns: int = 0
    mean_ns: int = 0
    run_p95_ns: list[int] = Field(default_factory=list)
    run_counts: list[int] = Field(default_factory=list)


class ExplainItem(BaseModel):
    """One contributor to a handler's p95 change: a region, or a runtime state (ns per request)."""

    what: str  # "region digest", "runtime: scheduler wait", "outside regions", …
    baseline_ns: int
    current_ns: int
    delta_ns: int
    share_pct: float | None = None  # delta_ns as a share of the change of the requests' latency


class HandlerResult(BaseModel):
    """One handler's comparison: the numbers on both sides, the verdict and why."""

    name: str
    target: str
    verdict: Verdict
    baseline: HandlerStats | None = None
    current: HandlerStats | None = None
    delta_pct: float | None = None  # change of pooled p95, current vs baseline, in percent
    run_delta_pct: float | None = None  # change of the median per-run p95, in percent
    threshold_pct: float | None = None  # the threshold this handler was judged against
    p_value: float | None = None  # one-sided rank test on per-run p95s, Holm-adjusted
    note: str = ""
    reference: HandlerStats | None = None  # A/B mode: the committed baseline, for reference
    explain: list[ExplainItem] = Field(default_factory=list)  # contributors, largest first
    runtime: list[ExplainItem] = Field(default_factory=list)  # the same by goroutine state
    busy_machine: bool = False  # moved, but measured on a busy machine: not judged


class TargetInfo(BaseModel):
    """What was measured for one target and how it compares with where the baseline came from."""

    name: str
    package: str = ""
    runs: int = 0
    baseline_path: str | None = None
    baseline_commit: str | None = None
    machine: dict[str, str | int] = Field(default_factory=dict)
    machine_mismatch: list[str] = Field(default_factory=list)
    incomplete_tasks: int = 0
    warnings: list[str] = Field(default_factory=list)
    # Median CPU share of the runs (CPU received per second of goroutine running time): this
    # measurement's, and the baseline's (or the base side's with --against).
    cpu_share: float | None = None
    baseline_cpu_share: float | None = None


class Report(BaseModel):
    """The whole gate result. ``verdict`` is ``fail`` if any handler fails; else
    ``inconclusive`` if a handler could not be judged because the machine was busy (a
    measurement that could not be made is never a pass); else ``pass``."""

    schema_version: int = REPORT_SCHEMA_VERSION
    perfgate_version: str = ""
    verdict: str = "pass"  # "pass" | "fail" | "inconclusive"
    mode: str = "baseline"  # "baseline": committed baseline decided; "against": A/B on this machine
    against_ref: str | None = None
    commit: str | None = None
    created: str | None = None
    targets: list[TargetInfo] = Field(default_factory=list)
    handlers: list[HandlerResult] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def regressed(self) -> list[HandlerResult]:
        return [h for h in self.handlers if h.verdict == Verdict.REGRESSED]

    def recompute_verdict(self) -> None:
        """Set ``verdict`` from the handlers' verdicts."""
        if any(h.verdict.fails for h in self.handlers):
            self.verdict = "fail"
        elif any(h.busy_machine for h in self.handlers):
            self.verdict = "inconclusive"
        else:
            self.verdict = "pass"

    @property
    def exit_code(self) -> int:
        """The process exit code for this verdict: 0 pass, 1 fail, 3 inconclusive."""
        return {"fail": EXIT_REGRESSION, "inconclusive": EXIT_INCONCLUSIVE}.get(
            self.verdict, EXIT_PASS
        )

    def to_json(self) -> str:
        return self.model_dump_json(indent=2) + "\n"


def load_report(path: str | Path) -> Report:
    """Read a report written by ``--json-out``; a bad file is the user's problem (exit 2)."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PerfgateError(f"report file not found: {p}") from None
    except OSError as exc:
        raise PerfgateError(f"cannot read report {p}: {exc.strerror}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PerfgateError(f"{p} is not JSON: {exc}") from None
    try:
        return Report.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"])
        raise PerfgateError(f"{p} is not a perfgate report: field {loc!r}: {err['msg']}") from None
