"""The busy-machine check: CPU share and scheduler-wait evidence make moved handlers
inconclusive."""

from __future__ import annotations

import pytest

from perfgate.busy import (
    check_machine,
    cpu_evidence,
    mark_collateral,
    median_share,
    sched_wait_evidence,
)
from perfgate.report import ExplainItem, HandlerResult, HandlerStats, Report, TargetInfo, Verdict
from perfgate.trace.states import RUNNABLE_NAME, RUNNING_NAME


def result(name: str, verdict: Verdict, wait: tuple[int, int] | None, latency: int = 100_000):
    runtime = []
    if wait is not None:
        b, c = wait
        runtime = [
            ExplainItem(what=RUNNABLE_NAME, baseline_ns=b, current_ns=c, delta_ns=c - b),
            ExplainItem(what=RUNNING_NAME, baseline_ns=latency, current_ns=latency, delta_ns=0),
        ]
    return HandlerResult(
        name=name,
        target="svc",
        verdict=verdict,
        p_value=0.5,
        threshold_pct=12,
        explain=[
            ExplainItem(what="outside regions", baseline_ns=latency, current_ns=latency, delta_ns=0)
        ],
        runtime=runtime,
    )


def info(cur: float | None, ref: float | None) -> TargetInfo:
    return TargetInfo(name="svc", cpu_share=cur, baseline_cpu_share=ref)


def test_median_share() -> None:
    assert median_share([1.1, 0.4, 1.0]) == 1.0
    assert median_share([]) is None


@pytest.mark.parametrize(
    ("cur", "ref", "busy"),
    [
        (1.08, 1.10, False),  # a quiet machine, both sides
        (0.95, 1.10, False),  # within min_cpu_share (0.75) of the baseline
        (0.46, 1.10, True),  # three CPU hogs on two cores
        (0.70, None, False),  # no recorded share: only below 0.6 counts
        (0.45, None, True),
        (None, 1.10, False),  # not measured: no evidence
    ],
)
def test_cpu_evidence(cur, ref, busy) -> None:
    assert (cpu_evidence(info(cur, ref), 0.75, same_machine=False) is not None) == busy


def test_cpu_evidence_in_ab_mode_looks_at_both_sides() -> None:
    why = cpu_evidence(info(1.1, 0.4), 0.75, same_machine=True)
    assert why is not None and "base side's goroutines got 40%" in why
    assert cpu_evidence(info(1.1, 0.4), 0.75, same_machine=False) is None  # a baseline: fine


def test_scheduler_wait_grown_in_most_handlers_is_evidence() -> None:
    grown = [result(f"h{i}", Verdict.PASS, (1_000, 30_000)) for i in range(3)]
    why = sched_wait_evidence([*grown, result("h3", Verdict.PASS, (1_000, 1_100))])
    assert why is not None and "3 of 4 handlers" in why and "30.0×" in why
    # Half of them is a change in those handlers, not the machine.
    quiet = [result(f"q{i}", Verdict.PASS, (0, 0)) for i in range(2)]
    assert sched_wait_evidence([*grown[:2], *quiet]) is None
    # Twice as long but immaterial (under half the threshold of the latency): no evidence.
    tiny = [result(f"t{i}", Verdict.PASS, (100, 500)) for i in range(4)]
    assert sched_wait_evidence(tiny) is None
    # Without runtime states (a baseline from an older perfgate): no evidence.
    assert sched_wait_evidence([result(f"n{i}", Verdict.PASS, None) for i in range(4)]) is None


def test_busy_machine_makes_moved_handlers_inconclusive_and_the_report_not_green() -> None:
    rs = [
        result("slow", Verdict.REGRESSED, (1_000, 1_000)),
        result("fast", Verdict.IMPROVED, (1_000, 1_000)),
        result("same", Verdict.PASS, (1_000, 1_000)),
    ]
    report = Report(targets=[info(0.45, 1.1)], handlers=rs)
    warning = check_machine(rs, report.targets[0], "inconclusive", 0.75)
    assert warning is not None and "busy" in warning and "2 handler(s)" in warning
    assert [r.verdict for r in rs] == [Verdict.INCONCLUSIVE, Verdict.INCONCLUSIVE, Verdict.PASS]
    assert rs[0].note.startswith("regressed on a busy machine, not judged: ")
    report.recompute_verdict()
    assert report.verdict == "inconclusive" and report.exit_code == 3


