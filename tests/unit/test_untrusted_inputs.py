"""Baselines and configs from the pull request under review can only make the gate stricter or
fail with exit 2 naming the field, never silently pass (issue 12)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from perfgate.baseline import Machine as MachineInfo
from perfgate.baseline import build_baseline, load_baseline
from perfgate.config import check_paths, load_config
from perfgate.errors import PerfgateError
from perfgate.report import HandlerSummary
from perfgate.samples import Measurement, RunSamples


def good_handler() -> dict[str, Any]:
    return {
        "count": 600,
        "p50_ns": 10_000,
        "p90_ns": 18_000,
        "p95_ns": 20_000,
        "p99_ns": 30_000,
        "max_ns": 90_000,
        "mean_ns": 12_000,
        "run_p95_ns": [19_000, 21_000, 20_000],
        "run_counts": [200, 200, 200],
        "sketch_ns": [1_000, 10_000, 90_000],
    }


def write_baseline(tmp_path: Path, **changes: Any) -> Path:
    h = good_handler()
    meta: dict[str, Any] = {"runs": 3, "commit": "a" * 40, "cpu_shares": [1.0, 1.1, 1.05]}
    for key, value in changes.items():
        if key.startswith("meta_"):
            meta[key[5:]] = value
        elif value is None:
            del h[key]
        else:
            h[key] = value
    data = {"schema_version": 1, "target": "svc", "meta": meta, "handlers": {"GET /a": h}}
    path = tmp_path / "svc.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_good_baseline_loads(tmp_path):
    b = load_baseline(write_baseline(tmp_path), "svc")
    assert b.handlers["GET /a"].p95_ns == 20_000


@pytest.mark.parametrize(
    ("changes", "field", "why"),
    [
        ({"p95_ns": 0}, "p95_ns", "is 0"),
        ({"p95_ns": 0, "p50_ns": 0, "p90_ns": 0}, "p95_ns", "is 0"),
        ({"p95_ns": -1}, "p95_ns", "greater than or equal to 0"),
        ({"run_p95_ns": [], "run_counts": []}, "run_p95_ns", "is empty"),
        ({"run_p95_ns": None, "run_counts": None}, "run_p95_ns", "is empty"),
        ({"run_p95_ns": [0, 0, 0]}, "run_p95_ns", "holds 3 zero"),
        ({"run_p95_ns": [19_000, 0, 20_000]}, "run_p95_ns", "holds 1 zero"),
        ({"run_counts": [200, 200, 201]}, "run_counts", "add up to 601, but count is 600"),
        ({"run_counts": [300, 300]}, "run_counts", "2 entries but run_p95_ns has 3"),
        ({"run_counts": [600, 0, 0]}, "run_counts", "a run with no requests"),
        ({"count": 0, "run_counts": None}, "count", "is 0"),
        ({"meta_runs": 2}, "run_p95_ns", "has 3 runs, but meta.runs says 2"),
        ({"p50_ns": 25_000}, "p95_ns", "out of order"),
        ({"max_ns": 25_000}, "max_ns", "below p99_ns"),
        ({"sketch_ns": [5, 3, 9]}, "sketch_ns", "ascending"),
        ({"p95_ns": 10**400}, "p95_ns", "less than or equal"),
        ({"p95_ns": "20000"}, "p95_ns", "valid integer"),
        ({"p95_ns": 20_000.5}, "p95_ns", "valid integer"),
        ({"meta_cpu_shares": [0.0, 1.0]}, "cpu_shares", "greater than 0"),
        ({"meta_cpu_shares": [1e400]}, "cpu_shares", "finite"),
        ({"meta_commit": "<img src=x>"}, "commit", "pattern"),
    ],
)
def test_a_baseline_that_would_pass_anything_is_exit_2_naming_the_field(
    tmp_path, changes, field, why
):
    path = write_baseline(tmp_path, **changes)
    with pytest.raises(PerfgateError) as err:
        load_baseline(path, "svc")
    message = str(err.value)
    assert field in message and why in message, message
    assert "svc.json" in message and "perfgate baseline update" in message


def test_nan_and_monster_json_are_refused_not_a_traceback(tmp_path):
    path = tmp_path / "svc.json"
    for text in ('{"schema_version": 1, "x": ' + "9" * 5000 + "}", "[" * 100_000):
        path.write_text(text)
        with pytest.raises(PerfgateError, match="not valid JSON"):
            load_baseline(path, "svc")


def test_a_measurement_that_would_make_a_useless_baseline_is_refused():
    """baseline update must not write a baseline that check would refuse (or pass against)."""
    from perfgate.config import Target

    zero = RunSamples(durations={"GET /z": [0] * 100}, incomplete=0, seconds=1.0)
    m = Measurement(label="current", runs=[zero, zero])
    target = Target(name="svc", package=".", run="^TestPerf$")
    with pytest.raises(PerfgateError, match=r"cannot be a baseline: handlers\['GET /z'\]\.p95_ns"):
        build_baseline(target, m, MachineInfo(), "", "", "2026-01-05T09:30:00+00:00")
    ok = RunSamples(durations={"GET /z": list(range(1, 101))}, incomplete=0, seconds=1.0)
    b = build_baseline(target, Measurement("current", [ok, ok]), MachineInfo(), "", "", "")
    assert b.handlers["GET /z"].p95_ns == 95


def test_trusted_models_are_not_held_to_the_file_rules():
    """Inside perfgate (and in tests) summaries are built freely; the rules apply at the edges."""
    assert HandlerSummary(count=1, p50_ns=0, p95_ns=5, p99_ns=0).p95_ns == 5


# --- config --------------------------------------------------------------------------------

MINIMAL = '[[targets]]\nname = "svc"\npackage = "."\nrun = "^TestPerf$"\n'


def config_error(tmp_path: Path, extra: str, top: str = "") -> str:
    path = tmp_path / "perfgate.toml"
    path.write_text(top + MINIMAL + extra)
    with pytest.raises(PerfgateError) as err:
        load_config(path, tmp_path)
    return str(err.value)


@pytest.mark.parametrize(
    ("extra", "top", "needle"),
    [
        ('threshold = "500%"\n', "", "threshold: threshold must be above 0% and at most 100%"),
        ("threshold = 101\n", "", "at most 100%"),
        ('handler_thresholds = { "GET /*" = "1000%" }\n', "", "handler_thresholds"),
        ("min_samples = 1000000000\n", "", "min_samples"),
        ('go_flags = ["-o", "/tmp/elsewhere"]\n', "", "go_flags must not contain '-o'"),
        ('go_flags = ["-o=/tmp/elsewhere"]\n', "", "go_flags must not contain"),
        ("", "alpha = 1e-12\n", "alpha"),
    ],
)
def test_a_config_that_switches_the_gate_off_is_exit_2_naming_the_key(tmp_path, extra, top, needle):
    message = config_error(tmp_path, extra, top)
    assert needle in message and "perfgate.toml" in message


def test_threshold_on_the_command_line_is_bounded_too():
    from click.testing import CliRunner

    from perfgate.cli import main

    result = CliRunner().invoke(main, ["check", "--threshold", "150%"])
    assert result.exit_code == 2 and "at most 100%" in result.output


@pytest.mark.parametrize(
    ("extra", "bad"),
    [
        ('baseline = "../elsewhere/x.json"\n', "baseline"),
        ('baseline = "/tmp/x.json"\n', "baseline"),
        ('baseline = "baselines/../../x.json"\n', "baseline"),
    ],
)
def test_a_path_outside_the_repository_is_refused(tmp_path, extra, bad):
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "perfgate.toml"
    path.write_text(MINIMAL + extra)
    config, root = load_config(path, repo)
    with pytest.raises(PerfgateError, match=f"{bad} = .* outside the repository"):
        check_paths(config, root, repo)
    assert not (tmp_path / "elsewhere").exists()


def test_a_package_directory_outside_the_repository_is_refused(tmp_path):
    repo = tmp_path / "repo"
    (repo / "svc").mkdir(parents=True)
    path = repo / "perfgate.toml"
    path.write_text(MINIMAL.replace('package = "."', 'package = "../other"'))
    config, root = load_config(path, repo)
    with pytest.raises(PerfgateError, match=r"package = '\.\./other'"):
        check_paths(config, root, repo)
    path.write_text(MINIMAL.replace('package = "."', 'package = "./svc"'))
    check_paths(*load_config(path, repo), repo)  # inside: fine
    path.write_text(MINIMAL.replace('package = "."', 'package = "example.com/mod/svc"'))
    check_paths(*load_config(path, repo), repo)  # an import path is no directory


@pytest.mark.skipif(os.name == "nt", reason="symbolic links")
def test_a_symlink_out_of_the_repository_is_refused(tmp_path):
    repo = tmp_path / "repo"
    (repo / "baselines").mkdir(parents=True)
    (tmp_path / "outside.json").write_text("{}")
    (repo / "baselines" / "svc.json").symlink_to(tmp_path / "outside.json")
    path = repo / "perfgate.toml"
    path.write_text(MINIMAL)
    config, root = load_config(path, repo)
    with pytest.raises(PerfgateError, match="outside the repository"):
        check_paths(config, root, repo)


def test_a_config_in_a_subdirectory_may_use_the_repositorys_other_directories(tmp_path):
    repo = tmp_path / "repo"
    (repo / "services" / "api").mkdir(parents=True)
    path = repo / "services" / "api" / "perfgate.toml"
    path.write_text(MINIMAL + 'baseline = "../../baselines/api.json"\n')
    config, root = load_config(path, repo / "services" / "api")
    check_paths(config, root, repo)  # inside the git repository: fine
    with pytest.raises(PerfgateError, match="outside the repository"):
        check_paths(config, root, None)  # outside git, the config's directory is the boundary
