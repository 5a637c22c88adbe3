"""The statistical decision: did a handler's p95 move beyond its threshold and beyond noise?

Entry point: :func:`judge` — one :class:`Question` per handler that can be judged (measured on
both sides with enough requests) in, one :class:`Decision` each out, in order. Nothing else in
perfgate decides ``pass``, ``regressed`` or ``improved``. Around it (:mod:`perfgate.assess`):
before, which handlers are judged at all (``new``, ``missing``, ``insufficient``); after, the
explanation and the machine checks (:mod:`perfgate.busy`), which may only make a moved handler
``inconclusive``. Each question carries both sides' statistics (pooled and per-run p95s) and,
for a side measured in this check, every run's request durations (:attr:`Sample.runs`; a
committed baseline has only its summary), so a rule working on raw samples fits here too.

The rule today (see README "Verdicts"): a handler *regresses* only when all three hold —
  1. its pooled p95 (all requests of all runs) rose by more than the threshold,
  2. the median of its per-run p95s rose by more than the threshold too (a few disturbed runs
     can inflate the pooled p95, but not the typical run), and
  3. its per-run p95s are higher than the baseline's beyond run-to-run noise: a one-sided
     Mann-Whitney test on the per-run p95s, Holm-adjusted across all handlers judged together,
     gives p < alpha.
In A/B mode (:attr:`Rule.paired`) the two sides' runs are measured in pairs, back to back (the
order alternating between pairs), so the machine's slow drift is common to both runs of a pair:
there the test is a one-sided Wilcoxon signed-rank test on the pairs' log p95 ratios, and the
"median run" of rule 2 is the median of the pairs' p95 ratios. Pairing removes the drift from
the comparison instead of counting it as noise.
The run is the unit of replication: requests within a run share the machine's state, so testing
requests would be overconfident. ``improved`` is the mirror image. Against a committed baseline
(:attr:`Rule.discount_shift`), a shift shared by most handlers is the machine's, not the code's:
a handler that only moved with it is ``inconclusive`` (:func:`common_shift_pct`).

Changing the rule means changing this module only: :func:`judge` must answer every question, in
order, with a :class:`Decision`; ``p_value`` is reported as the evidence's strength and
``run_delta_pct`` as the typical run's change (the shared-shift warning reads it). Whether to
measure again is decided by the caller from the verdicts (``inconclusive``: retry).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace

from perfgate.report import HandlerStats, Verdict
from perfgate.stats import holm, mann_whitney_greater, median, wilcoxon_signed_rank_greater
from perfgate.units import format_ns


@dataclass(frozen=True)
class Sample:
    """One handler on one side, as the judge sees it: its statistics, and each run's request
    durations (ns) when the side was measured in this check (None: a committed baseline)."""

    stats: HandlerStats
    runs: Sequence[Sequence[int]] | None = None


@dataclass(frozen=True)
class Question:
    """One handler to judge: both sides and the threshold its p95 must move by to count."""

    base: Sample
    head: Sample
    threshold_pct: float

    @property
    def delta_pct(self) -> float:
        """The pooled p95's change, in percent (a question needs a base p95 above zero)."""
        change = p95_change_pct(self.base.stats, self.head.stats)
        assert change is not None
        return change


@dataclass(frozen=True)
class Rule:
    """How to judge: the significance level; whether the runs were made in pairs (A/B mode);
    whether a shift shared by most handlers is discounted (against a committed baseline, unless
    ``machine_shift = "ignore"``)."""

    alpha: float
    paired: bool = False
    discount_shift: bool = False


@dataclass(frozen=True)
class Decision:
    """The judge's answer for one handler: ``pass``, ``regressed``, ``improved``, or
    ``inconclusive`` (it moved only as much as every handler did), with the evidence."""

    verdict: Verdict
    note: str
    p_value: float  # one-sided, Holm-adjusted across the handlers judged together
    run_delta_pct: float | None  # change of the typical run (median run, or median pair), %


def p95_change_pct(base: HandlerStats, head: HandlerStats) -> float | None:
    """The pooled p95's change from ``base`` to ``head`` in percent; None when base's is 0."""
    return (head.p95_ns / base.p95_ns - 1) * 100 if base.p95_ns else None


