"""The two sides of a comparison, as each mode fills them — the only thing the modes differ in.

* Against the committed baseline (``perfgate check``): the baseline file's summaries, measured
  in an earlier session, vs the working tree measured now (:func:`committed`).
* A/B (``perfgate check --against REF``): REF and the working tree, both measured now in pairs
  of runs on this machine, the committed baseline riding along for reference (:func:`against`).

Either way the result is a :class:`TargetSides` per target, which :func:`perfgate.assess.assess`
judges the same way. Pure: measurements and baselines in, sides out.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field

from perfgate.baseline import Baseline, Machine
from perfgate.busy import median_share
from perfgate.config import Target
from perfgate.judge import Sample, p95_change_pct
from perfgate.report import HandlerStats, HandlerSummary, TargetInfo
from perfgate.samples import Measurement


@dataclass(frozen=True)
class Side:
    """One side of one target: each handler's summary, and the measurement behind them when the
    side was measured in this check (None: a committed baseline, summaries only)."""

    handlers: Mapping[str, HandlerSummary]
    measurement: Measurement | None = None

    def sample(self, name: str) -> Sample:
        """What the judge sees of handler ``name`` on this side."""
        runs = None if self.measurement is None else self.measurement.durations(name)
        return Sample(self.handlers[name], runs)


@dataclass(frozen=True)
class TargetSides:
    """Everything judging one target needs: what was measured (``info``), the two sides, and in
    A/B mode the committed baseline's statistics per handler, shown for reference."""

    target: Target
    info: TargetInfo
    base: Side
    head: Side
    reference: Mapping[str, HandlerStats] = field(default_factory=dict)
    # the note of a handler measured on the head side only
    new_note: str = "not in the baseline (run 'perfgate baseline update' to add it)"


def committed(target: Target, baseline: Baseline, head: Measurement, here: Machine) -> TargetSides:
    """The committed baseline of ``target`` vs its working tree, measured on ``here``."""
    return TargetSides(
        target=target,
        info=TargetInfo(
            name=target.name,
            package=target.package,
            runs=len(head.runs),
            baseline_path=target.baseline_path,
            baseline_commit=baseline.meta.commit or None,
            machine=here.model_dump(),
            machine_mismatch=Machine.model_validate(baseline.meta.model_dump()).differences(here),
            incomplete_tasks=head.incomplete_tasks,
            cpu_share=median_share(head.cpu_shares()),
            baseline_cpu_share=median_share(baseline.meta.cpu_shares),
            neighbour_load=median_share(head.neighbour_loads()),
            baseline_neighbour_load=median_share(baseline.meta.neighbour_loads),
            reruns=head.reruns,
            disturbed_runs=head.disturbed_kept,
            baseline_disturbed_runs=baseline.meta.disturbed_runs,
        ),
        base=Side(baseline.handlers),
        head=Side(head.summaries(target.wants), head),
    )


def against(
    target: Target,
    base: Measurement,
    head: Measurement,
    reference: Baseline | None,
    here: Machine,
) -> TargetSides:
    """REF (``base``) vs the working tree (``head``), measured in pairs on ``here``; the
    committed baseline (``reference``, None when there is none) for reference."""
    base_side = Side(base.summaries(target.wants), base)
    info = _against_info(target, head, reference, here)
    info = info.model_copy(
        update={
            "incomplete_tasks": base.incomplete_tasks + head.incomplete_tasks,
            "baseline_cpu_share": median_share(base.cpu_shares()),
            "baseline_neighbour_load": median_share(base.neighbour_loads()),
            "reference_drift_pct": reference_drift(base_side.handlers, reference),
        }
    )
    return TargetSides(
        target=target,
        info=info,
        base=base_side,
        head=Side(head.summaries(target.wants), head),
        reference=_reference_stats(reference),
        new_note=NEW_IN_CHANGE,
    )


def against_nothing(
    target: Target, head: Measurement, reference: Baseline | None, here: Machine, why: str
) -> TargetSides:
    """The working tree alone, when REF has no perf test for ``target`` (``why``): every
    handler is ``new``; the committed baseline, if any, for reference."""
    info = _against_info(target, head, reference, here)
    info = info.model_copy(
        update={"incomplete_tasks": head.incomplete_tasks, "warnings": [*info.warnings, why]}
    )
    return TargetSides(
        target=target,
        info=info,
        base=Side({}),
        head=Side(head.summaries(target.wants), head),
        reference=_reference_stats(reference),
        new_note="not at the base: the perf test is new in this change",
    )


NEW_IN_CHANGE = "not measured at the base: new in this change"


def _reference_stats(reference: Baseline | None) -> dict[str, HandlerStats]:
    return {n: h.stats() for n, h in reference.handlers.items()} if reference is not None else {}


def _against_info(
    target: Target, head: Measurement, reference: Baseline | None, here: Machine
) -> TargetInfo:
    """What both A/B forms share: the working tree's runs, and where the committed baseline
    (the reference) was measured."""
    meta = reference.meta if reference is not None else None
    return TargetInfo(
        name=target.name,
        package=target.package,
        runs=len(head.runs),
        baseline_path=target.baseline_path if reference is not None else None,
        baseline_commit=(meta.commit or None) if meta is not None else None,
        machine=here.model_dump(),
        cpu_share=median_share(head.cpu_shares()),
        neighbour_load=median_share(head.neighbour_loads()),
        reruns=head.reruns,
        disturbed_runs=head.disturbed_kept,
        reference_machine=describe_machine(meta) if meta is not None else None,
        reference_created=(meta.created or None) if meta is not None else None,
    )


def describe_machine(m: Machine) -> str | None:
    """A machine in a few words: ``"AMD EPYC 7763, GOMAXPROCS 2, go1.26.0"`` (None: unknown)."""
    parts = [m.cpu, f"GOMAXPROCS {m.gomaxprocs}" if m.gomaxprocs else "", m.go_version]
    return ", ".join(p for p in parts if p) or None


def reference_drift(base: Mapping[str, HandlerSummary], reference: Baseline | None) -> float | None:
    """How far the base side measured now sits from the committed baseline: the median over
    the handlers on both of the p95's change, in percent (None: nothing to compare)."""
    if reference is None:
        return None
    changes = [
        change
        for name, summary in base.items()
        if name in reference.handlers
        and (change := p95_change_pct(reference.handlers[name], summary)) is not None
    ]
    return round(statistics.median(changes), 2) if changes else None
