"""bench/zoo/collect.py: the storage format, the calibration arithmetic, the plan's coverage,
and (slow, real Go) a two-round collection of one service and the zoo's own Go checks."""

from __future__ import annotations

import gzip
import importlib.util
import json
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZOO = ROOT / "bench" / "zoo"
COLLECT = ZOO / "collect.py"

_spec = importlib.util.spec_from_file_location("zoo_collect", COLLECT)
assert _spec and _spec.loader
collect = importlib.util.module_from_spec(_spec)
sys.modules["zoo_collect"] = collect
_spec.loader.exec_module(collect)

KINDS = {"const", "prop", "tail", "alloc", "lock", "block"}


def test_split_has_two_halves_of_at_least_four_services_each():
    split = json.loads((ZOO / "split.json").read_text())
    tuning, held_out = set(split["tuning"]), set(split["held_out"])
    assert len(tuning) >= 4 and len(held_out) >= 4
    assert not tuning & held_out
    for svc in tuning | held_out:
        assert (ZOO / svc / "perf_test.go").is_file(), svc


def test_plan_covers_every_kind_on_two_services_of_each_half():
    split = json.loads((ZOO / "split.json").read_text())
    for half in ("tuning", "held_out"):
        for kind in KINDS:
            services = {s for s, _, k in collect.PLAN if k == kind and s in split[half]}
            assert len(services) >= 2, (half, kind, services)
    handlers = defaultdict(set)
    for svc, handler, _ in collect.PLAN:
        handlers[svc].add(handler)
    assert set(handlers) == set(split["tuning"]) | set(split["held_out"])
    assert all(1 <= len(h) <= 2 for h in handlers.values()), handlers
    for svc, handler, _ in collect.PLAN:  # every planned handler is a route of its service
        assert f'"{handler}"' in (ZOO / svc / f"{svc}.go").read_text(), (svc, handler)


@pytest.mark.parametrize(
    ("kind", "magnitude", "text"),
    [
        ("const", 8310.4, "GET /x=const:8310ns"),
        ("tail", 250_000, "GET /x=tail:8:250000ns"),
        ("lock", 0.2, "GET /x=lock:1ns"),
        ("block", 1_500_000, "GET /x=block:1500000ns"),
        ("prop", 37.25, "GET /x=prop:37.2"),
        ("alloc", 65536.4, "GET /x=alloc:65536"),
    ],
)
def test_knob_text_round_trips(kind, magnitude, text):
    assert collect.knob_text("GET /x", kind, magnitude) == text
    assert collect.magnitude_of(text, kind) == pytest.approx(max(1, magnitude), rel=0.01, abs=0.5)


def test_interpolate_between_points_made_monotone():
    pts = [(10.0, 5.0), (20.0, 30.0), (40.0, 20.0)]  # noise made the largest knob look smaller
    assert collect.interpolate(pts, 5.0) == pytest.approx(10.0)
    assert collect.interpolate(pts, 2.5) == pytest.approx(5.0)  # from (0, 0)
    assert collect.interpolate(pts, 17.5) == pytest.approx(15.0)
    # Beyond the largest change: in proportion from the largest magnitude, at most 4×.
    assert collect.interpolate([(10.0, 20.0)], 40.0) == pytest.approx(20.0)
    assert collect.interpolate([(10.0, 1.0)], 50.0) == pytest.approx(40.0)
    assert collect.interpolate([(10.0, -3.0)], 10.0) == pytest.approx(40.0)


def test_round_plan_runs_every_variant_once_and_unchanged_twice():
    vs = [collect.Variant("a", "const+15", "X=const:1ns"), collect.Variant("b", "tail+25", "Y")]
    plan = collect.round_plan(vs, 2, seed=7)
    names = sorted((v.service, v.name, rep) for v, rep in plan)
    assert names == [
        ("a", "const+15", 0),
        ("a", "unchanged", 0),
        ("a", "unchanged", 1),
        ("b", "tail+25", 0),
        ("b", "unchanged", 0),
        ("b", "unchanged", 1),
    ]
    assert [v.name for v, _ in plan] != [v.name for v, _ in collect.round_plan(vs, 2, seed=8)] or (
        len(plan) < 3
    )


