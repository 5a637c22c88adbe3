"""Was the machine busy? Evidence from the trace that a measurement was disturbed.

A shared CI runner can be overloaded in the middle of a check. A slowed handler then looks
exactly like a regression in its latency numbers; the trace tells the two apart:

1. **CPU share.** When the OS gives the CPUs to other processes, the test's goroutines stay
   *running* in the trace while their threads wait for a CPU, so the process receives less CPU
   time (``getrusage``) per second of goroutine running time (the trace). On a quiet machine the
   share is about 1 (a little more: the runtime's own threads); with three CPU-bound processes
   competing on two cores it falls to about 0.45. A code change moves both together and leaves
   the share alone. A side whose median share is below ``min_cpu_share`` times the other side's
   (the baseline's, recorded in its file) ran on a busy machine. Without a recorded share on the
   other side (a baseline from an older perfgate) the bar is absolute: below 0.6.
2. **Other processes' CPU time.** Where the OS tells (Linux's ``/proc/stat``), perfgate
   measures how much of the machine's CPU time other processes used during each run: its
   *neighbour load*, about 0 on a quiet machine. A run during which it exceeded
   ``max_neighbour_load`` (15%) is disturbed and measured again (:class:`perfgate.measure.Runner`);
   only when that re-run budget runs out are disturbed runs kept, and then the machine was busy.
   A committed baseline measured that way is evidence too.

(Scheduler wait that grew in every handler is *not* evidence: a handler that does more CPU work
makes every handler of the process wait for a CPU, on a quiet machine as on a busy one.)

With either, every regressed or improved handler of that target becomes ``inconclusive``, and
so does one that passed only because its interval was too wide to see a threshold-sized rise
(on a busy machine that width is the neighbours', and a regression could hide in it) (the
check measures again when nothing failed, see ``retries``), and the report says why
(:func:`busy_machine`). Config
``machine_check``: ``"inconclusive"`` (default), ``"warn"`` (say it, keep the verdicts) or
``"ignore"``.

A narrower case is **contention from a regressed neighbour** (:func:`bystanders`): handlers
of one test share the process and the CPUs, so when one handler (the *culprit*: the regressed
handler whose p95 rose the most, in ns) does more work, the others it runs alongside get a little
slower too — measured on this project's 2-core machine, a handler of 15 µs rose by 3–4 µs (20–30%)
while a neighbour's p95 rose by 18–28 µs. Another regressed handler is taken for such a bystander,
``inconclusive`` with the culprit named, when

- at least half of its p95 window's latency change is scheduler wait (trace evidence: it waited
  for a CPU), or
- its p95 rose by less than a quarter of the culprit's rise, in ns.

The culprit still fails the gate, so the verdict stands; only the blame is narrowed. The cost: a
commit that slows two handlers, one by much less (in ns) than the other, flags only the larger;
the smaller one is ``inconclusive`` and its note says it moved.

Both checks look at the judge's verdicts and the explanations (:class:`Handler`) and return what
they found as values — :class:`BusyMachine`, the bystanders' reasons — from which
:mod:`perfgate.assess` builds each handler's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import median

from perfgate.explain import Explanation
from perfgate.report import TargetInfo, Verdict

ABSOLUTE_MIN_SHARE = 0.6  # without the other side's share: below this, the machine was busy
BYSTANDER_FRACTION = 0.25  # a rise under this fraction of the culprit's (ns) is a bystander's


@dataclass(frozen=True)
class Handler:
    """One handler of a target as the machine checks see it: its verdict so far, whether the
    judge looked at it, its threshold, its p95 rise (current − baseline, ns; None unless
    measured on both sides) and its explanation (None unless measured on both sides)."""

    name: str
    verdict: Verdict
    judged: bool
    threshold_pct: float
    rise_ns: int | None = None
    explanation: Explanation | None = None
    too_wide: bool = False  # passed, but could not have seen a threshold-sized rise


@dataclass(frozen=True)
class BusyMachine:
    """The busy-machine check's finding for one target: why the machine was busy, the handlers
    that moved and are therefore not judged (none with ``machine_check = "warn"``), and the
    warning for the report."""

    target: str
    why: str
    not_judged: frozenset[str]
    warning: str

    def note(self, verdict: Verdict, note: str) -> str:
        """A not-judged handler's note: what it would have been, and why it is not."""
        return f"{verdict.value} on a busy machine, not judged: {self.why}; {note}"


def median_share(shares: Sequence[float]) -> float | None:
    """The median of per-run CPU shares (None without any)."""
    return round(median(shares), 3) if shares else None


