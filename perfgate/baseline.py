"""Baseline files: what a target's handlers measured on a known commit and machine.

JSON with a schema version, stable key order and two-space indentation, so that a refresh reads
well in review. ``baselines/embed.go`` embeds the same files into the Go build.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from perfgate import __version__
from perfgate.config import Target
from perfgate.errors import PerfgateError
from perfgate.report import HandlerSummary
from perfgate.samples import Measurement

BASELINE_SCHEMA_VERSION = 2
# Version 1 lacked what the p95's confidence interval is made of (run_le_p95, p95_log_density):
# it cannot be judged against, but its p95s still read for `perfgate history`.
READABLE_SCHEMA_VERSIONS = (1, 2)


class Machine(BaseModel):
    """Where a measurement was made; a difference is shown next to the verdicts."""

    model_config = ConfigDict(extra="ignore")

    go_version: str = ""
    goos: str = ""
    goarch: str = ""
    cpu: str = ""
    gomaxprocs: int = 0

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

    commit: str = ""
    branch: str = ""
    created: str = ""
    runs: int = 0
    perfgate_version: str = ""
    # Each run's CPU share (CPU time received per second of goroutine running time; see
    # perfgate.measure.RunSamples.cpu_share): how much of the machine the runs had.
    cpu_shares: list[float] = Field(default_factory=list)
    # Each run's neighbour load: the share of the machine's CPU other processes used meanwhile.
    neighbour_loads: list[float] = Field(default_factory=list)
    reruns: int = 0  # runs disturbed by other processes and measured again
    disturbed_runs: int = 0  # disturbed runs kept: the re-run budget ran out (a busy machine)


class Baseline(BaseModel):
    """One target's baseline file: provenance, and a :class:`HandlerSummary` per handler."""

    model_config = ConfigDict(extra="ignore")

    schema_version: int
    target: str
    meta: BaselineMeta = Field(default_factory=BaselineMeta)
    handlers: dict[str, HandlerSummary]

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
        neighbour_loads=m.neighbour_loads(),
        reruns=m.reruns,
        disturbed_runs=m.disturbed_kept,
    )
    return Baseline(
        schema_version=BASELINE_SCHEMA_VERSION,
        target=target.name,
        meta=meta,
        handlers=m.summaries(target.wants),
    )


def load_baseline(path: Path, target: str) -> Baseline:
    """Read and validate a baseline; every problem names the file and, where known, the field."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PerfgateError(
            f"no baseline for target {target!r}: {path} does not exist",
            hint="run 'perfgate baseline update' to measure one, then commit it",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PerfgateError(f"cannot read baseline {path}: {exc}") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PerfgateError(
            f"baseline {path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})",
            hint="restore it from git, or run 'perfgate baseline update' to measure it again",
        ) from None
    version = data.get("schema_version") if isinstance(data, dict) else None
    if version == 1:
        raise PerfgateError(
            f"baseline {path} was written by an older perfgate (schema_version 1): it lacks the "
            "per-run counts this perfgate judges a p95 change by",
            hint="run 'perfgate baseline update' to measure it again, then commit it",
        )
    if isinstance(data, dict) and version not in (None, BASELINE_SCHEMA_VERSION):
        raise PerfgateError(
            f"baseline {path} has schema_version {version!r}; "
            f"this perfgate reads version {BASELINE_SCHEMA_VERSION}",
            hint="upgrade perfgate, or run 'perfgate baseline update' to rewrite it",
        )
    try:
        baseline = Baseline.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(x) for x in err["loc"]) or "(top level)"
        raise PerfgateError(
            f"baseline {path} is invalid: field {loc!r}: {err['msg']}",
            hint="restore it from git, or run 'perfgate baseline update' to measure it again",
        ) from None
    if baseline.target != target:
        raise PerfgateError(
            f"baseline {path} belongs to target {baseline.target!r}, not {target!r}",
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
    if version not in READABLE_SCHEMA_VERSIONS:
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
