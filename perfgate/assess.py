"""The one judging path, for both modes: the two sides' data in, a finished Report out.

Stages, each a function from data to data, in this order:

1. :func:`pair_handlers` — which handlers are on which side: ``new``, ``missing`` and
   ``insufficient`` are decided here; the rest become questions for the judge.
2. :func:`perfgate.judge.judge` — the statistical decision, all handlers together.
3. :func:`perfgate.explain.explain` — where each handler's time went, baseline vs current.
4. :func:`perfgate.busy.bystanders` and :func:`perfgate.busy.busy_machine` — a handler that only
   moved alongside a regressed neighbour, or on a busy machine, is ``inconclusive``.

Then each :class:`~perfgate.report.HandlerResult` is built once from what the stages returned,
and the :class:`~perfgate.report.Report` from those; the renderers only format it. Pure: no
measuring, no git, no files (:mod:`perfgate.gate` does those and calls :func:`assess`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from perfgate import __version__
from perfgate.busy import BusyMachine, Handler, busy_machine, bystanders
from perfgate.config import Config
from perfgate.errors import PerfgateError
from perfgate.explain import Explanation, explain, explain_note
from perfgate.judge import Decision, Question, Rule, common_shift_warning, judge, p95_change_pct
from perfgate.report import (
    HandlerResult,
    HandlerSides,
    HandlerSummary,
    Mode,
    Report,
    Verdict,
    overall_verdict,
)
from perfgate.sides import TargetSides


@dataclass(frozen=True)
class Provenance:
    """What a report says about where it came from: when, which commit, against which ref."""

    created: str
    commit: str | None = None
    against_ref: str | None = None
    perfgate_version: str = __version__


@dataclass(frozen=True)
class Checked:
    """A check's outcome: the report, every handler's summaries behind it (for HTML), and the
    handlers the judge could not decide yet ("target: handler"; only before the last look)."""

    report: Report
    sides: list[HandlerSides]
    undecided: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Look:
    """Which look at its runs a check is taking: the ``index``-th (1-based) of ``total``."""

    index: int = 1
    total: int = 1


@dataclass(frozen=True)
class Pairing:
    """One handler of one target, before the judge: its two sides (None: not measured there),
    its threshold and pooled p95 change, and either a verdict decided here (``new``,
    ``missing``, ``insufficient``) or the question for the judge."""

    target: str
    name: str
    threshold_pct: float
    base: HandlerSummary | None
    head: HandlerSummary | None
    delta_pct: float | None = None
    verdict: Verdict = Verdict.PASS
    note: str = ""
    question: Question | None = None


def pair_handlers(sides: TargetSides, paired: bool) -> list[Pairing]:
    """One pairing per handler seen on either side (after include/exclude), sorted by name."""
    target = sides.target
    out = []
    for name in sorted(set(sides.base.handlers) | set(sides.head.handlers)):
        if target.wants(name):
            base, head = sides.base.handlers.get(name), sides.head.handlers.get(name)
            pairing = Pairing(target.name, name, target.threshold_for(name, paired), base, head)
            out.append(_classify(pairing, sides, target.min_samples))
    if not out and (target.include or target.exclude):
        # Measuring found tasks (else it stopped there), so the config's filters removed every
        # handler: a check that judges nothing would be a pass.
        raise PerfgateError(
            f"target {target.name!r}: include {target.include} and exclude {target.exclude} "
            "select none of the handlers measured or in the baseline: nothing would be judged",
            hint="include/exclude are globs over handler names ('GET /admin/*'); keep at least "
            "one handler in the gate",
        )
    return out


def _classify(p: Pairing, sides: TargetSides, min_samples: int) -> Pairing:
    """Decide ``new``, ``missing`` and ``insufficient``; for the rest, ask the judge."""
    if p.base is None:
        return replace(p, verdict=Verdict.NEW, note=sides.new_note)
    if p.head is None:
        return replace(
            p, verdict=Verdict.MISSING, note="in the baseline but no requests were measured"
        )
    delta = p95_change_pct(p.base, p.head)
    short = [
        f"{side} {s.count}"
        for side, s in (("baseline", p.base), ("current", p.head))
        if s.count < min_samples
    ]
    if short:
        note = f"too few samples for p95 ({', '.join(short)} < {min_samples})"
        return replace(p, delta_pct=delta, verdict=Verdict.INSUFFICIENT, note=note)
    if delta is None:  # the baseline's p95 is 0: there is no change to judge
        return p
    question = Question(
        sides.base.sample(p.name), sides.head.sample(p.name), p.threshold_pct, p.target
    )
    return replace(p, delta_pct=delta, question=question)


@dataclass(frozen=True)
class _Judged:
    """A pairing after the judge and the explanation: its verdict and note so far."""

    pairing: Pairing
    decision: Decision | None
    explanation: Explanation | None
    verdict: Verdict
    note: str

    def handler(self) -> Handler:
        """How the machine checks see it."""
        p = self.pairing
        rise = p.head.p95_ns - p.base.p95_ns if p.base is not None and p.head is not None else None
        return Handler(
            p.name,
            self.verdict,
            self.decision is not None,
            p.threshold_pct,
            rise,
            self.explanation,
            too_wide=self.decision is not None and self.decision.too_wide,
        )


def _judged(pairing: Pairing, decision: Decision | None) -> _Judged:
    """Apply the judge's decision and, for a handler on both sides, the explanation."""
    p = pairing
    verdict, note = (decision.verdict, decision.note) if decision else (p.verdict, p.note)
    explanation = None
    if p.base is not None and p.head is not None:
        explanation = explain(p.base.breakdown, p.head.breakdown)
    return _Judged(p, decision, explanation, verdict, note + explain_note(verdict, explanation))


