"""Explain a handler's p95 change: where its requests around the p95 spent their time.

Three pure stages, no I/O:

1. :func:`attribute` — per task (one request), its latency split into named components:
   ``"region <name>"`` for each runtime/trace region type, and ``"outside regions"``. The map is
   generic (name → ns): when the trace was read with goroutine states, the task's runtime states
   join it (``"runtime: running"``, ``"runtime: scheduler wait"``, ``"runtime: blocked
   (chan receive)"``, …: how its goroutines spent its span, :mod:`perfgate.trace.states`).
   :func:`run_components` does this for every complete task of one trace, column-wise, so the
   measurement loop keeps a few integers per request and never the trace itself.
2. :func:`summarize` — per handler and side (baseline or current): the mean time per request in
   each component, over the requests around the p95 (the *p95 window*) and over all requests.
   This :class:`Breakdown` is what a baseline file stores.
3. :func:`explain` — baseline vs current breakdown, an :class:`Explanation`: the contributors
   to the change among the regions (:func:`explain_change`), largest absolute change first,
   each with its share of the window's latency change; and the same among the runtime states
   (:func:`explain_runtime`). Two lists, because the two splits each add up to the whole (a
   region's time is also some goroutine's running or waiting time): in one list the same
   instant would count twice. :func:`explain_note` words it for a regressed handler.

**Self time.** Regions on one goroutine nest (``WithRegion`` inside ``WithRegion``). A region's
time is its *self time*: its span minus the spans of the regions directly nested in it. So the
components never count an instant twice, and on one goroutine they add up exactly to the task's
latency, ``"outside regions"`` being the task's time in no region at all.

**Concurrency: wall-clock share, not sum.** A task's regions can run on several goroutines at
once (a handler fanning out). Summing their self times would charge one wall-clock instant to
several regions and the components would add up to more than the latency. perfgate charges
each instant of the task's wall-clock span instead: the instant is split equally between the
regions that are innermost-open on some goroutine of the task at that instant (two concurrent
regions get half each); an instant with no region open on any goroutine is ``"outside regions"``
(a goroutine that is in no region while another is, e.g. waiting for it, charges nothing). The
components of a task therefore always add up to its latency, and their changes add up to the
change of the window's mean latency, which is what makes ``share_pct`` meaningful. The equal
split is a simple stand-in for critical-path analysis: a short region overlapping a long one is
charged half of the overlap although the long one alone sets the latency.

Regions are clipped to their task's span; a region open at the start or end of the trace counts
from the task's begin or to its end. Only regions whose ``task_id`` is the task itself count:
regions of child tasks fall into whatever region of the parent encloses them.
"""

from __future__ import annotations

import tempfile
from array import array
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import and_, eq, sub

from perfgate.report import Breakdown, ExplainItem, Verdict
from perfgate.stats import nearest_rank
from perfgate.trace import Region, TraceData
from perfgate.trace.columns import NO_TIME, opt_goroutine
from perfgate.trace.states import OVERLAPPING, RUNNABLE_NAME
from perfgate.units import format_delta

RUNTIME_PREFIX = "runtime: "

OUTSIDE = "outside regions"
WINDOW_LOW, WINDOW_HIGH = 0.925, 0.975  # the p95 window: p92.5 ≤ latency ≤ p97.5, pooled
WINDOW_TEXT = f"latency between p{WINDOW_LOW * 100:g} and p{WINDOW_HIGH * 100:g}"
SHARE_MIN_FRACTION = 0.01  # below 1% of the window's latency, a change is "none": no shares

Span = tuple[int, int, str]  # begin ns, end ns, component name


def region_component(name: str) -> str:
    """The component name of a region type: ``"region <name>"``."""
    return f"region {name}"


# --- stage 1: one task's components ---------------------------------------------------------


