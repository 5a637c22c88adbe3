"""Hostile traces: the reader's time and memory (and summing the tasks' breakdowns, what
`perfgate report --states` does) grow linearly with any input, on both paths, and absurd inputs
end in a TraceError that names the limit they broke.

The shapes (tests/trace/craft.py) once cost seconds and gigabytes for a few hundred kilobytes.
Growth is checked without trusting this machine's speed: the same process reads the shape at
scale n and 4n (best of three each) and the 4n read must take under ten times as long and use
under ten times the memory growth (quadratic work would take sixteen times); a hard timeout far
above normal catches a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import craft
import pytest

from perfgate.trace import TraceError, limits, read_trace

HERE = Path(__file__).resolve().parent
SCALE = {"c": 4000, "python": 1000}  # n: what a read at scale n takes must be measurable

_GROWTH = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
import craft
from perfgate.trace import read_trace

def rss():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

shape, n, tmp = {shape!r}, {n}, {tmp!r}
out = {{"base": rss()}}
for scale in (n, 4 * n):
    path = f"{{tmp}}/{{scale}}.trace"
    with open(path, "wb") as f:
        f.write(craft.make(shape, scale, 26 if scale % 2 == 0 else 22))
    best = float("inf")
    for _ in range(3):
        t = time.process_time()
        read_trace(path, reader="native", states=True).breakdown_totals()
        best = min(best, time.process_time() - t)
    out[str(scale)] = {{"seconds": best, "rss": rss()}}
print(json.dumps(out))
"""


@pytest.mark.parametrize("shape", sorted(craft.SHAPES))
def test_crafted_shapes_cost_linear_time_and_memory(
    shape: str, scanner: str, tmp_path: Path
) -> None:
    n = SCALE[scanner]
    script = _GROWTH.format(here=str(HERE), shape=shape, n=n, tmp=str(tmp_path))
    proc = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,  # a few seconds normally; the quadratic reader took minutes
        env=os.environ.copy(),
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout)
    small, big = got[str(n)], got[str(4 * n)]
    # Linear: about 4x. Quadratic: 16x. Slack for timer noise on tiny reads.
    assert big["seconds"] < 10 * small["seconds"] + 0.05, got
    grew_small = small["rss"] - got["base"]
    grew_big = big["rss"] - got["base"]
    assert grew_big < 10 * grew_small + (32 << 20), got


@pytest.mark.parametrize("shape", sorted(craft.SHAPES))
@pytest.mark.parametrize("version", [22, 26])
def test_crafted_shapes_read(shape: str, version: int, tmp_path: Path) -> None:
    """Valid wire format, absurd shape: read in full, every task complete."""
    path = tmp_path / "t.trace"
    path.write_bytes(craft.make(shape, 300, version))
    data = read_trace(path, reader="native", states=True)
    assert not data.truncated and data.annotations.tasks
    assert data.incomplete_tasks == 0
    assert data.states is not None and data.breakdown_totals()


# --- limits ---------------------------------------------------------------------------------


def _refused(path: Path, limit: str, states: bool = False) -> str:
    with pytest.raises(TraceError) as e:
        read_trace(path, reader="native", states=states)
    msg = str(e.value)
    assert limit in msg and str(path) in msg and "refused" in msg, msg
    return msg


def _reasons_trace(tmp_path: Path) -> Path:
    """A goroutine blocking for one more distinct reason than MAX_REASONS allows."""
    strings = dict(craft.BASE_STRINGS)
    events = []
    for i in range(limits.MAX_REASONS + 1):
        strings[100 + i] = b"reason %d" % i
        events.append(craft.ev(16, 1, 7, 1) + craft.ev(20, 1, 100 + i, 0))  # GoStart, GoBlock
    body = craft.generation(1, 26, craft.packed(1, 1, craft.T0, events), strings)
    path = tmp_path / "reasons.trace"
    path.write_bytes(craft.header(26) + body)
    return path


def test_too_many_blocking_reasons_is_refused(tmp_path: Path) -> None:
    path = _reasons_trace(tmp_path)
    _refused(path, "MAX_REASONS", states=True)
    # Without goroutine states the reasons are never looked at: the trace reads.
    assert read_trace(path, reader="native").generations == 1


def test_a_generation_spanning_days_is_refused(tmp_path: Path) -> None:
    far = (limits.MAX_GENERATION_SPAN_NS // 64) + craft.T0 + 1  # ticks of 64 ns
    batches = [
        craft.batch(1, 1, craft.T0, craft.request(1, 1, 1)),
        craft.batch(1, 2, far, craft.request(2, 2, 1)),
    ]
    path = tmp_path / "span.trace"
    path.write_bytes(craft.header(22) + craft.generation(1, 22, batches, craft.BASE_STRINGS))
    _refused(path, "MAX_GENERATION_SPAN_NS")


# The limits below sit far above what a test can afford to write: lowered for these tests (the
# readers read them when a trace is opened), the shapes that cross them are the crafted ones.


def test_too_many_threads_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_THREADS_PER_GENERATION", 100)
    path = tmp_path / "threads.trace"
    path.write_bytes(craft.make("threads_tied", 101))
    _refused(path, "MAX_THREADS_PER_GENERATION")
    path.write_bytes(craft.make("threads_tied", 100))
    assert len(read_trace(path, reader="native").annotations.tasks) == 100


def test_too_many_strings_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_STRINGS_PER_GENERATION", 1000)
    path = tmp_path / "strings.trace"
    path.write_bytes(craft.make("many_strings", 1000))  # plus the five base strings
    _refused(path, "MAX_STRINGS_PER_GENERATION")


def test_too_many_events_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_EVENTS_PER_GENERATION", 5000)
    path = tmp_path / "events.trace"
    path.write_bytes(craft.make("zero_runs", 1000))  # 8 events per request
    _refused(path, "MAX_EVENTS_PER_GENERATION")


def test_too_many_batches_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_BATCHES_PER_GENERATION", 50)
    path = tmp_path / "batches.trace"
    path.write_bytes(craft.make("threads_distinct", 60))
    _refused(path, "MAX_BATCHES_PER_GENERATION")


def test_perfgate_report_refuses_with_exit_2(tmp_path: Path) -> None:
    """The command line: a message naming the limit and exit code 2, no traceback."""
    path = _reasons_trace(tmp_path)
    r = subprocess.run(
        [sys.executable, "-m", "perfgate", "report", "--states", "--json", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    assert r.returncode == 2, r.stderr
    assert "MAX_REASONS" in r.stderr and "Traceback" not in r.stderr
    assert r.stdout == ""