def _result(
    j: _Judged, bystander: str | None, busy: BusyMachine | None, sides: TargetSides
) -> HandlerResult:
    """The handler's result, built once: the judge's verdict, unless the bystander rule or the
    busy-machine check made it inconclusive."""
    p, verdict, note, on_busy_machine = j.pairing, j.verdict, j.note, False
    if bystander is not None:
        verdict, note = Verdict.INCONCLUSIVE, f"{bystander}; {note}"
    elif busy is not None and p.name in busy.not_judged:
        verdict, note, on_busy_machine = Verdict.INCONCLUSIVE, busy.note(verdict, note), True
    e = j.explanation
    reference = sides.reference.get(p.name)
    return HandlerResult(
        name=p.name,
        target=p.target,
        verdict=verdict,
        baseline=p.base.stats() if p.base is not None else None,
        current=p.head.stats() if p.head is not None else None,
        delta_pct=p.delta_pct,
        run_delta_pct=j.decision.run_delta_pct if j.decision else None,
        threshold_pct=p.threshold_pct,
        p_value=j.decision.p_value if j.decision else None,
        delta_ci_pct=[round(x, 2) for x in j.decision.ci_pct] if j.decision else None,
        shift_pct=j.decision.shift_pct if j.decision else None,
        note=note,
        reference=reference,
        reference_drift_pct=(
            p95_change_pct(reference, p.base.stats())
            if reference is not None and p.base is not None
            else None
        ),
        explain=e.regions if e else [],
        runtime=e.runtime if e else [],
        busy_machine=on_busy_machine,
    )


def assess(
    targets: Sequence[TargetSides],
    mode: Mode,
    config: Config,
    provenance: Provenance,
    look: Look = Look(),
) -> Checked:
    """Judge every target's handlers (see the module docstring) and build the report.

    ``look`` says which of the check's looks at its runs this is: before the last, handlers
    the judge cannot decide yet are listed in :attr:`Checked.undecided` (measure more)."""
    paired = mode == Mode.AGAINST
    pairings = [pair_handlers(t, paired) for t in targets]
    questions = [p.question for ps in pairings for p in ps if p.question is not None]
    rule = Rule(
        alpha=config.alpha_for(paired),
        paired=paired,
        shift=not paired and config.machine_shift != "ignore",
        drift_pct=0.0 if paired else config.drift_pct,
        looks=look.total,
        final=look.index >= look.total,
    )
    decisions = judge(questions, rule)
    undecided = [
        f"{q.group}: {name}"
        for q, d, name in zip(
            questions,
            decisions,
            [p.name for ps in pairings for p in ps if p.question is not None],
            strict=True,
        )
        if not d.decided
    ]
    decided = iter(decisions)
    judged = [[_judged(p, next(decided) if p.question else None) for p in ps] for ps in pairings]

    warnings = []
    shift = common_shift_warning(decisions, paired)
    if shift:
        warnings.append(shift)
    wide = [
        name
        for name, d in zip(
            [p.name for ps in pairings for p in ps if p.question is not None],
            decisions,
            strict=True,
        )
        if d.decided and d.too_wide
    ]
    if wide:
        warnings.append(
            f"too noisy to tell a threshold-sized rise from none: {', '.join(wide)} "
            "(passed without the evidence to rule one out; the note says how many runs would)"
        )
    results: list[HandlerResult] = []
    for sides, js in zip(targets, judged, strict=True):
        handlers = [j.handler() for j in js]
        found = bystanders(handlers, config.machine_check)
        handlers = [
            replace(h, verdict=Verdict.INCONCLUSIVE) if h.name in found else h for h in handlers
        ]
        busy = busy_machine(
            sides.info, handlers, config.machine_check, config.min_cpu_share, same_machine=paired
        )
        if busy is not None:
            warnings.append(busy.warning)
        results += [_result(j, found.get(j.pairing.name), busy, sides) for j in js]

    report = Report(
        perfgate_version=provenance.perfgate_version,
        verdict=overall_verdict(results),
        mode=mode,
        against_ref=provenance.against_ref,
        commit=provenance.commit,
        created=provenance.created,
        targets=[t.info for t in targets],
        handlers=results,
        warnings=warnings,
    )
    handler_sides = [
        HandlerSides(j.pairing.target, j.pairing.name, j.pairing.base, j.pairing.head)
        for js in judged
        for j in js
    ]
    return Checked(report, handler_sides, undecided)