def _record(variant, round_no, durations, handler=None):
    return {
        "service": "svc",
        "variant": variant,
        "round": round_no,
        "rep": 0,
        "start": 1e9,
        "seconds": 0.5,
        "handler": handler,
        "durations": durations,
    }


def test_records_append_as_gzip_members_and_survive_a_cut_off_end(tmp_path, capsys):
    out = tmp_path / "runs.jsonl.gz"
    for r in range(3):
        collect.append_record(out, _record("unchanged", r, {"GET /a": [1, 2, 3]}))
    whole = out.read_bytes()
    out.write_bytes(whole + gzip.compress(b'{"service": "svc", "variant"')[:-9])
    got = list(collect.read_records([out]))
    assert [r["round"] for r in got] == [0, 1, 2]
    assert "cut off" in capsys.readouterr().err


def test_summary_rows_pool_every_request_and_compare_with_unchanged():
    base = [
        _record("unchanged", r, {"GET /a": list(range(1, 101)), "GET /b": [5] * 100})
        for r in range(2)
    ]
    slow = [
        _record(
            "tail+25",
            r,
            {"GET /a": [d * 2 for d in range(1, 101)], "GET /b": [5] * 100},
            handler="GET /a",
        )
        for r in range(2)
    ]
    rows = {(r[1], r[2]): r for r in collect.summary_rows(base + slow)}
    assert rows["unchanged", "GET /a"][3:5] == ["2", "0.1"]  # p95 of 1..100 twice: 95 ns
    assert rows["tail+25", "*GET /a"][4:6] == ["0.2", "+100.0%"]
    assert rows["tail+25", "GET /b"][5] == "+0.0%"


def _go() -> str:
    go = shutil.which("go")
    if go is None:
        pytest.skip("needs a Go toolchain on PATH")
    return go


