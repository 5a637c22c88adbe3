"""The check from start to end, and the baseline refresh: the stages that touch the outside world
(the Go toolchain, git, files) around the pure judging path.

``perfgate check`` (:func:`run_check`): measure the two sides — the working tree against the
committed baseline, or against REF in a temporary worktree (``--against``), see
:mod:`perfgate.sides` — judge them (:func:`perfgate.assess.assess`), and while handlers came out
``inconclusive`` with nothing failed, measure and judge again (``retries``). One loop, whichever
the mode: the modes differ only in how they measure.

``perfgate baseline update`` (:func:`refresh_baselines`): measure every target first, and write
files only when all measurements succeeded, so a failed refresh never leaves a partial baseline
behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

from perfgate import sides
from perfgate.assess import Checked, Provenance, assess
from perfgate.baseline import Baseline, build_baseline, load_baseline, write_atomically
from perfgate.config import Config, Target
from perfgate.errors import PerfgateError
from perfgate.git import Worktree, default_against_ref, head_provenance, worktree_at
from perfgate.measure import Progress, Subject, measure, scratch_dir
from perfgate.report import Mode, ReportVerdict, Verdict
from perfgate.samples import Measurement
from perfgate.toolchain import Go, machine


def now_iso() -> str:
    """The current UTC time, to the second, ISO 8601."""
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


class CommittedBaseline:
    """Committed-baseline mode: each target's baseline file vs the working tree measured now."""

    mode = Mode.BASELINE
    against_ref: str | None = None

    def __init__(
        self,
        root: Path,
        targets: Sequence[Target],
        go: Go,
        env: Mapping[str, str],
        progress: Progress | None,
    ) -> None:
        self.baselines = {t.name: load_baseline(root / t.baseline_path, t.name) for t in targets}
        for name, b in self.baselines.items():
            if not b.handlers:
                raise PerfgateError(
                    f"the baseline of target {name!r} has no handlers yet",
                    hint="run 'perfgate baseline update' to measure it, then commit it",
                )
        self.root, self.targets, self.go, self.env, self.progress = root, targets, go, env, progress
        self.here = machine(go, env)

    def measure(self) -> list[sides.TargetSides]:
        """Measure every target once."""
        return [
            sides.committed(
                t,
                self.baselines[t.name],
                measure_target(self.go, self.root, t, self.env, self.progress),
                self.here,
            )
            for t in self.targets
        ]


class AgainstRef:
    """A/B mode: REF, checked out in ``worktree``, and the working tree, measured in pairs of
    runs made back to back; the committed baseline, where there is one, for reference."""

    mode = Mode.AGAINST

    def __init__(
        self,
        root: Path,
        targets: Sequence[Target],
        go: Go,
        env: Mapping[str, str],
        progress: Progress | None,
        worktree: Worktree,
        label: str,
    ) -> None:
        self.root, self.targets, self.go, self.env, self.progress = root, targets, go, env, progress
        self.worktree, self.label = worktree, label
        self.here = machine(go, env)
        self.committed = {t.name: _committed_baseline(root, t) for t in targets}

    @property
    def against_ref(self) -> str:
        return f"{self.label} ({self.worktree.short_sha})"

    def measure(self) -> list[sides.TargetSides]:
        """Measure every target once, both sides interleaved."""
        base_root = self.worktree.translate(self.root)
        out = []
        with scratch_dir() as tmp:
            for target in self.targets:
                if self.progress:
                    self.progress(
                        f"{target.name}: building {self.against_ref} and the working tree"
                    )
                subjects = [
                    Subject(self.go, base_root, target, Path(tmp), "base", self.env),
                    Subject(self.go, self.root, target, Path(tmp), "head", self.env),
                ]
                base, head = measure(subjects, target.runs_for(True), self.progress)
                out.append(
                    sides.against(target, base, head, self.committed[target.name], self.here)
                )
        return out


def _committed_baseline(root: Path, target: Target) -> Baseline | None:
    try:
        return load_baseline(root / target.baseline_path, target.name)
    except PerfgateError:
        return None


def run_check(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    progress: Progress | None = None,
    against: str | None = None,
) -> Checked:
    """Measure and judge every target — against the committed baselines, or with ``against``
    (a ref; ``""``: the merge-base with the PR's base branch) A/B — and measure again (up to
    ``retries`` more times) while handlers came out ``inconclusive`` and nothing failed: a
    decided failure stands."""
    commit = head_provenance(root)[0] or None
    with contextlib.ExitStack() as stack:
        source: CommittedBaseline | AgainstRef
        if against is None:
            source = CommittedBaseline(root, targets, go, env, progress)
        else:
            sha_or_ref = against or default_against_ref(root, env)
            worktree = stack.enter_context(worktree_at(root, sha_or_ref))
            label = against or "merge-base"
            source = AgainstRef(root, targets, go, env, progress, worktree, label)
        attempts = 1 + config.retries
        for attempt in range(1, attempts + 1):
            provenance = Provenance(
                created=now_iso(), commit=commit, against_ref=source.against_ref
            )
            checked = assess(source.measure(), source.mode, config, provenance)
            report = checked.report
            inconclusive = [h.name for h in report.handlers if h.verdict == Verdict.INCONCLUSIVE]
            if not inconclusive or report.verdict == ReportVerdict.FAIL or attempt == attempts:
                break
            if progress:
                progress(
                    f"{len(inconclusive)} handlers are inconclusive (moved only with all the "
                    f"others, or on a busy machine): measuring again ({attempt + 1}/{attempts})"
                )
    if attempt > 1:
        warning = (
            f"measured {attempt} times: the earlier measurement(s) were inconclusive (every "
            "handler moved alike, or the machine was busy)"
        )
        report = report.model_copy(update={"warnings": [*report.warnings, warning]})
        checked = Checked(report, checked.sides)
    return checked


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
    commit, branch = head_provenance(root)
    results = []
    for target in targets:
        m = measure_target(go, root, target, env, progress, target.baseline_runs_for())
        baseline = build_baseline(target, m, here, commit, branch, now_iso())
        results.append((root / target.baseline_path, baseline))
    if not dry_run:
        for path, baseline in results:
            write_atomically(path, baseline.to_json())
    return results
