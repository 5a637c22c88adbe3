"""Same-machine A/B: measure REF (in a temporary git worktree) and the working tree together.

Runs alternate A B A B …, so the machine's drift and load hit both sides alike; the verdicts are
decided on these numbers. The committed baseline, where there is one, rides along for reference.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from perfgate.baseline import load_baseline
from perfgate.busy import median_share
from perfgate.config import Config, Target
from perfgate.errors import PerfgateError
from perfgate.gate import (
    Checked,
    check_busy,
    explain_results,
    git_provenance,
    measure_until_judged,
    now_iso,
    summarize_measurement,
)
from perfgate.judge import common_shift_warning, compare_target, decide
from perfgate.measure import Progress, Subject, measure, scratch_dir
from perfgate.report import Report, TargetInfo
from perfgate.toolchain import Go, machine


def _committed_baseline(root: Path, target: Target):
    try:
        return load_baseline(root / target.baseline_path, target.name)
    except PerfgateError:
        return None


def run_against(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    ref: str,
    progress: Progress | None = None,
) -> Checked:
    """:func:`_against_once`, measured again (up to ``retries`` times) while the machine was
    too busy to judge (the only way a handler is ``inconclusive`` without a failure here)."""
    return measure_until_judged(
        lambda: _against_once(config, root, targets, go, env, ref, progress),
        config.retries,
        progress,
    )


def _against_once(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    ref: str,
    progress: Progress | None = None,
) -> Checked:
    """Measure ``ref`` and the working tree at ``root`` interleaved; decide on both, explain."""
    from perfgate.git import default_against_ref, worktree_at

    label = ref or "merge-base"
    sha_or_ref = ref or default_against_ref(root, env)
    report = Report(mode="against", created=now_iso(), commit=git_provenance(root)[0] or None)
    here = machine(go, env)
    compared = []
    with worktree_at(root, sha_or_ref) as wt, scratch_dir() as tmp:
        report.against_ref = f"{label} ({wt.short_sha})"
        base_root = wt.translate(root)
        for target in targets:
            if progress:
                progress(f"{target.name}: building {label} ({wt.short_sha}) and the working tree")
            subjects = [
                Subject(go, base_root, target, Path(tmp), "base", env),
                Subject(go, root, target, Path(tmp), "head", env),
            ]
            base_m, head_m = measure(subjects, target.runs_for(True), progress)
            base = summarize_measurement(target, base_m)
            head = summarize_measurement(target, head_m)
            results = compare_target(target, base, head, same_machine=True)
            compared.append((results, base, head))
            committed = _committed_baseline(root, target)
            for r in results:
                if committed is not None:
                    r.reference = committed.handlers.get(r.name)
            report.handlers.extend(results)
            report.targets.append(
                TargetInfo(
                    name=target.name,
                    package=target.package,
                    runs=target.runs_for(True),
                    baseline_path=target.baseline_path if committed else None,
                    baseline_commit=(committed.meta.commit or None) if committed else None,
                    machine=here.model_dump(),
                    incomplete_tasks=base_m.incomplete_tasks + head_m.incomplete_tasks,
                    cpu_share=median_share(head_m.cpu_shares()),
                    baseline_cpu_share=median_share(base_m.cpu_shares()),
                )
            )
    decide(report.handlers, config.alpha_for(True), same_machine=True)
    sides = [s for r, b, h in compared for s in explain_results(r, b, h)]
    shift = common_shift_warning(report.handlers, same_machine=True)
    if shift:
        report.warnings.append(shift)
    check_busy(config, report, same_machine=True)
    report.recompute_verdict()
    return Checked(report, sides)
