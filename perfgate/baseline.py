"""Baseline files: what a target's handlers measured on a known commit and machine.

JSON with a schema version, stable key order and two-space indentation, so that a refresh reads
well in review. ``baselines/embed.go`` embeds the same files into the Go build.

A baseline is part of the pull request under review (``baselines/`` is in its tree), so it is
validated to make the gate only stricter or fail with exit 2, never silently pass: besides the
types and bounds the models carry, :data:`HANDLER_RULES` check each handler's summary (a p95 of
0, empty or zero per-run p95s, counts that disagree with the runs, …) when a baseline is read
(:func:`load_baseline`) and when one is built from a measurement (:func:`build_baseline`). A rule
for a new field joins that tuple.
"""

from __future__ import annotations

import itertools
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    model_validator,
)

from perfgate import __version__
from perfgate.config import Target
from perfgate.errors import PerfgateError
from perfgate.report import (
    FROM_FILE,
    MAX_HANDLERS,
    MAX_ITEMS,
    HandlerSummary,
    Name,
    Sha,
    Short,
    Version,
    describe_validation_error,
    from_file,
    read_limited,
)
from perfgate.samples import Measurement

BASELINE_SCHEMA_VERSION = 1
REFRESH_HINT = "restore it from git, or run 'perfgate baseline update' to measure it again"


class Machine(BaseModel):
    """Where a measurement was made; a difference is shown next to the verdicts."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    go_version: Short = ""
    goos: Short = ""
    goarch: Short = ""
    cpu: Short = ""
    gomaxprocs: Annotated[int, Field(ge=0, le=1_000_000)] = 0

    def differences(self, other: Machine) -> list[str]:
        """Human-readable differences, e.g. ``"GOMAXPROCS 4 → 2"`` (empty fields are unknown)."""
        out = []
        for field, label in (
            ("cpu", "CPU"),
            ("gomaxprocs", "GOMAXPROCS"),
            ("goos", "GOOS"),
            ("goarch", "GOARCH"),
            ("go_version", "Go"),
        ):
            a, b = getattr(self, field), getattr(other, field)
            if a and b and a != b:
                out.append(f"{label} {a} → {b}")
        return out


class BaselineMeta(Machine):
    """Provenance of a baseline: commit, branch, date, machine, runs, perfgate version."""

    commit: Sha | Annotated[str, Field(max_length=0)] = ""
    branch: Short = ""
    created: Short = ""
    runs: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    perfgate_version: Version = ""
    # Each run's CPU share (CPU time received per second of goroutine running time; see
    # perfgate.measure.RunSamples.cpu_share): how much of the machine the runs had.
    cpu_shares: list[Annotated[float, Field(gt=0)]] = Field(
        default_factory=list, max_length=MAX_ITEMS
    )


Problem = tuple[str, str]  # (field, what is wrong with it)


def _stats_agree(h: HandlerSummary, meta: BaselineMeta) -> Iterator[Problem]:
    yield from h.problems()


def _has_requests(h: HandlerSummary, meta: BaselineMeta) -> Iterator[Problem]:
    if h.count < 1:
        yield "count", "is 0: a handler without requests cannot be a baseline"


def _p95_above_zero(h: HandlerSummary, meta: BaselineMeta) -> Iterator[Problem]:
    if h.p95_ns < 1:
        yield "p95_ns", "is 0: no change can be measured from it, so any current p95 would pass"


def _per_run_p95s(h: HandlerSummary, meta: BaselineMeta) -> Iterator[Problem]:
    if not h.run_p95_ns:
        yield "run_p95_ns", "is empty: without per-run p95s the noise test can show nothing"
    elif min(h.run_p95_ns) < 1:
        zeros = sum(1 for v in h.run_p95_ns if v < 1)
        yield "run_p95_ns", f"holds {zeros} zero(s): a run's p95 is at least 1 ns"
    if meta.runs and len(h.run_p95_ns) > meta.runs:
        yield "run_p95_ns", f"has {len(h.run_p95_ns)} runs, but meta.runs says {meta.runs}"
    if h.run_counts and min(h.run_counts) < 1:
        yield "run_counts", "holds a run with no requests (such runs are left out, not counted 0)"


def _sketch_in_order(h: HandlerSummary, meta: BaselineMeta) -> Iterator[Problem]:
    s = h.sketch_ns
    if any(b < a for a, b in itertools.pairwise(s)):
        yield "sketch_ns", "is not in ascending order (it holds quantiles 0% … 100%)"


# Each rule looks at one handler's summary (and the file's meta) and yields what is wrong with
# it. Together they keep a baseline from making the gate pass what it should not.
HANDLER_RULES: tuple[Callable[[HandlerSummary, BaselineMeta], Iterator[Problem]], ...] = (
    _has_requests,
    _p95_above_zero,
    _per_run_p95s,
    _stats_agree,
    _sketch_in_order,
)


class Baseline(BaseModel):
    """One target's baseline file: provenance, and a :class:`HandlerSummary` per handler; read
    from a file (or built by :func:`build_baseline`) each passes every one of
    :data:`HANDLER_RULES`."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)

    schema_version: int
    target: Name
    meta: BaselineMeta = Field(default_factory=BaselineMeta)
    handlers: dict[Name, HandlerSummary] = Field(max_length=MAX_HANDLERS)

    @model_validator(mode="after")
    def _only_stricter(self, info: ValidationInfo) -> Baseline:
        if from_file(info):
            problem = self.first_problem()
            if problem:
                raise ValueError(problem)
        return self

    def first_problem(self) -> str | None:
        """What the first handler that breaks a rule of :data:`HANDLER_RULES` gets wrong."""
        for name, h in self.handlers.items():
            for rule in HANDLER_RULES:
                for field, problem in rule(h, self.meta):
                    return f"handlers[{name[:80]!r}].{field} {problem}"
        return None

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        data["handlers"] = dict(sorted(data["handlers"].items()))
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def build_baseline(
    target: Target,
    m: Measurement,
    here: Machine,
    commit: str,
    branch: str,
    created: str,
    perfgate_version: str = __version__,
) -> Baseline:
    """A baseline file's content from one target's measurement, made where ``here`` says, on
    ``commit`` of ``branch``, at ``created`` (ISO 8601)."""
    meta = BaselineMeta(
        **here.model_dump(),
        commit=commit,
        branch=branch,
        created=created,
        runs=len(m.runs),
        perfgate_version=perfgate_version,
        cpu_shares=m.cpu_shares(),
    )
    try:
        baseline = Baseline(
            schema_version=BASELINE_SCHEMA_VERSION,
            target=target.name,
            meta=meta,
            handlers=m.summaries(target.wants),
        )
        problem = baseline.first_problem()
    except ValidationError as exc:
        problem = describe_validation_error(exc)
    if problem:
        raise PerfgateError(
            f"the measurement of target {target.name!r} cannot be a baseline: {problem}",
            hint="check the perf test's tasks (perfgate report on a trace shows them)",
        )
    return baseline


