"""Stage 1 of the explanation: one task's latency split into regions (self time) and the time
outside regions; several goroutines share each wall-clock instant equally."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from perfgate.explain import OUTSIDE, attribute, run_components
from perfgate.trace import Region, Task, TraceData


def reg(name: str, begin: int | None, end: int | None, g: int = 1, task: int = 1) -> Region:
    return Region(task_id=task, name=name, goroutine=g, begin_ns=begin, end_ns=end)


def test_no_regions_is_all_outside():
    assert attribute(100, 250, []) == {OUTSIDE: 150}


def test_one_region_and_the_rest_outside():
    assert attribute(0, 100, [reg("price", 20, 90)]) == {"region price": 70, OUTSIDE: 30}


def test_a_task_inside_one_region_has_no_outside_item():
    assert attribute(0, 100, [reg("all", 0, 100)]) == {"region all": 100}


def test_nested_regions_count_self_time_only():
    regions = [reg("handle", 0, 100), reg("price", 10, 60), reg("digest", 20, 50)]
    assert attribute(0, 100, regions) == {
        "region handle": 50,  # 100 minus its direct child price (50)
        "region price": 20,  # 50 minus its child digest (30)
        "region digest": 30,
    }


def test_siblings_and_repeated_names_add_up_per_region_type():
    regions = [reg("encode", 10, 20), reg("write", 30, 70), reg("encode", 40, 55)]
    assert attribute(0, 100, regions) == {
        "region encode": 25,  # 10 at top level + 15 nested in write
        "region write": 25,
        OUTSIDE: 50,
    }


def test_a_child_that_outlives_its_parent_is_cut_at_the_parents_end():
    # Not possible with WithRegion; with StartRegion misuse the times still must add up.
    out = attribute(0, 100, [reg("a", 0, 50), reg("b", 40, 80)])
    assert out == {"region a": 40, "region b": 10, OUTSIDE: 50}


def test_regions_are_clipped_to_the_task_and_open_ends_run_to_its_edges():
    regions = [reg("early", None, 30), reg("spill", 80, 500), reg("late", 90, None)]
    assert attribute(10, 100, regions) == {
        "region early": 20,  # open at the trace's start: counts from the task's begin
        "region spill": 10,  # 80..100 minus late's 90..100
        "region late": 10,
        OUTSIDE: 50,
    }


def test_concurrent_regions_share_the_wall_clock():
    # g1: A 10..60; g2: B 40..90. Overlap 40..60 is split in half.
    out = attribute(0, 100, [reg("A", 10, 60, g=1), reg("B", 40, 90, g=2)])
    assert out == {"region A": 40, "region B": 40, OUTSIDE: 20}
    assert sum(out.values()) == 100


def test_a_goroutine_outside_regions_while_another_is_in_one_charges_nothing():
    # The handler goroutine waits (no region) while a worker runs "fetch": that is fetch's time.
    regions = [reg("decode", 0, 10, g=1), reg("fetch", 10, 90, g=2), reg("encode", 90, 100, g=1)]
    want = {"region decode": 10, "region fetch": 80, "region encode": 10}
    assert attribute(0, 100, regions) == want


def test_concurrency_uses_each_goroutines_innermost_region():
    regions = [
        reg("handle", 0, 100, g=1),
        reg("price", 20, 40, g=1),
        reg("audit", 30, 50, g=2),
    ]
    out = attribute(0, 100, regions)
    # 0..20 handle; 20..30 price; 30..40 price|audit; 40..50 handle|audit; 50..100 handle
    assert out == {"region handle": 75, "region price": 15, "region audit": 10}


def test_run_components_keeps_only_each_tasks_own_regions_in_columns():
    data = TraceData(
        path="t",
        version="1.26",
        tasks=[
            Task(id=1, name="GET /a", begin_ns=0, end_ns=100),
            Task(id=2, name="GET /a", begin_ns=200, end_ns=260),
            Task(id=3, name="POST /b", begin_ns=0, end_ns=50),
            Task(id=4, name="GET /a", begin_ns=300),  # incomplete: left out
        ],
        regions=[
            reg("price", 10, 40, task=1),
            reg("store", 210, 230, task=2),
            reg("price", 5, 45, task=99),  # another task's (e.g. a child task's) region
            reg("store", 300, 310, task=4),
        ],
    )
    got = run_components(data)
    a = got["GET /a"]
    assert list(a.durations) == [100, 60]
    assert {k: list(v) for k, v in a.columns.items()} == {
        "region price": [30, 0],
        OUTSIDE: [70, 40],
        "region store": [0, 20],
    }
    assert {k: list(v) for k, v in got["POST /b"].columns.items()} == {OUTSIDE: [50]}


# --- properties: nothing is double counted, nothing is lost ---------------------------------


@st.composite
def nested_regions(draw, goroutines: int) -> list[Region]:
    """Properly nested regions per goroutine (as WithRegion makes them) inside 0..1000."""
    out = []
    for g in range(1, goroutines + 1):
        stack = [(0, 1000)]
        t = draw(st.integers(0, 50))
        for _ in range(draw(st.integers(0, 6))):
            if len(stack) > 1 and draw(st.booleans()):
                t = stack.pop()[1]  # leave the enclosing region
            hi = stack[-1][1]
            if t >= hi:
                break
            b = draw(st.integers(t, hi))
            e = draw(st.integers(b, hi))
            out.append(reg(draw(st.sampled_from("abc")), b, e, g=g))
            if draw(st.booleans()):
                stack.append((b, e))
                t = b
            else:
                t = e
    return out


def brute_force(begin: int, end: int, regions: list[Region]) -> dict[str, float]:
    """Per nanosecond: each goroutine's innermost open region shares the instant equally."""
    out: dict[str, float] = defaultdict(float)
    for t in range(begin, end):
        leaves = []
        for g in {r.goroutine for r in regions}:
            open_ = [r for r in regions if r.goroutine == g and r.begin_ns <= t < r.end_ns]
            if open_:  # innermost: latest begin, then earliest end, then the later one
                i = max(range(len(open_)), key=lambda i: (open_[i].begin_ns, -open_[i].end_ns, i))
                leaves.append(open_[i].name)
        if not leaves:
            out[OUTSIDE] += 1
        for name in leaves:
            out[f"region {name}"] += 1 / len(leaves)
    return out


