"""The native reader against `go tool trace` (same Go version) on every committed fixture.

Each fixture's ``.expected.json`` holds what that Go version's ``go tool trace -d=parsed`` (or
``-d=1``) printed, parsed and paired. Times must agree within 1 ns: Go orders events of different
threads that share a nanosecond by its heap, which the native reader mirrors only approximately.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tracefix import expected, full_traces

from perfgate.trace import read_trace
from perfgate.trace.model import TraceData

TRACES = full_traces()
TOL = 1


def _close(a: int | None, b: int | None) -> bool:
    if a is None or b is None:
        return a is b
    return abs(a - b) <= TOL


def check_tasks(data: TraceData, exp: dict) -> None:
    want = {t[0]: t for t in exp["tasks"]}
    got = {t.id: t for t in data.tasks}
    assert len(data.tasks) == len(exp["tasks"])
    assert got.keys() == want.keys()
    for tid, t in got.items():
        _id, parent, name, begin, end, bg, eg = want[tid]
        assert (t.name, t.parent) == (name, parent), tid
        assert _close(t.begin_ns, begin), (tid, t.begin_ns, begin)
        assert _close(t.end_ns, end), (tid, t.end_ns, end)
        if t.complete:
            assert abs(t.duration_ns - (end - begin)) <= 2 * TOL  # type: ignore[operator]
        assert (t.begin_goroutine, t.end_goroutine) == (bg, eg), tid
    assert data.incomplete_tasks == sum(1 for t in exp["tasks"] if t[3] is None or t[4] is None)


def check_regions(data: TraceData, exp: dict) -> None:
    assert len(data.regions) == len(exp["regions"])

    # Match by identity (goroutine, task, name) and nearest begin/end: the list order of regions
    # that begin at the same nanosecond on different goroutines may differ by Go's tie-break.
    def key(r: list) -> tuple:
        return (r[2], r[0], r[1])

    pool: dict[tuple, list[list]] = {}
    for r in exp["regions"]:
        pool.setdefault(key(r), []).append(r)
    for r in data.regions:
        cands = pool.get((r.goroutine, r.task_id, r.name), [])
        for i, c in enumerate(cands):
            if _close(r.begin_ns, c[3]) and _close(r.end_ns, c[4]):
                cands.pop(i)
                break
        else:
            raise AssertionError(f"no matching region in go tool trace's answer for {r}")


def check_logs(data: TraceData, exp: dict) -> None:
    assert len(data.logs) == len(exp["logs"])
    got = sorted((lg.task_id, lg.key, lg.value, lg.goroutine, lg.time_ns) for lg in data.logs)
    want = sorted((t, k, v, g, ts) for t, k, v, ts, g in exp["logs"])
    for a, b in zip(got, want, strict=True):
        assert a[:4] == b[:4]
        assert abs(a[4] - b[4]) <= TOL


@pytest.mark.parametrize("trace", TRACES, ids=[p.name for p in TRACES])
def test_native_matches_go_tool_trace(trace: Path) -> None:
    exp = expected(trace)
    data = read_trace(trace, reader="native")
    assert data.reader == "native"
    assert not data.truncated
    assert data.bytes_read == data.size == trace.stat().st_size
    syncs = exp["syncs"]
    old_tool = exp["tool"].endswith("-d=1") or exp["go"].startswith("1.24")
    assert data.generations == (syncs if old_tool else syncs - 1)
    check_tasks(data, exp)
    check_regions(data, exp)
    check_logs(data, exp)


def test_fixtures_cover_the_scenarios() -> None:
    """The fixtures hold what the reader must get right (else the differential test is weak)."""
    assert len(TRACES) >= 12
    for trace in TRACES:
        exp = expected(trace)
        tasks = exp["tasks"]
        if "startstop" in trace.name:
            # Begun before tracing: no begin, empty type; ended after: no end.
            assert any(t[3] is None and t[2] == "" and t[4] is not None for t in tasks)
            assert any(t[2] == "post/ended" and t[4] is None for t in tasks)
            continue
        if "flight" in trace.name:
            # A flight recorder's window: the task and region begun before it have no begin
            # (and no type), the task never ended is not in it, fan-out regions of one task
            # sit on several goroutines.
            assert exp["syncs"] >= 2
            assert any(t[3] is None and t[2] == "" and t[4] is not None for t in tasks)
            assert any(r[1] == "early/region" and r[3] is None for r in exp["regions"])
            assert not any(t[2] == "never-ended/flight" for t in tasks)
            fanout = {t[0] for t in tasks if t[2] == "GET /fanout"}
            backends: dict[int, set[int]] = {}
            for r in exp["regions"]:
                if r[1] == "backend" and r[0] in fanout:
                    backends.setdefault(r[0], set()).add(r[2])
            assert any(len(gs) > 1 for gs in backends.values())
            continue
        assert exp["syncs"] >= 3  # several generations
        assert any(t[1] is not None for t in tasks)  # nested tasks
        assert any(t[2] == "handoff" and t[5] != t[6] for t in tasks)  # ended elsewhere
        assert any(t[2] == "never-ended" and t[4] is None for t in tasks)
        assert any(r[1] == "unended" and r[4] is None for r in exp["regions"])
        assert sum(t[2] == "fixture/root" for t in tasks) == 3  # -count=3
        long = [t for t in tasks if t[2] == "long/across-generations"]
        assert len(long) == 1 and long[0][4] - long[0][3] > 2_000_000_000
        assert exp["logs"]
