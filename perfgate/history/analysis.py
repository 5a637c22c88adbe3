"""Change points and trends in a target's history: which commit made a handler slower (or
faster), and whether main has been drifting lately.

Each handler's series is its log p95 per recorded commit, oldest first. Most of what moves a p95
from one record to the next is the machine — another runner, a busy neighbour — and it moves
every handler of the target together; a change in the code moves one. So with two or more
handlers, the shift the others share at a commit (the median of their deviations from their own
levels; with two handlers, the other's) is taken out first, much as the gate does with a
committed baseline, and each handler's change points are found on what is left: E-Divisive means
with a permutation test (:func:`perfgate.history.changepoints.e_divisive`). The shared shift is
estimated twice: once from each handler's overall level, then from its level between its own
change points, so that one handler's step does not leak into the others'. Levels and changes are
reported in real p95s: the median p95 of the commits between change points. Change points of
several handlers at one commit (or neighbouring ones) are one change, named after the handler it
moved most, the others listed alongside it (:func:`attribute`).

A *trend note* (:class:`~perfgate.report.TrendNote`), what a pull request's comment shows, is a
change point among a handler's last ``recent`` commits, or several in a row the same way (a
drift), with the change from the level before the first to the level after the last.

Pure: a :class:`~perfgate.history.model.History` in, the same history with its change points
and trend notes out.
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Literal

from perfgate.config import DEFAULT_DRIFT_PCT, DEFAULT_HISTORY_MIN_CHANGE_PCT
from perfgate.history.changepoints import (
    DEFAULT_ALPHA,
    DEFAULT_MIN_SIZE,
    DEFAULT_PERMUTATIONS,
    ChangePoint,
    e_divisive,
)
from perfgate.history.model import ChangePointResult, History
from perfgate.report import TrendKind, TrendNote

MIN_SHARED = 2  # handlers measured at a commit for a shared shift: each has another to go by
POLISH_ROUNDS = 3  # turns of estimating levels and the shared shift together
MAX_ROUNDS = 12  # change points taken into the handlers' levels, one per search, at most
ALONGSIDE = 1  # commits apart at most for change points of two handlers to be one change
Gap = Literal["hodges-lehmann", "medians"]  # how min_t measures a step, see _t
Naming = Literal["p95+p50", "p95"]  # what a commit's change is named after, see _moved
LoadingFit = Literal["trimmed", "mad"]  # how steady a loading leaves a handler, see _loaded
LOADINGS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0)  # see _loaded


@dataclass(frozen=True)
class Settings:
    """How change points are searched for and which make a note.

    ``alpha``: the permutation test's level; ``permutations``: shuffles per test; ``min_size``:
    commits on each side of a change point at least; ``min_t``: a change point must move the
    level by this many standard errors (see :func:`_large_enough`), the commit-to-commit noise
    taken as at least ``min_noise_pct`` (the gate's ``drift``: how far a handler moves on its
    own between two sessions), the step measured as ``gap`` says (:func:`_t`: the Hodges–Lehmann
    shift; the medians' difference only to measure what it costs); ``min_change_pct``: … and by
    at least this much (a practical effect: a few percent's wobble between records is not a
    change; 3% by default, below ``note_min_pct`` so that a change point can be found before it
    is large enough for a note); ``shared_shift``: correct for the shift the other handlers
    share (``min_shared``: handlers measured at a commit for that, at least; 3 only to measure
    what two-route services gain); ``naming``: what a commit's change is named after when it
    moved several handlers (:func:`_moved`: their p95s and, from records, their medians;
    ``"p95"`` only to measure what the medians add); ``loading_fit``: how a handler's loading
    on the shared shift is chosen (:func:`_loaded`; ``"mad"`` only to measure what the trimmed
    spread gives); ``max_loading``: the largest loading on it a handler may take
    (:func:`_loaded`; lower only to measure what the loadings do, ``bench/history.py``);
    ``max_points``: only the newest this many commits are analysed (the search is quadratic in
    it); ``recent``: a change point among a handler's newest this many commits makes a note;
    ``note_min_pct``: … when it changed the p95 by at least this much; ``chart_points``: commits
    in a note's chart data.
    """

    alpha: float = DEFAULT_ALPHA
    permutations: int = DEFAULT_PERMUTATIONS
    min_size: int = DEFAULT_MIN_SIZE
    max_points: int = 120
    shared_shift: bool = True
    rank_test: bool = True
    gap: Gap = "hodges-lehmann"
    max_loading: float = max(LOADINGS)
    min_shared: int = MIN_SHARED
    naming: Naming = "p95+p50"
    loading_fit: LoadingFit = "trimmed"
    min_t: float = 3.0
    min_noise_pct: float = DEFAULT_DRIFT_PCT
    min_change_pct: float = DEFAULT_HISTORY_MIN_CHANGE_PCT
    recent: int = 10
    note_min_pct: float = 5.0
    chart_points: int = 20


@dataclass(frozen=True)
class _Series:
    """One handler's values: positions in the history's points, p95 (ns) and log p95."""

    handler: str
    at: list[int]
    p95: list[int]
    log: list[float]


def settings_for(drift_pct: float, min_change_pct: float) -> Settings:
    """The analysis's settings from the configuration's: the noise floor is the gate's
    ``drift``, the minimum change ``history_min_change``."""
    return Settings(min_noise_pct=drift_pct, min_change_pct=min_change_pct)


def analyse(history: History, settings: Settings | None = None) -> History:
    """``history`` with the change points of every handler and the trend notes filled in."""
    s = settings or Settings()
    points = history.points[-s.max_points :] if s.max_points else history.points
    cut = History(**{**_fields(history), "points": points})
    series = _series(cut)
    found = _change_points(series, cut.target, s)
    sizes: dict[tuple[str, str], float] = {}
    for ser in series:
        cps = found[ser.handler]
        b = _bounds(ser, cps)
        for i, cp in enumerate(cps):
            commit = cut.points[ser.at[cp.index]].commit
            sizes[ser.handler, commit] = _moved(cut, ser, b[i], b[i + 1], b[i + 2], s.naming)
    results = attribute(
        cut,
        [
            _result(cut, ser, found[ser.handler], i)
            for ser in series
            for i in range(len(found[ser.handler]))
        ],
        lambda r: sizes[r.handler, r.commit],
    )
    folded = {(a.handler, a.commit) for r in results for a in r.alongside}
    trends: list[TrendNote] = []
    for ser in series:
        cps = found[ser.handler]
        note = _trend(cut, ser, cps, s)
        # A handler that moved alongside another's larger change has no note of its own.
        newest = cut.points[ser.at[cps[-1].index]].commit if cps else ""
        if note is not None and (ser.handler, newest) not in folded:
            trends.append(note)
    return dataclasses.replace(history, change_points=results, trends=trends)


def _moved(history: History, ser: _Series, a: int, b: int, c: int, naming: Naming) -> float:
    """How far the change at ``b`` (between the stretches ``a:b`` and ``b:c`` of ``ser``) moved
    its handler, for naming a commit's change after the handler it moved most
    (:func:`attribute`): the log ratio of its p95s after and before, plus — where the records
    have medians — how far it moved the handler's median request beyond the median of every
    handler's median move over the same commits (the machine's part; with three handlers or
    more). A commit that adds work to one handler moves that handler's median request; a
    handler that only waits longer for the CPU behind it moves its slowest requests, not its
    median (``bench/history_check.py --every-route``, docs/benchmarks.md)."""
    p95 = abs(math.log(_median(ser.p95[b:c]) / _median(ser.p95[a:b])))
    if naming == "p95":
        return p95
    lo, mid, hi = ser.at[a], ser.at[b], ser.at[c - 1] + 1
    moves = {}
    for h in history.handlers:
        before = [p.p50_ns.get(h, 0) for p in history.points[lo:mid]]
        after = [p.p50_ns.get(h, 0) for p in history.points[mid:hi]]
        if all(before) and all(after):
            moves[h] = math.log(_median(after) / _median(before))
    if ser.handler not in moves:
        return p95
    shared = _median(list(moves.values())) if len(moves) >= 3 else 0.0
    return p95 + abs(moves[ser.handler] - shared)


def attribute(
    history: History,
    found: Sequence[ChangePointResult],
    moved: Callable[[ChangePointResult], float],
) -> list[ChangePointResult]:
    """One change, one handler: change points of different handlers at the same commit or
    neighbouring ones are taken as one change — named after the handler it moved most
    (``moved``, :func:`_moved`) and listing the others as ``alongside`` it — sorted by handler
    and commit.

    A commit that makes one handler slower moves the others measured with it too: on a few
    cores they wait for its extra CPU, with fewer of its requests done they share the machine
    with less. That is real and is shown, but it is not the others' code, and a change point of
    its own for each of them would point at code that did not change. A commit that really
    slows several handlers (a shared middleware, a dependency) is one change point still, with
    every handler it moved listed."""
    pos = {p.commit: i for i, p in enumerate(history.points)}
    named: list[ChangePointResult] = []
    for r in sorted(found, key=moved, reverse=True):
        lead = next(
            (
                n
                for n in named
                if n.handler != r.handler
                and abs(pos[n.commit] - pos[r.commit]) <= ALONGSIDE
                and all(a.handler != r.handler for a in n.alongside)
            ),
            None,
        )
        if lead is None:
            named.append(r.model_copy(update={"alongside": []}))
        else:
            lead.alongside.append(r)
    for n in named:
        n.alongside.sort(key=lambda a: (pos[a.commit], a.handler))
    return sorted(named, key=lambda r: (r.handler, pos[r.commit]))


def _fields(history: History) -> dict[str, object]:
    return {f.name: getattr(history, f.name) for f in dataclasses.fields(history)}


def _series(history: History) -> list[_Series]:
    out = []
    for h in history.handlers:
        at = [i for i, p in enumerate(history.points) if p.p95_ns.get(h, 0) > 0]
        p95 = [history.points[i].p95_ns[h] for i in at]
        out.append(_Series(h, at, p95, [math.log(v) for v in p95]))
    return out


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _shared_shift(
    series: Sequence[_Series], levels: dict[str, list[float]], min_shared: int
) -> dict[str, dict[int, float]]:
    """Per handler and history position: the shift the *other* handlers measured there share —
    the median of their deviations from their levels; 0 where fewer than ``min_shared - 1``
    others were measured. Leaving the handler out keeps its own change out of its correction
    (with three handlers the median of all would often be the handler itself). With two
    handlers each goes by the other alone: noisier than a median, but the loading
    (:func:`_loaded`) is 0 where it would not make a handler steadier, and a service with two
    routes is as much at the machine's mercy as one with ten (``bench/history.py --handlers
    2``: a +10% step within five commits 56% → 82%, the issue's check 92% → 99%). Two routes
    cannot always tell which of them changed: when the machine moved at the same commit, "B
    +25% on a machine 15% faster" and "A −21% on one 6% slower" fit the same records, and the
    analysis takes (roughly) the reading with the smaller machine move."""
    devs: dict[int, dict[str, float]] = {}
    for ser in series:
        for at, value, level in zip(ser.at, ser.log, levels[ser.handler], strict=True):
            devs.setdefault(at, {})[ser.handler] = value - level
    out: dict[str, dict[int, float]] = {}
    for ser in series:
        shift = out.setdefault(ser.handler, {})
        for at in ser.at:
            others = [d for h, d in devs[at].items() if h != ser.handler]
            shift[at] = _median(others) if len(others) >= min_shared - 1 else 0.0
    return out


def _loaded(
    series: Sequence[_Series], shift: dict[str, dict[int, float]], settings: Settings
) -> dict[str, dict[int, float]]:
    """Each handler's correction: the others' shared shift times the handler's own loading on
    it — how much it moves when the others do, the one of :data:`LOADINGS` that leaves its
    corrected values steadiest (:func:`_trimmed_spread`; ``settings.loading_fit == "mad"``:
    :func:`noise_of`, as before, only to measure the difference). A handler whose latency is
    dominated by the machine moves with it (about 1), one its siblings' own noise would only
    disturb does not (0: corrected by nothing), one that suffers more than the others more
    than 1."""
    out: dict[str, dict[int, float]] = {}
    for ser in series:
        own = shift.get(ser.handler, {})
        s = [own.get(at, 0.0) for at in ser.at]

        def noise(beta: float, s: list[float] = s, ser: _Series = ser) -> tuple[float, float]:
            values = [v - beta * x for v, x in zip(ser.log, s, strict=True)]
            if settings.loading_fit == "mad":
                return (noise_of(values), abs(beta - 1))
            return (_trimmed_spread(values), abs(beta - 1))

        beta = min((b for b in LOADINGS if b <= settings.max_loading), key=noise)
        out[ser.handler] = {at: beta * x for at, x in zip(ser.at, s, strict=True)}
    return out


def _trimmed_spread(values: Sequence[float]) -> float:
    """The root mean square of the differences between neighbouring values, the largest left
    out: how unsteady a series is, for choosing a loading (:func:`_loaded`). Every difference
    counts (the median of nine, :func:`noise_of`, is itself so noisy that a loading can make
    five differences small while the others grow to 30%, and win), but the largest does not —
    a step of the handler's own, or one busy record, is one difference."""
    diffs = sorted(abs(b - a) for a, b in pairwise(values))[:-1]
    return math.sqrt(sum(d * d for d in diffs) / len(diffs)) if diffs else 0.0


