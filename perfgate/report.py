"""Typed data that crosses stages: per-handler statistics and summaries, and the gate's result.

:class:`HandlerStats` and :class:`HandlerSummary` describe one handler on one side (a baseline
file stores summaries; a measurement yields them); :class:`Breakdown` is where its time went.
A :class:`Report` — per-handler verdicts with their evidence — is what every renderer
(terminal table, Markdown, JSON, GitHub comment) and every delivery (stdout, PR comment, job
summary, step outputs) consumes. It is also the JSON that ``--json-out`` writes and that
``perfgate comment`` / ``perfgate merge`` read back.

A report read back may come from code perfgate does not control (``perfgate comment`` posts a
fork's report artifact with a write token), so the models are strict about what they hold:
integers within int64 (ns, counts), finite floats in their ranges, bounded strings and lists,
typed verdicts and modes, statistics that agree with themselves (percentiles in order, per-run
counts that add up), and a ``verdict`` that is always recomputed from the handlers'.
:func:`load_report` reads with pydantic's strict JSON mode; every violation is exit 2 naming the
field.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from perfgate.errors import EXIT_INCONCLUSIVE, EXIT_PASS, EXIT_REGRESSION, PerfgateError

REPORT_SCHEMA_VERSION = 1

# Bounds on what a report (or a baseline, which shares the per-handler models) may hold. Far
# above anything a measurement produces; they keep a crafted file from reaching the renderers
# with a 400-digit integer, NaN, or a megabyte of name.
MAX_INT = 2**63 - 1  # ns and counts: what Go's int64 holds
MAX_NAME = 1024  # a handler, target or region name (Go's runtime/trace cuts strings at 1024 bytes)
MAX_TEXT = 16_384  # a note or warning
MAX_HANDLERS = 10_000  # handlers per report or baseline
MAX_ITEMS = 10_000  # per-run lists, explanation lists, warnings
MAX_PCT = 1e30  # |a change in percent|: finite, and within what int64 ns can express
MAX_FILE_BYTES = 64 * 1024 * 1024  # a report or baseline file


def _at_most(limit: int) -> AfterValidator:
    """A length bound on a string (as a validator: ``Field(max_length=…)`` would refuse strings
    that hold lone surrogates, which a hostile name may)."""

    def check(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters ({len(value)})")
        return value

    return AfterValidator(check)


Ns = Annotated[int, Field(ge=0, le=MAX_INT)]
SignedNs = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Pct = Annotated[float, Field(ge=-MAX_PCT, le=MAX_PCT)]
Name = Annotated[str, _at_most(MAX_NAME)]
Text = Annotated[str, _at_most(MAX_TEXT)]
Short = Annotated[str, _at_most(256)]
Path_ = Annotated[str, _at_most(4096)]
Sha = Annotated[str, Field(pattern=r"^[0-9a-fA-F]{4,64}$")]
Version = Annotated[str, _at_most(256)]  # free text from a file: rendered escaped
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?", re.ASCII
)

# Validation context of data read from a file (a report or a baseline): the models' checks that
# their statistics agree with themselves apply to it. Data built inside perfgate is trusted.
FROM_FILE = {"from_file": True}


def from_file(info: ValidationInfo) -> bool:
    """True when the model is being validated from a file (:data:`FROM_FILE`)."""
    return bool(info.context and info.context.get("from_file"))


class _Strict(BaseModel):
    """The models' shared rule: no NaN or infinity in any float."""

    model_config = ConfigDict(allow_inf_nan=False)


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
    INCONCLUSIVE = "inconclusive"  # could not be judged: too noisy, or a busy machine

    @property
    def fails(self) -> bool:
        return self in (Verdict.REGRESSED, Verdict.MISSING)


class ReportVerdict(_Word):
    """The whole check's outcome: ``fail`` if any handler fails; else ``inconclusive`` if a
    handler could not be judged (too noisy to tell, or moved on a busy machine: a measurement
    that could not be made is never a pass); else ``pass``."""

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