def _leaf_spans(spans: list[Span]) -> list[Span]:
    """The self-time pieces of one goroutine's regions: where each region is the innermost one.

    ``spans`` must be sorted by (begin, -end). A region that outlives its enclosing region (not
    possible with WithRegion, since regions pair as a stack) is cut at the enclosing region's end.
    """
    out: list[Span] = []
    stack: list[list] = []  # [end, name, cursor: where its next self-time piece starts]

    def close_until(t: float) -> None:
        while stack and stack[-1][0] <= t:
            end, name, cursor = stack.pop()
            if end > cursor:
                out.append((cursor, end, name))
            if stack:
                stack[-1][2] = end

    for begin, end, name in spans:
        close_until(begin)
        if stack:
            parent = stack[-1]
            end = min(end, parent[0])
            if begin > parent[2]:
                out.append((parent[2], begin, parent[1]))
            parent[2] = begin
        stack.append([end, name, begin])
    close_until(float("inf"))
    return out


def attribute(begin_ns: int, end_ns: int, regions: Iterable[Region]) -> dict[str, int]:
    """One task's latency ``end_ns - begin_ns`` split into components (ns, adding up to it).

    ``regions`` are the task's own regions, on any goroutines. See the module docstring for the
    self-time and concurrency rules.
    """
    per_goroutine: dict[int | None, list[Span]] = {}
    for r in regions:
        b = begin_ns if r.begin_ns is None else max(r.begin_ns, begin_ns)
        e = end_ns if r.end_ns is None else min(r.end_ns, end_ns)
        if e > b:
            name = _COMPONENT.get(r.name) or _COMPONENT.setdefault(r.name, region_component(r.name))
            per_goroutine.setdefault(r.goroutine, []).append((b, e, name))
    total = end_ns - begin_ns
    if not per_goroutine:
        return {OUTSIDE: total}
    if len(per_goroutine) == 1:  # the common case: no overlap possible, exact integers
        (spans,) = per_goroutine.values()
        spans.sort(key=_nesting_order)
        return _one_goroutine(total, spans)
    return _shared(begin_ns, total, per_goroutine.values())


_COMPONENT: dict[str, str] = {}  # region name → component name, to build each string once


def _nesting_order(span: Span) -> tuple[int, int]:
    return span[0], -span[1]


def _one_goroutine(total: int, spans: list[Span]) -> dict[str, int]:
    """Self times of one goroutine's regions (sorted by nesting order), plus outside time."""
    out: dict[str, int] = {}
    covered = 0
    last_end = -1
    nested = False
    for b, e, _ in spans:  # most tasks: a sequence of regions, none inside another
        if b < last_end:
            nested = True
            break
        last_end = e
    for b, e, name in _leaf_spans(spans) if nested else spans:
        out[name] = out.get(name, 0) + e - b
        covered += e - b
    if covered < total:
        out[OUTSIDE] = total - covered
    return out


def _shared(begin_ns: int, total: int, per_goroutine: Iterable[list[Span]]) -> dict[str, int]:
    """Several goroutines: each instant shared equally by the innermost open regions."""
    events: list[tuple[int, int, str]] = []
    for spans in per_goroutine:
        spans.sort(key=_nesting_order)
        for b, e, name in _leaf_spans(spans):
            events.append((b, 1, name))
            events.append((e, -1, name))
    events.sort(key=lambda ev: ev[0])
    out: dict[str, float] = defaultdict(float)
    open_count: dict[str, int] = defaultdict(int)
    n_open, prev, covered = 0, begin_ns, 0
    for t, step, name in events:
        if t > prev and n_open:
            segment = t - prev
            covered += segment
            for open_name, count in open_count.items():
                if count:
                    out[open_name] += segment * count / n_open
        prev = max(prev, t)
        open_count[name] += step
        n_open += step
    if covered < total:
        out[OUTSIDE] += total - covered
    return {name: round(ns) for name, ns in out.items()}


