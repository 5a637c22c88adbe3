"""Turn baseline and current statistics into per-handler verdicts.

The rule (see README "Verdicts"): a handler *regresses* only when all three hold —
  1. its pooled p95 (all requests of all runs) rose by more than the threshold,
  2. the median of its per-run p95s rose by more than the threshold too (a few disturbed runs
     can inflate the pooled p95, but not the typical run), and
  3. its per-run p95s are higher than the baseline's beyond run-to-run noise: a one-sided
     Mann-Whitney test on the per-run p95s, Holm-adjusted across all handlers judged together,
     gives p < alpha.
In A/B mode (``same_machine``) the two sides' runs are measured in pairs, back to back (the
order alternating between pairs), so the machine's slow drift is common to both runs of a pair:
there the test is a one-sided Wilcoxon signed-rank test on the pairs' log p95 ratios, and the
"median run" of rule 2 is the median of the pairs' p95 ratios. Pairing removes the drift from
the comparison instead of counting it as noise.
The run is the unit of replication: requests within a run share the machine's state, so testing
requests would be overconfident. ``improved`` is the mirror image. A handler with fewer than
``min_samples`` requests on either side is ``insufficient``; one with no baseline is ``new``;
a baseline handler that was not measured is ``missing``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from perfgate.config import Target
from perfgate.report import HandlerResult, HandlerStats, Verdict
from perfgate.stats import holm, mann_whitney_greater, median, wilcoxon_signed_rank_greater
from perfgate.units import format_ns


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


def compare_target(
    target: Target,
    baseline: Mapping[str, HandlerStats],
    current: Mapping[str, HandlerStats],
    same_machine: bool = False,
) -> list[HandlerResult]:
    """One result per handler seen on either side (after include/exclude), sorted by name.

    p-values are raw here; :func:`decide` adjusts them across the whole report and sets the
    final verdicts of the handlers that can be judged.
    """
    results = []
    for name in sorted(set(baseline) | set(current)):
        if not target.wants(name):
            continue
        base, cur = baseline.get(name), current.get(name)
        threshold = target.threshold_for(name, same_machine)
        result = HandlerResult(
            name=name,
            target=target.name,
            verdict=Verdict.PASS,
            baseline=base,
            current=cur,
            threshold_pct=threshold,
        )
        if base is None:
            result.verdict = Verdict.NEW
            result.note = "not in the baseline (run 'perfgate baseline update' to add it)"
        elif cur is None:
            result.verdict = Verdict.MISSING
            result.note = "in the baseline but no requests were measured"
        else:
            result.delta_pct = (cur.p95_ns / base.p95_ns - 1) * 100 if base.p95_ns else None
            short = [
                f"{side} {s.count}"
                for side, s in (("baseline", base), ("current", cur))
                if s.count < target.min_samples
            ]
            if short:
                result.verdict = Verdict.INSUFFICIENT
                result.note = f"too few samples for p95 ({', '.join(short)} < {target.min_samples})"
            elif result.delta_pct is not None:
                result.p_value = _p_value(base, cur, result.delta_pct, same_machine)
        results.append(result)
    return results


def _p_value(base: HandlerStats, cur: HandlerStats, delta_pct: float, paired: bool) -> float:
    """One-sided p-value in the direction of the change (slower → test 'current > baseline');
    paired (A/B) runs: the signed-rank test on the pairs' log ratios."""
    ratios = paired_log_ratios(base, cur) if paired else None
    if ratios is not None:
        sign = 1 if delta_pct >= 0 else -1
        return wilcoxon_signed_rank_greater([sign * x for x in ratios])
    b, c = base.run_p95_ns, cur.run_p95_ns
    return mann_whitney_greater(c, b) if delta_pct >= 0 else mann_whitney_greater(b, c)