class HandlerStats(_Strict):
    """Latency statistics of one handler over one or more runs (all times in ns).

    Percentiles are nearest-rank over all requests of all runs pooled; ``run_p95_ns`` holds each
    run's own p95, the unit the noise test works on. Read from a file they must agree with
    themselves (:meth:`_consistent`): p50 ≤ p90 ≤ p95 ≤ p99 ≤ max (p90 and max may be 0:
    unknown, older files), one count per per-run p95, and the per-run counts adding up to
    ``count``.
    """

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    count: Count
    p50_ns: Ns
    p90_ns: Ns = 0
    p95_ns: Ns
    p99_ns: Ns
    max_ns: Ns = 0
    mean_ns: Ns = 0
    run_p95_ns: list[Ns] = Field(default_factory=list, max_length=MAX_ITEMS)
    run_counts: list[Count] = Field(default_factory=list, max_length=MAX_ITEMS)
    # Each run's requests at or below the pooled p95, and the pooled share of requests per unit
    # of log latency at the p95: what the p95's confidence interval is made of (interval.py).
    run_le_p95: list[Count] = Field(default_factory=list, max_length=MAX_ITEMS)
    p95_log_density: Annotated[float, Field(gt=0)] | None = None

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> HandlerStats:
        if from_file(info):
            for field, problem in self.problems():
                raise ValueError(f"{field}: {problem}")
        return self

    def problems(self) -> list[tuple[str, str]]:
        """Where these statistics disagree with themselves, as ``(field, what is wrong)``."""
        out = []
        if self.count and self.p95_ns < 1:
            out.append(("p95_ns", "is 0: no change can be measured from it"))
        elif not self.p50_ns <= self.p95_ns <= self.p99_ns:
            out.append(
                (
                    "p95_ns",
                    f"percentiles out of order (p50_ns {self.p50_ns}, p95_ns {self.p95_ns}, "
                    f"p99_ns {self.p99_ns})",
                )
            )
        if self.p90_ns and not self.p50_ns <= self.p90_ns <= self.p95_ns:
            out.append(("p90_ns", f"{self.p90_ns} is not between p50_ns and p95_ns"))
        if self.max_ns and self.max_ns < self.p99_ns:
            out.append(("max_ns", f"{self.max_ns} is below p99_ns {self.p99_ns}"))
        if self.run_counts and len(self.run_counts) != len(self.run_p95_ns):
            out.append(
                (
                    "run_counts",
                    f"{len(self.run_counts)} entries but run_p95_ns has "
                    f"{len(self.run_p95_ns)}: one count per run",
                )
            )
        elif self.run_counts and sum(self.run_counts) != self.count:
            out.append(
                ("run_counts", f"add up to {sum(self.run_counts)}, but count is {self.count}")
            )
        if self.run_le_p95 and len(self.run_le_p95) != len(self.run_counts):
            out.append(
                (
                    "run_le_p95",
                    f"{len(self.run_le_p95)} entries but run_counts has {len(self.run_counts)}",
                )
            )
        elif any(m > n for m, n in zip(self.run_le_p95, self.run_counts, strict=False)):
            out.append(("run_le_p95", "holds more requests than its run has"))
        return out


class Breakdown(_Strict):
    """Where one handler's requests spent their time: mean ns per request in each component.

    ``p95_window``: over the requests whose latency lies between the pooled p92.5 and p97.5
    (``window_from_ns`` … ``window_to_ns``, ``window_count`` requests; see
    :func:`perfgate.explain.summarize`); ``overall``: over all requests. Keys sorted, values
    integer ns: stored in baseline files.
    """

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    p95_window: dict[Name, SignedNs] = Field(default_factory=dict, max_length=MAX_ITEMS)
    overall: dict[Name, SignedNs] = Field(default_factory=dict, max_length=MAX_ITEMS)
    window_from_ns: Ns = 0
    window_to_ns: Ns = 0
    window_count: Count = 0
    count: Count = 0


class HandlerSummary(HandlerStats):
    """Everything kept of one handler on one side: pooled statistics, per-run p95s, a 101-point
    quantile sketch, and where the time went (mean ns per request by component, around the p95
    and overall). A baseline file stores one per handler; a side measured now has the same.

    ``breakdown`` is None in baseline files written before perfgate explained regressions: they
    load, and a regression is then reported without an explanation.
    """

    sketch_ns: list[Ns] = Field(default_factory=list, max_length=MAX_ITEMS)
    breakdown: Breakdown | None = None

    def stats(self) -> HandlerStats:
        """The statistics alone, as a report carries them."""
        return HandlerStats.model_validate(self.model_dump(include=set(HandlerStats.model_fields)))


