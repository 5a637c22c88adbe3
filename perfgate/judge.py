"""The statistical decision: did a handler's p95 move beyond its threshold and beyond noise?

Entry point: :func:`judge` — one :class:`Question` per handler that can be judged (measured on
both sides with enough requests) in, one :class:`Decision` each out, in order. Nothing else in
perfgate decides ``pass``, ``regressed`` or ``improved``. Around it (:mod:`perfgate.assess`):
before, which handlers are judged at all (``new``, ``missing``, ``insufficient``); after, the
explanation and the machine checks (:mod:`perfgate.busy`), which may only make a moved handler
``inconclusive``; and in :mod:`perfgate.gate`, whether to measure more runs.

The number judged is the one shown: the change of the pooled p95 (every request of every run),
with its confidence interval from :mod:`perfgate.interval` (the run is the unit of replication;
in A/B mode the runs are paired). With ``k`` handlers judged and a check that may look at its
runs ``L`` times (measuring in stages, see :attr:`Rule.looks`), the family-wise ``alpha`` is
spent over the looks — a tenth over the early looks together, the rest at the last (Bonferroni
over looks: whichever look a check stops at, the chance that a check of unchanged code flags any
handler stays below ``alpha``) — and split evenly over the handlers. For handler h, with
threshold T and one-sided bounds [lo, hi] at that look's level:

* **regressed** — the p95 rose by more than T, and lo > 0 (beyond noise);
* **improved** — the mirror image;
* **pass** — its upper bound at level ``1 − pass_beta`` is below T: whatever the truth, it is
  very likely less than a threshold-sized rise. Before the last look, a handler that is neither
  of these is *undecided* and the check measures more runs. At the last look a handler whose
  change is within T passes; when its interval is too wide to have seen a T-sized rise (upper
  bound at ``1 − pass_beta`` above T although the change is small) the note says so, with the
  spread and how many runs would tell (:attr:`Decision.too_wide`, and a warning on the report);
* **inconclusive** — at the last look, a rise beyond T that is not beyond noise. Never a pass:
  the check ends with exit code 3.

Against a committed baseline (:attr:`Rule.shift`), the baseline was measured in another session,
perhaps on another machine: a shift shared by at least three quarters of a target's handlers (3
or more) is the machine's, and each handler is judged beyond it (the median change), in both
directions. What no run of either side can show — a handler's own drift between sessions — is
allowed for by :attr:`Rule.drift_pct`, added to the interval's variance.

Changing the rule means changing this module only: :func:`judge` must answer every question, in
order, with a :class:`Decision`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from perfgate.interval import Change, SideQuantile, change, side_quantile, t_ppf
from perfgate.report import HandlerStats, Verdict
from perfgate.stats import median
from perfgate.units import format_ns

SHIFT_QUORUM = 0.75  # share of a target's handlers that must move together to be the machine
MIN_SHIFT_HANDLERS = 3
EARLY_SHARE = 0.1  # share of alpha spent over a check's early looks together


@dataclass(frozen=True)
class Sample:
    """One handler on one side, as the judge sees it: its statistics (pooled and per run), and
    each run's request durations (ns) when the side was measured in this check (None: a
    committed baseline)."""

    stats: HandlerStats
    runs: Sequence[Sequence[int]] | None = None


@dataclass(frozen=True)
class Question:
    """One handler to judge: both sides, the threshold its p95 must move by to count, and the
    group (target) whose handlers share a machine shift."""

    base: Sample
    head: Sample
    threshold_pct: float
    group: str = ""

    @property
    def delta_pct(self) -> float:
        """The pooled p95's change, in percent (a question needs a base p95 above zero)."""
        change_pct = p95_change_pct(self.base.stats, self.head.stats)
        assert change_pct is not None
        return change_pct


@dataclass(frozen=True)
class Rule:
    """How to judge (see the module docstring).

    ``alpha``: the chance that a check of unchanged code flags any handler; ``paired``: the runs
    were made in pairs (A/B); ``shift``: judge beyond a shift shared by a target's handlers;
    ``drift_pct``: a handler's own drift between sessions (standard deviation, %); ``looks``:
    how many times the check may judge its runs (alpha is split over them); ``final``: this is
    the last look; ``pass_beta``: how sure a pass must be that the rise is below threshold.
    """

    alpha: float
    paired: bool = False
    shift: bool = False
    drift_pct: float = 0.0
    looks: int = 1
    final: bool = True
    pass_beta: float = 0.05

    @property
    def look_alpha(self) -> float:
        """The family-wise level spent at this look: a tenth of ``alpha`` over the early looks
        together, nine tenths at the last (all of it when there is one look)."""
        if self.looks <= 1:
            return self.alpha
        if self.final:
            return self.alpha * (1 - EARLY_SHARE)
        return self.alpha * EARLY_SHARE / (self.looks - 1)


