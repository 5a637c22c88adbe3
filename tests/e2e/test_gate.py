"""The gate end to end on the real example_service: baseline, unchanged check, one slower
handler, and every kind of bad input (exit 2 with a clear message, never a pass)."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest
from e2e_support import copy_module, handler_p95_us, perfgate, slow_down

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.usefixtures("go_available")]


@pytest.fixture(scope="module")
def measured(tmp_path_factory) -> Path:
    """A copy of the module with a freshly measured baseline (shared by the tests below)."""
    root = copy_module(tmp_path_factory.mktemp("svc"))
    r = perfgate("baseline", "update", cwd=root)
    assert r.code == 0, r.err
    assert "wrote" in r.out
    return root


def test_baseline_file_has_every_handler_with_runs_and_sketch(measured):
    data = json.loads((measured / "baselines" / "example_service.json").read_text())
    assert data["schema_version"] == 2 and data["target"] == "example_service"
    # A baseline is measured with twice the runs of a check (15).
    assert data["meta"]["runs"] == 30 and data["meta"]["go_version"].startswith("go1.")
    assert len(data["meta"]["cpu_shares"]) == 30
    assert len(data["meta"]["neighbour_loads"]) in (0, 30)  # Linux measures them
    assert set(data["handlers"]) == {
        "GET /healthz",
        "GET /orders/{id}",
        "GET /products",
        "POST /checkout",
    }
    for h in data["handlers"].values():
        assert h["count"] == 18000
        assert len(h["run_p95_ns"]) == 30
        # what the p95's interval is made of: per run, the requests at or below the pooled p95
        assert len(h["run_le_p95"]) == 30 and sum(h["run_le_p95"]) >= 0.95 * h["count"]
        assert h["p95_log_density"] > 0
        assert len(h["sketch_ns"]) == 101
        assert h["p50_ns"] <= h["p95_ns"] <= h["p99_ns"] <= h["max_ns"]


def test_unchanged_code_passes(measured, tmp_path):
    report = tmp_path / "report.json"
    md = tmp_path / "report.md"
    r = perfgate("check", "--json-out", str(report), "--markdown-out", str(md), cwd=measured)
    assert r.code == 0, r.out + r.err
    data = json.loads(report.read_text())
    assert data["verdict"] == "pass"
    assert len(data["handlers"]) == 4
    assert all(h["current"]["count"] >= 200 for h in data["handlers"])
    assert "| GET /products" in md.read_text()
    # progress on stderr; the check stops at the first look at which every handler is decided
    assert re.search(r"run (5|10|15)/(5|10|15) ", r.err), r.err


def test_one_slower_handler_fails_on_that_handler_alone(measured, tmp_path):
    root = copy_module(tmp_path / "slow")
    baseline = measured / "baselines" / "example_service.json"
    (root / "baselines" / "example_service.json").write_text(baseline.read_text())
    # Its baseline p95 again: unambiguous even when the baseline was measured on a busy machine
    # (the detection rate for +33% is measured in docs/benchmarks.md, not asserted here).
    extra = round(handler_p95_us(baseline, "POST /checkout"))
    slow_down(root / "example_service" / "checkout.go", "priceCart", extra)
    report = tmp_path / "report.json"
    r = perfgate("check", "--json-out", str(report), cwd=root)
    assert r.code == 1, r.out + r.err
    verdicts = {h["name"]: h["verdict"] for h in json.loads(report.read_text())["handlers"]}
    assert verdicts.pop("POST /checkout") == "regressed"
    # The others may move a little with it (it takes CPU from them): never a failure.
    assert set(verdicts.values()) <= {"pass", "improved", "inconclusive"}, verdicts


# --- bad input: exit 2, a message saying what is wrong and what to do, no traceback ---------


def assert_exit2(r, *needles: str) -> None:
    assert r.code == 2, (r.code, r.out, r.err)
    assert "Traceback" not in r.err
    for n in needles:
        assert n in r.err, (n, r.err)


def test_no_config(tmp_path):
    (tmp_path / ".git").mkdir()
    assert_exit2(perfgate("check", cwd=tmp_path), "no perfgate.toml", "perfgate init")


def test_invalid_config(tmp_path):
    root = copy_module(tmp_path)
    (root / "perfgate.toml").write_text(
        '[[targets]]\nname = "x"\npackage = "."\nrun = "y"\nrnus = 3\n'
    )
    assert_exit2(perfgate("check", cwd=root), "unknown key", "rnus")


def test_no_baseline_yet(tmp_path):
    root = copy_module(tmp_path)
    (root / "baselines" / "example_service.json").unlink()
    assert_exit2(perfgate("check", cwd=root), "no baseline", "perfgate baseline update")


def test_corrupt_baseline(tmp_path):
    root = copy_module(tmp_path)
    (root / "baselines" / "example_service.json").write_text('{"schema_version": 1, "target": ')
    assert_exit2(perfgate("check", cwd=root), "example_service.json", "not valid JSON")


def test_compile_error_shows_gos_output(tmp_path):
    root = copy_module(tmp_path)
    health = root / "example_service" / "health.go"
    health.write_text(health.read_text() + "\nfunc broken() { undefinedThing() }\n")
    assert_exit2(perfgate("check", cwd=root), "could not build", "undefined: undefinedThing")


def with_perf_test(tmp_path: Path, name: str, go_source: str) -> Path:
    """A module copy whose only target runs ``name``, added to example_service as Go source."""
    root = copy_module(tmp_path)
    (root / "example_service" / "zz_extra_test.go").write_text(go_source)
    (root / "perfgate.toml").write_text(
        f'[[targets]]\nname = "example_service"\npackage = "./example_service"\nrun = "^{name}$"\n'
    )
    return root


def test_failing_test_shows_its_output(tmp_path):
    root = with_perf_test(
        tmp_path,
        "TestPerfBroken",
        'package main\n\nimport "testing"\n\n'
        'func TestPerfBroken(t *testing.T) { t.Fatal("perf fixture is broken") }\n',
    )
    assert_exit2(perfgate("check", cwd=root), "perf test failed", "perf fixture is broken")


def test_no_traced_tasks_says_how_to_annotate(tmp_path):
    root = with_perf_test(
        tmp_path,
        "TestPerfNothing",
        'package main\n\nimport "testing"\n\nfunc TestPerfNothing(t *testing.T) {}\n',
    )
    assert_exit2(perfgate("check", cwd=root), "no completed runtime/trace tasks", "trace.NewTask")


def test_crash_mid_trace_is_not_a_measurement(tmp_path):
    root = with_perf_test(
        tmp_path,
        "TestPerfCrash",
        'package main\n\nimport (\n\t"context"\n\t"os"\n\t"runtime/trace"\n\t"testing"\n)\n\n'
        "func TestPerfCrash(t *testing.T) {\n"
        '\t_, task := trace.NewTask(context.Background(), "GET /x")\n'
        "\ttask.End()\n\tos.Exit(0)\n}\n",
    )
    assert_exit2(perfgate("check", cwd=root), "perf test failed")


def test_no_go(tmp_path):
    root = copy_module(tmp_path)
    env = {"PATH": str(tmp_path / "empty"), "PERFGATE_GO": ""}
    r = perfgate("check", cwd=root, env=env)
    assert_exit2(r, "no Go toolchain found", "perfgate[go]")


def test_go_too_old(tmp_path):
    root = copy_module(tmp_path)
    fake = tmp_path / "go"
    fake.write_text('#!/bin/sh\nprintf "go1.21.13\\nlinux\\namd64\\n"\n')
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    r = perfgate("check", cwd=root, env={"PERFGATE_GO": str(fake), "PATH": os.environ["PATH"]})
    assert_exit2(r, "go1.21.13", "Go 1.22 or newer")


def test_failed_refresh_writes_nothing(tmp_path):
    root = copy_module(tmp_path)
    before = (root / "baselines" / "example_service.json").read_bytes()
    health = root / "example_service" / "health.go"
    health.write_text(health.read_text() + "\nfunc broken() { undefinedThing() }\n")
    assert_exit2(perfgate("baseline", "update", cwd=root), "could not build")
    assert (root / "baselines" / "example_service.json").read_bytes() == before
    assert sorted(p.name for p in (root / "baselines").iterdir()) == sorted(
        p.name
        for p in (Path(__file__).resolve().parents[2] / "baselines").iterdir()
        if not p.name.endswith(".md")
    )