def load_baseline(path: Path, target: str) -> Baseline:
    """Read and validate a baseline strictly (types, bounds, :data:`HANDLER_RULES`); every
    problem is exit 2 naming the file and the field."""
    if not path.exists():
        raise PerfgateError(
            f"no baseline for target {target!r}: {path} does not exist",
            hint="run 'perfgate baseline update' to measure one, then commit it",
        )
    raw = read_limited(path, "baseline")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise PerfgateError(f"cannot read baseline {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise PerfgateError(
            f"baseline {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint=REFRESH_HINT,
        ) from None
    except (ValueError, RecursionError) as exc:  # a 5000-digit number, deep nesting
        raise PerfgateError(
            f"baseline {path} is not valid JSON: {exc}", hint=REFRESH_HINT
        ) from None
    if isinstance(data, dict) and data.get("schema_version") not in (None, BASELINE_SCHEMA_VERSION):
        raise PerfgateError(
            f"baseline {path} has schema_version {repr(data.get('schema_version'))[:40]}; "
            f"this perfgate reads version {BASELINE_SCHEMA_VERSION}",
            hint="upgrade perfgate, or run 'perfgate baseline update' to rewrite it",
        )
    try:
        baseline = Baseline.model_validate_json(raw, strict=True, context=FROM_FILE)
    except ValidationError as exc:
        raise PerfgateError(
            f"baseline {path} is invalid: {describe_validation_error(exc)}",
            hint=REFRESH_HINT,
        ) from None
    if baseline.target != target:
        raise PerfgateError(
            f"baseline {path} belongs to target {baseline.target[:80]!r}, not {target!r}",
            hint="check the target's 'baseline' path in the config",
        )
    return baseline


def parse_baseline_p95(raw: bytes) -> dict[str, int]:
    """``{handler: p95_ns}`` from a baseline file's bytes; ValueError says why it is unreadable.

    For old versions of the file (``perfgate history``): reads only the p95s, tolerating any
    other fields and whatever older perfgates wrote around them.
    """
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("is not JSON") from None
    if not isinstance(data, dict):
        raise ValueError("is not a baseline (not a JSON object)")
    version = data.get("schema_version")
    if version != BASELINE_SCHEMA_VERSION:
        raise ValueError(f"has schema_version {version!r}, not {BASELINE_SCHEMA_VERSION}")
    handlers = data.get("handlers")
    if not isinstance(handlers, dict):
        raise ValueError("has no handlers")
    out: dict[str, int] = {}
    for name, stats in handlers.items():
        p95 = stats.get("p95_ns") if isinstance(stats, dict) else None
        if isinstance(p95, bool) or not isinstance(p95, (int, float)) or p95 < 0:
            raise ValueError(f"has no valid p95_ns for {name!r}")
        out[str(name)] = int(p95)
    return out


def write_atomically(path: Path, text: str) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