def _segment_levels(values: Sequence[float], cps: Sequence[ChangePoint]) -> list[float]:
    """Each value's level: the median of the values between the change points around it."""
    bounds = [0, *(c.index for c in cps), len(values)]
    out: list[float] = []
    for a, b in pairwise(bounds):
        out += [_median(values[a:b])] * (b - a)
    return out


def _change_points(
    series: Sequence[_Series], target: str, s: Settings
) -> dict[str, list[ChangePoint]]:
    """Each handler's change points, on its values corrected for the shift the others share.

    A step of one handler must not show up in the others through their correction, so the
    steps are taken in one at a time, strongest first: find change points everywhere, make
    the strongest new one part of its handler's level, re-estimate the shared shift from the
    deviations from those levels (:func:`_polish`), and search again — until no new one is
    found."""

    corrected = _corrected

    def detect(shift: dict[str, dict[int, float]]) -> dict[str, list[ChangePoint]]:
        out = {}
        for ser in series:
            values = corrected(ser, shift)
            found = e_divisive(
                values,
                alpha=s.alpha,
                permutations=s.permutations,
                min_size=s.min_size,
                seed=zlib.crc32(f"{target}\0{ser.handler}".encode()),
                rank_test=s.rank_test,
            )
            out[ser.handler] = _large_enough(values, found, s, ser.log)
        return out

    if not s.shared_shift or len(series) < s.min_shared:
        return detect({})
    modelled: dict[str, list[ChangePoint]] = {ser.handler: [] for ser in series}
    by_name = {ser.handler: ser for ser in series}
    shift = _polish(series, modelled, {}, s)
    for _ in range(MAX_ROUNDS):
        found = detect(shift)
        new = [
            (h, cp)
            for h, cps in found.items()
            for cp in cps
            if cp.index not in {m.index for m in modelled[h]}
        ]
        if not new:
            break

        # Strongest by the handler's own values: a step leaked from another handler through
        # the correction is not there at all, a real one is (with the machine's noise).
        h, cp = max(
            new, key=lambda item: _step_t(by_name[item[0]].log, modelled[item[0]], item[1], s)
        )
        modelled[h] = sorted([*modelled[h], cp], key=lambda c: c.index)
        shift = _polish(series, modelled, shift, s)
    return found