class ExplainItem(_Strict):
    """One contributor to a handler's p95 change: a region, or a runtime state (ns per request)."""

    what: Annotated[str, _at_most(2 * MAX_NAME)]  # "region digest", "outside regions", …
    baseline_ns: SignedNs
    current_ns: SignedNs
    delta_ns: SignedNs
    share_pct: Pct | None = None  # delta_ns as a share of the change of the requests' latency


class HandlerResult(_Strict):
    """One handler's comparison: the numbers on both sides, the verdict and why.

    Read from a file, the verdict must fit the sides: ``new`` has no baseline, ``missing`` no
    current side, ``regressed`` and ``improved`` both; ``busy_machine`` only marks an
    ``inconclusive`` one.
    """

    name: Name
    target: Name
    verdict: Verdict
    baseline: HandlerStats | None = None
    current: HandlerStats | None = None
    delta_pct: Pct | None = None  # change of pooled p95, current vs baseline, in percent
    run_delta_pct: Pct | None = None  # change of the median per-run p95, in percent
    # the threshold this handler was judged against
    threshold_pct: Annotated[float, Field(gt=0, le=1000)] | None = None
    # one-sided, in the direction of the change, adjusted over the handlers and looks judged
    p_value: Annotated[float, Field(ge=0, le=1)] | None = None
    # The confidence interval of the change judged, in percent, at the gate's own level (see
    # perfgate.judge); with shift_pct, the change beyond the shift all handlers share.
    delta_ci_pct: list[Pct] | None = Field(default=None, min_length=2, max_length=2)
    shift_pct: Pct | None = None
    note: Text = ""
    reference: HandlerStats | None = None  # A/B mode: the committed baseline, for reference
    # A/B mode: the base side's p95 measured now against the reference's, in percent
    reference_drift_pct: Pct | None = None
    # contributors, largest first; the same by goroutine state
    explain: list[ExplainItem] = Field(default_factory=list, max_length=MAX_ITEMS)
    runtime: list[ExplainItem] = Field(default_factory=list, max_length=MAX_ITEMS)
    busy_machine: bool = False  # moved, but measured on a busy machine: not judged

    @model_validator(mode="after")
    def _verdict_fits_the_sides(self, info: ValidationInfo) -> HandlerResult:
        if not from_file(info):
            return self
        v = self.verdict
        if v == Verdict.NEW and self.baseline is not None:
            raise ValueError("a 'new' handler has no baseline side")
        if v == Verdict.MISSING and self.current is not None:
            raise ValueError("a 'missing' handler has no current side")
        if v in (Verdict.REGRESSED, Verdict.IMPROVED) and (
            self.baseline is None or self.current is None
        ):
            raise ValueError(f"a '{v}' handler has both sides")
        if self.busy_machine and v != Verdict.INCONCLUSIVE:
            raise ValueError(f"busy_machine marks an 'inconclusive' handler, not a '{v}' one")
        return self


class TargetInfo(_Strict):
    """What was measured for one target and how it compares with where the baseline came from."""

    name: Name
    package: Name = ""
    runs: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    baseline_path: Path_ | None = None
    baseline_commit: Sha | None = None
    machine: dict[Short, Short | Count] = Field(default_factory=dict, max_length=32)
    machine_mismatch: list[Text] = Field(default_factory=list, max_length=32)
    incomplete_tasks: Count = 0
    warnings: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    # Median CPU share of the runs (CPU received per second of goroutine running time): this
    # measurement's, and the baseline's (or the base side's with --against).
    cpu_share: Annotated[float, Field(ge=0)] | None = None
    baseline_cpu_share: Annotated[float, Field(ge=0)] | None = None
    # Median neighbour load of the runs (the share of the machine's CPU other processes used):
    # this measurement's, and the baseline's (or the base side's with --against).
    neighbour_load: Annotated[float, Field(ge=-1, le=1)] | None = None
    baseline_neighbour_load: Annotated[float, Field(ge=-1, le=1)] | None = None
    # Runs disturbed by other processes: measured again, and kept because the re-run budget ran
    # out (this measurement's; and the baseline's, measured on a busy machine).
    reruns: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    disturbed_runs: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    baseline_disturbed_runs: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    # A/B mode: where and when the committed baseline (the reference) was measured, and how far
    # the base side measured now sits from it (median over handlers of the p95's change, %):
    # large, and the committed numbers have gone stale.
    reference_machine: Text | None = None
    reference_created: Short | None = None
    reference_drift_pct: Pct | None = None


