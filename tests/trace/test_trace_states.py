"""Goroutine states from the native reader against `go tool trace` (same Go version).

Each fixture's ``.states.json`` holds what that Go version's ``go tool trace -d=parsed`` (``-d=1``
before 1.24) printed as goroutine state transitions and GC / stop-the-world ranges (written by
scripts/make_trace_fixtures.py). The ``-runtime`` traces come from a test built to produce every
state: GC with mark assists and stop-the-world pauses, blocking on a mutex, channel, select and
sleep, syscalls, and more runnable goroutines than Ps. Every transition must agree exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tracefix import TRACES

from perfgate.trace import read_trace
from perfgate.trace.states import (
    ASSIST_NAME,
    GC_NAME,
    OVERLAPPING,
    RUNNABLE_NAME,
    RUNNING_NAME,
    STW_NAME,
    GoroutineStates,
    blocked_name,
)

STATE_TRACES = sorted(p.with_suffix("").with_suffix(".trace") for p in TRACES.glob("*.states.json"))


def _expected(trace: Path) -> dict:
    return json.loads(trace.with_suffix(".states.json").read_text())


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_every_version_has_a_runtime_fixture() -> None:
    versions = {p.name.split("-")[0] for p in STATE_TRACES if p.name.endswith("-runtime.trace")}
    assert versions >= {"go1.22", "go1.23", "go1.24", "go1.25", "go1.26", "go1.27"}


@pytest.mark.parametrize("trace", STATE_TRACES, ids=_ids(STATE_TRACES))
def test_transitions_match_go_tool_trace(trace: Path) -> None:
    exp = _expected(trace)
    st = read_trace(trace, reader="native", states=True).states
    assert st is not None
    want = {g: [tuple(x) for x in tl] for g, tl in exp["goroutines"]}
    got = {g: st.timeline(g) for g in st.times}
    assert got.keys() == want.keys()
    for g, timeline in want.items():
        assert got[g] == timeline, g
    assert [list(r) for r in st.gc] == exp["gc"]
    assert [list(r) for r in st.stw] == exp["stw"]
    assert {g: [list(r) for r in rs] for g, rs in st.assists.items()} == {
        g: rs for g, rs in exp["assists"]
    }


def test_runtime_fixture_has_every_kind_of_state() -> None:
    """The runtime fixtures really exercise what the reader must get right."""
    for trace in (p for p in STATE_TRACES if p.name.endswith("-runtime.trace")):
        exp = _expected(trace)
        names = {name for _, tl in exp["goroutines"] for _, name in tl}
        assert {"Running", "Runnable", "Syscall", "NotExist", "Waiting(sync)"} <= names, trace
        assert any(n.startswith("Waiting(select)") for n in names), trace
        assert exp["gc"] and exp["stw"] and exp["assists"], trace


def test_states_are_opt_in() -> None:
    trace = TRACES / "go1.26-runtime.trace"
    assert read_trace(trace, reader="native").states is None


def _from_expected(exp: dict) -> GoroutineStates:
    st = GoroutineStates()
    for g, tl in exp["goroutines"]:
        for t, name in tl:
            state, _, reason = name.partition("(")
            st.transition(t, g, state, reason.rstrip(")"))
    for b, e in exp["gc"]:
        st.gc.append([b, e])
    for b, e in exp["stw"]:
        st.stw.append([b, e])
    for g, rs in exp["assists"]:
        st.assists[g] = [list(r) for r in rs]
    return st


def _goroutines(data, task) -> set[int]:
    """summary.go's rule, written out independently: goroutines that began or ended the task,
    or logged or had a region in it."""
    gs = {task.begin_goroutine, task.end_goroutine}
    gs |= {r.goroutine for r in data.regions if r.task_id == task.id}
    gs |= {lg.goroutine for lg in data.logs if lg.task_id == task.id}
    return {g for g in gs if g is not None}


@pytest.mark.parametrize("version", ["1.22", "1.25", "1.27"])
def test_task_breakdown_adds_up_and_matches_a_sweep(version: str) -> None:
    """Per task: the states of its goroutines add up to (duration x goroutines); each state's
    time equals a brute-force sweep over go tool trace's own transitions."""
    trace = TRACES / f"go{version}-runtime.trace"
    data = read_trace(trace, reader="native", states=True)
    ref = _from_expected(_expected(trace))
    seen: set[str] = set()
    tasks = [t for t in data.tasks if t.complete and t.name == "GET /alloc"]
    assert len(tasks) >= 30
    for task in tasks:
        gs = _goroutines(data, task)
        got = data.task_breakdown(task)
        seen |= got.keys()
        want: dict[str, int] = {}
        alive = 0
        for g in gs:
            tl = list(zip(ref.times[g], ref.codes[g], strict=True))
            for i, (t, code) in enumerate(tl):
                nxt = tl[i + 1][0] if i + 1 < len(tl) else None
                lo = max(t, task.begin_ns)
                hi = task.end_ns if nxt is None else min(nxt, task.end_ns)
                if hi > lo and code != 0:  # 0: not existing
                    want[ref.component(code)] = want.get(ref.component(code), 0) + hi - lo
                    alive += hi - lo
        assert {k: v for k, v in got.items() if k not in OVERLAPPING} == want
        # The task's own goroutine exists throughout: at least the task's span is accounted.
        assert task.duration_ns <= alive <= task.duration_ns * len(gs)
    assert {RUNNING_NAME, RUNNABLE_NAME, blocked_name("sync"), GC_NAME, ASSIST_NAME} <= seen
    assert STW_NAME in seen


