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
2. **Scheduler wait everywhere.** When at least three quarters of the handlers (two or more)
   show their goroutines runnable — waiting for a CPU — at least twice as long per request as
   before, and by more than half the threshold of their latency, the Go scheduler itself was
   short of CPUs for everyone.

With either, every regressed or improved handler of that target becomes ``inconclusive`` (the
check measures again when nothing failed, see ``retries``), and the report says why. Config
``machine_check``: ``"inconclusive"`` (default), ``"warn"`` (say it, keep the verdicts) or
``"ignore"``.

A narrower case is **contention from a regressed neighbour** (:func:`mark_collateral`): handlers
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
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import median

from perfgate.report import HandlerResult, TargetInfo, Verdict
from perfgate.trace.states import RUNNABLE_NAME

ABSOLUTE_MIN_SHARE = 0.6  # without the other side's share: below this, the machine was busy
SCHED_WAIT_GROWTH = 2.0  # "scheduler wait grew": at least this many times the other side's
SCHED_WAIT_HANDLERS = 0.75  # …in at least this share of the handlers


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


def sched_wait_evidence(results: Sequence[HandlerResult]) -> str | None:
    """Why the handlers' scheduler wait says the machine was short of CPUs, or None."""
    judged = []
    for r in results:
        if r.p_value is None or not r.runtime or not r.explain:
            continue
        wait = next((i for i in r.runtime if i.what == RUNNABLE_NAME), None)
        latency = sum(i.baseline_ns for i in r.explain)
        judged.append((r, wait, latency))
    if len(judged) < 2:
        return None
    grew = []
    for r, wait, latency in judged:
        if wait is None:
            continue
        material = (wait.current_ns - wait.baseline_ns) > latency * (r.threshold_pct or 0) / 200
        if material and wait.current_ns >= SCHED_WAIT_GROWTH * max(wait.baseline_ns, 1):
            grew.append(wait.current_ns / max(wait.baseline_ns, 1))
    if len(grew) < max(2, math.ceil(SCHED_WAIT_HANDLERS * len(judged))):
        return None
    return (
        f"{len(grew)} of {len(judged)} handlers waited for a CPU at least "
        f"{SCHED_WAIT_GROWTH:g}× as long per request (median {median(grew):.1f}×): "
        "the Go scheduler was short of CPUs for everyone"
    )


def check_machine(
    results: Sequence[HandlerResult],
    info: TargetInfo,
    mode: str,
    min_cpu_share: float,
    same_machine: bool = False,
) -> str | None:
    """Apply the busy-machine check to one target's results; the warning to show, or None."""
    if mode == "ignore":
        return None
    evidence = [
        e
        for e in (cpu_evidence(info, min_cpu_share, same_machine), sched_wait_evidence(results))
        if e
    ]
    if not evidence:
        return None
    why = "; ".join(evidence)
    changed = 0
    if mode == "inconclusive":
        for r in results:
            if r.target == info.name and r.verdict in (Verdict.REGRESSED, Verdict.IMPROVED):
                was = r.verdict.value
                r.verdict = Verdict.INCONCLUSIVE
                r.busy_machine = True
                r.note = f"{was} on a busy machine, not judged: {why}; {r.note}"
                changed += 1
    verdicts = (
        f"; {changed} handler(s) that moved are inconclusive, not judged"
        if changed
        else ("" if mode == "inconclusive" else '; verdicts kept (machine_check = "warn")')
    )
    return f"target {info.name}: the machine was busy during the measurement: {why}{verdicts}"


def _latency_and_wait_delta(r: HandlerResult) -> tuple[int, int] | None:
    """(change of the p95 window's mean latency, change of its scheduler wait), ns."""
    if not r.explain or not r.runtime:
        return None
    wait = next((i.delta_ns for i in r.runtime if i.what == RUNNABLE_NAME), 0)
    return sum(i.delta_ns for i in r.explain), wait


BYSTANDER_FRACTION = 0.25  # a rise under this fraction of the culprit's (ns) is a bystander's


def _rise_ns(r: HandlerResult) -> int:
    assert r.baseline is not None and r.current is not None
    return r.current.p95_ns - r.baseline.p95_ns


def mark_collateral(results: Sequence[HandlerResult], mode: str) -> None:
    """Regressed handlers that only got slower alongside a regressed neighbour (same target)
    are ``inconclusive``, the neighbour named (see the module docstring)."""
    if mode == "ignore":
        return
    by_target: dict[str, list[HandlerResult]] = {}
    for r in results:
        if r.verdict == Verdict.REGRESSED and r.baseline is not None and r.current is not None:
            by_target.setdefault(r.target, []).append(r)
    for regressed in by_target.values():
        if len(regressed) < 2:
            continue
        culprit = max(regressed, key=lambda r: (_rise_ns(r), r.name))
        rise = _rise_ns(culprit)
        for r in regressed:
            if r is culprit:
                continue
            d = _latency_and_wait_delta(r)
            if d is not None and d[0] > 0 and 2 * d[1] >= d[0]:
                why = (
                    f"slower from waiting for a CPU (scheduler wait +{d[1] / 1000:.1f}µs of "
                    f"+{d[0] / 1000:.1f}µs around the p95)"
                )
            elif _rise_ns(r) < BYSTANDER_FRACTION * rise:
                why = (
                    f"p95 +{_rise_ns(r) / 1000:.1f}µs, under a quarter of "
                    f"{culprit.name}'s +{rise / 1000:.1f}µs"
                )
            else:
                continue
            r.verdict = Verdict.INCONCLUSIVE
            r.note = (
                f"{why} while {culprit.name} regressed: likely contention from it (they share "
                f"the process and the CPUs), not this handler's own change; {r.note}"
            )