class RunComponents:
    """One handler's tasks in one run, column-wise: task i took ``durations[i]`` ns, of which
    ``columns[c][i]`` ns in component c (0 where the task had none of it).

    Columns of 8-byte integers keep a run's per-request breakdown small (no trace in memory),
    and :meth:`spill` moves them to a :class:`Spill` file: a check then holds only each
    request's duration per run, whatever its number of runs; ``columns`` reads them back.
    """

    def __init__(self, durations: array | None = None, columns: dict[str, array] | None = None):
        self.durations = durations if durations is not None else array("q")
        self._columns = columns if columns is not None else {}
        self._stored: tuple[Spill, int, list[str]] | None = None

    @property
    def columns(self) -> dict[str, array]:
        if self._stored is None:
            return self._columns
        spill, offset, names = self._stored
        size = 8 * len(self.durations)
        raw = spill.read(offset, size * len(names))
        out = {}
        for j, name in enumerate(names):
            col = array("q")
            col.frombytes(raw[j * size : (j + 1) * size])
            out[name] = col
        return out

    @columns.setter
    def columns(self, columns: dict[str, array]) -> None:
        self._columns, self._stored = columns, None

    @property
    def column_names(self) -> list[str]:
        return list(self._columns) if self._stored is None else list(self._stored[2])

    def spill(self, to: Spill) -> None:
        """Move the columns to ``to`` (read back on each access to :attr:`columns`)."""
        if self._stored is None:
            names = list(self._columns)
            offset = to.write([self._columns[n] for n in names])
            self._stored, self._columns = (to, offset, names), {}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RunComponents):
            return NotImplemented
        return self.durations == other.durations and self.columns == other.columns

    def __repr__(self) -> str:
        return f"RunComponents(durations={self.durations!r}, columns={self.columns!r})"

    @classmethod
    def of(cls, tasks: Sequence[tuple[int, Mapping[str, int]]]) -> RunComponents:
        """Columns from (duration, components) per task."""
        names = sorted({name for _, parts in tasks for name in parts})
        return cls(
            durations=array("q", [d for d, _ in tasks]),
            columns={n: array("q", [parts.get(n, 0) for _, parts in tasks]) for n in names},
        )


class Spill:
    """An anonymous temporary file (gone when closed or collected) holding runs' component
    columns off the heap; one per measured source tree."""

    def __init__(self) -> None:
        # Kept open for the object's life, closed (and the file gone) when it is collected.
        self._file = tempfile.TemporaryFile(prefix="perfgate-components-")  # noqa: SIM115
        self._end = 0

    def write(self, columns: Sequence[array]) -> int:
        """Append the columns; where they start."""
        offset = self._end
        self._file.seek(offset)
        for col in columns:
            self._file.write(memoryview(col).cast("B"))
            self._end += len(col) * col.itemsize
        return offset

    def read(self, offset: int, size: int) -> bytes:
        self._file.seek(offset)
        return self._file.read(size)


def run_components(data: TraceData) -> dict[str, RunComponents]:
    """Every complete, named task of one trace, by handler (task name), split into components:
    its regions, and when the trace was read with goroutine states, its runtime states
    (``"runtime: …"``, see :mod:`perfgate.trace.states`).

    With the C extension this works on the trace's columns (:func:`_columns`): no object per
    task or region, :func:`attribute`'s rules in C (``_scan.region_components``: the same
    integers, and the same float shares and rounding for regions on several goroutines), and
    :func:`attribute` itself only for the odd tasks (a task id used twice, a task of zero
    length). The pure-Python path builds the objects (:func:`_objects`). Both give the same
    numbers."""
    from perfgate.trace import scan

    if scan.accelerated():
        got = _columns(data)
        if got is not None:
            return got
    return _objects(data)


