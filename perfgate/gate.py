"""The check from start to end, and the baseline refresh: the stages that touch the outside world
(the Go toolchain, git, files) around the pure judging path.

``perfgate check`` (:func:`run_check`): measure the two sides — the working tree against the
committed baseline, or against REF in a temporary worktree (``--against``), see
:mod:`perfgate.sides` — judge them (:func:`perfgate.assess.assess`), and while handlers came out
``inconclusive`` with nothing failed, measure and judge again (``retries``: from scratch, or in
A/B mode after run-to-run noise as many pairs again judged with the first; :func:`check`). One
loop, whichever the mode: the modes differ only in how they measure.

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
from perfgate.assess import Checked, Look, Provenance, assess
from perfgate.baseline import Baseline, build_baseline, load_baseline, write_atomically
from perfgate.config import Config, Target
from perfgate.errors import PerfgateError
from perfgate.git import Worktree, default_against_ref, head_provenance, worktree_at
from perfgate.measure import Progress, Runner, Subject, measure, scratch_dir, stages
from perfgate.report import Mode, Report, ReportVerdict, Verdict
from perfgate.samples import Measurement
from perfgate.toolchain import Go, child_env, machine, missing_tests


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
    max_neighbour_load: float | None = None,
) -> Measurement:
    """Build and run one target's perf test ``runs`` times (default: the target's runs per
    check) on the tree at ``root``, measuring runs disturbed by other processes again."""
    with scratch_dir() as tmp:
        subject = Subject(go, root, target, Path(tmp), "current", env)
        return measure([subject], runs or target.runs_for(), progress, max_neighbour_load)[0]


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
        scratch: Path,
    ) -> None:
        self.baselines = {t.name: load_baseline(root / t.baseline_path, t.name) for t in targets}
        for name, b in self.baselines.items():
            if not b.handlers:
                raise PerfgateError(
                    f"the baseline of target {name!r} has no handlers yet",
                    hint="run 'perfgate baseline update' to measure it, then commit it",
                )
        self.root, self.targets, self.go, self.env, self.scratch = root, targets, go, env, scratch
        self.here = machine(go, env)
        self._subjects: dict[str, list[Subject]] = {}

    def subjects(self, target: Target) -> list[Subject]:
        """The target's working tree, built once per check."""
        if target.name not in self._subjects:
            self._subjects[target.name] = [
                Subject(self.go, self.root, target, self.scratch, "current", self.env)
            ]
        return self._subjects[target.name]

    def sides(self, target: Target, runner: Runner) -> sides.TargetSides:
        return sides.committed(
            target, self.baselines[target.name], runner.measurements[0], self.here
        )


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
        scratch: Path,
        worktree: Worktree,
        label: str,
    ) -> None:
        self.root, self.targets, self.go, self.env, self.scratch = root, targets, go, env, scratch
        self.worktree, self.label = worktree, label
        self.here = machine(go, env)
        self.committed = {t.name: _committed_baseline(root, t) for t in targets}
        self._subjects: dict[str, list[Subject]] = {}
        self.no_base: dict[str, str] = {}  # target: why REF has no perf test to measure

    @property
    def against_ref(self) -> str:
        return f"{self.label} ({self.worktree.short_sha})"

    def subjects(self, target: Target) -> list[Subject]:
        """REF's tree and the working tree, built once per check. When REF has no perf test
        for the target yet (its package or test is not there: the change under review adds
        it), only the working tree: its handlers are ``new``."""
        if target.name not in self._subjects:
            base = self._base_subject(target)
            head = Subject(self.go, self.root, target, self.scratch, "head", self.env)
            self._subjects[target.name] = [base, head] if base is not None else [head]
        return self._subjects[target.name]

    def _base_subject(self, target: Target) -> Subject | None:
        base_root = self.worktree.translate(self.root)
        why = missing_tests(self.go, base_root, target.package, child_env(self.env, target.env))
        if why is None:
            subject = Subject(self.go, base_root, target, self.scratch, "base", self.env)
            if subject.tests():
                return subject
            why = f"no test in {target.package} matches {target.run!r} there"
        self.no_base[target.name] = (
            f"{self.against_ref} has no perf test for this target yet ({why}): "
            "its handlers are new, nothing was compared"
        )
        return None

    def sides(self, target: Target, runner: Runner) -> sides.TargetSides:
        committed = self.committed[target.name]
        if target.name in self.no_base:
            head = runner.measurements[0]
            return sides.against_nothing(
                target, head, committed, self.here, self.no_base[target.name]
            )
        base, head = runner.measurements
        return sides.against(target, base, head, committed, self.here)


def _committed_baseline(root: Path, target: Target) -> Baseline | None:
    try:
        return load_baseline(root / target.baseline_path, target.name)
    except PerfgateError:
        return None


Source = CommittedBaseline | AgainstRef


def _plans(source: Source, config: Config) -> dict[str, list[int]]:
    """Each target's stages: after how many rounds the check looks at its runs."""
    paired = source.mode == Mode.AGAINST
    return {t.name: stages(t.runs_for(paired), config.looks) for t in source.targets}