@settings(max_examples=150, deadline=None)
@given(nested_regions(goroutines=1))
def test_one_goroutine_matches_brute_force_exactly(regions):
    got = attribute(0, 1000, regions)
    want = {k: round(v) for k, v in brute_force(0, 1000, regions).items() if round(v)}
    assert {k: v for k, v in got.items() if v} == want
    assert sum(got.values()) == 1000


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 3).flatmap(nested_regions))
def test_several_goroutines_match_brute_force_and_add_up(regions):
    got = attribute(0, 1000, regions)
    want = brute_force(0, 1000, regions)
    for name in set(got) | set(want):
        assert abs(got.get(name, 0) - want.get(name, 0)) <= 1, name
    assert abs(sum(got.values()) - 1000) <= len(got)


@st.composite
def traces(draw) -> TraceData:
    """Tasks (some sharing an id, some of zero length, some incomplete or unnamed) and their
    regions on one or more goroutines, nested or not, some open at a trace edge."""
    tasks = []
    for i in range(draw(st.integers(0, 8))):
        b = draw(st.integers(0, 500))
        e = draw(st.one_of(st.none(), st.integers(b, b + 300)))
        tid = draw(st.integers(1, 6)) if draw(st.booleans()) else 100 + i
        name = draw(st.sampled_from(["GET /a", "GET /b", ""]))
        tasks.append(Task(id=tid, name=name, begin_ns=b, end_ns=e))
    regions = []
    for _ in range(draw(st.integers(0, 20))):
        b = draw(st.one_of(st.none(), st.integers(0, 800)))
        e = draw(st.one_of(st.none(), st.integers(b or 0, 900)))
        task = draw(st.sampled_from([t.id for t in tasks] or [1]))
        g = draw(st.sampled_from([1, 1, 1, 2, None]))
        regions.append(reg(draw(st.sampled_from("abc")), b, e, g=g, task=task))
    return TraceData(path="t", version="1.26", tasks=tasks, regions=regions)


@settings(max_examples=300, deadline=None)
@given(traces())
def test_run_components_from_columns_equal_the_object_path(data):
    """The C column path gives exactly what attribute() gives task by task."""
    from perfgate.explain import _columns, _objects
    from perfgate.trace import scan

    if not scan.accelerated():
        return

    def plain(got):
        return {
            k: (list(c.durations), {n: list(v) for n, v in c.columns.items()})
            for k, c in got.items()
        }

    assert plain(_columns(data)) == plain(_objects(data))


def test_run_components_from_columns_keep_a_share_that_rounds_to_zero():
    """Three goroutines share one nanosecond: c's third rounds to 0, and attribute() still
    names it; the C path (several goroutines, float shares) gives the same columns."""
    from perfgate.explain import _columns, _objects
    from perfgate.trace import scan

    if not scan.accelerated():
        pytest.skip("the C extension is not built")
    data = TraceData(
        path="t",
        version="1.26",
        tasks=[Task(id=1, name="GET /a", begin_ns=0, end_ns=100)],
        regions=[
            reg("a", 0, 100, g=1, task=1),
            reg("b", 50, 100, g=2, task=1),
            reg("c", 50, 51, g=3, task=1),
        ],
    )
    want = {"region a": 75, "region b": 25, "region c": 0}  # 50 + 1/3 + 49/2, 1/3 + 49/2, 1/3
    assert attribute(0, 100, data.regions) == want
    for got in (_columns(data), _objects(data)):
        assert {k: list(v) for k, v in got["GET /a"].columns.items()} == {
            k: [v] for k, v in sorted(want.items())
        }