def _columns(data: TraceData) -> dict[str, RunComponents] | None:
    from perfgate.trace.scan import _scan

    ann = data.annotations
    tc, rc, strings = ann.tasks, ann.regions, ann.strings
    complete = list(tc.complete())
    kinds = {k for k in compress(tc.name, complete) if strings[k]}
    # The complete named tasks grouped by name (trace order within a name): one block of
    # ``rows`` per handler, so every column of a handler is one contiguous slice.
    rows = array("q")
    blocks: dict[str, tuple[int, int]] = {}
    if len(kinds) <= 16:
        for k in sorted(kinds):
            start = len(rows)
            rows.extend(
                compress(range(len(complete)), map(and_, complete, map(eq, tc.name, repeat(k))))
            )
            blocks[strings[k]] = (start, len(rows))
    else:
        grouped: dict[int, list[int]] = {}
        for i in compress(range(len(complete)), complete):
            k = tc.name[i]
            if k in kinds:
                grouped.setdefault(k, []).append(i)
        for k in sorted(grouped):
            start = len(rows)
            rows.extend(grouped[k])
            blocks[strings[k]] = (start, len(rows))
    n = len(rows)
    got = _scan.region_components(
        (tc.id, tc.begin, tc.end), rows, (rc.task, rc.name, rc.goroutine, rc.begin, rc.end)
    )
    if got is None:
        return None
    odd_b, names_b, matrix, zeros_b = got
    matrix = memoryview(matrix)
    names = [*(region_component(strings[k]) for k in memoryview(names_b).cast("I")), OUTSIDE]
    columns: dict[str, memoryview] = {
        name: matrix[j * n * 8 : (j + 1) * n * 8] for j, name in enumerate(names)
    }
    # Shares that rounded to 0: attribute() still names them (a column of its own).
    zero_pairs = memoryview(zeros_b).cast("q")
    zero_keys = [(zero_pairs[j], names[zero_pairs[j + 1]]) for j in range(0, len(zero_pairs), 2)]
    states = data.states.task_columns(ann, rows) if data.states is not None else {}
    odd = array("q")
    odd.frombytes(odd_b)
    odd_parts = _odd_parts(data, rows, odd)
    begin, end = tc.begin, tc.end
    out: dict[str, RunComponents] = {}
    for name, (lo, hi) in blocks.items():
        block = rows[lo:hi]
        comp = RunComponents(
            durations=array(
                "q", map(sub, map(end.__getitem__, block), map(begin.__getitem__, block))
            )
        )
        mine = [(r - lo, parts) for r, parts in odd_parts if lo <= r < hi]
        keys = {key for _, parts in mine for key in parts}
        keys.update(key for r, key in zero_keys if lo <= r < hi)
        for cname, buf in columns.items():
            col = array("q")
            col.frombytes(buf[lo * 8 : hi * 8])
            if cname in keys or any(col):
                comp.columns[cname] = col
        for cname, col_all in states.items():
            col = col_all[lo:hi]
            if any(col):
                comp.columns[cname] = col
        for r, parts in mine:  # a task id used twice, a zero-length task: attribute()
            for key in parts.keys() - comp.columns.keys():
                comp.columns[key] = array("q", bytes(8 * (hi - lo)))
            for key, col in comp.columns.items():
                if not is_runtime(key):
                    col[r] = parts.get(key, 0)
        comp.columns = dict(sorted(comp.columns.items()))
        out[name] = comp
    return out


def _odd_parts(data: TraceData, rows: array, odd: array) -> list[tuple[int, dict[str, int]]]:
    """:func:`attribute` of the tasks at positions ``odd`` of ``rows`` (their regions' part)."""
    if not odd:
        return []
    tc, rc = data.annotations.tasks, data.annotations.regions
    ids = {tc.id[rows[r]] for r in odd}
    by_task: dict[int, list[Region]] = defaultdict(list)
    strings = data.annotations.strings
    for i in compress(range(len(rc)), map(ids.__contains__, rc.task)):
        by_task[rc.task[i]].append(
            Region(
                rc.task[i],
                strings[rc.name[i]],
                opt_goroutine(rc.goroutine[i]),
                None if rc.begin[i] == NO_TIME else rc.begin[i],
                None if rc.end[i] == NO_TIME else rc.end[i],
            )
        )
    out = []
    for r in odd:
        i = rows[r]
        out.append((r, attribute(tc.begin[i], tc.end[i], by_task.get(tc.id[i], []))))
    return out