@pytest.mark.slow
def test_zoo_go_vet_and_short_tests_pass():
    go = _go()
    env = {
        "GOTOOLCHAIN": "local",
        "PATH": str(Path(go).parent) + ":/usr/bin:/bin",
        "HOME": str(Path.home()),
    }
    for cmd in ([go, "vet", "./..."], [go, "test", "-short", "-count=1", "./..."]):
        proc = subprocess.run(cmd, cwd=ZOO, capture_output=True, text=True, env=env, timeout=600)
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_collect_two_rounds_of_one_service_then_extend(tmp_path):
    _go()
    variants = tmp_path / "variants.json"
    variants.write_text(
        json.dumps(
            {
                "variants": [
                    {
                        "service": "catalog",
                        "handler": "GET /items/{id}",
                        "kind": "tail",
                        "name": "tail+25",
                        "target_pct": 25,
                        "knob": "GET /items/{id}=tail:8:40us",
                    },
                    {
                        "service": "blog",
                        "handler": "GET /feed",
                        "kind": "const",
                        "name": "const+25",
                        "target_pct": 25,
                        "knob": "GET /feed=const:50us",
                    },
                ]
            }
        )
    )
    out = tmp_path / "runs.jsonl.gz"
    base = [
        sys.executable,
        str(COLLECT),
        "collect",
        "--out",
        str(out),
        "--variants",
        str(variants),
        "--services",
        "catalog",
        "--unchanged",
        "1",
    ]
    proc = subprocess.run([*base, "--rounds", "2"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    runs = list(collect.read_records([out]))
    assert sorted((r["round"], r["variant"]) for r in runs) == [
        (0, "tail+25"),
        (0, "unchanged"),
        (1, "tail+25"),
        (1, "unchanged"),
    ]
    routes = {
        "GET /items/{id}",
        "GET /items",
        "PUT /items/{id}/stock",
        "GET /categories/{name}/summary",
    }
    for r in runs:
        assert r["service"] == "catalog"
        assert set(r["durations"]) == routes
        assert all(len(d) == 1000 and min(d) > 0 for d in r["durations"].values())
        assert r["seconds"] > 0 and r["cpu_seconds"] > 0 and r["start"] > 1.7e9
        assert r["incomplete"] == 0
        if r["variant"] == "tail+25":
            assert r["slow"] == "GET /items/{id}=tail:8:40us" and r["handler"] == "GET /items/{id}"
            assert r["kind"] == "tail" and r["target_pct"] == 25
        else:
            assert r["slow"] == "" and r["handler"] is None
    # Extending the file continues the round numbers.
    proc = subprocess.run([*base, "--rounds", "1"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert sorted({r["round"] for r in collect.read_records([out])}) == [0, 1, 2]
    proc = subprocess.run(
        [sys.executable, str(COLLECT), "summary", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "*GET /items/{id}" in proc.stdout and "6 runs, 3 rounds" in proc.stdout


def test_isotonic_pools_violators_and_keeps_the_origin():
    fit = dict(collect.isotonic([(10.0, 20.0, 3), (20.0, 10.0, 1), (30.0, 40.0, 2)]))
    assert fit[0.0] == 0.0
    assert fit[10.0] == pytest.approx(17.5) and fit[20.0] == pytest.approx(17.5)
    assert fit[30.0] == pytest.approx(40.0)
    # A negative first point is pooled with the origin's heavy weight: stays about 0.
    assert dict(collect.isotonic([(5.0, -30.0, 3)]))[5.0] == pytest.approx(-30 * 3 / 1003)


def test_measured_points_compare_with_the_same_stages_unchanged_runs():
    def rec(round_no, slow, durs, kind=None):
        r = _record("x", round_no, {"GET /a": durs}, handler="GET /a" if slow else None)
        return {**r, "slow": slow, "kind": kind}

    recs = [
        rec(100, "", [100] * 100),
        rec(101, "", [100] * 100),
        rec(100, "GET /a=const:5000ns", [150] * 100, "const"),
        rec(200, "", [200] * 100),  # another stage: its own control
        rec(200, "GET /a=const:9000ns", [300] * 100, "const"),
    ]
    pts = collect.measured_points(recs)[("svc", "GET /a", "const")]
    assert sorted(pts) == [(5000.0, 50.0, 1), (9000.0, 50.0, 1)]


def test_origin_slope_fits_a_line_through_zero_within_the_linear_range():
    pts = [(10.0, 20.0, 1), (20.0, 40.0, 1), (40.0, 900.0, 5), (30.0, -80.0, 5)]
    assert collect.origin_slope(pts) == pytest.approx(2.0)  # the last two are out of range
    assert collect.origin_slope([(10.0, 300.0, 1)]) == 0.0


def test_resize_adds_a_variant_only_where_no_collected_one_came_close(tmp_path):
    def rec(variant, slow, kind, factor):
        r = _record(variant, 0, {"GET /a": [int(100 * factor)] * 100}, handler="GET /a")
        return {**r, "slow": slow, "kind": kind, "handler": "GET /a" if slow else None}

    out = tmp_path / "runs.jsonl.gz"
    for r in [
        rec("unchanged", "", None, 1.0),
        rec("tail+15", "GET /a=tail:8:1000ns", "tail", 1.04),  # +4%: too small for +15
        rec("tail+25", "GET /a=tail:8:2000ns", "tail", 1.08),  # +8%: still too small
        rec("const+15", "GET /a=const:1000ns", "const", 1.14),  # close enough to +15
    ]:
        collect.append_record(out, r)
    variants = tmp_path / "variants.json"
    variants.write_text(json.dumps({"variants": []}))
    assert collect.main(["resize", str(out), "--variants", str(variants), "--targets", "15"]) == 0
    added = json.loads(variants.read_text())["variants"]
    assert [(v["service"], v["name"]) for v in added] == [("svc", "tail+15r")]
    # slope: (1000·4 + 2000·8) / (1000² + 2000²) = 0.004 %/ns → 3750 ns for +15%
    assert added[0]["knob"] == "GET /a=tail:8:3750ns"