def judge(questions: Sequence[Question], rule: Rule) -> list[Decision]:
    """Decide every question together (p-values are adjusted across all of them), in order."""
    raw = [_p_value(q, rule.paired) for q in questions]
    decisions = [
        _decide(q, p_adj, len(questions), rule)
        for q, p_adj in zip(questions, holm(raw), strict=True)
    ]
    if rule.discount_shift:
        decisions = _discount_common_shift(questions, decisions)
    return decisions


def best_possible_p(base_runs: int, current_runs: int, judged: int, paired: bool = False) -> float:
    """The smallest Holm-adjusted p-value these run counts allow at all: complete separation
    (1 / C(m+n, m); paired: every pair moved the same way, 1 / 2^n) times the number of handlers
    judged. At or above alpha, no handler can regress or improve, whatever it measured."""
    if paired:
        return min(1.0, judged / 2 ** min(base_runs, current_runs))
    return min(1.0, judged / math.comb(base_runs + current_runs, base_runs))


def paired_log_ratios(base: HandlerStats, cur: HandlerStats) -> list[float] | None:
    """log(current / base) per pair of runs (A/B mode: run i of each side back to back), or
    None when the runs cannot be paired (different counts, a side without per-run p95s)."""
    b, c = base.run_p95_ns, cur.run_p95_ns
    if len(b) != len(c) or len(b) < 2 or min(b) <= 0 or min(c) <= 0:
        return None
    return [math.log(y / x) for x, y in zip(b, c, strict=True)]


def _p_value(q: Question, paired: bool) -> float:
    """One-sided p-value in the direction of the change (slower → test 'current > baseline');
    paired (A/B) runs: the signed-rank test on the pairs' log ratios."""
    base, cur = q.base.stats, q.head.stats
    ratios = paired_log_ratios(base, cur) if paired else None
    if ratios is not None:
        sign = 1 if q.delta_pct >= 0 else -1
        return wilcoxon_signed_rank_greater([sign * x for x in ratios])
    b, c = base.run_p95_ns, cur.run_p95_ns
    return mann_whitney_greater(c, b) if q.delta_pct >= 0 else mann_whitney_greater(b, c)


def _decide(q: Question, p_adj: float, judged: int, rule: Rule) -> Decision:
    """The verdict and note of one handler, given its adjusted p-value."""
    base, cur = q.base.stats, q.head.stats
    delta, threshold, alpha = q.delta_pct, q.threshold_pct, rule.alpha
    ratios = paired_log_ratios(base, cur) if rule.paired else None
    run_delta = _run_median_delta(base, cur)
    pair_pct = None
    if ratios is not None:  # A/B: the typical run is the median pair
        pair_pct = run_delta = (math.exp(median(ratios)) - 1) * 100
    beyond = abs(delta) > threshold
    typical_run_beyond = (
        run_delta is not None and abs(run_delta) > threshold and (run_delta > 0) == (delta > 0)
    )
    significant = p_adj < alpha
    runs = _runs_note(base, cur)
    if pair_pct is not None:
        runs += f", median pair {pair_pct:+.0f}% (signed-rank test)"
    best = best_possible_p(
        len(base.run_p95_ns), len(cur.run_p95_ns), judged, paired=ratios is not None
    )
    verdict = Verdict.PASS
    if beyond and typical_run_beyond and significant:
        verdict = Verdict.REGRESSED if delta > 0 else Verdict.IMPROVED
        note = f"{runs}; p={p_adj:.2g}"
    elif beyond and not typical_run_beyond and run_delta is not None:
        note = (
            f"within run-to-run noise: the median {'pair' if pair_pct is not None else 'run'} "
            f"moved {run_delta:+.0f}% "
            f"({runs}); a few outlying runs move the pooled p95"
        )
    elif beyond:
        note = f"within run-to-run noise ({runs}; p={p_adj:.2g} ≥ {alpha:g})"
        if best >= alpha:
            note += (
                f"; too few runs to tell: {len(base.run_p95_ns)} vs "
                f"{len(cur.run_p95_ns)} runs cannot reach p < {alpha:g} for "
                f"{judged} handlers (use --runs 10)"
            )
    else:
        note = f"within ±{threshold:g}%"
    return Decision(verdict, note, p_adj, run_delta)


