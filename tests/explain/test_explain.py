"""Stages 2 and 3: a side's breakdown over the p95 window, and the ranked explanation."""

from __future__ import annotations

import json
from array import array

import pytest

from perfgate.baseline import Baseline, load_baseline, write_atomically
from perfgate.explain import (
    OUTSIDE,
    RunComponents,
    explain,
    explain_change,
    explain_note,
    summarize,
)
from perfgate.report import Breakdown, HandlerSummary, Verdict
from perfgate.stats import nearest_rank


def run_of(tasks: list[tuple[int, dict[str, int]]]) -> RunComponents:
    return RunComponents.of(tasks)


# --- summarize: the p95 window ---------------------------------------------------------------


def test_columns_stay_aligned_when_components_come_and_go():
    r = run_of([(10, {"a": 10}), (20, {"b": 20}), (30, {"a": 5, OUTSIDE: 25})])
    assert {k: list(v) for k, v in r.columns.items()} == {
        "a": [10, 0, 5],
        "b": [0, 20, 0],
        OUTSIDE: [0, 0, 25],
    }


def test_window_is_pooled_p92_5_to_p97_5_and_means_are_per_request():
    # 1000 requests, latency 1..1000 µs; "region slow" only in the 50 slowest.
    tasks = []
    for i in range(1, 1001):
        d = i * 1000
        parts = {"region slow": d - 1000, OUTSIDE: 1000} if i > 950 else {OUTSIDE: d}
        tasks.append((d, parts))
    runs = [run_of(tasks[0::2]), run_of(tasks[1::2])]  # the window pools the runs
    b = summarize(runs)
    assert b is not None
    ordered = sorted(d for d, _ in tasks)
    assert b.window_from_ns == nearest_rank(ordered, 0.925) == 925_000
    assert b.window_to_ns == nearest_rank(ordered, 0.975) == 975_000
    assert b.window_count == 51 and b.count == 1000
    # window: 925..975 µs; 951..975 have the slow region
    assert b.p95_window[OUTSIDE] == round((sum(range(925, 951)) * 1000 + 25 * 1000) / 51)
    assert b.p95_window["region slow"] == round(sum(i * 1000 - 1000 for i in range(951, 976)) / 51)
    assert sum(b.p95_window.values()) == pytest.approx(sum(range(925, 976)) * 1000 / 51, abs=2)
    assert b.overall["region slow"] == round(sum(i * 1000 - 1000 for i in range(951, 1001)) / 1000)
    assert list(b.p95_window) == sorted(b.p95_window)  # stable key order in baseline files


def test_the_window_leaves_out_the_far_tail_and_the_body():
    # Pauses (a lost CPU slice, GC) in the slowest 2% and a fast path in the body: neither is in
    # the window, so neither can take the blame for what happened around the p95.
    tasks = [(100, {"region fast": 100})] * 800 + [(1000, {"region work": 1000})] * 180
    tasks += [(50_000, {"region pause": 50_000})] * 20
    b = summarize([run_of(tasks)])
    assert b is not None and b.p95_window == {
        "region fast": 0,
        "region pause": 0,
        "region work": 1000,
    }


def test_no_tasks_no_breakdown():
    assert summarize([]) is None and summarize([RunComponents()]) is None


# --- explain_change: ranking and shares -----------------------------------------------------


def bd(**window: int) -> Breakdown:
    return Breakdown(p95_window={k.replace("_", " "): v for k, v in window.items()})


def test_ranked_by_absolute_change_then_name_with_shares_of_the_total():
    base = bd(region_price=100, region_decode=50, outside_regions=10, region_store=20)
    cur = bd(region_price=190, region_decode=40, outside_regions=20, region_store=30)
    items = explain_change(base, cur)
    assert [(i.what, i.delta_ns) for i in items] == [
        ("region price", 90),
        ("outside regions", 10),  # ties on |Δ| = 10: by name
        ("region decode", -10),
        ("region store", 10),
    ]
    total = 90 + 10 - 10 + 10
    assert items[0].share_pct == round(100 * 90 / total, 1)
    assert items[2].share_pct == round(-100 * 10 / total, 1)  # moved against the total
    assert sum(i.share_pct for i in items) == pytest.approx(100, abs=0.2)


