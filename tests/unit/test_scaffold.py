"""perf_test.go skeletons: routes found by a regex, never an overwrite, gofmt-clean Go."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from perfgate.errors import PerfgateError
from perfgate.scaffold import find_routes, perf_test_skeleton, scaffold

SERVER_GO = """package api

import "net/http"

func routes(mux *http.ServeMux, s *server) {
	mux.HandleFunc("GET /items/{id}", s.getItem)
	mux.HandleFunc( "POST /items" , s.createItem)
	mux.Handle(`/static/{path...}`, http.FileServer(http.Dir("static")))
	mux.HandleFunc("GET /items/{id}", s.getItem) // twice: listed once
	http.HandleFunc("GET /files/{name}/{$}", getFile)
	mux.HandleFunc("DELETE shop.example/items/{id}", s.deleteItem)
	mux.HandleFunc("GET /quo\\"te", nil)
	mux.HandleFunc(pattern, nil) // not a literal: not found
}
"""


def module(tmp_path: Path, files: dict[str, str]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "go.mod").write_text("module example.com/shop\n\ngo 1.22\n")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_find_routes(tmp_path):
    root = module(tmp_path, {"api/server.go": SERVER_GO, "api/server_test.go": SERVER_GO + "x"})
    (root / "api" / "routes_test.go").write_text('mux.HandleFunc("GET /test-only", h)\n')
    assert find_routes(root / "api") == [
        "GET /items/{id}",
        "POST /items",
        "/static/{path...}",
        "GET /files/{name}/{$}",
        "DELETE shop.example/items/{id}",
        'GET /quo"te',
    ]


def test_skeleton_lists_the_routes(tmp_path):
    root = module(tmp_path, {"api/server.go": SERVER_GO})
    out = perf_test_skeleton(root, "./api")
    assert out[0] == "created api/perf_test.go (TestPerfApi; 6 route(s) found)"
    text = (root / "api" / "perf_test.go").read_text()
    assert text.startswith("package api\n")
    assert '\t"github.com/perfgate/perfgate/perftest"\n' in text
    assert "func TestPerfApi(t *testing.T) {" in text
    assert "go test -count=1 -run '^TestPerfApi$' -trace=run.trace ./api" in text
    assert "perftest.Run(t, perftest.Trace(mux), perftest.Plan{" in text
    requests = [line.strip() for line in text.splitlines() if line.strip().startswith("{Method")]
    assert [r.split("//")[0].strip() for r in requests] == [
        '{Method: "GET", Path: "/items/1"},',
        '{Method: "POST", Path: "/items", Body: `{}`},',
        '{Method: "GET", Path: "/static/x"},',
        '{Method: "GET", Path: "/files/1/"},',
        '{Method: "DELETE", Path: "/items/1", Header: http.Header{"Host": {"shop.example"}}},',
        '{Method: "GET", Path: "/quo\\"te"},',
    ]
    assert requests[0].endswith("// GET /items/{id}")


def test_skeleton_without_routes_and_at_the_module_root(tmp_path):
    root = module(tmp_path / "ledger-svc", {"main.go": "package main\n\nfunc main() {}\n"})
    out = perf_test_skeleton(root, ".")
    assert out[0] == "created perf_test.go (TestPerfLedgerSvc; no routes found)"
    text = (root / "perf_test.go").read_text()
    assert text.startswith("package main\n") and "// TODO: one entry per route" in text
    assert "-trace=run.trace .\n" in text


def test_skeleton_never_overwrites(tmp_path):
    root = module(tmp_path, {"api/server.go": SERVER_GO, "api/perf_test.go": "// mine\n"})
    assert perf_test_skeleton(root, "api") == ["kept api/perf_test.go (already exists)"]
    assert (root / "api" / "perf_test.go").read_text() == "// mine\n"

    (root / "api" / "perf_test.go").unlink()
    (root / "api" / "load_test.go").write_text("package api\n\nfunc TestPerfApi(t *testing.T) {}\n")
    assert perf_test_skeleton(root, "./api") == [
        "kept ./api: load_test.go already defines TestPerfApi"
    ]
    assert not (root / "api" / "perf_test.go").exists()


@pytest.mark.parametrize(
    ("package", "message"),
    [
        ("./nothing", "no Go package in './nothing'"),
        ("./docs", "no Go package in './docs'"),
        ("../elsewhere", "package '../elsewhere' is outside the module"),
    ],
)
def test_skeleton_bad_package(tmp_path, package, message):
    root = module(tmp_path / "m", {"docs/README.md": "x", "docs/a_test.go": "package docs\n"})
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.go").write_text("package elsewhere\n")
    with pytest.raises(PerfgateError, match=re.escape(message)):
        perf_test_skeleton(root, package)


def test_skeleton_needs_a_module(tmp_path):
    with pytest.raises(PerfgateError, match=r"no go\.mod"):
        perf_test_skeleton(tmp_path, ".")


def test_scaffold_after_the_skeleton_configures_it(tmp_path):
    root = module(tmp_path, {"api/server.go": SERVER_GO})
    perf_test_skeleton(root, "./api")
    scaffold(root)
    config = (root / "perfgate.toml").read_text()
    assert 'name = "api"' in config
    assert 'package = "./api"' in config and 'run = "^TestPerfApi$"' in config


@pytest.mark.skipif(shutil.which("gofmt") is None, reason="needs gofmt on PATH")
def test_skeleton_is_gofmt_clean(tmp_path):
    root = module(tmp_path, {"api/server.go": SERVER_GO, "bare/main.go": "package main\n"})
    perf_test_skeleton(root, "./api")
    perf_test_skeleton(root, "./bare")
    proc = subprocess.run(
        ["gofmt", "-l", "-e", "api/perf_test.go", "bare/perf_test.go"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0 and proc.stdout == "", proc.stdout + proc.stderr
