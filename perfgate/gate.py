"""The gate's stages in order: targets → measure → compare with a baseline → a Report.

Also the baseline refresh: measure every target first, and write files only when all
measurements succeeded, so a failed refresh never leaves a partial baseline behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from perfgate import __version__
from perfgate.baseline import (
    BASELINE_SCHEMA_VERSION,
    Baseline,
    BaselineHandler,
    BaselineMeta,
    Machine,
    load_baseline,
    write_atomically,
)
from perfgate.config import Config, Target
from perfgate.errors import PerfgateError
from perfgate.measure import Measurement, Progress, Subject, measure, scratch_dir
from perfgate.report import Report, TargetInfo
from perfgate.stats import sketch
from perfgate.toolchain import Go, machine
from perfgate.verdict import common_shift_warning, compare_target, decide


@dataclass(frozen=True)
class Overrides:
    """Command-line settings that replace the config's for this invocation."""

    runs: int | None = None
    threshold: float | None = None

    def apply(self, target: Target) -> Target:
        update: dict[str, object] = {}
        if self.runs is not None:
            update["runs"] = self.runs
        if self.threshold is not None:
            update["threshold"] = self.threshold
        return target.model_copy(update=update) if update else target


def git_provenance(root: Path) -> tuple[str, str]:
    """(commit sha, branch) of the repository holding ``root``; empty strings outside git."""
    try:
        import git

        repo = git.Repo(root, search_parent_directories=True)
        commit = repo.head.commit.hexsha
        branch = "" if repo.head.is_detached else repo.active_branch.name
        return commit, branch
    except Exception:  # not a repository, no commits yet, git missing: provenance unknown
        return "", ""


def now_iso() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def measure_target(
    go: Go,
    root: Path,
    target: Target,
    env: Mapping[str, str],
    progress: Progress | None,
) -> Measurement:
    """Build and run one target's perf test ``target.runs`` times on the tree at ``root``."""
    with scratch_dir() as tmp:
        subject = Subject(go, root, target, Path(tmp), "current", env)
        return measure([subject], target.runs, progress)[0]


def run_check(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    progress: Progress | None = None,
) -> Report:
    """Measure each target and compare it with its committed baseline."""
    baselines = {t.name: load_baseline(root / t.baseline_path, t.name) for t in targets}
    for name, b in baselines.items():
        if not b.handlers:
            raise PerfgateError(
                f"the baseline of target {name!r} has no handlers yet",
                hint="run 'perfgate baseline update' to measure it, then commit it",
            )
    here = machine(go, env)
    report = Report(perfgate_version=__version__, created=now_iso())
    report.commit = git_provenance(root)[0] or None
    for target in targets:
        baseline = baselines[target.name]
        m = measure_target(go, root, target, env, progress)
        info = TargetInfo(
            name=target.name,
            package=target.package,
            runs=target.runs,
            baseline_path=target.baseline_path,
            baseline_commit=baseline.meta.commit or None,
            machine=here.model_dump(),
            machine_mismatch=Machine.model_validate(baseline.meta.model_dump()).differences(here),
            incomplete_tasks=m.incomplete_tasks,
        )
        report.targets.append(info)
        report.handlers.extend(compare_target(target, baseline.handlers, m.handler_stats()))
    decide(report.handlers, config.alpha)
    shift = common_shift_warning(report.handlers)
    if shift:
        report.warnings.append(shift)
    report.recompute_verdict()
    return report


def build_baseline(
    target: Target, m: Measurement, here: Machine, commit: str, branch: str
) -> Baseline:
    """A baseline file's content from one target's measurement."""
    stats = m.handler_stats()
    pooled = m.sorted_samples()
    handlers = {
        name: BaselineHandler(**s.model_dump(), sketch_ns=sketch(pooled[name]))
        for name, s in stats.items()
        if target.wants(name)
    }
    meta = BaselineMeta(
        **here.model_dump(),
        commit=commit,
        branch=branch,
        created=now_iso(),
        runs=len(m.runs),
        perfgate_version=__version__,
    )
    return Baseline(
        schema_version=BASELINE_SCHEMA_VERSION, target=target.name, meta=meta, handlers=handlers
    )


def refresh_baselines(
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    progress: Progress | None = None,
    dry_run: bool = False,
) -> list[tuple[Path, Baseline]]:
    """Measure all targets, then (unless dry_run) write all their baseline files.

    Nothing is written until every target has been measured: a failure leaves every baseline
    file as it was.
    """
    here = machine(go, env)
    commit, branch = git_provenance(root)
    results = []
    for target in targets:
        m = measure_target(go, root, target, env, progress)
        results.append(
            (root / target.baseline_path, build_baseline(target, m, here, commit, branch))
        )
    if not dry_run:
        for path, baseline in results:
            write_atomically(path, baseline.to_json())
    return results
