"""``perfgate init``: a starting perfgate.toml and baselines/embed.go for a Go module, and a
perf test skeleton (perf_test.go, using the perftest Go package) for one of its packages.

Never overwrites: an existing file is left alone and reported as such.
"""

from __future__ import annotations

import re
from pathlib import Path

from perfgate.baseline import write_atomically
from perfgate.errors import PerfgateError

EMBED_GO = """\
// Package baselines embeds perfgate's committed baselines into the Go build,
// so tests can check that every route has one.
//
// Regenerate the JSON files with 'perfgate baseline update'.
package baselines

import (
\t"embed"
\t"encoding/json"
\t"fmt"
)

//go:embed *.json
var files embed.FS

// Handler is one handler's baseline statistics (nanoseconds).
type Handler struct {
\tCount int   `json:"count"`
\tP50Ns int64 `json:"p50_ns"`
\tP95Ns int64 `json:"p95_ns"`
\tP99Ns int64 `json:"p99_ns"`
}

// Baseline is one perfgate target's baseline file.
type Baseline struct {
\tSchemaVersion int                `json:"schema_version"`
\tTarget        string             `json:"target"`
\tHandlers      map[string]Handler `json:"handlers"`
}

// Load returns the baseline of the named target (baselines/<target>.json).
func Load(target string) (*Baseline, error) {
\tdata, err := files.ReadFile(target + ".json")
\tif err != nil {
\t\treturn nil, fmt.Errorf("no baseline for %q: run 'perfgate baseline update': %w", target, err)
\t}
\tvar b Baseline
\tif err := json.Unmarshal(data, &b); err != nil {
\t\treturn nil, fmt.Errorf("baselines/%s.json: %w", target, err)
\t}
\treturn &b, nil
}
"""

PLACEHOLDER_JSON = """\
{
  "schema_version": 1,
  "target": "%s",
  "handlers": {}
}
"""


def _perf_tests(module_dir: Path) -> list[tuple[str, str]]:
    """(package dir relative to the module, test name) for each ``func TestPerf…`` found."""
    found = []
    for path in sorted(module_dir.rglob("*_test.go")):
        if any(part in ("vendor", "testdata") or part.startswith(".") for part in path.parts):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for name in re.findall(r"^func (TestPerf\w*)\(t \*testing\.T\)", text, re.M):
            rel = path.parent.relative_to(module_dir).as_posix()
            found.append(("." if rel == "." else f"./{rel}", name))
    return found


def _config_text(tests: list[tuple[str, str]]) -> str:
    lines = ["# perfgate configuration: see the README's configuration reference.", ""]
    if not tests:
        tests = [(".", "TestPerf")]
        lines.append("# No TestPerf… function found: adjust package and run below.")
    for package, test in tests:
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", test.removeprefix("TestPerf") or "service").lower()
        lines += [
            "[[targets]]",
            f'name = "{name}"',
            f'package = "{package}"',
            f'run = "^{test}$"',
            "# runs = 15          # go test processes per check (pairs with --against: 20)",
            '# threshold = "12%"  # fail only above this p95 rise (and beyond noise)',
            "",
        ]
    return "\n".join(lines)


def scaffold(module_dir: Path) -> list[str]:
    """Create the files that are missing; return one line per file saying what happened."""
    if not (module_dir / "go.mod").is_file():
        raise PerfgateError(
            f"{module_dir} has no go.mod", hint="run 'perfgate init' at the root of a Go module"
        )
    tests = _perf_tests(module_dir)
    config_text = _config_text(tests)
    names = re.findall(r'^name = "(.*)"$', config_text, re.M)
    wanted = {
        module_dir / "perfgate.toml": config_text,
        module_dir / "baselines" / "embed.go": EMBED_GO,
    }
    # go:embed *.json needs at least one file to compile; 'baseline update' fills them in.
    for name in names:
        wanted[module_dir / "baselines" / f"{name}.json"] = PLACEHOLDER_JSON % name
    out = []
    for path, text in wanted.items():
        rel = path.relative_to(module_dir)
        if path.exists():
            out.append(f"kept {rel} (already exists)")
        else:
            write_atomically(path, text)
            out.append(f"created {rel}")
    out.append("next: perfgate baseline update, then commit perfgate.toml and baselines/")
    return out


PERFTEST_IMPORT = "github.com/perfgate/perfgate/perftest"

# A route registration: mux.HandleFunc("GET /items/{id}", …), http.Handle(`/static/`, …).
_ROUTE = re.compile(r"""\.Handle(?:Func)?\(\s*(?:"((?:[^"\\\n]|\\.)*)"|`([^`]*)`)\s*,""")
_PACKAGE = re.compile(r"^package\s+(\w+)", re.M)
_METHODS_WITH_BODY = ("POST", "PUT", "PATCH")

PERF_TEST_GO = """\
package {package}

// {test} is perfgate's perf test for this package, written by 'perfgate init'.
// perfgate runs it several times, each run under the execution tracer:
//
//\tgo test -count=1 -run '^{test}$' -trace=run.trace {package_arg}
//
// perftest.Trace makes every request one runtime/trace task named after the
// http.ServeMux pattern that matched it: that name is the handler in perfgate's report.
// perftest.Run sends each request below PerRoute times (default 300) from four clients,
// after an unmeasured warm-up, and fails the test on any answer outside 2xx.
// Documentation: go doc {perftest}

import (
\t"net/http"
\t"testing"

\t"{perftest}"
)

func {test}(t *testing.T) {{
\tif testing.Short() {{
\t\tt.Skip("perf test skipped in -short mode")
\t}}
\t// TODO: build your service's *http.ServeMux here, with its real dependencies
\t// (or fakes as fast and steady as the real ones), instead of this empty one.
\tmux := http.NewServeMux()
\tperftest.Run(t, perftest.Trace(mux), perftest.Plan{{
\t\tRequests: []perftest.Request{{
{requests}\t\t}},
\t}})
}}
"""


