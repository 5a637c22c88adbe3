"""The gate's stages in order: targets → measure → compare with a baseline → a Report.

Also the baseline refresh: measure every target first, and write files only when all
measurements succeeded, so a failed refresh never leaves a partial baseline behind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from perfgate import __version__
from perfgate.baseline import (
    BASELINE_SCHEMA_VERSION,
    Baseline,
    BaselineMeta,
    Machine,
    load_baseline,
    write_atomically,
)
from perfgate.busy import check_machine, mark_collateral, median_share
from perfgate.config import Config, Target
from perfgate.errors import PerfgateError
from perfgate.explain import annotate
from perfgate.judge import common_shift_warning, compare_target, decide
from perfgate.measure import Progress, Subject, measure, scratch_dir
from perfgate.report import HandlerResult, HandlerSides, HandlerSummary, Report, TargetInfo, Verdict
from perfgate.samples import Measurement
from perfgate.stats import sketch
from perfgate.toolchain import Go, machine


@dataclass
class Checked:
    """A check's outcome: the report, and every handler's summaries behind it."""

    report: Report
    sides: list[HandlerSides] = field(default_factory=list)


def summarize_measurement(target: Target, m: Measurement) -> dict[str, HandlerSummary]:
    """Each wanted handler's summary: statistics, sketch and breakdown (a baseline's entries)."""
    stats = m.handler_stats()
    pooled = m.sorted_samples()
    breakdowns = m.breakdowns()
    return {
        name: HandlerSummary(
            **s.model_dump(), sketch_ns=sketch(pooled[name]), breakdown=breakdowns.get(name)
        )
        for name, s in stats.items()
        if target.wants(name)
    }


def explain_results(
    results: Sequence[HandlerResult],
    baseline: Mapping[str, HandlerSummary],
    current: Mapping[str, HandlerSummary],
) -> list[HandlerSides]:
    """Explain each result from the two sides' breakdowns; the sides, for the HTML report."""
    sides = []
    for r in results:
        base, cur = baseline.get(r.name), current.get(r.name)
        annotate(r, base.breakdown if base else None, cur.breakdown if cur else None)
        sides.append(HandlerSides(r.target, r.name, base, cur))
    return sides


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
    runs: int | None = None,
) -> Measurement:
    """Build and run one target's perf test ``runs`` times (default: the target's runs per
    check) on the tree at ``root``."""
    with scratch_dir() as tmp:
        subject = Subject(go, root, target, Path(tmp), "current", env)
        return measure([subject], runs or target.runs_for(), progress)[0]


def run_check(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    progress: Progress | None = None,
) -> Checked:
    """Measure each target, compare it with its committed baseline, explain the changes."""
    baselines = {t.name: load_baseline(root / t.baseline_path, t.name) for t in targets}
    for name, b in baselines.items():
        if not b.handlers:
            raise PerfgateError(
                f"the baseline of target {name!r} has no handlers yet",
                hint="run 'perfgate baseline update' to measure it, then commit it",
            )
    here = machine(go, env)
    return measure_until_judged(
        lambda: _check_once(config, root, targets, baselines, go, env, here, progress),
        config.retries,
        progress,
    )


def measure_until_judged(
    once: Callable[[], Checked], retries: int, progress: Progress | None
) -> Checked:
    """``once()``, repeated (up to ``retries`` more times) while handlers came out
    ``inconclusive`` and nothing failed: a decided failure stands."""
    attempts = 1 + retries
    for attempt in range(1, attempts + 1):
        checked = once()
        inconclusive = [
            h.name for h in checked.report.handlers if h.verdict == Verdict.INCONCLUSIVE
        ]
        if not inconclusive or checked.report.verdict == "fail" or attempt == attempts:
            break
        if progress:
            progress(
                f"{len(inconclusive)} handlers are inconclusive (moved only with all the "
                f"others, or on a busy machine): measuring again ({attempt + 1}/{attempts})"
            )
    if attempt > 1:
        checked.report.warnings.append(
            f"measured {attempt} times: the earlier measurement(s) were inconclusive (every "
            "handler moved alike, or the machine was busy)"
        )
    return checked


def _check_once(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    baselines: Mapping[str, Baseline],
    go: Go,
    env: Mapping[str, str],
    here: Machine,
    progress: Progress | None,
) -> Checked:
    """One measurement of every target, compared with the baselines and explained."""
    report = Report(perfgate_version=__version__, created=now_iso())
    report.commit = git_provenance(root)[0] or None
    compared: list[tuple[list[HandlerResult], Baseline, dict[str, HandlerSummary]]] = []
    for target in targets:
        baseline = baselines[target.name]
        m = measure_target(go, root, target, env, progress)
        current = summarize_measurement(target, m)
        info = TargetInfo(
            name=target.name,
            package=target.package,
            runs=target.runs_for(),
            baseline_path=target.baseline_path,
            baseline_commit=baseline.meta.commit or None,
            machine=here.model_dump(),
            machine_mismatch=Machine.model_validate(baseline.meta.model_dump()).differences(here),
            incomplete_tasks=m.incomplete_tasks,
            cpu_share=median_share(m.cpu_shares()),
            baseline_cpu_share=median_share(baseline.meta.cpu_shares),
        )
        report.targets.append(info)
        results = compare_target(target, baseline.handlers, current)
        report.handlers.extend(results)
        compared.append((results, baseline, current))
    decide(report.handlers, config.alpha_for(), machine_shift=config.machine_shift)
    sides = [s for r, b, c in compared for s in explain_results(r, b.handlers, c)]
    shift = common_shift_warning(report.handlers)
    if shift:
        report.warnings.append(shift)
    check_busy(config, report)
    report.recompute_verdict()
    return Checked(report, sides)


def check_busy(config: Config, report: Report, same_machine: bool = False) -> None:
    """The busy-machine check (:mod:`perfgate.busy`) on every target of the report, and the
    contention check (handlers slowed only by a regressed neighbour's CPU use)."""
    mark_collateral(report.handlers, config.machine_check)
    for info in report.targets:
        results = [h for h in report.handlers if h.target == info.name]
        warning = check_machine(
            results, info, config.machine_check, config.min_cpu_share, same_machine
        )
        if warning:
            report.warnings.append(warning)


def build_baseline(
    target: Target, m: Measurement, here: Machine, commit: str, branch: str
) -> Baseline:
    """A baseline file's content from one target's measurement."""
    handlers = summarize_measurement(target, m)
    meta = BaselineMeta(
        **here.model_dump(),
        commit=commit,
        branch=branch,
        created=now_iso(),
        runs=len(m.runs),
        perfgate_version=__version__,
        cpu_shares=m.cpu_shares(),
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
        m = measure_target(go, root, target, env, progress, target.baseline_runs_for())
        results.append(
            (root / target.baseline_path, build_baseline(target, m, here, commit, branch))
        )
    if not dry_run:
        for path, baseline in results:
            write_atomically(path, baseline.to_json())
    return results