class TrendKind(_Word):
    """How a handler moved on main: one step (a change point), or several steps the same way
    in a row (a drift: a creeping regression, or a slow improvement)."""

    STEP = "step"
    DRIFT = "drift"


class TrendNote(_Strict):
    """What main's recorded history (``perfgate history record``) says about one handler: it
    changed recently, by ``delta_pct`` (median p95 after ``after_p95_ns`` vs before
    ``before_p95_ns``) over the last ``merges`` recorded commits, starting at ``since_commit``.

    Found by :mod:`perfgate.history` and carried by the report as data, next to the verdicts;
    ``recent_commits`` / ``recent_p95_ns`` (oldest first) are for a small trend chart.

    Read from a file it must agree with itself (:meth:`_consistent`): both medians above 0,
    ``delta_pct`` the change from one to the other, one p95 per recent commit, and
    ``since_commit`` among the recent commits when there are any.
    """

    target: Name
    handler: Name
    kind: TrendKind
    since_commit: Sha
    merges: Annotated[int, Field(ge=1, le=MAX_INT)]
    before_p95_ns: Ns
    after_p95_ns: Ns
    delta_pct: Pct
    # the change point's permutation p-value (the weakest, drifts)
    p_value: Annotated[float, Field(ge=0, le=1)] | None = None
    recent_commits: list[Sha] = Field(default_factory=list, max_length=MAX_ITEMS)
    recent_p95_ns: list[Ns] = Field(default_factory=list, max_length=MAX_ITEMS)

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> TrendNote:
        if not from_file(info):
            return self
        if self.before_p95_ns < 1 or self.after_p95_ns < 1:
            raise ValueError("before_p95_ns or after_p95_ns is 0: no change can be measured")
        change = (self.after_p95_ns / self.before_p95_ns - 1) * 100
        if abs(self.delta_pct - change) > 0.051:  # delta_pct is rounded to 0.1
            raise ValueError(
                f"delta_pct {self.delta_pct} is not the change from before_p95_ns "
                f"{self.before_p95_ns} to after_p95_ns {self.after_p95_ns} ({change:+.1f}%)"
            )
        if len(self.recent_commits) != len(self.recent_p95_ns):
            raise ValueError(
                f"recent_commits has {len(self.recent_commits)} entries but recent_p95_ns "
                f"{len(self.recent_p95_ns)}: one p95 per commit"
            )
        if self.recent_commits and self.since_commit not in self.recent_commits:
            raise ValueError("since_commit is not among recent_commits")
        return self