def _corrected(ser: _Series, shift: dict[str, dict[int, float]]) -> list[float]:
    own = shift.get(ser.handler, {})
    return [v - own.get(at, 0.0) for at, v in zip(ser.at, ser.log, strict=True)]


def corrected_values(history: History) -> dict[str, list[float]]:
    """Each handler's log p95 per commit corrected for the shift the others share, with no
    change point taken into the levels: the series change points are first searched in (for
    measuring a history's noise, ``bench/history.py``)."""
    series = _series(history)
    s = Settings()
    if len(series) < s.min_shared:
        return {ser.handler: list(ser.log) for ser in series}
    shift = _polish(series, {ser.handler: [] for ser in series}, {}, s)
    return {ser.handler: _corrected(ser, shift) for ser in series}


def _polish(
    series: Sequence[_Series],
    modelled: dict[str, list[ChangePoint]],
    shift: dict[str, dict[int, float]],
    s: Settings,
) -> dict[str, dict[int, float]]:
    """The shared shift, estimated in turns with each handler's levels between its modelled
    change points (levels from the shift-corrected values, the shift from the deviations from
    those levels)."""
    for _ in range(POLISH_ROUNDS):
        levels = {
            ser.handler: _segment_levels(_corrected(ser, shift), modelled[ser.handler])
            for ser in series
        }
        shift = _loaded(series, _shared_shift(series, levels, s.min_shared), s)
    return shift