def test_warn_and_ignore_modes() -> None:
    rs = [result("slow", Verdict.REGRESSED, None)]
    warning = check_machine(rs, info(0.45, 1.1), "warn", 0.75)
    assert warning is not None and "verdicts kept" in warning
    assert rs[0].verdict == Verdict.REGRESSED
    assert check_machine(rs, info(0.45, 1.1), "ignore", 0.75) is None
    report = Report(handlers=rs)
    report.recompute_verdict()
    assert report.verdict == "fail" and report.exit_code == 1


def test_quiet_machine_changes_nothing() -> None:
    rs = [result("slow", Verdict.REGRESSED, (1_000, 1_200))]
    assert check_machine(rs, info(1.08, 1.1), "inconclusive", 0.75) is None
    assert rs[0].verdict == Verdict.REGRESSED


def slowed(name: str, latency_delta: int, wait_delta: int, p95=(100_000, 200_000)) -> HandlerResult:
    r = result(name, Verdict.REGRESSED, (1_000, 1_000 + wait_delta))
    r.explain = [
        ExplainItem(
            what="region work", baseline_ns=100_000, current_ns=100_000 + latency_delta,
            delta_ns=latency_delta,
        )
    ]  # fmt: skip
    r.baseline = HandlerStats(count=900, p50_ns=p95[0] // 2, p95_ns=p95[0], p99_ns=p95[0] * 2)
    r.current = HandlerStats(count=900, p50_ns=p95[1] // 2, p95_ns=p95[1], p99_ns=p95[1] * 2)
    r.delta_pct = (p95[1] / p95[0] - 1) * 100
    return r


def test_a_handler_slowed_only_by_waiting_for_a_regressed_neighbours_cpu_is_not_blamed() -> None:
    culprit = slowed("POST /checkout", 90_000, 2_000, (280_000, 370_000))  # its own work
    victim = slowed("GET /products", 12_000, 9_000, (90_000, 102_000))  # mostly waiting
    other = slowed("GET /orders", 40_000, 3_000, (90_000, 130_000))  # its own: stays
    mark_collateral([culprit, victim, other], "inconclusive")
    assert culprit.verdict == Verdict.REGRESSED and other.verdict == Verdict.REGRESSED
    assert victim.verdict == Verdict.INCONCLUSIVE
    assert victim.note.startswith("slower from waiting for a CPU (scheduler wait +9.0µs")
    assert "while POST /checkout regressed" in victim.note
    assert not victim.busy_machine  # the gate still fails, on the culprit


def test_a_small_rise_next_to_a_much_larger_one_is_a_bystanders() -> None:
    """The trust benchmark's case: GET /orders 14 µs → 17.5 µs (+25%) while GET /products
    rose by 18 µs (+20%) in the same test process."""
    culprit = slowed("GET /products", 18_000, 0, (90_000, 108_000))
    orders = slowed("GET /orders/{id}", 3_500, 0, (14_000, 17_500))
    mark_collateral([culprit, orders], "inconclusive")
    assert culprit.verdict == Verdict.REGRESSED
    assert orders.verdict == Verdict.INCONCLUSIVE
    assert orders.note.startswith("p95 +3.5µs, under a quarter of GET /products's +18.0µs")
    # A rise of a third of the culprit's is the handler's own.
    culprit = slowed("GET /products", 18_000, 0, (90_000, 108_000))
    orders = slowed("GET /orders/{id}", 6_000, 0, (14_000, 20_000))
    mark_collateral([culprit, orders], "inconclusive")
    assert orders.verdict == Verdict.REGRESSED


def test_scheduler_wait_alone_without_a_culprit_stays_regressed() -> None:
    lone = [slowed("a", 12_000, 9_000)]
    mark_collateral(lone, "inconclusive")
    assert lone[0].verdict == Verdict.REGRESSED
    pair = [slowed("c", 90_000, 0, (100_000, 300_000)), slowed("d", 12_000, 9_000)]
    mark_collateral(pair, "ignore")
    assert all(v.verdict == Verdict.REGRESSED for v in pair)