def common_shift_pct(judged: Sequence[tuple[Question, Decision]]) -> float | None:
    """The change most handlers share (median of their median-run p95 ratios), in percent.

    None with fewer than three judged handlers, when that shift is within half the smallest
    threshold (the machines agree), or when fewer than three quarters of the handlers each moved
    that way by more than half the threshold. One regressed handler among three or more does not
    move the median, and two of four cannot pass for a machine.
    """
    moves = [(d.run_delta_pct, q.threshold_pct) for q, d in judged if d.run_delta_pct is not None]
    if len(moves) < 3:
        return None
    shift = median([1 + run / 100 for run, _ in moves])
    smallest = min(threshold for _, threshold in moves)
    pct = (shift - 1) * 100
    if abs(pct) <= smallest / 2:
        return None
    # A machine moves (nearly) every handler; two regressed handlers of four do not make one.
    moved = sum(1 for run, _ in moves if run * pct > 0 and abs(run) > smallest / 2)
    return pct if moved >= math.ceil(0.75 * len(moves)) else None


def _discount_common_shift(
    questions: Sequence[Question], decisions: Sequence[Decision]
) -> list[Decision]:
    """A handler that only moved with all the others is ``inconclusive``, not regressed.

    When the baseline came from another session or machine, every handler shifts together by
    the machine's difference. A handler still fails when it moved beyond that common shift by
    more than its threshold (both pooled and median-run p95); otherwise its verdict is
    ``inconclusive``: shown, warned about, not failing. ``machine_shift = "ignore"`` turns this off.
    """
    shift = common_shift_pct(list(zip(questions, decisions, strict=True)))
    if shift is None:
        return list(decisions)
    factor = 1 + shift / 100
    out = []
    for q, d in zip(questions, decisions, strict=True):
        if d.verdict not in (Verdict.REGRESSED, Verdict.IMPROVED):
            out.append(d)
            continue
        assert d.run_delta_pct is not None
        beyond_pooled = ((1 + q.delta_pct / 100) / factor - 1) * 100
        beyond_runs = ((1 + d.run_delta_pct / 100) / factor - 1) * 100
        threshold = q.threshold_pct
        still = (
            min(beyond_pooled, beyond_runs) > threshold
            if d.verdict == Verdict.REGRESSED
            else max(beyond_pooled, beyond_runs) < -threshold
        )
        if still:
            note = f"{d.note}; {beyond_runs:+.0f}% beyond the {shift:+.0f}% all handlers share"
            out.append(replace(d, note=note))
        else:
            note = (
                f"moved with every handler ({shift:+.0f}% shared, {beyond_runs:+.0f}% beyond "
                f"it): the machine likely differs from the baseline's; {d.note}"
            )
            out.append(replace(d, verdict=Verdict.INCONCLUSIVE, note=note))
    return out


def common_shift_warning(
    judged: Sequence[tuple[Question, Decision]], paired: bool = False
) -> str | None:
    """A warning when most handlers moved together (see :func:`common_shift_pct`)."""
    shift = common_shift_pct(judged)
    if shift is None:
        return None
    direction = "slower" if shift > 0 else "faster"
    if paired:
        return (
            f"most handlers are {direction} (median run {shift:+.0f}%): a change shared by every "
            "handler (middleware, dependencies), or a machine that changed during the run"
        )
    return (
        f"most handlers are {direction} (median run {shift:+.0f}%): the machine likely differs "
        "from the baseline's, so handlers that only moved with the rest are 'inconclusive'; "
        "'perfgate check --against REF' compares on one machine"
    )


def _run_median_delta(base: HandlerStats, cur: HandlerStats) -> float | None:
    """Change of the median per-run p95, in percent (None without per-run p95s)."""
    if not base.run_p95_ns or not cur.run_p95_ns:
        return None
    b = median(base.run_p95_ns)
    return (median(cur.run_p95_ns) / b - 1) * 100 if b else None


def _runs_note(base: HandlerStats, cur: HandlerStats) -> str:
    """The evidence in a few words: median per-run p95 on each side and the run counts."""
    b, c = base.run_p95_ns, cur.run_p95_ns
    if not b or not c:
        return "no per-run p95s"
    return (
        f"run p95 median {format_ns(median(b))} → {format_ns(median(c))}, {len(b)} vs {len(c)} runs"
    )