def _step_t(
    values: Sequence[float], others: Sequence[ChangePoint], cp: ChangePoint, s: Settings
) -> float:
    """How many standard errors the levels on either side of ``cp`` differ by, in ``values``
    cut at ``others`` too (see :func:`_large_enough`)."""
    cuts = sorted({c.index for c in others} | {cp.index})
    bounds = [0, *cuts, len(values)]
    i = bounds.index(cp.index)
    before, after = values[bounds[i - 1] : cp.index], values[cp.index : bounds[i + 1]]
    return _t(before, after, _noise(values, s), s.gap)


def _noise(values: Sequence[float], s: Settings) -> float:
    """The series' commit-to-commit noise (:func:`noise_of`), at least ``s.min_noise_pct``."""
    return max(noise_of(values), math.log1p(s.min_noise_pct / 100))


def _t(
    before: Sequence[float], after: Sequence[float], noise: float, gap: Gap = "hodges-lehmann"
) -> float:
    """The shift between ``before`` and ``after`` in standard errors, given each value's
    ``noise`` (its standard deviation, were the noise normal).

    ``"hodges-lehmann"``: the shift is the median of every difference ``after[j] − before[i]``
    (Hodges and Lehmann's estimate, the one behind the Wilcoxon rank-sum test); its error is
    √(π/3) ≈ 1.0233 × that of the difference of the means for normal noise (95% of the means'
    efficiency), and like a median it does not follow one odd value. ``"medians"``: the
    difference of the two medians, whose error is 1.2533 × the means' (64% of their
    efficiency): the same step is fewer standard errors, so a noisy handler's real step was
    found later or not at all (``bench/history.py``, docs/benchmarks.md)."""
    if gap == "hodges-lehmann":
        scale, shift = 1.0233, _median([a - b for a in after for b in before])
    else:
        scale, shift = 1.2533, _median(after) - _median(before)
    error = scale * noise * math.sqrt(1 / len(before) + 1 / len(after))
    return abs(shift) / error if error > 0 else math.inf