def cpu_evidence(info: TargetInfo, min_cpu_share: float, same_machine: bool) -> str | None:
    """Why the CPU shares say a side was busy, or None."""
    cur, ref = info.cpu_share, info.baseline_cpu_share
    if cur is None:
        return None
    base_word = "base side" if same_machine else "baseline"
    if ref is None:
        if cur < ABSOLUTE_MIN_SHARE:
            return (
                f"the test's goroutines got {cur:.0%} of the CPU time they were running for "
                f"(below {ABSOLUTE_MIN_SHARE:.0%}): other processes had the CPUs"
            )
        return None
    if cur < min_cpu_share * ref:
        return (
            f"the test's goroutines got {cur:.0%} of the CPU time they were running for, "
            f"against {ref:.0%} on the {base_word}: other processes had the CPUs"
        )
    if same_machine and ref < min_cpu_share * cur:
        return (
            f"the base side's goroutines got {ref:.0%} of the CPU time they were running for, "
            f"against {cur:.0%} for the working tree: other processes had the CPUs"
        )
    return None


def disturbed_evidence(info: TargetInfo, same_machine: bool) -> str | None:
    """Why the neighbour loads say a side was measured on a busy machine, or None."""
    out = []
    if info.disturbed_runs:
        out.append(
            f"{info.disturbed_runs} of {info.runs} runs were made while other processes used "
            f"the machine (median {info.neighbour_load or 0:.0%} of its CPU time), "
            f"after {info.reruns} re-run(s)"
        )
    if info.baseline_disturbed_runs and not same_machine:
        out.append(
            f"the baseline was measured on a busy machine ({info.baseline_disturbed_runs} "
            "disturbed runs): refresh it on a quiet one"
        )
    return "; ".join(out) or None


def busy_machine(
    info: TargetInfo,
    handlers: Sequence[Handler],
    mode: str,
    min_cpu_share: float,
    same_machine: bool = False,
) -> BusyMachine | None:
    """The busy-machine check on one target's handlers (``mode``: the ``machine_check``
    setting); None when the machine was not busy or the check is off."""
    if mode == "ignore":
        return None
    evidence = [
        e
        for e in (
            cpu_evidence(info, min_cpu_share, same_machine),
            disturbed_evidence(info, same_machine),
        )
        if e
    ]
    if not evidence:
        return None
    why = "; ".join(evidence)
    moved = frozenset(
        h.name
        for h in handlers
        if h.verdict in (Verdict.REGRESSED, Verdict.IMPROVED, Verdict.INCONCLUSIVE) or h.too_wide
    )
    not_judged = moved if mode == "inconclusive" else frozenset()
    verdicts = (
        f"; {len(not_judged)} handler(s) that moved are inconclusive, not judged"
        if not_judged
        else ("" if mode == "inconclusive" else '; verdicts kept (machine_check = "warn")')
    )
    warning = f"target {info.name}: the machine was busy during the measurement: {why}{verdicts}"
    return BusyMachine(info.name, why, not_judged, warning)


def bystanders(handlers: Sequence[Handler], mode: str) -> dict[str, str]:
    """Regressed handlers of one target that only got slower alongside a regressed neighbour
    (see the module docstring): name → why, naming the culprit. They are ``inconclusive``.
    ``mode`` is the ``machine_check`` setting: ``"ignore"`` turns this off too."""
    regressed = [h for h in handlers if h.verdict == Verdict.REGRESSED and h.rise_ns is not None]
    if mode == "ignore" or len(regressed) < 2:
        return {}
    culprit = max(regressed, key=lambda h: (h.rise_ns, h.name))
    rise = culprit.rise_ns or 0
    found = {}
    for h in regressed:
        if h is culprit:
            continue
        own_rise = h.rise_ns or 0
        e = h.explanation
        latency = wait = 0
        if e is not None and e.regions and e.runtime:
            latency, wait = e.window_change_ns, _wait_change_ns(e)
        if latency > 0 and 2 * wait >= latency:
            why = (
                f"slower from waiting for a CPU (scheduler wait +{wait / 1000:.1f}µs of "
                f"+{latency / 1000:.1f}µs around the p95)"
            )
        elif own_rise < BYSTANDER_FRACTION * rise:
            why = (
                f"p95 +{own_rise / 1000:.1f}µs, under a quarter of "
                f"{culprit.name}'s +{rise / 1000:.1f}µs"
            )
        else:
            continue
        found[h.name] = (
            f"{why} while {culprit.name} regressed: likely contention from it (they share "
            "the process and the CPUs), not this handler's own change"
        )
    return found


def _wait_change_ns(e: Explanation) -> int:
    wait = e.scheduler_wait
    return wait.delta_ns if wait is not None else 0