def test_breakdown_of_a_hand_made_timeline() -> None:
    st = GoroutineStates()
    st.transition(100, 7, "Runnable")
    st.transition(110, 7, "Running")
    st.transition(150, 7, "Waiting", "chan receive")
    st.transition(170, 7, "Waiting", "")  # a GoStatus repeat: not a change
    st.transition(190, 7, "Runnable")
    st.transition(195, 7, "Running")
    st.range_begin(140, "GC concurrent mark phase", None)
    st.range_end(160, "GC concurrent mark phase", None)
    st.range_begin(120, "GC mark assist", 7)
    st.range_end(130, "GC mark assist", 7)
    assert st.timeline(7)[2:4] == [(150, "Waiting(chan receive)"), (190, "Runnable")]
    got = st.task_breakdown(105, 200, [7])
    assert got == {
        "runtime: scheduler wait": 5 + 5,
        "runtime: running": 40 + 5,
        "runtime: blocked (chan receive)": 40,
        GC_NAME: 20,
        ASSIST_NAME: 10,
    }
    # Before the goroutine's first state, and for unknown goroutines, nothing is counted.
    assert st.task_breakdown(50, 105, [7]) == {RUNNABLE_NAME: 5}
    assert st.task_breakdown(0, 10, [99]) == {}
    st.transition(300, 7, "NotExist")
    assert st.task_breakdown(290, 400, [7]) == {RUNNING_NAME: 10}


def test_running_time_of_all_goroutines_matches_go_tool_traces_transitions() -> None:
    """running_ns (the CPU share's denominator) from the native states equals the sum of
    Running intervals over go tool trace's own transitions, up to the last one."""
    trace = TRACES / "go1.25-runtime.trace"
    st = read_trace(trace, reader="native", states=True).states
    assert st is not None
    timelines = [tl for _, tl in _expected(trace)["goroutines"]]
    end = max(tl[-1][0] for tl in timelines)
    want = 0
    for tl in timelines:
        for k, (t, name) in enumerate(tl):
            if name == "Running":
                want += (tl[k + 1][0] if k + 1 < len(tl) else end) - t
    assert st.running_ns() == want > 0


@pytest.mark.parametrize("version", ["1.22", "1.26"])
def test_breakdown_totals_equal_the_tasks_breakdowns_summed(version: str) -> None:
    """What `perfgate report --states` prints (one sweep per goroutine) is each task's
    task_breakdown, summed per task type; and the object views agree with the columns."""
    data = read_trace(TRACES / f"go{version}-runtime.trace", reader="native", states=True)
    want: dict[str, tuple[int, dict[str, int]]] = {}
    for task in data.tasks:
        if not task.complete or not task.name:
            continue
        count, parts = want.get(task.name, (0, {}))
        for k, v in data.task_breakdown(task).items():
            parts[k] = parts.get(k, 0) + v
        want[task.name] = (count + 1, parts)
    got = data.breakdown_totals()
    assert got == {n: (c, {k: v for k, v in p.items() if v}) for n, (c, p) in want.items()}
    assert sum(c for c, _ in got.values()) > 30
    durations = data.durations_by_name()
    assert {n: len(d) for n, d in durations.items()} == {n: c for n, (c, _) in got.items()}
    assert data.incomplete_tasks == sum(1 for t in data.tasks if not t.complete)
