"""The busy-machine check: CPU share and runs disturbed by other processes make moved handlers
inconclusive; disturbed runs are measured again; the bystander rule narrows the blame to the
culprit."""

from __future__ import annotations

import random

import pytest

from perfgate.assess import Provenance, assess
from perfgate.busy import (
    Handler,
    busy_machine,
    bystanders,
    cpu_evidence,
    disturbed_evidence,
    median_share,
)
from perfgate.config import Config, Target
from perfgate.explain import Explanation
from perfgate.report import (
    Breakdown,
    ExplainItem,
    HandlerResult,
    HandlerSummary,
    Mode,
    ReportVerdict,
    TargetInfo,
    Verdict,
    overall_verdict,
)
from perfgate.sides import Side, TargetSides
from perfgate.stats import handler_stats
from perfgate.trace.states import RUNNABLE_NAME, RUNNING_NAME


def result(name: str, verdict: Verdict, wait: tuple[int, int] | None, latency: int = 100_000):
    runtime = []
    if wait is not None:
        b, c = wait
        runtime = [
            ExplainItem(what=RUNNABLE_NAME, baseline_ns=b, current_ns=c, delta_ns=c - b),
            ExplainItem(what=RUNNING_NAME, baseline_ns=latency, current_ns=latency, delta_ns=0),
        ]
    regions = [
        ExplainItem(what="outside regions", baseline_ns=latency, current_ns=latency, delta_ns=0)
    ]
    return Handler(
        name, verdict, judged=True, threshold_pct=12, explanation=Explanation(regions, runtime)
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


def test_runs_disturbed_by_other_processes_are_evidence() -> None:
    quiet = TargetInfo(name="svc", runs=15, reruns=2, neighbour_load=0.01)
    assert disturbed_evidence(quiet, same_machine=False) is None  # re-run, then quiet: fine
    busy = TargetInfo(name="svc", runs=15, reruns=15, disturbed_runs=6, neighbour_load=0.38)
    why = disturbed_evidence(busy, same_machine=False)
    assert why is not None and "6 of 15 runs" in why and "38%" in why
    old = TargetInfo(name="svc", runs=15, baseline_disturbed_runs=4)
    why = disturbed_evidence(old, same_machine=False)
    assert why is not None and "baseline was measured on a busy machine" in why


def test_scheduler_wait_grown_everywhere_is_not_a_busy_machine() -> None:
    """A handler that does more CPU work makes every handler of the process wait for a CPU:
    that is the code's doing, not another tenant's."""
    grown = [result(f"h{i}", Verdict.REGRESSED, (1_000, 30_000)) for i in range(4)]
    assert busy_machine(info(1.05, 1.08), grown, "inconclusive", 0.75) is None


def test_busy_machine_makes_moved_handlers_inconclusive_and_the_report_not_green() -> None:
    rs = [
        result("slow", Verdict.REGRESSED, (1_000, 1_000)),
        result("fast", Verdict.IMPROVED, (1_000, 1_000)),
        result("same", Verdict.PASS, (1_000, 1_000)),
    ]
    found = busy_machine(info(0.45, 1.1), rs, "inconclusive", 0.75)
    assert found is not None and "busy" in found.warning and "2 handler(s)" in found.warning
    assert found.not_judged == {"slow", "fast"}  # "same" stayed within its threshold
    assert found.note(Verdict.REGRESSED, "").startswith("regressed on a busy machine, not judged: ")


def test_on_a_busy_machine_the_report_is_inconclusive_never_green() -> None:
    """The judging path: moved handlers not judged, the report ``inconclusive``, exit 3."""
    base = {"slow": runs(50, seed=1), "fast": runs(80, seed=2), "same": runs(60, seed=3)}
    cur = {"slow": runs(80, seed=4), "fast": runs(40, seed=5), "same": runs(60, seed=6)}
    report = judge_sides(base, cur, TargetInfo(name="svc", cpu_share=0.45, baseline_cpu_share=1.1))
    verdicts = {h.name: h.verdict for h in report.handlers}
    assert verdicts == {
        "slow": Verdict.INCONCLUSIVE, "fast": Verdict.INCONCLUSIVE, "same": Verdict.PASS
    }  # fmt: skip
    slow = next(h for h in report.handlers if h.name == "slow")
    assert slow.busy_machine and slow.note.startswith("regressed on a busy machine, not judged: ")
    assert report.verdict == "inconclusive" and report.exit_code == 3
    assert any("the machine was busy" in w for w in report.warnings)


def test_on_a_busy_machine_a_pass_too_wide_to_see_a_rise_is_not_judged_either() -> None:
    """Neighbours widen the interval; a regression can hide in that width, so a handler that
    passed only because its interval was too wide is inconclusive too (never a green check)."""

    def spread(median_p95_us, seed, n_runs=6):
        rng = random.Random(seed)
        out = []
        for _ in range(n_runs):
            scale = median_p95_us * 1000 * rng.uniform(0.4, 1.6)
            out.append([int(scale * rng.uniform(0.3, 1.05)) for _ in range(200)])
        return handler_stats(out)

    base, cur = {"wide": spread(50, 1)}, {"wide": spread(50, 2)}
    quiet = judge_sides(base, cur, TargetInfo(name="svc"))
    assert quiet.handlers[0].verdict == Verdict.PASS and "too noisy" in quiet.handlers[0].note
    busy = judge_sides(base, cur, TargetInfo(name="svc", runs=6, disturbed_runs=4, reruns=3))
    assert busy.handlers[0].verdict == Verdict.INCONCLUSIVE and busy.handlers[0].busy_machine
    assert busy.verdict == "inconclusive" and busy.exit_code == 3


def test_warn_and_ignore_modes() -> None:
    rs = [result("slow", Verdict.REGRESSED, None)]
    found = busy_machine(info(0.45, 1.1), rs, "warn", 0.75)
    assert found is not None and "verdicts kept" in found.warning
    assert not found.not_judged  # the regression stands
    assert busy_machine(info(0.45, 1.1), rs, "ignore", 0.75) is None
    verdict = overall_verdict([HandlerResult(name="slow", target="svc", verdict=Verdict.REGRESSED)])
    assert verdict == "fail" and verdict.exit_code == 1


def test_quiet_machine_changes_nothing() -> None:
    rs = [result("slow", Verdict.REGRESSED, (1_000, 1_200))]
    assert busy_machine(info(1.08, 1.1), rs, "inconclusive", 0.75) is None


def slowed(name: str, latency_delta: int, wait_delta: int, p95=(100_000, 200_000)) -> Handler:
    r = result(name, Verdict.REGRESSED, (1_000, 1_000 + wait_delta))
    assert r.explanation is not None
    regions = [
        ExplainItem(
            what="region work", baseline_ns=100_000, current_ns=100_000 + latency_delta,
            delta_ns=latency_delta,
        )
    ]  # fmt: skip
    return Handler(
        name,
        Verdict.REGRESSED,
        judged=True,
        threshold_pct=12,
        rise_ns=p95[1] - p95[0],
        explanation=Explanation(regions, r.explanation.runtime),
    )


def test_a_handler_slowed_only_by_waiting_for_a_regressed_neighbours_cpu_is_not_blamed() -> None:
    culprit = slowed("POST /checkout", 90_000, 2_000, (280_000, 370_000))  # its own work
    victim = slowed("GET /products", 12_000, 9_000, (90_000, 102_000))  # mostly waiting
    other = slowed("GET /orders", 40_000, 3_000, (90_000, 130_000))  # its own: stays
    found = bystanders([culprit, victim, other], "inconclusive")
    assert culprit.name not in found and other.name not in found  # both still regressed
    assert set(found) == {victim.name}  # inconclusive
    assert found[victim.name].startswith("slower from waiting for a CPU (scheduler wait +9.0µs")
    assert "while POST /checkout regressed" in found[victim.name]


def test_a_bystander_is_inconclusive_but_the_culprit_still_fails_the_gate() -> None:
    """The judging path: the bystander's note names the culprit; it is not a busy machine."""
    base = {"culprit": runs(280, seed=1), "victim": runs(90, seed=2)}
    cur = {"culprit": runs(370, seed=3), "victim": runs(115, seed=4)}
    wait = {"culprit": (2_000, 4_000), "victim": (1_000, 25_000)}
    report = judge_sides(base, cur, TargetInfo(name="svc"), wait)
    by_name = {h.name: h for h in report.handlers}
    assert by_name["culprit"].verdict == Verdict.REGRESSED
    victim = by_name["victim"]
    assert victim.verdict == Verdict.INCONCLUSIVE
    assert victim.note.startswith("slower from waiting for a CPU (scheduler wait +24.0µs")
    assert "while culprit regressed" in victim.note
    assert not victim.busy_machine  # the gate still fails, on the culprit
    assert report.verdict == ReportVerdict.FAIL


def test_a_small_rise_next_to_a_much_larger_one_is_a_bystanders() -> None:
    """The trust benchmark's case: GET /orders 14 µs → 17.5 µs (+25%) while GET /products
    rose by 18 µs (+20%) in the same test process."""
    culprit = slowed("GET /products", 18_000, 0, (90_000, 108_000))
    orders = slowed("GET /orders/{id}", 3_500, 0, (14_000, 17_500))
    found = bystanders([culprit, orders], "inconclusive")
    assert culprit.name not in found  # regressed
    assert orders.name in found  # inconclusive
    assert found[orders.name].startswith("p95 +3.5µs, under a quarter of GET /products's +18.0µs")
    # A rise of a third of the culprit's is the handler's own.
    culprit = slowed("GET /products", 18_000, 0, (90_000, 108_000))
    orders = slowed("GET /orders/{id}", 6_000, 0, (14_000, 20_000))
    assert orders.name not in bystanders([culprit, orders], "inconclusive")  # regressed


def test_scheduler_wait_alone_without_a_culprit_stays_regressed() -> None:
    lone = [slowed("a", 12_000, 9_000)]
    assert bystanders(lone, "inconclusive") == {}
    pair = [slowed("c", 90_000, 0, (100_000, 300_000)), slowed("d", 12_000, 9_000)]
    assert bystanders(pair, "ignore") == {}  # all regressed


# --- through the judging path ------------------------------------------------------------------


def runs(median_p95_us: float, n_runs: int = 10, per_run: int = 200, seed: int = 0):
    """Synthetic runs whose p95 sits near ``median_p95_us`` (as in test_judge.py)."""
    rng = random.Random(seed)
    out = []
    for _ in range(n_runs):
        scale = median_p95_us * 1000 * (1 + rng.uniform(-0.05, 0.05))
        out.append([int(scale * rng.uniform(0.3, 1.05)) for _ in range(per_run)])
    return handler_stats(out)


def judge_sides(base, cur, info: TargetInfo, wait=None):
    """Committed-baseline mode on two sides of statistics; with ``wait`` (name → scheduler
    wait per side, ns), breakdowns whose p95 window is that wait plus running time."""

    def side(stats, i):
        out = {}
        for name, s in stats.items():
            breakdown = None
            if wait is not None:
                w = wait[name][i]
                window = {RUNNABLE_NAME: w, RUNNING_NAME: s.p95_ns - w, "outside regions": s.p95_ns}
                breakdown = Breakdown(p95_window=window)
            out[name] = HandlerSummary(**s.model_dump(), breakdown=breakdown)
        return Side(out)

    target = Target(name="svc", package=".", run="x", threshold="15%")
    config = Config(targets=[target], alpha=0.05)
    sides = TargetSides(target, info, side(base, 0), side(cur, 1))
    return assess([sides], Mode.BASELINE, config, Provenance(created="")).report