@dataclass(frozen=True)
class Decision:
    """The judge's answer for one handler, with the evidence.

    ``decided`` is False only before the last look, for a handler that needs more runs (its
    ``verdict`` is then provisional). ``delta_pct`` and ``ci_pct`` are the change judged (beyond
    the shared shift, when one was removed) and its two-sided interval at the gate's level;
    ``p_value`` is one-sided in the direction of the change, adjusted over handlers and looks.
    """

    verdict: Verdict
    note: str
    p_value: float
    run_delta_pct: float | None  # change of the typical run (median run, or median pair), %
    delta_pct: float = 0.0
    ci_pct: tuple[float, float] = (0.0, 0.0)
    decided: bool = True
    shift_pct: float | None = None  # the shift shared by the target's handlers, removed
    too_wide: bool = False  # passed, but the interval could not have told a T-sized rise


def p95_change_pct(base: HandlerStats, head: HandlerStats) -> float | None:
    """The pooled p95's change from ``base`` to ``head`` in percent; None when base's is 0."""
    return (head.p95_ns / base.p95_ns - 1) * 100 if base.p95_ns else None


def side(stats: HandlerStats) -> SideQuantile:
    """A side as :mod:`perfgate.interval` sees it, from the statistics alone."""
    return side_quantile(stats.p95_ns, stats.run_counts, stats.run_le_p95, stats.p95_log_density)


def can_judge(stats: HandlerStats) -> bool:
    """Whether a side carries what its p95's interval is made of (two runs or more)."""
    return (
        stats.p95_ns > 0
        and len(stats.run_counts) >= 2
        and len(stats.run_le_p95) == len(stats.run_counts)
    )


@dataclass(frozen=True)
class _Shift:
    log_shift: float
    variance: float


def _shared_shift(changes: Sequence[Change], thresholds: Sequence[float]) -> _Shift | None:
    """The shift most of a target's handlers share (their median log change), with the variance
    of that median; None with fewer than three handlers, or when fewer than three quarters of
    them moved that way by more than half of it (two regressed handlers of four are not a
    machine), or when it is under a quarter of the smallest threshold."""
    if len(changes) < MIN_SHIFT_HANDLERS:
        return None
    logs = [c.log_ratio for c in changes]
    s = median(logs)
    if abs(s) <= math.log1p(min(thresholds) / 100) / 4:
        return None
    moved = sum(1 for x in logs if x * s > 0 and abs(x) > abs(s) / 2)
    if moved < math.ceil(SHIFT_QUORUM * len(changes)):
        return None
    # The median of n estimates has about pi/2 times the variance of their mean.
    var = math.pi / 2 * sum(c.se**2 for c in changes) / len(changes) ** 2
    return _Shift(s, var)


def judge(questions: Sequence[Question], rule: Rule) -> list[Decision]:
    """Decide every question together, in order (see the module docstring)."""
    if not questions:
        return []
    changes = [change(side(q.base.stats), side(q.head.stats), rule.paired) for q in questions]
    shifts: dict[str, _Shift | None] = {}
    if rule.shift:
        for group in {q.group for q in questions}:
            members = [i for i, q in enumerate(questions) if q.group == group]
            shifts[group] = _shared_shift(
                [changes[i] for i in members], [questions[i].threshold_pct for i in members]
            )
    drift_var = math.log1p(rule.drift_pct / 100) ** 2
    return [
        _decide(q, c, shifts.get(q.group), drift_var, len(questions), rule)
        for q, c in zip(questions, changes, strict=True)
    ]