def _objects(data: TraceData) -> dict[str, RunComponents]:
    """:func:`run_components` from the Task and Region objects (the pure-Python path)."""
    by_task: dict[int, list[Region]] = defaultdict(list)
    for r in data.regions:
        by_task[r.task_id].append(r)
    tasks: dict[str, list[tuple[int, dict[str, int]]]] = defaultdict(list)
    no_regions: list[Region] = []
    states = data.states is not None
    for task in data.tasks:
        b, e = task.begin_ns, task.end_ns
        if b is not None and e is not None and task.name:
            parts = attribute(b, e, by_task.get(task.id, no_regions))
            if states:
                parts.update(data.task_breakdown(task))
            tasks[task.name].append((e - b, parts))
    return {name: RunComponents.of(parts) for name, parts in tasks.items()}


# --- stage 2: a side's breakdown ------------------------------------------------------------


def summarize(runs: Sequence[RunComponents]) -> Breakdown | None:
    """Pool one handler's runs and average each component over the p95 window and overall.

    The p95 window is every request with pooled p92.5 ≤ latency ≤ pooled p97.5 (nearest rank,
    as the p95 itself). Why a window: the p95 is one request's latency, and one request's
    breakdown is mostly chance; the requests next to it in rank are the ones that set it. Why
    this one: it is symmetric in rank around the p95, so for a smooth distribution its mean
    latency is about the p95 and moves with it — when a change slows the p95, the window's
    latency changes by about as much, and its components say why. It stops at p97.5 because the
    far tail is a different population: on a busy machine the slowest few percent are requests
    that lost the CPU for a scheduler slice (milliseconds) or met a GC pause, which move the p99
    but not the p95; a window reaching p99 (tried first) let those dominate its mean and blame
    whichever region happened to be preempted. 5% of the requests (300 of 6000 at 10 runs ×
    600) is still enough for stable means.

    The window's bounds come from the pooled durations; the sums are then made one run at a
    time (a run's columns may be read back from a :class:`Spill`).
    """
    count = sum(len(run.durations) for run in runs)
    if not count:
        return None
    ordered = sorted(chain.from_iterable(run.durations for run in runs))
    low, high = nearest_rank(ordered, WINDOW_LOW), nearest_rank(ordered, WINDOW_HIGH)
    del ordered
    names = sorted({name for run in runs for name in run.column_names})
    window = dict.fromkeys(names, 0)
    overall = dict.fromkeys(names, 0)
    n = 0
    for run in runs:
        mask = [low <= d <= high for d in run.durations]
        n += sum(mask)
        for name, col in run.columns.items():
            window[name] += sum(compress(col, mask))
            overall[name] += sum(col)
    return Breakdown(
        p95_window={name: round(window[name] / n) for name in names},
        overall={name: round(overall[name] / count) for name in names},
        window_from_ns=low,
        window_to_ns=high,
        window_count=n,
        count=count,
    )


# --- stage 3: the explanation ---------------------------------------------------------------


def is_runtime(name: str) -> bool:
    """Whether a component is a runtime state (``"runtime: …"``) rather than a code region."""
    return name.startswith(RUNTIME_PREFIX)


def explain_change(baseline: Breakdown, current: Breakdown) -> list[ExplainItem]:
    """The contributors to a handler's p95 change among its regions (and time outside them),
    largest absolute change first (then by name).

    Computed on the p95 windows. ``share_pct`` is an item's change as a percentage of the change
    of the window's mean latency (the sum of all items' changes, so the shares add up to 100%,
    a component that moved against the total having a negative share). When that total is under
    1% of the baseline window's latency there is no change to share out: ``share_pct`` is None.
    Components at zero on both sides are left out.
    """
    names = [n for n in _names(baseline, current) if not is_runtime(n)]
    return _ranked(baseline, current, names, names)


def explain_runtime(baseline: Breakdown, current: Breakdown) -> list[ExplainItem]:
    """The same for the runtime states of the tasks' goroutines: running, scheduler wait,
    blocked (by reason), syscall; shares are of the change of their sum (the goroutines' time).
    The GC and stop-the-world items overlap the states: listed, with no share. Empty when
    either side was measured without goroutine states (a baseline from an older perfgate)."""
    names = [n for n in _names(baseline, current) if is_runtime(n)]
    if not any(is_runtime(n) for n in baseline.p95_window) or not any(
        is_runtime(n) for n in current.p95_window
    ):
        return []
    return _ranked(baseline, current, names, [n for n in names if n not in OVERLAPPING])


