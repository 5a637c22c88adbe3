"""The command line as users meet it: --version/--help, `report`, `init`, exit codes."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from perfgate import __version__
from perfgate.trace.states import OVERLAPPING

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "traces"


def perfgate(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    return subprocess.run(
        [sys.executable, "-m", "perfgate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "GOTOOLCHAIN": "local"},
        timeout=300,
    )


def test_version_and_help():
    r = perfgate("--version")
    assert r.returncode == 0 and __version__ in r.stdout
    r = perfgate("--help")
    assert r.returncode == 0
    for command in ("check", "report", "baseline", "init", "history", "comment", "merge"):
        assert command in r.stdout
    assert "Exit codes" in r.stdout


def nearest_rank(values: list[int], p: float) -> int:
    s = sorted(values)
    return s[max(1, math.ceil(p * len(s) - 1e-9)) - 1]


@pytest.mark.parametrize("version", ["1.22", "1.25", "1.27"])
def test_report_json_matches_go_tool_trace(version):
    """Counts and nearest-rank percentiles per task type equal those from go tool trace's
    own task times (stored beside the fixture), within the tool's 1 ns ordering nudge."""
    expected = json.loads((FIXTURES / f"go{version}.expected.json").read_text())
    durations = defaultdict(list)
    for _id, _parent, name, begin, end, *_ in expected["tasks"]:
        if begin is not None and end is not None and name:
            durations[name].append(end - begin)
    r = perfgate("report", "--json", str(FIXTURES / f"go{version}.trace"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    header_version = {"1.24": "1.23", "1.27": "1.26"}.get(version, version)  # wire-format header
    assert doc["trace_version"] == header_version
    got = {h["name"]: h for h in doc["handlers"]}
    assert set(got) == set(durations)
    for name, values in durations.items():
        h = got[name]
        assert h["count"] == len(values)
        for key, p in (("p50_ns", 0.5), ("p95_ns", 0.95), ("p99_ns", 0.99)):
            assert abs(h[key] - nearest_rank(values, p)) <= 2, (name, key)
        assert abs(h["max_ns"] - max(values)) <= 2
    incomplete = sum(1 for t in expected["tasks"] if t[3] is None or t[4] is None)
    assert doc["incomplete_tasks"] == incomplete
    assert doc["truncated"] is False


def test_report_states_gives_each_handler_its_mean_time_per_state():
    """--states: per handler, mean ns per request in each state, from go tool trace's own
    transitions (the .states.json beside the fixture) for a handler with one goroutine."""
    trace = FIXTURES / "go1.26-runtime.trace"
    r = perfgate("report", "--json", "--states", str(trace))
    assert r.returncode == 0, r.stderr
    (alloc,) = json.loads(r.stdout)["handlers"]
    states = alloc["runtime"]
    assert {"runtime: running", "runtime: scheduler wait", "runtime: blocked (sync)"} <= set(states)
    # Each request's goroutine states add up to its latency (one goroutine per task here).
    additive = sum(v for k, v in states.items() if k not in OVERLAPPING)
    assert abs(additive - alloc["mean_ns"]) <= len(states)
    text = perfgate("report", "--states", str(trace))
    assert "mean time per request by goroutine state" in text.stdout
    assert "scheduler wait" in text.stdout
    assert (
        "runtime" not in json.loads(perfgate("report", "--json", str(trace)).stdout)["handlers"][0]
    )


def test_report_table_pools_several_traces():
    r = perfgate("report", str(FIXTURES / "go1.26.trace"), str(FIXTURES / "go1.26.trace"))
    assert r.returncode == 0, r.stderr
    assert "p95" in r.stdout and "go1.26.trace: Go 1.26 trace" in r.stdout
    single = json.loads(perfgate("report", "--json", str(FIXTURES / "go1.26.trace")).stdout)
    double = json.loads(
        perfgate(
            "report", "--json", str(FIXTURES / "go1.26.trace"), str(FIXTURES / "go1.26.trace")
        ).stdout
    )
    assert [h["count"] * 2 for h in single["handlers"]] == [h["count"] for h in double["handlers"]]


def test_report_names_the_scanner_and_notes_the_python_fallback_once(monkeypatch):
    from perfgate.trace import scan, scanner_name

    trace = str(FIXTURES / "go1.26.trace")
    monkeypatch.delenv(scan.PURE_PYTHON_ENV, raising=False)
    r = perfgate("report", "--json", trace, trace)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["scanner"] == scanner_name()
    if scan._scan is not None:  # built here (tests/trace insists on it where it can be)
        assert scanner_name() == "c" and "pure-Python" not in r.stderr
    monkeypatch.setenv(scan.PURE_PYTHON_ENV, "1")
    r = perfgate("report", "--json", trace, trace)
    assert json.loads(r.stdout)["scanner"] == "python"
    assert r.stderr.count("pure-Python scanner") == 1, r.stderr
    r = perfgate("report", trace)
    assert r.returncode == 0 and r.stderr.count("pure-Python scanner") == 1, r.stderr


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("junk.trace", "not a Go execution trace"),
        ("text.trace", "not a Go execution trace"),
        ("empty.trace", "empty"),
        ("go1.21-v1.trace", "1.21"),
        ("does-not-exist.trace", "not found"),
    ],
)
def test_report_bad_input_exits_2_with_a_message(name, needle):
    r = perfgate("report", str(FIXTURES / name))
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert needle.lower() in r.stderr.lower()
    assert "Traceback" not in r.stderr


