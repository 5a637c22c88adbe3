"""Check an installed perfgate as a user would use it (no imports from this repository).

    python scripts/smoke_test_install.py TRACE [--scanner c|python] [--version X.Y.Z]

Runs the ``perfgate`` console script installed next to this interpreter: ``perfgate --version``
(and checks it equals ``--version`` when given), then ``perfgate report --json TRACE`` and
``perfgate report TRACE``, and checks that handlers were read, that the report names the event
scanner expected (``--scanner``: ``c`` for a build with the C extension, ``python`` for the
fallback), and that the fallback is noted exactly once on stderr. The release workflow runs it
on every wheel (cibuildwheel's test-command); tests/packaging runs it on wheel and sdist installs.
Exit 0 when all holds, 1 with the reason otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig

NOTE = "pure-Python scanner"


def fail(message: str) -> None:
    print(f"smoke test: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def perfgate_command() -> list[str]:
    scripts = sysconfig.get_path("scripts")
    exe = shutil.which("perfgate", path=scripts)
    if exe is None:
        fail(f"no perfgate console script in {scripts}")
    return [exe]


def run(args: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "PERFGATE_"))}
    return subprocess.run(
        perfgate_command() + args, capture_output=True, text=True, env=env, timeout=600
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace")
    parser.add_argument("--scanner", choices=["c", "python"])
    parser.add_argument("--version")
    opts = parser.parse_args()

    r = run(["--version"])
    if r.returncode != 0:
        fail(f"perfgate --version exited {r.returncode}: {r.stderr}")
    print(r.stdout.strip())
    if opts.version and r.stdout.split()[-1] != opts.version:
        fail(f"perfgate --version says {r.stdout.strip()!r}, expected {opts.version}")

    r = run(["report", "--json", opts.trace])
    if r.returncode != 0:
        fail(f"perfgate report --json exited {r.returncode}: {r.stderr}")
    doc = json.loads(r.stdout)
    handlers = doc.get("handlers") or []
    if not handlers or not all(h["count"] > 0 and h["p95_ns"] > 0 for h in handlers):
        fail(f"no handlers read from {opts.trace}: {r.stdout[:500]}")
    scanner = doc.get("scanner")
    if opts.scanner and scanner != opts.scanner:
        fail(f'the report says "scanner": {scanner!r}, expected {opts.scanner!r}: {r.stderr}')
    expected_notes = 1 if scanner == "python" else 0
    if r.stderr.count(NOTE) != expected_notes:
        fail(f"stderr should note the pure-Python scanner {expected_notes} time(s): {r.stderr}")

    text = run(["report", opts.trace])
    if text.returncode != 0 or handlers[0]["name"] not in text.stdout:
        fail(f"perfgate report exited {text.returncode}: {text.stdout}{text.stderr}")
    if text.stderr.count(NOTE) != expected_notes:
        fail(f"stderr should note the pure-Python scanner {expected_notes} time(s): {text.stderr}")
    print(
        f"smoke test: OK: {len(handlers)} handlers, {sum(h['count'] for h in handlers)} "
        f"requests, scanner {scanner}"
    )


if __name__ == "__main__":
    main()