class Report(_Strict):
    """The whole gate result; ``verdict`` is always what the handlers' add up to
    (:func:`overall_verdict`), whatever a file says.

    ``gate_files_changed``: the files of the gate itself — baselines, the perfgate config —
    that the pull request being checked changes compared with its base (the bar moved).
    """

    schema_version: Annotated[int, Field(ge=REPORT_SCHEMA_VERSION, le=REPORT_SCHEMA_VERSION)] = (
        REPORT_SCHEMA_VERSION
    )
    perfgate_version: Version = ""
    verdict: ReportVerdict = ReportVerdict.PASS
    mode: Mode = Mode.BASELINE
    against_ref: Annotated[str, _at_most(512)] | None = None
    commit: Sha | None = None
    created: Annotated[str, _at_most(64)] | None = None  # ISO 8601
    targets: list[TargetInfo] = Field(default_factory=list, max_length=1000)
    handlers: list[HandlerResult] = Field(default_factory=list, max_length=MAX_HANDLERS)
    warnings: list[Text] = Field(default_factory=list, max_length=MAX_ITEMS)
    gate_files_changed: list[Path_] = Field(default_factory=list, max_length=MAX_ITEMS)
    # main's recent change points and drifts (perfgate.history); not part of the verdict
    trends: list[TrendNote] = Field(default_factory=list, max_length=MAX_HANDLERS)

    @field_validator("created")
    @classmethod
    def _created_is_a_time(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value and from_file(info) and not _TIMESTAMP.fullmatch(value):
            raise ValueError("not an ISO 8601 time (2026-01-05T09:30:00Z)")
        return value

    @model_validator(mode="after")
    def _verdict_from_the_handlers(self) -> Report:
        self.verdict = overall_verdict(self.handlers)
        return self

    @model_validator(mode="after")
    def _trends_of_its_targets(self, info: ValidationInfo) -> Report:
        if not from_file(info) or not self.trends:
            return self
        names = {t.name for t in self.targets} | {h.target for h in self.handlers}
        for i, t in enumerate(self.trends):
            if t.target not in names:
                raise ValueError(f"trends.{i}.target: {t.target!r} is not a target of this report")
        return self

    @property
    def regressed(self) -> list[HandlerResult]:
        return [h for h in self.handlers if h.verdict == Verdict.REGRESSED]

    @property
    def exit_code(self) -> int:
        """The process exit code for the handlers' verdict: 0 pass, 1 fail, 3 inconclusive."""
        return overall_verdict(self.handlers).exit_code

    def to_json(self) -> str:
        # ``trends`` only when there are some: a check without history writes what it always did
        exclude = None if self.trends else {"trends"}
        return self.model_dump_json(indent=2, exclude=exclude) + "\n"


def overall_verdict(handlers: Sequence[HandlerResult]) -> ReportVerdict:
    """The report's verdict from its handlers' (see :class:`ReportVerdict`)."""
    if any(h.verdict.fails for h in handlers):
        return ReportVerdict.FAIL
    if any(h.verdict == Verdict.INCONCLUSIVE for h in handlers):
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


def check_handler_names(names: Sequence[str], where: str) -> None:
    """Refuse (exit 2) more handlers, or longer names, than a report may hold: a trace written
    by Go cannot have them (it cuts names at 1024 bytes), a crafted one can."""
    if len(names) > MAX_HANDLERS:
        raise PerfgateError(f"{where}: {len(names)} task types, more than {MAX_HANDLERS}")
    for name in names:
        if len(name) > MAX_NAME:
            raise PerfgateError(
                f"{where}: a task type name of {len(name)} characters (at most {MAX_NAME}): "
                f"{name[:60]!r}…"
            )


def read_limited(path: Path, what: str) -> bytes:
    """A file's bytes, refusing one over :data:`MAX_FILE_BYTES` (exit 2) before reading it."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise PerfgateError(f"{what} file not found: {path}") from None
    except OSError as exc:
        raise PerfgateError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise PerfgateError(f"{what} {path} is over {MAX_FILE_BYTES // 2**20} MiB: refused")
    return raw


def describe_validation_error(exc: ValidationError) -> str:
    """The first problem of a ValidationError as ``field 'a.b[2].c': what is wrong`` (never the
    offending value itself, which may be huge)."""
    err = exc.errors(include_input=False, include_url=False)[0]
    loc = ""
    for part in err["loc"]:
        if isinstance(part, int):
            loc += f"[{part}]"
        else:
            text = str(part)
            text = text if len(text) <= 80 else text[:77] + "..."
            loc += f".{text}" if loc else text
    msg = str(err["msg"]).removeprefix("Value error, ")
    return f"field {loc!r}: {msg}" if loc else msg


def load_report(path: str | Path) -> Report:
    """Read a report written by ``--json-out``, strictly (see the module docstring); a bad file
    is the user's problem (exit 2), whatever is in it.

    A ``verdict`` field that disagrees with the handlers' is replaced by theirs, with a warning
    saying so.
    """
    p = Path(path)
    raw = read_limited(p, "report")
    try:
        report = Report.model_validate_json(raw, strict=True, context=FROM_FILE)
    except ValidationError as exc:
        if exc.errors()[0]["type"] == "json_invalid":
            raise PerfgateError(f"{p} is not JSON: {exc.errors()[0]['msg']}") from None
        raise PerfgateError(
            f"{p} is not a valid perfgate report: {describe_validation_error(exc)}"
        ) from None
    claimed = _claimed_verdict(raw)
    if claimed is not None and claimed != report.verdict.value:
        warning = (
            f"the report's own verdict field says {claimed!r} but its handlers say "
            f"{report.verdict.value!r}: shown as {report.verdict.value!r}"
        )
        report = report.model_copy(update={"warnings": [*report.warnings, warning]})
    return report


def _claimed_verdict(raw: bytes) -> str | None:
    """What a report file's own ``verdict`` field says (already validated as a ReportVerdict)."""
    import json

    try:
        data: Any = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    value = data.get("verdict") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None