def test_report_truncated_trace_keeps_complete_generations():
    r = perfgate("report", "--json", str(FIXTURES / "go1.26-cut70.trace"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["truncated"] is True
    assert doc["handlers"]
    assert "truncated" in doc["traces"][0]["truncation_note"]


@pytest.mark.e2e
@pytest.mark.skipif(shutil.which("go") is None, reason="needs a Go toolchain on PATH")
def test_init_scaffolds_a_go_module_and_never_overwrites(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/ledger\n\ngo 1.22\n")
    (tmp_path / "ledger").mkdir()
    (tmp_path / "ledger" / "ledger.go").write_text("package ledger\n")
    (tmp_path / "ledger" / "perf_test.go").write_text(
        'package ledger\n\nimport "testing"\n\nfunc TestPerfLedger(t *testing.T) {}\n'
    )
    r = perfgate("init", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "created perfgate.toml" in r.stdout and "created baselines/embed.go" in r.stdout
    config = (tmp_path / "perfgate.toml").read_text()
    assert 'package = "./ledger"' in config and 'run = "^TestPerfLedger$"' in config
    # The scaffold compiles: the embed pattern has a file to match.
    build = subprocess.run(
        ["go", "vet", "./..."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "GOTOOLCHAIN": "local"},
    )
    assert build.returncode == 0, build.stderr
    (tmp_path / "perfgate.toml").write_text("# mine\n")
    r = perfgate("init", cwd=tmp_path)
    assert "kept perfgate.toml (already exists)" in r.stdout
    assert (tmp_path / "perfgate.toml").read_text() == "# mine\n"


def test_init_outside_a_go_module(tmp_path):
    r = perfgate("init", cwd=tmp_path)
    assert r.returncode == 2 and "no go.mod" in r.stderr


@pytest.mark.skipif(shutil.which("go") is None, reason="needs a Go toolchain on PATH")
def test_init_with_a_perf_test_skeleton_names_it_in_the_config(tmp_path):
    (tmp_path / "go.mod").write_text("module example.com/shop\n\ngo 1.22\n")
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "routes.go").write_text(
        "package api\n\n"
        'import "net/http"\n\n'
        "func Routes(mux *http.ServeMux, h http.HandlerFunc) {\n"
        '\tmux.HandleFunc("GET /items/{id}", h)\n'
        '\tmux.HandleFunc("POST /orders", h)\n'
        "}\n"
    )
    r = perfgate("init", "--perf-test", "./api", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[0].startswith("created api/perf_test.go (TestPerfApi; 2 route(s)")
    skeleton = (tmp_path / "api" / "perf_test.go").read_text()
    assert '"GET"' in skeleton and '"/items/1"' in skeleton and '"/orders"' in skeleton
    config = (tmp_path / "perfgate.toml").read_text()
    assert 'package = "./api"' in config and 'run = "^TestPerfApi$"' in config
    r = perfgate("init", "--perf-test", "./api", cwd=tmp_path)
    assert r.returncode == 0 and "kept api/perf_test.go" in r.stdout, r.stdout


def test_check_warning_longer_than_a_report_holds_is_exit_2_before_measuring(tmp_path):
    r = perfgate("check", "--warning", "x" * 16_385, cwd=tmp_path)  # no config here either
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "--warning takes at most 16384 characters" in r.stderr and "Traceback" not in r.stderr


def test_report_loads_no_pydantic_model_nor_the_github_client():
    """`perfgate report` must stay light (its whole process is held to 2 x the trace + 50 MB,
    docs/benchmarks.md): the CLI imports a command only when it runs."""
    code = (
        "import sys\n"
        "from perfgate.cli import main\n"
        "try:\n"
        f"    main(['report', '--states', '--json', {str(FIXTURES / 'go1.26.trace')!r}])\n"
        "except SystemExit as e:\n"
        "    assert not e.code, e.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pydantic', 'github',"
        " 'tabulate', 'git'))\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stderr, proc.stderr


def test_report_statistics_are_the_gates_statistics():
    """trace_summary's plain numbers equal perfgate.stats.handler_stats' on the same runs."""
    from perfgate.stats import handler_stats
    from perfgate.trace import read_trace
    from perfgate.trace_summary import summarize

    datas = [read_trace(FIXTURES / f"go1.{v}.trace") for v in (22, 26)]
    got = summarize(datas)
    runs = [d.durations_by_name() for d in datas]
    assert got and set(got) == {n for r in runs for n in r}
    for name, s in got.items():
        want = handler_stats([r.get(name, []) for r in runs])
        assert (s.count, s.p50_ns, s.p90_ns, s.p95_ns, s.p99_ns, s.max_ns, s.mean_ns) == (
            want.count, want.p50_ns, want.p90_ns, want.p95_ns, want.p99_ns, want.max_ns,
            want.mean_ns,
        )  # fmt: skip