def start_runners(
    source: Source, config: Config, progress: Progress | None = None
) -> dict[str, Runner]:
    """A runner per target, with no runs yet (its trees built on first use)."""
    plans = _plans(source, config)
    paired = source.mode == Mode.AGAINST
    what = f"{source.against_ref} and the working tree" if paired else "the working tree"
    runners = {}
    for t in source.targets:
        if progress:
            progress(f"{t.name}: building {what}")
        runners[t.name] = Runner(source.subjects(t), config.max_neighbour_load, plans[t.name][-1])
    return runners


def measure_and_judge(
    source: Source,
    config: Config,
    provenance: Provenance,
    progress: Progress | None = None,
    runners: Mapping[str, Runner] | None = None,
) -> Checked:
    """Measure every target in stages and judge after each (:func:`perfgate.measure.stages`),
    until every handler is decided or every target has made its most runs (``runners``: fresh
    ones from :func:`start_runners`, made here when not given)."""
    plans = _plans(source, config)
    looks = max(len(p) for p in plans.values())
    if runners is None:
        runners = start_runners(source, config, progress)
    for look in range(1, looks + 1):
        for t in source.targets:
            plan = plans[t.name]
            runners[t.name].extend(plan[min(look, len(plan)) - 1], plan[-1], progress)
        checked = assess(
            [source.sides(t, runners[t.name]) for t in source.targets],
            source.mode,
            config,
            provenance,
            Look(look, looks),
        )
        if not checked.undecided:
            return checked
        regressed = [h.name for h in checked.report.handlers if h.verdict == Verdict.REGRESSED]
        if regressed and not _rising(checked):
            if progress:
                progress(f"look {look}/{looks}: {', '.join(regressed)} regressed: stopping here")
            return _stopped_at_regression(checked, regressed, look, looks)
        if progress:
            names = ", ".join(checked.undecided[:3]) + (" …" if len(checked.undecided) > 3 else "")
            progress(
                f"look {look}/{looks}: {len(checked.undecided)} handler(s) not decided yet "
                f"({names}): measuring more runs"
            )
    raise AssertionError("the last look decides every handler")


def measure_more_and_judge(
    source: Source,
    config: Config,
    provenance: Provenance,
    runners: Mapping[str, Runner],
    progress: Progress | None = None,
) -> Checked:
    """After an A/B check that ended ``inconclusive`` within run-to-run noise: as many pairs
    of runs again per target, added to those made, and every pair judged together at the last
    look's level (see :func:`check`)."""
    plans = _plans(source, config)
    looks = max(len(p) for p in plans.values())
    for t in source.targets:
        runner, more = runners[t.name], plans[t.name][-1]
        runner.rerun_budget += more
        total = runner.rounds + more
        runner.extend(total, total, progress)
    return assess(
        [source.sides(t, runners[t.name]) for t in source.targets],
        source.mode,
        config,
        provenance,
        Look(looks, looks),
    )


def _rising(checked: Checked) -> bool:
    """Whether a handler not decided yet rose by more than its threshold: it may be the change's
    real culprit (a regression elsewhere can be its side effect: shared GC, a shared lock), so
    the check measures on until it is decided too."""
    undecided = set(checked.undecided)
    return any(
        f"{h.target}: {h.name}" in undecided
        and h.delta_pct is not None
        and h.threshold_pct is not None
        and h.delta_pct > h.threshold_pct
        for h in checked.report.handlers
    )


def _stopped_at_regression(
    checked: Checked, regressed: Sequence[str], look: int, looks: int
) -> Checked:
    """The check's outcome when a handler regressed before the last look and no undecided one
    rose past its threshold: the gate fails whatever the others come to (a regression decided
    at an early look spends that look's share of alpha, so it stands), so it stops there;
    handlers not decided yet are ``inconclusive``, and say so."""
    undecided = set(checked.undecided)
    why = f"not decided: the check stopped at look {look} of {looks} once {regressed[0]} regressed"
    handlers = [
        h.model_copy(
            update={
                "verdict": Verdict.INCONCLUSIVE,
                "note": f"{why}; {h.note}",
            }
        )
        if f"{h.target}: {h.name}" in undecided and h.verdict == Verdict.PASS
        else h
        for h in checked.report.handlers
    ]
    warning = (
        f"the check stopped at look {look} of {looks}, once a handler regressed "
        f"({', '.join(regressed)}): {len(undecided)} handler(s) not decided by then are "
        "inconclusive; fix the regression and check again"
    )
    report = checked.report.model_copy(
        update={"handlers": handlers, "warnings": [*checked.report.warnings, warning]}
    )
    return Checked(report, checked.sides, [])