def _names(baseline: Breakdown, current: Breakdown) -> list[str]:
    return sorted(set(baseline.p95_window) | set(current.p95_window))


def _ranked(
    baseline: Breakdown, current: Breakdown, names: list[str], additive: list[str]
) -> list[ExplainItem]:
    items = []
    for name in names:
        b, c = baseline.p95_window.get(name, 0), current.p95_window.get(name, 0)
        if b or c:
            items.append(ExplainItem(what=name, baseline_ns=b, current_ns=c, delta_ns=c - b))
    parts = set(additive)
    total = sum(i.delta_ns for i in items if i.what in parts)
    base_latency = sum(i.baseline_ns for i in items if i.what in parts)
    if abs(total) >= max(1.0, SHARE_MIN_FRACTION * base_latency):
        for i in items:
            if i.what in parts:
                i.share_pct = round(100 * i.delta_ns / total, 1)
    items.sort(key=lambda i: (-abs(i.delta_ns), i.what))
    return items


@dataclass(frozen=True)
class Explanation:
    """Where one handler's p95 change came from, baseline vs current: ``regions`` (its code
    regions and the time outside them, :func:`explain_change`) and ``runtime`` (what its
    goroutines did, :func:`explain_runtime`), largest change first. Both empty when a side has
    no breakdown; ``missing`` then names that side."""

    regions: list[ExplainItem] = field(default_factory=list)
    runtime: list[ExplainItem] = field(default_factory=list)
    missing: str | None = None  # "baseline" or "current measurement": no breakdown there

    @property
    def scheduler_wait(self) -> ExplainItem | None:
        """The scheduler-wait item (the goroutines runnable, waiting for a CPU), if measured."""
        return next((i for i in self.runtime if i.what == RUNNABLE_NAME), None)

    @property
    def window_latency_ns(self) -> int:
        """The baseline's mean latency in the p95 window (the regions add up to it)."""
        return sum(i.baseline_ns for i in self.regions)

    @property
    def window_change_ns(self) -> int:
        """How much the p95 window's mean latency changed."""
        return sum(i.delta_ns for i in self.regions)


def explain(baseline: Breakdown | None, current: Breakdown | None) -> Explanation:
    """Compare one handler's two breakdowns (a handler measured on both sides)."""
    if baseline is None or current is None:
        return Explanation(missing="baseline" if baseline is None else "current measurement")
    return Explanation(explain_change(baseline, current), explain_runtime(baseline, current))


def explain_note(verdict: Verdict, explanation: Explanation | None) -> str:
    """What the explanation adds to a handler's note: for a regressed handler, its top
    contributor and what the scheduler did (``; top contributor: region price +95.0µs (88%);
    scheduler wait unchanged``), or why there is no explanation; nothing for any other verdict,
    or for a handler not measured on both sides (``explanation`` None)."""
    if verdict != Verdict.REGRESSED or explanation is None:
        return ""
    if explanation.missing is not None:
        note = f"; not explained: the {explanation.missing} has no region breakdown"
        if explanation.missing == "baseline":
            note += " (refresh the baseline with 'perfgate baseline update')"
        return note
    if not explanation.regions:
        return ""
    note = f"; top contributor: {describe(explanation.regions[0])}"
    wait = explanation.scheduler_wait
    if wait is not None:
        latency = explanation.window_latency_ns or 1
        note += (
            "; scheduler wait unchanged"
            if abs(wait.delta_ns) < SHARE_MIN_FRACTION * latency
            else f"; scheduler wait {format_delta(wait.delta_ns)}"
        )
    return note


def describe(item: ExplainItem) -> str:
    """An item in a few words: ``region price +95.0µs (88%)``."""
    share = "" if item.share_pct is None else f" ({item.share_pct:.0f}%)"
    return f"{item.what} {format_delta(item.delta_ns)}{share}"
