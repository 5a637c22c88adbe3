"""``perfgate init``: a starting perfgate.toml and baselines/embed.go for a Go module.

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