def test_a_component_on_one_side_only_and_zeros_left_out():
    items = explain_change(bd(region_a=100, region_gone=0), bd(region_a=100, region_new=40))
    assert [(i.what, i.baseline_ns, i.current_ns) for i in items] == [
        ("region new", 0, 40),
        ("region a", 100, 100),
    ]


@pytest.mark.parametrize("delta", [0, 3, -5])
def test_no_shares_when_the_total_change_is_about_zero(delta):
    # Two components moving in opposite directions and (almost) cancelling: shares would be
    # huge and meaningless, so there are none; the items are still listed and ranked.
    base = bd(region_a=1000, region_b=1000)
    cur = bd(region_a=1500, region_b=500 + delta)
    items = explain_change(base, cur)
    assert [i.what for i in items] == (
        ["region b", "region a"] if delta < 0 else ["region a", "region b"]
    )
    assert all(i.share_pct is None for i in items)


def test_a_small_but_real_change_has_shares():
    items = explain_change(bd(region_a=1000, region_b=1000), bd(region_a=1030, region_b=1000))
    assert items[0].share_pct == 100.0 and items[1].share_pct == 0.0


# --- the explanation and its note ---------------------------------------------------------------

NOTE = "run p95 median 1µs → 2µs"  # what the judge wrote


def test_a_regressed_handler_names_its_top_contributor():
    e = explain(bd(region_price=100_000, region_decode=5000), bd(region_price=195_000,
                region_decode=5000))  # fmt: skip
    assert e.regions[0].what == "region price"
    note = NOTE + explain_note(Verdict.REGRESSED, e)
    assert note.endswith("; top contributor: region price +95.0µs (100%)")


def test_a_passing_handler_gets_the_list_but_no_note():
    e = explain(bd(region_a=10), bd(region_a=11))
    assert e.regions and NOTE + explain_note(Verdict.PASS, e) == "run p95 median 1µs → 2µs"


def test_without_a_baseline_breakdown_the_note_says_so():
    e = explain(None, bd(region_a=10))
    assert e.regions == []
    note = NOTE + explain_note(Verdict.REGRESSED, e)
    assert "not explained: the baseline has no region breakdown" in note
    assert "perfgate baseline update" in note


def test_handlers_not_measured_on_both_sides_are_left_alone():
    # A handler on one side only has no explanation (None) and its note stays the judge's.
    assert NOTE + explain_note(Verdict.REGRESSED, None) == "run p95 median 1µs → 2µs"


# --- the baseline file ---------------------------------------------------------------------------


def test_baseline_stores_the_breakdown_and_old_files_still_load(tmp_path):
    breakdown = summarize([run_of([(100, {"region b": 60, OUTSIDE: 40})] * 10)])
    h = HandlerSummary(
        count=10, p50_ns=100, p95_ns=100, p99_ns=100, run_p95_ns=[100], run_counts=[10],
        run_le_p95=[10], breakdown=breakdown,
    )  # fmt: skip
    path = tmp_path / "svc.json"
    baseline = Baseline(schema_version=2, target="svc", handlers={"GET /": h})
    write_atomically(path, baseline.to_json())
    data = json.loads(path.read_text())["handlers"]["GET /"]
    assert list(data)[-2:] == ["sketch_ns", "breakdown"]
    assert data["breakdown"]["p95_window"] == {"outside regions": 40, "region b": 60}
    assert list(data["breakdown"]) == [
        "p95_window", "overall", "window_from_ns", "window_to_ns", "window_count", "count",
    ]  # fmt: skip
    assert load_baseline(path, "svc").handlers["GET /"].breakdown == breakdown

    del data["breakdown"]  # a file written before breakdowns existed
    path.write_text(json.dumps({"schema_version": 2, "target": "svc", "handlers": {"GET /": data}}))
    assert load_baseline(path, "svc").handlers["GET /"].breakdown is None


def test_run_components_use_compact_columns():
    r = run_of([(5, {"a": 5})])
    assert isinstance(r.durations, array) and r.durations.typecode == "q"
