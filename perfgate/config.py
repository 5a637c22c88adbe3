"""perfgate's configuration: ``perfgate.toml`` or ``[tool.perfgate]`` in ``pyproject.toml``.

User-facing specs ("10%", "90s", globs) are parsed here, once, into typed values; an unknown key
or a bad value is a :class:`~perfgate.errors.PerfgateError` that names it.

The config is part of the pull request under review, so a value that would switch the gate off
is refused rather than obeyed: a threshold above 100%, an ``alpha`` too small for any test to
reach, a ``min_samples`` no perf test meets, and a path (``baseline``, a ``./package``) outside
the repository (:func:`check_paths`).
"""

from __future__ import annotations

import fnmatch
import re
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from perfgate.errors import PerfgateError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_FILE = "perfgate.toml"
DEFAULT_RUNS = 15  # committed-baseline mode
DEFAULT_AB_RUNS = 20  # --against mode: pairs of runs (docs/benchmarks.md)
BASELINE_RUNS_FACTOR = 2  # a baseline is measured once and compared with many times
DEFAULT_THRESHOLD_PCT = 12.0  # committed-baseline mode: must exceed drift between sessions
DEFAULT_AB_THRESHOLD_PCT = 10.0  # --against mode: both sides measured together, drift cancels
DEFAULT_MIN_SAMPLES = 59  # below this a distribution-free 95% interval for p95 does not exist
DEFAULT_ALPHA = 0.05  # committed mode: the threshold and drift allowance keep real alarms rarer
DEFAULT_AB_ALPHA = 0.01  # --against: chance that a check of unchanged code flags any handler
DEFAULT_DRIFT_PCT = 2.0  # committed mode: a handler's own drift between sessions (sd)
DEFAULT_HISTORY_MIN_CHANGE_PCT = 3.0  # perfgate history: the smallest change point named
DEFAULT_MAX_NEIGHBOUR_LOAD = 0.15  # other processes' share of the CPU that disturbs a run
DEFAULT_LOOKS = 3  # a check judges its runs after a third, two thirds and all of them
MAX_THRESHOLD_PCT = 100.0  # above: a p95 would have to more than double to count
MIN_ALPHA = 1e-4  # below: no realistic number of runs could show a regression
MAX_MIN_SAMPLES = 100_000  # above: every handler would be 'insufficient', i.e. never judged
MAX_DRIFT_PCT = 25.0  # above: every interval so wide that nothing could ever regress


