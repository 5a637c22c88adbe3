"""Typed data that crosses stages: per-handler statistics and summaries, and the gate's result.

:class:`HandlerStats` and :class:`HandlerSummary` describe one handler on one side (a baseline
file stores summaries; a measurement yields them); :class:`Breakdown` is where its time went.
A :class:`Report` — per-handler verdicts with their evidence — is what every renderer
(terminal table, Markdown, JSON, GitHub comment) and every delivery (stdout, PR comment, job
summary, step outputs) consumes. It is also the JSON that ``--json-out`` writes and that
``perfgate comment`` / ``perfgate merge`` read back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfgate.errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_REGRESSION, PerfgateError

REPORT_SCHEMA_VERSION = 1


class _Word(str, Enum):
    """An enum whose members are their JSON strings, and print as them."""

    def __str__(self) -> str:
        return str(self.value)


class Verdict(_Word):
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


class ReportVerdict(_Word):
    """The whole check's outcome: ``fail`` if any handler fails; else ``inconclusive`` if a
    handler that moved could not be judged because the machine was busy (a measurement that
    could not be made is never a pass); else ``pass``."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"

    @property
    def exit_code(self) -> int:
        """The process exit code: 0 pass, 1 fail, 3 inconclusive."""
        return {
            ReportVerdict.PASS: EXIT_PASS,
            ReportVerdict.FAIL: EXIT_REGRESSION,
            ReportVerdict.INCONCLUSIVE: EXIT_INCONCLUSIVE,
        }[self]


class Mode(_Word):
    """What the current side was compared with."""

    BASELINE = "baseline"  # the committed baseline file, measured in an earlier session
    AGAINST = "against"  # another commit (--against REF), measured in pairs on this machine


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


class Breakdown(BaseModel):
    """Where one handler's requests spent their time: mean ns per request in each component.

    ``p95_window``: over the requests whose latency lies between the pooled p92.5 and p97.5
    (``window_from_ns`` … ``window_to_ns``, ``window_count`` requests; see
    :func:`perfgate.explain.summarize`); ``overall``: over all requests. Keys sorted, values
    integer ns: stored in baseline files.
    """

    model_config = ConfigDict(extra="ignore")

    p95_window: dict[str, int] = Field(default_factory=dict)
    overall: dict[str, int] = Field(default_factory=dict)
    window_from_ns: int = 0
    window_to_ns: int = 0
    window_count: int = 0
    count: int = 0


class HandlerSummary(HandlerStats):
    """Everything kept of one handler on one side: pooled statistics, per-run p95s, a 101-point
    quantile sketch, and where the time went (mean ns per request by component, around the p95
    and overall). A baseline file stores one per handler; a side measured now has the same.

    ``breakdown`` is None in baseline files written before perfgate explained regressions: they
    load, and a regression is then reported without an explanation.
    """

    sketch_ns: list[int] = Field(default_factory=list)
    breakdown: Breakdown | None = None

    def stats(self) -> HandlerStats:
        """The statistics alone, as a report carries them."""
        return HandlerStats.model_validate(self.model_dump(include=set(HandlerStats.model_fields)))


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


class TrendKind(_Word):
    """How a handler moved on main: one step (a change point), or several steps the same way
    in a row (a drift: a creeping regression, or a slow improvement)."""

    STEP = "step"
    DRIFT = "drift"


class TrendNote(BaseModel):
    """What main's recorded history (``perfgate history record``) says about one handler: it
    changed recently, by ``delta_pct`` (median p95 after ``after_p95_ns`` vs before
    ``before_p95_ns``) over the last ``merges`` recorded commits, starting at ``since_commit``.

    Found by :mod:`perfgate.history` and carried by the report as data, next to the verdicts;
    ``recent_commits`` / ``recent_p95_ns`` (oldest first) are for a small trend chart.
    """

    target: str
    handler: str
    kind: TrendKind
    since_commit: str
    merges: int
    before_p95_ns: int
    after_p95_ns: int
    delta_pct: float
    p_value: float | None = None  # the change point's permutation p-value (the weakest, drifts)
    recent_commits: list[str] = Field(default_factory=list)
    recent_p95_ns: list[int] = Field(default_factory=list)


class Report(BaseModel):
    """The whole gate result; ``verdict`` follows from the handlers' (:func:`overall_verdict`)."""

    schema_version: int = REPORT_SCHEMA_VERSION
    perfgate_version: str = ""
    verdict: ReportVerdict = ReportVerdict.PASS
    mode: Mode = Mode.BASELINE
    against_ref: str | None = None
    commit: str | None = None
    created: str | None = None
    targets: list[TargetInfo] = Field(default_factory=list)
    handlers: list[HandlerResult] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    # main's recent change points and drifts (perfgate.history); not part of the verdict
    trends: list[TrendNote] = Field(default_factory=list)

    @property
    def regressed(self) -> list[HandlerResult]:
        return [h for h in self.handlers if h.verdict == Verdict.REGRESSED]

    @property
    def exit_code(self) -> int:
        """The process exit code for this verdict: 0 pass, 1 fail, 3 inconclusive."""
        return self.verdict.exit_code

    def to_json(self) -> str:
        # ``trends`` only when there are some: a check without history writes what it always did
        exclude = None if self.trends else {"trends"}
        return self.model_dump_json(indent=2, exclude=exclude) + "\n"


def overall_verdict(handlers: Sequence[HandlerResult]) -> ReportVerdict:
    """The report's verdict from its handlers' (see :class:`ReportVerdict`)."""
    if any(h.verdict.fails for h in handlers):
        return ReportVerdict.FAIL
    if any(h.busy_machine for h in handlers):
        return ReportVerdict.INCONCLUSIVE
    return ReportVerdict.PASS


@dataclass(frozen=True)
class HandlerSides:
    """One handler's full summary on each side (None: not measured there) — statistics, the
    quantile sketch and the breakdown, more than the report carries — for the HTML report."""

    target: str
    name: str
    baseline: HandlerSummary | None
    current: HandlerSummary | None


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