def _decide(
    q: Question, raw: Change, shift: _Shift | None, drift_var: float, handlers: int, rule: Rule
) -> Decision:
    """The verdict and note of one handler."""
    fixed_var = (shift.variance if shift else 0.0) + drift_var
    c = raw.shifted(shift.log_shift if shift else 0.0, fixed_var)
    alpha = rule.look_alpha / handlers
    tests = rule.alpha / alpha  # the p-value's Bonferroni factor (alpha·tests = alpha)
    delta = c.ratio - 1
    thr = q.threshold_pct / 100
    lo, hi = c.lower(alpha), c.upper(alpha)
    rising = delta >= 0
    p_value = min(1.0, (c.p_greater() if rising else c.p_less()) * tests)
    sure_hi = c.upper(rule.pass_beta)
    run_delta = _run_median_delta(q.base.stats, q.head.stats, rule.paired)
    beyond = f" beyond the {math.expm1(shift.log_shift):+.0%} all handlers share" if shift else ""
    runs = _runs_note(q.base.stats, q.head.stats)
    evidence = f"p={p_value:.2g}; {runs}"
    decided, too_wide = True, False
    typical = None if rule.paired else _typical_run_change(run_delta, shift)
    if delta > thr and lo > 0 and (typical is None or typical > thr / 2):
        verdict, note = Verdict.REGRESSED, f"slower{beyond}, beyond noise ({evidence})"
    elif delta < -thr and hi < 0 and (typical is None or typical < -thr / 2):
        verdict, note = Verdict.IMPROVED, f"faster{beyond}, beyond noise ({evidence})"
    elif delta > thr and lo > 0 and rule.final:
        verdict = Verdict.INCONCLUSIVE
        note = (
            f"slower{beyond} by more than {q.threshold_pct:g}% and beyond noise, but the typical "
            f"run's p95 moved {typical * 100:+.0f}%: a few runs' tails made the change "
            f"({evidence}); not judged: measure again"
        )
    elif not rule.final and sure_hi >= thr:
        verdict, note, decided = Verdict.PASS, f"undecided{beyond} ({runs})", False
    elif delta > thr:
        verdict = Verdict.INCONCLUSIVE
        note = (
            f"slower by more than {q.threshold_pct:g}%{beyond}, but within run-to-run noise "
            f"({evidence}): not judged; more runs or a quieter machine would tell"
        )
    elif delta < -thr:
        verdict, note = Verdict.PASS, f"faster{beyond}, but within run-to-run noise ({evidence})"
    elif sure_hi >= thr and sure_hi - delta > thr:
        verdict, too_wide = Verdict.PASS, True
        spread = (sure_hi - delta) * 100
        note = (
            f"within ±{q.threshold_pct:g}%{beyond}, but too noisy to tell a {q.threshold_pct:g}% "
            f"rise from none (±{spread:.0f}%; {runs}): {_runs_to_tell(raw, fixed_var, q, rule)}"
        )
    else:
        verdict, note = Verdict.PASS, f"within ±{q.threshold_pct:g}%{beyond}"
    if verdict == Verdict.PASS and decided and not rule.final:
        # Passed before the last look: by its bound at 1 − pass_beta, not by the interval shown
        # (the look's share of alpha, far wider this early).
        note += (
            f"; decided early: a rise of at most {sure_hi * 100:+.0f}% "
            f"({1 - rule.pass_beta:.0%} upper bound; {runs})"
        )
    return Decision(
        verdict,
        note,
        p_value,
        run_delta,
        delta_pct=delta * 100,
        ci_pct=(lo * 100, hi * 100),
        decided=decided,
        shift_pct=math.expm1(shift.log_shift) * 100 if shift else None,
        too_wide=too_wide,
    )


def _typical_run_change(run_delta_pct: float | None, shift: _Shift | None) -> float | None:
    """Committed mode: the typical run's p95 change (the ratio of the medians of per-run p95s)
    as a fraction, beyond the shift all handlers share; None without per-run p95s.

    A regression (or improvement) must show in the typical run too, by at least half the
    threshold: where a handler's p95 sits at the edge of a long tail, a few runs of the other
    session whose tails reach past it move the pooled p95 by tens of percent while every
    other run is unchanged — seen on real checks of unchanged code (a µs handler +41% pooled,
    its run p95 median 17.6 µs on both sides), beyond what its interval allowed."""
    if run_delta_pct is None:
        return None
    shared = math.expm1(shift.log_shift) if shift else 0.0
    return (1 + run_delta_pct / 100) / (1 + shared) - 1


def _runs_to_tell(raw: Change, fixed_var: float, q: Question, rule: Rule) -> str:
    """How many runs a side would tell a T-sized rise from none: the runs' part of the variance
    shrinks as one over the runs; drift between sessions (``fixed_var``) does not."""
    room = (math.log1p(q.threshold_pct / 100) / t_ppf(1 - rule.pass_beta, raw.dof)) ** 2
    room -= fixed_var
    if room <= 0:
        return "more runs would not tell (drift between sessions alone is wider): try --against"
    need = math.ceil(len(q.head.stats.run_counts) * raw.se**2 / room)
    return f"about {need} runs a side would (--runs), or more requests per run"


def common_shift_warning(decisions: Sequence[Decision], paired: bool = False) -> str | None:
    """A warning when a target's handlers moved together and the judge took that out."""
    shifts = sorted({d.shift_pct for d in decisions if d.shift_pct is not None})
    if not shifts:
        return None
    shift = shifts[0] if len(shifts) == 1 else median(shifts)
    direction = "slower" if shift > 0 else "faster"
    return (
        f"most handlers are {direction} (median {shift:+.0f}%): the machine likely differs from "
        "the baseline's (or a change slowed every handler alike), so each handler is judged "
        "beyond that shared shift; 'perfgate check --against REF' compares on one machine"
    )


def _run_median_delta(base: HandlerStats, cur: HandlerStats, paired: bool) -> float | None:
    """Change of the typical run's p95, in percent: the median pair's ratio (A/B, runs paired),
    else the ratio of the medians of the per-run p95s (None without per-run p95s)."""
    b, c = base.run_p95_ns, cur.run_p95_ns
    if not b or not c or min(b) <= 0:
        return None
    if paired and len(b) == len(c) and min(c) > 0:
        return (math.exp(median([math.log(y / x) for x, y in zip(b, c, strict=True)])) - 1) * 100
    return (median(c) / median(b) - 1) * 100


def _runs_note(base: HandlerStats, cur: HandlerStats) -> str:
    """The evidence in a few words: median per-run p95 on each side and the run counts."""
    b, c = base.run_p95_ns, cur.run_p95_ns
    if not b or not c:
        return "no per-run p95s"
    return (
        f"run p95 median {format_ns(median(b))} → {format_ns(median(c))}, {len(b)} vs {len(c)} runs"
    )