def run_check(
    config: Config,
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    progress: Progress | None = None,
    against: str | None = None,
    event_base: str | None = None,
) -> Checked:
    """Measure and judge every target — against the committed baselines, or with ``against``
    (a ref; ``""``: the merge-base with the PR's base commit ``event_base`` when the clone has
    it, else with its base branch) A/B — in stages until every handler is decided, and again
    (up to ``retries`` more times) while the check came out ``inconclusive`` and nothing
    failed (see :func:`check`): a decided failure stands."""
    commit = head_provenance(root)[0] or None
    with contextlib.ExitStack() as stack:
        scratch = Path(stack.enter_context(scratch_dir()))
        source: Source
        if against is None:
            source = CommittedBaseline(root, targets, go, env, scratch)
        else:
            sha_or_ref = against or default_against_ref(root, env, event_base)
            worktree = stack.enter_context(worktree_at(root, sha_or_ref))
            label = against or "merge-base"
            source = AgainstRef(root, targets, go, env, scratch, worktree, label)
        return check(source, config, commit, progress)


def check(
    source: Source, config: Config, commit: str | None, progress: Progress | None = None
) -> Checked:
    """Measure and judge ``source``'s targets; while the outcome is ``inconclusive`` and nothing
    failed, measure again (up to ``config.retries`` more times), which way depending on why:

    * a handler moved while the machine was busy (:mod:`perfgate.busy`): those runs are
      suspect, so the check measures again from scratch and the new runs alone decide;
    * A/B, a rise beyond the threshold within run-to-run noise: the pairs are sound but too
      few, so the check makes as many pairs again and judges all of them together
      (:func:`measure_more_and_judge`): both sides' intervals narrow, where a second draw of
      the same size would be as likely to stay inconclusive as the first;
    * committed baseline, the same: from scratch. Pooling there was measured and gained
      nothing, since the baseline's runs, half the interval's variance, do not grow
      (docs/benchmarks.md, *Committed mode on a shared machine*).

    A failure against a committed baseline ends with a warning naming how to confirm it on
    this machine (:func:`confirm_hint`).
    """
    attempts = 1 + config.retries
    whys: list[str] = []
    runners: dict[str, Runner] | None = None
    pool = False
    for attempt in range(1, attempts + 1):
        provenance = Provenance(created=now_iso(), commit=commit, against_ref=source.against_ref)
        if pool and runners is not None:
            checked = measure_more_and_judge(source, config, provenance, runners, progress)
        else:
            runners = start_runners(source, config, progress if attempt == 1 else None)
            checked = measure_and_judge(source, config, provenance, progress, runners)
        report = checked.report
        if report.verdict != ReportVerdict.INCONCLUSIVE or attempt == attempts:
            break
        busy = [h.name for h in report.handlers if h.busy_machine]
        pool = not busy and source.mode == Mode.AGAINST
        whys.append("a busy machine" if busy else "run-to-run noise")
        if progress:
            if busy:
                why = f"{len(busy)} handler(s) moved while the machine was busy"
            else:
                why = "a handler rose by more than its threshold, but within run-to-run noise"
            how = "as many pairs again, judged with the first" if pool else "from scratch"
            progress(f"{why}: measuring again, {how} ({attempt + 1}/{attempts})")
    added = []
    if attempt > 1:
        last = (
            "every pair since the machine was last busy decides" if pool else "the last one decides"
        )
        added.append(
            f"measured {attempt} times: the earlier measurement(s) were inconclusive "
            f"({', '.join(dict.fromkeys(whys))}); {last}"
        )
    if source.mode == Mode.BASELINE and report.verdict == ReportVerdict.FAIL:
        added.append(confirm_hint(report))
    if added:
        report = report.model_copy(update={"warnings": [*report.warnings, *added]})
        checked = Checked(report, checked.sides)
    return checked


def confirm_hint(report: Report) -> str:
    """How to confirm a regression found against a committed baseline: measure the commit the
    baseline was made from and the working tree on this machine, in alternating runs."""
    failed = {h.target for h in report.handlers if h.verdict == Verdict.REGRESSED}
    commits = sorted({t.baseline_commit for t in report.targets if t.name in failed} - {None})
    ref = commits[0][:12] if len(commits) == 1 else "<the baseline's commit>"
    return (
        "judged against a baseline measured in another session: between sessions a shared "
        "machine can move a handler's p95 by more than its runs show, one handler more than "
        "another (docs/benchmarks.md: 4-30 % of checks of unchanged code failed there); to "
        f"confirm on this machine: perfgate check --against {ref}"
    )


def refresh_baselines(
    root: Path,
    targets: Sequence[Target],
    go: Go,
    env: Mapping[str, str],
    progress: Progress | None = None,
    dry_run: bool = False,
    max_neighbour_load: float | None = None,
) -> list[tuple[Path, Baseline]]:
    """Measure all targets, then (unless dry_run) write all their baseline files.

    Nothing is written until every target has been measured: a failure leaves every baseline
    file as it was.
    """
    here = machine(go, env)
    commit, branch = head_provenance(root)
    results = []
    for target in targets:
        m = measure_target(
            go, root, target, env, progress, target.baseline_runs_for(), max_neighbour_load
        )
        baseline = build_baseline(target, m, here, commit, branch, now_iso())
        results.append((root / target.baseline_path, baseline))
    if not dry_run:
        for path, baseline in results:
            write_atomically(path, baseline.to_json())
    return results