def parse_percent(value: Any, what: str = "threshold") -> float:
    """``"10%"``, ``"10"`` or ``10`` → ``10.0`` (a bare number means percent)."""
    if isinstance(value, bool):
        raise ValueError(f'{what} must be a percentage like "10%", not {value!r}')
    if isinstance(value, (int, float)):
        pct = float(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*%?\s*", value)
        if not m:
            raise ValueError(f'{what} must be a percentage like "10%", not {value!r}')
        pct = float(m.group(1))
    else:
        raise ValueError(f'{what} must be a percentage like "10%", not {value!r}')
    if not 0 < pct <= MAX_THRESHOLD_PCT:
        raise ValueError(
            f"{what} must be above 0% and at most {MAX_THRESHOLD_PCT:g}%, not {value!r} "
            "(a larger one would let a p95 more than double without failing)"
        )
    return pct


def parse_duration_s(value: Any) -> float:
    """``"90s"``, ``"5m"``, ``"1h"`` or a number of seconds."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value)
    if isinstance(value, str):
        m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)?\s*", value)
        if m:
            scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2) or "s"]
            return float(m.group(1)) * scale
    raise ValueError(f'timeout must be a duration like "10m" or "90s", not {value!r}')


class Target(BaseModel):
    """One perf test to run and gate: a Go package, a test regex, a baseline file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    package: str
    run: str
    baseline: str | None = None
    runs: int | None = Field(default=None, ge=1, le=1000)  # None: the mode's (see runs_for)
    baseline_runs: int | None = Field(default=None, ge=1, le=1000)  # baseline_runs_for
    threshold: float | None = None  # None: the mode's default (see threshold_for)
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    min_samples: int = Field(default=DEFAULT_MIN_SAMPLES, ge=1, le=MAX_MIN_SAMPLES)
    handler_thresholds: dict[str, float] = Field(default_factory=dict)
    go_flags: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    timeout: float = 600.0

    @field_validator("name")
    @classmethod
    def _name_is_a_file_stem(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", v):
            raise ValueError(
                f"target name {v!r} must be letters, digits, '_', '-' or '.' "
                "(it names the baseline file)"
            )
        return v

    @field_validator("run")
    @classmethod
    def _run_is_a_regex(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as exc:
            raise ValueError(f"run {v!r} is not a valid regular expression: {exc}") from None
        return v

    @field_validator("go_flags")
    @classmethod
    def _go_flags_do_not_redirect(cls, v: list[str]) -> list[str]:
        for flag in v:
            if flag.lstrip("-").split("=", 1)[0] in ("o", "c") and flag.startswith("-"):
                raise ValueError(
                    f"go_flags must not contain {flag!r}: perfgate builds the test binary into "
                    "its own scratch directory (-c -o)"
                )
        return v

    @field_validator("threshold", mode="before")
    @classmethod
    def _threshold(cls, v: Any) -> float | None:
        return None if v is None else parse_percent(v)

    @field_validator("handler_thresholds", mode="before")
    @classmethod
    def _handler_thresholds(cls, v: Any) -> dict[str, float]:
        if not isinstance(v, dict):
            raise ValueError('handler_thresholds must be a table of handler = "NN%"')
        return {k: parse_percent(x, f"threshold for {k!r}") for k, x in v.items()}

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, v: Any) -> float:
        return parse_duration_s(v)

    def overridden(
        self,
        runs: int | None = None,
        threshold: float | None = None,
        baseline_runs: int | None = None,
    ) -> Target:
        """This target with the command line's settings (``--runs``, ``--threshold``) in place
        of the file's for one invocation; None keeps the file's."""
        update: dict[str, object] = {}
        if runs is not None:
            update["runs"] = runs
        if baseline_runs is not None:
            update["baseline_runs"] = baseline_runs
        if threshold is not None:
            update["threshold"] = threshold
        return self.model_copy(update=update) if update else self

    @property
    def baseline_path(self) -> str:
        return self.baseline or f"baselines/{self.name}.json"

    def wants(self, handler: str) -> bool:
        """Whether the include/exclude globs keep this handler."""
        if self.include and not any(fnmatch.fnmatchcase(handler, g) for g in self.include):
            return False
        return not any(fnmatch.fnmatchcase(handler, g) for g in self.exclude)

    def runs_for(self, same_machine: bool = False) -> int:
        """Runs per side: the configured number, else 15 (20 pairs with ``--against``)."""
        if self.runs is not None:
            return self.runs
        return DEFAULT_AB_RUNS if same_machine else DEFAULT_RUNS

    def baseline_runs_for(self) -> int:
        """Runs for ``baseline update``: the configured number, else twice the runs per check
        (30 by default). A baseline is measured once and compared with many times: a steadier
        baseline p95 makes every later check more reliable."""
        if self.baseline_runs is not None:
            return self.baseline_runs
        return BASELINE_RUNS_FACTOR * self.runs_for()

    def threshold_for(self, handler: str, same_machine: bool = False) -> float:
        """The handler's own threshold (exact name or glob), else the target's, else the mode's
        default: tighter in A/B mode, where both sides share the machine and its drift."""
        if handler in self.handler_thresholds:
            return self.handler_thresholds[handler]
        for pattern, pct in self.handler_thresholds.items():
            if fnmatch.fnmatchcase(handler, pattern):
                return pct
        if self.threshold is not None:
            return self.threshold
        return DEFAULT_AB_THRESHOLD_PCT if same_machine else DEFAULT_THRESHOLD_PCT


class Config(BaseModel):
    """The whole file: targets plus repository-wide settings."""

    model_config = ConfigDict(extra="forbid")

    targets: list[Target]
    release_branches: list[str] = Field(default_factory=lambda: ["release/*", "release-*"])
    alpha: float | None = Field(default=None, ge=MIN_ALPHA, lt=0.5)  # None: the mode's (alpha_for)
    # Committed mode: judge each handler beyond a shift most handlers share ("adjust"), or not.
    # "inconclusive" is the old name of "adjust".
    machine_shift: Literal["adjust", "inconclusive", "ignore"] = "adjust"
    # Committed mode: how much a handler drifts on its own between sessions (a standard
    # deviation, in percent), which no run of either side can show.
    drift: float = DEFAULT_DRIFT_PCT
    # perfgate history: a change point must move a handler's p95 by at least this much.
    history_min_change: float = DEFAULT_HISTORY_MIN_CHANGE_PCT
    # How many times a check judges its runs: it stops as soon as every handler is decided.
    looks: int = Field(default=DEFAULT_LOOKS, ge=1, le=10)
    # Measure again after an inconclusive check (gate.check: A/B after run-to-run noise, as
    # many pairs again judged with the first; otherwise from scratch).
    retries: int = Field(default=1, ge=0, le=5)
    # The busy-machine check (perfgate.busy): trace evidence that the machine was overloaded.
    machine_check: Literal["inconclusive", "warn", "ignore"] = "inconclusive"
    min_cpu_share: float = Field(default=0.75, gt=0, le=1)
    # A run during which other processes used more than this share of the machine's CPU time
    # is disturbed and measured again (Linux; 1 turns it off).
    max_neighbour_load: float = Field(default=DEFAULT_MAX_NEIGHBOUR_LOAD, gt=0, le=1)

    @field_validator("drift", mode="before")
    @classmethod
    def _drift(cls, v: Any) -> float:
        if v in (0, "0", "0%"):
            return 0.0
        pct = parse_percent(v, "drift")
        if pct > MAX_DRIFT_PCT:
            raise ValueError(
                f"drift {pct:g}% is above {MAX_DRIFT_PCT:g}%: intervals that wide would let any "
                "regression pass"
            )
        return pct

    @field_validator("history_min_change", mode="before")
    @classmethod
    def _history_min_change(cls, v: Any) -> float:
        if v in (0, "0", "0%"):
            return 0.0
        return parse_percent(v, "history_min_change")

    @property
    def drift_pct(self) -> float:
        return self.drift

    def alpha_for(self, same_machine: bool = False) -> float:
        """Significance level: the configured one, else the mode's default."""
        if self.alpha is not None:
            return self.alpha
        return DEFAULT_AB_ALPHA if same_machine else DEFAULT_ALPHA

    @model_validator(mode="after")
    def _unique_names(self) -> Config:
        if not self.targets:
            raise ValueError("at least one [[targets]] entry is needed")
        seen: set[str] = set()
        for t in self.targets:
            if t.name in seen:
                raise ValueError(f"target name {t.name!r} appears twice")
            seen.add(t.name)
        return self

    def select(self, names: list[str]) -> list[Target]:
        """The targets named (all when none are); an unknown name is an error."""
        if not names:
            return list(self.targets)
        known = {t.name: t for t in self.targets}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise PerfgateError(
                f"unknown target {unknown[0]!r}", hint=f"targets in the config: {', '.join(known)}"
            )
        return [known[n] for n in names]


def check_paths(config: Config, root: Path, repository: Path | None) -> None:
    """Refuse (exit 2) a path in the config that resolves outside the repository: a target's
    ``baseline`` file, or a ``package`` given as a directory (``./svc``, ``../x``, ``/abs``).

    ``root`` is the config file's directory, which relative paths start from; ``repository``
    the top of the git working tree holding it (None outside git: ``root`` itself). Symbolic
    links are followed, so a link out of the repository is refused too. Called before anything
    is measured or written.
    """
    top = (repository or root).resolve()
    for t in config.targets:
        paths = [("baseline", t.baseline_path)]
        if t.package.startswith((".", "/")) or Path(t.package).is_absolute():
            paths.append(("package", t.package))
        for key, value in paths:
            resolved = (root / value).resolve()
            if resolved != top and top not in resolved.parents:
                raise PerfgateError(
                    f"target {t.name!r}: {key} = {value!r} resolves to {resolved}, outside the "
                    f"repository {top}: refused",
                    hint=f"keep the {key} inside the repository (paths are relative to the "
                    "config file)",
                )


def gate_paths(config: Config, config_file: Path, root: Path) -> list[Path]:
    """The files that set the bar a check is measured against: the config file, each target's
    baseline file, and the ``baselines/`` directory next to the config (``root``)."""
    return [config_file, root / "baselines", *(root / t.baseline_path for t in config.targets)]


def _format_loc(loc: tuple[Any, ...], data: dict[str, Any]) -> str:
    """``("targets", 0, "runs")`` → ``targets[0] (name 'ledger').runs``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    if len(loc) >= 2 and loc[0] == "targets" and isinstance(loc[1], int):
        try:
            name = data["targets"][loc[1]].get("name")
        except (KeyError, IndexError, AttributeError, TypeError):
            name = None
        if name:
            out = out.replace(f"targets[{loc[1]}]", f"targets[{loc[1]}] ({name!r})", 1)
    return out


def parse_config(data: dict[str, Any], source: str) -> Config:
    """Validate a parsed TOML table; errors name the file, the key and what is wrong."""
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _format_loc(err["loc"], data)
            if err["type"] == "extra_forbidden":
                lines.append(f"unknown key {where!r}")
            elif err["type"] == "missing":
                lines.append(f"missing key {where!r}")
            else:
                msg = err["msg"].removeprefix("Value error, ")
                lines.append(f"{where}: {msg}" if where else msg)
        raise PerfgateError(
            f"invalid configuration in {source}: " + "; ".join(lines),
            hint="see the configuration reference in perfgate's README",
        ) from None


def find_config(start: Path) -> Path | None:
    """``perfgate.toml``, or a ``pyproject.toml`` with ``[tool.perfgate]``, in start or above."""
    for d in [start, *start.parents]:
        candidate = d / CONFIG_FILE
        if candidate.is_file():
            return candidate
        pyproject = d / "pyproject.toml"
        if pyproject.is_file() and "[tool.perfgate" in pyproject.read_text(errors="replace"):
            return pyproject
        if (d / ".git").exists():
            break
    return None


def load_config(path: Path | None, cwd: Path) -> tuple[Config, Path]:
    """Load and validate the config; returns it with the directory it lives in (the root)."""
    if path is None:
        path = find_config(cwd)
        if path is None:
            raise PerfgateError(
                f"no {CONFIG_FILE} found in {cwd} or its parents",
                hint="run 'perfgate init' to create one, or pass --config PATH",
            )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PerfgateError(f"config file not found: {path}") from None
    except OSError as exc:
        raise PerfgateError(f"cannot read config {path}: {exc.strerror}") from None
    try:
        data = tomllib.loads(raw.decode("utf-8", errors="replace"))
    except tomllib.TOMLDecodeError as exc:
        raise PerfgateError(f"{path} is not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        data = data.get("tool", {}).get("perfgate")
        if data is None:
            raise PerfgateError(f"{path} has no [tool.perfgate] table")
    return parse_config(data, str(path)), path.resolve().parent