def _go_files(pkg_dir: Path) -> list[Path]:
    return sorted(p for p in pkg_dir.glob("*.go") if not p.name.endswith("_test.go"))


def find_routes(pkg_dir: Path) -> list[str]:
    """The route patterns registered in a package's Go files with ``Handle``/``HandleFunc``
    and a string literal, in order of appearance, each once. A regex, not a Go parser:
    patterns built at run time are not found."""
    routes: list[str] = []
    for path in _go_files(pkg_dir):
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in _ROUTE.finditer(text):
            # A "…" literal's escapes (\" and \\ are all a route would have); `…` is raw.
            pattern = re.sub(r"\\(.)", r"\1", m.group(1)) if m.group(2) is None else m.group(2)
            if pattern and pattern not in routes:
                routes.append(pattern)
    return routes


def _sample_request(pattern: str) -> str:
    """A Go perftest.Request literal for a route pattern, wildcards filled with a value."""
    method, _, rest = pattern.partition(" ")
    if not rest:  # no method: "/static/" or "example.com/x"
        method, rest = "GET", pattern
    host, slash, path = rest.partition("/")
    path = slash + path if slash else "/"
    path = re.sub(r"\{[^}]*\.\.\.\}", "x", path)  # {rest...}
    path = re.sub(r"\{\$?\}", "", path)  # {$}: the end of the path
    path = re.sub(r"\{[^}]*\}", "1", path)  # {id}
    fields = [f'Method: "{method}"', f"Path: {_go_string(path)}"]
    if method in _METHODS_WITH_BODY:
        fields.append("Body: `{}`")
    if host:
        fields.append(f'Header: http.Header{{"Host": {{{_go_string(host)}}}}}')
    return "{" + ", ".join(fields) + "},"


def _request_lines(routes: list[str]) -> str:
    """The Requests entries, one per route with the pattern as a comment, aligned as gofmt
    aligns trailing comments."""
    if not routes:
        return '\t\t\t// TODO: one entry per route, e.g.\n\t\t\t{Method: "GET", Path: "/"},\n'
    literals = [_sample_request(r) for r in routes]
    width = max(len(lit) for lit in literals)
    lines = ["\t\t\t// The routes registered in this package: put real paths, ids and bodies in.\n"]
    for lit, pattern in zip(literals, routes, strict=True):
        lines.append(f"\t\t\t{lit.ljust(width)} // {' '.join(pattern.split())}\n")
    return "".join(lines)


def _go_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _test_name(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "TestPerf" + "".join(w[:1].upper() + w[1:] for w in words)


def perf_test_skeleton(module_dir: Path, package: str) -> list[str]:
    """Write ``perf_test.go`` into the package directory ``package`` (relative to the module,
    as ``go test`` takes it: ``./svc``) unless it exists: a perf test using perftest, with one
    request per route found in the package's Go files. Return one line per thing done.

    Run it before :func:`scaffold`, which then finds the new test for perfgate.toml.
    """
    if not (module_dir / "go.mod").is_file():
        raise PerfgateError(
            f"{module_dir} has no go.mod", hint="run 'perfgate init' at the root of a Go module"
        )
    pkg_dir = (module_dir / package).resolve()
    if not pkg_dir.is_relative_to(module_dir.resolve()):
        raise PerfgateError(f"package {package!r} is outside the module {module_dir}")
    go_files = _go_files(pkg_dir) if pkg_dir.is_dir() else []
    if not go_files:
        raise PerfgateError(
            f"no Go package in {package!r}: no non-test .go files in {pkg_dir}",
            hint="name the directory of the package that serves HTTP, e.g. --perf-test ./api",
        )
    m = _PACKAGE.search(
        "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in go_files)
    )
    pkg_name = m.group(1) if m else "main"
    rel = pkg_dir.relative_to(module_dir.resolve()).as_posix()
    package_arg = "." if rel == "." else f"./{rel}"
    test = _test_name(pkg_dir.name if pkg_name == "main" else pkg_name)
    target = pkg_dir / "perf_test.go"
    shown = target.relative_to(module_dir.resolve()).as_posix()
    if target.exists():
        return [f"kept {shown} (already exists)"]
    for existing in sorted(pkg_dir.glob("*_test.go")):
        if re.search(rf"^func {test}\(", existing.read_text(errors="replace"), re.M):
            return [f"kept {package_arg}: {existing.name} already defines {test}"]

    routes = find_routes(pkg_dir)
    text = PERF_TEST_GO.format(
        package=pkg_name,
        test=test,
        package_arg=package_arg,
        perftest=PERFTEST_IMPORT,
        requests=_request_lines(routes),
    )
    write_atomically(target, text)
    found = f"{len(routes)} route(s) found" if routes else "no routes found"
    return [
        f"created {shown} ({test}; {found})",
        f"next: build your service's mux in {test}, then 'go get {PERFTEST_IMPORT}'",
    ]