def noise_of(values: Sequence[float]) -> float:
    """The commit-to-commit noise of a series: 1.4826 × the median absolute difference between
    neighbouring values, over √2 — the standard deviation, were the noise normal. A step moves
    one difference only, and a commit measured on a busy machine two, so neither inflates it,
    and no split of the series can make it smaller."""
    diffs = [abs(b - a) for a, b in pairwise(values)]
    return 1.4826 * _median(diffs) / math.sqrt(2) if diffs else 0.0


def _large_enough(
    values: Sequence[float],
    cps: Sequence[ChangePoint],
    s: Settings,
    raw: Sequence[float] | None = None,
) -> list[ChangePoint]:
    """Drop, weakest first, change points whose stretches on either side (the values between
    change points) differ by less than ``s.min_t`` standard errors (the shift of :func:`_t`),
    given the noise of the series (:func:`noise_of`, at least ``s.min_noise_pct``), or whose
    medians differ by less than ``s.min_change_pct`` — in ``values`` and in ``raw`` (the values
    before the correction for the shared shift, whose medians the change point reports). The
    permutation test keeps false change points to ``alpha`` per test, but cannot go below the
    share of the series' arrangements that are as extreme (2 in 252 for ten commits split five
    and five); a handler whose change is no larger than what its noise makes of a few commits is
    not reported. Ten commits estimate the noise poorly — by chance their differences can be
    small, and a few percent of a machine's drift between records then looks like a step — hence
    the floor: a handler moves by about ``min_noise_pct`` between two sessions on its own (the
    gate allows for as much, ``drift``), and a change of a few percent (``min_change_pct``, 3%
    by default) is a wobble between records, not one worth naming."""
    kept = list(cps)
    noise = _noise(values, s)
    min_gap = math.log1p(s.min_change_pct / 100)

    def gap(z: Sequence[float], a: int, b: int, c: int) -> float:
        return abs(_median(z[b:c]) - _median(z[a:b])) / min_gap

    def score(a: int, b: int, c: int) -> float:
        """1 or more: large enough (the smallest of the criteria's ratios) for the change at
        ``b`` between the stretches ``a:b`` and ``b:c``."""
        parts = []
        if s.min_t > 0:
            parts.append(_t(values[a:b], values[b:c], noise, s.gap) / s.min_t)
        if min_gap > 0:
            parts += [gap(values, a, b, c)] + ([gap(raw, a, b, c)] if raw is not None else [])
        return min(parts, default=math.inf)

    while kept:
        bounds = [0, *(c.index for c in kept), len(values)]
        strength = [score(*bounds[i : i + 3]) for i in range(len(kept))]
        weakest = min(range(len(kept)), key=strength.__getitem__)
        if strength[weakest] >= 1:
            break
        del kept[weakest]
    return kept


