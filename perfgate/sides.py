"""The two sides of a comparison, as each mode fills them — the only thing the modes differ in.

* Against the committed baseline (``perfgate check``): the baseline file's summaries, measured
  in an earlier session, vs the working tree measured now (:func:`committed`).
* A/B (``perfgate check --against REF``): REF and the working tree, both measured now in pairs
  of runs on this machine, the committed baseline riding along for reference (:func:`against`).

Either way the result is a :class:`TargetSides` per target, which :func:`perfgate.assess.assess`
judges the same way. Pure: measurements and baselines in, sides out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from perfgate.baseline import Baseline, Machine
from perfgate.busy import median_share
from perfgate.config import Target
from perfgate.judge import Sample
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
    ref_stats = (
        {n: h.stats() for n, h in reference.handlers.items()} if reference is not None else {}
    )
    return TargetSides(
        target=target,
        info=TargetInfo(
            name=target.name,
            package=target.package,
            runs=len(head.runs),
            baseline_path=target.baseline_path if reference is not None else None,
            baseline_commit=(reference.meta.commit or None) if reference is not None else None,
            machine=here.model_dump(),
            incomplete_tasks=base.incomplete_tasks + head.incomplete_tasks,
            cpu_share=median_share(head.cpu_shares()),
            baseline_cpu_share=median_share(base.cpu_shares()),
            neighbour_load=median_share(head.neighbour_loads()),
            baseline_neighbour_load=median_share(base.neighbour_loads()),
            reruns=head.reruns,
            disturbed_runs=head.disturbed_kept,
        ),
        base=Side(base.summaries(target.wants), base),
        head=Side(head.summaries(target.wants), head),
        reference=ref_stats,
    )