def decide(
    results: list[HandlerResult],
    alpha: float,
    same_machine: bool = False,
    machine_shift: str = "inconclusive",
) -> None:
    """Adjust p-values across all judged handlers (Holm) and set their verdicts and notes.

    Against a committed baseline (not ``same_machine``), a shift shared by most handlers is
    taken out before a handler fails: see :func:`_discount_common_shift`.
    """
    judged = [r for r in results if r.p_value is not None]
    for r, p_adj in zip(judged, holm([r.p_value for r in judged]), strict=True):
        r.p_value = p_adj
        assert r.delta_pct is not None and r.threshold_pct is not None
        assert r.baseline is not None and r.current is not None
        ratios = paired_log_ratios(r.baseline, r.current) if same_machine else None
        r.run_delta_pct = _run_median_delta(r.baseline, r.current)
        pair_pct = None
        if ratios is not None:  # A/B: the typical run is the median pair
            pair_pct = r.run_delta_pct = (math.exp(median(ratios)) - 1) * 100
        beyond = abs(r.delta_pct) > r.threshold_pct
        typical_run_beyond = (
            r.run_delta_pct is not None
            and abs(r.run_delta_pct) > r.threshold_pct
            and (r.run_delta_pct > 0) == (r.delta_pct > 0)
        )
        significant = p_adj < alpha
        runs = _runs_note(r.baseline, r.current)
        if pair_pct is not None:
            runs += f", median pair {pair_pct:+.0f}% (signed-rank test)"
        best = best_possible_p(
            len(r.baseline.run_p95_ns),
            len(r.current.run_p95_ns),
            len(judged),
            paired=ratios is not None,
        )
        few_runs = best >= alpha
        if beyond and typical_run_beyond and significant:
            r.verdict = Verdict.REGRESSED if r.delta_pct > 0 else Verdict.IMPROVED
            r.note = f"{runs}; p={p_adj:.2g}"
        elif beyond and not typical_run_beyond and r.run_delta_pct is not None:
            r.note = (
                f"within run-to-run noise: the median {'pair' if pair_pct is not None else 'run'} "
                f"moved {r.run_delta_pct:+.0f}% "
                f"({runs}); a few outlying runs move the pooled p95"
            )
        elif beyond:
            r.note = f"within run-to-run noise ({runs}; p={p_adj:.2g} ≥ {alpha:g})"
            if few_runs:
                r.note += (
                    f"; too few runs to tell: {len(r.baseline.run_p95_ns)} vs "
                    f"{len(r.current.run_p95_ns)} runs cannot reach p < {alpha:g} for "
                    f"{len(judged)} handlers (use --runs 10)"
                )
        else:
            r.note = f"within ±{r.threshold_pct:g}%"
    if not same_machine and machine_shift == "inconclusive":
        _discount_common_shift(judged)


def common_shift_pct(results: list[HandlerResult]) -> float | None:
    """The change most handlers share (median of their median-run p95 ratios), in percent.

    None with fewer than three judged handlers, when that shift is within half the smallest
    threshold (the machines agree), or when fewer than three quarters of the handlers each moved
    that way by more than half the threshold. One regressed handler among three or more does not
    move the median, and two of four cannot pass for a machine.
    """
    judged = [r for r in results if r.p_value is not None and r.run_delta_pct is not None]
    if len(judged) < 3:
        return None
    shift = median([1 + (r.run_delta_pct or 0) / 100 for r in judged])
    smallest = min(r.threshold_pct or 0 for r in judged)
    pct = (shift - 1) * 100
    if abs(pct) <= smallest / 2:
        return None
    # A machine moves (nearly) every handler; two regressed handlers of four do not make one.
    moved = sum(
        1
        for r in judged
        if (r.run_delta_pct or 0) * pct > 0 and abs(r.run_delta_pct or 0) > smallest / 2
    )
    return pct if moved >= math.ceil(0.75 * len(judged)) else None


def _discount_common_shift(judged: list[HandlerResult]) -> None:
    """A handler that only moved with all the others is ``inconclusive``, not regressed.

    When the baseline came from another session or machine, every handler shifts together by
    the machine's difference. A handler still fails when it moved beyond that common shift by
    more than its threshold (both pooled and median-run p95); otherwise its verdict is
    ``inconclusive``: shown, warned about, not failing. ``machine_shift = "ignore"`` turns this off.
    """
    shift = common_shift_pct(judged)
    if shift is None:
        return
    factor = 1 + shift / 100
    for r in judged:
        if r.verdict not in (Verdict.REGRESSED, Verdict.IMPROVED):
            continue
        assert r.delta_pct is not None and r.run_delta_pct is not None
        beyond_pooled = ((1 + r.delta_pct / 100) / factor - 1) * 100
        beyond_runs = ((1 + r.run_delta_pct / 100) / factor - 1) * 100
        threshold = r.threshold_pct or 0
        worse = r.verdict == Verdict.REGRESSED
        still = (
            min(beyond_pooled, beyond_runs) > threshold
            if worse
            else max(beyond_pooled, beyond_runs) < -threshold
        )
        if still:
            r.note += f"; {beyond_runs:+.0f}% beyond the {shift:+.0f}% all handlers share"
        else:
            r.verdict = Verdict.INCONCLUSIVE
            r.note = (
                f"moved with every handler ({shift:+.0f}% shared, {beyond_runs:+.0f}% beyond "
                f"it): the machine likely differs from the baseline's; {r.note}"
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


def common_shift_warning(results: list[HandlerResult], same_machine: bool = False) -> str | None:
    """A warning when most handlers moved together (see :func:`common_shift_pct`)."""
    shift = common_shift_pct(results)
    if shift is None:
        return None
    direction = "slower" if shift > 0 else "faster"
    if same_machine:
        return (
            f"most handlers are {direction} (median run {shift:+.0f}%): a change shared by every "
            "handler (middleware, dependencies), or a machine that changed during the run"
        )
    return (
        f"most handlers are {direction} (median run {shift:+.0f}%): the machine likely differs "
        "from the baseline's, so handlers that only moved with the rest are 'inconclusive'; "
        "'perfgate check --against REF' compares on one machine"
    )