def _segment_median_ns(ser: _Series, a: int, b: int) -> int:
    return round(_median(ser.p95[a:b]))


def _bounds(ser: _Series, cps: Sequence[ChangePoint]) -> list[int]:
    return [0, *(c.index for c in cps), len(ser.p95)]


def _result(
    history: History, ser: _Series, cps: Sequence[ChangePoint], i: int
) -> ChangePointResult:
    bounds = _bounds(ser, cps)
    before = _segment_median_ns(ser, bounds[i], bounds[i + 1])
    after = _segment_median_ns(ser, bounds[i + 1], bounds[i + 2])
    return ChangePointResult(
        target=history.target,
        handler=ser.handler,
        commit=history.points[ser.at[cps[i].index]].commit,
        before_p95_ns=before,
        after_p95_ns=after,
        delta_pct=_pct(before, after),
        p_value=round(cps[i].p_value, 4),
    )


def _pct(before: int, after: int) -> float:
    return round((after / before - 1) * 100, 1) if before else 0.0


def _trend(
    history: History, ser: _Series, cps: Sequence[ChangePoint], s: Settings
) -> TrendNote | None:
    """The note for the newest change point(s), when recent enough and large enough."""
    n = len(ser.p95)
    bounds = _bounds(ser, cps)
    recent = [i for i, c in enumerate(cps) if n - c.index <= s.recent]
    if not recent:
        return None
    last = recent[-1]
    if last != len(cps) - 1:
        return None  # pragma: no cover (the newest change point is always the last)

    def direction(i: int) -> int:
        lo = _segment_median_ns(ser, bounds[i], bounds[i + 1])
        hi = _segment_median_ns(ser, bounds[i + 1], bounds[i + 2])
        return (hi > lo) - (hi < lo)

    first = last
    while first - 1 in recent and direction(first - 1) == direction(last):
        first -= 1
    before = _segment_median_ns(ser, bounds[first], bounds[first + 1])
    after = _segment_median_ns(ser, bounds[last + 1], bounds[last + 2])
    delta = _pct(before, after)
    if abs(delta) < s.note_min_pct:
        return None
    start = cps[first].index
    shown = max(s.chart_points, n - start + 2)
    return TrendNote(
        target=history.target,
        handler=ser.handler,
        kind=TrendKind.STEP if first == last else TrendKind.DRIFT,
        since_commit=history.points[ser.at[start]].commit,
        merges=n - start,
        before_p95_ns=before,
        after_p95_ns=after,
        delta_pct=delta,
        p_value=round(max(c.p_value for c in cps[first : last + 1]), 4),
        recent_commits=[history.points[at].commit for at in ser.at[-shown:]],
        recent_p95_ns=ser.p95[-shown:],
    )
