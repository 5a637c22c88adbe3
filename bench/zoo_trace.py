#!/usr/bin/env python3
"""Write a large execution trace of a zoo service's perf test, for the reader bench.

    python bench/zoo_trace.py --service gateway --scale 30 --out /tmp/gateway.trace \\
        [--go /path/to/go1.27/bin/go]
    python bench/bench_reader.py --trace /tmp/gateway.trace --repeat 2

The zoo (``bench/zoo``) is copied to a temporary directory, the service's ``zoo.Load``
``PerRoute`` multiplied by ``--scale``, and ``go test -run '^TestPerf<Service>$' -trace=OUT``
run once with the given toolchain (``GOTOOLCHAIN=local``). The traces differ in shape from the
fixture program's HTTP load that ``bench_reader.py`` writes by itself: queueing on worker
goroutines (gateway), GC-heavy allocation (ingest), lock contention (sessions), fan-out
(search). At 20-30x a run writes 15-20 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ZOO = Path(__file__).resolve().parent / "zoo"
PER_ROUTE = re.compile(r"^(\s*PerRoute:\s*)(\d+)", re.M)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--service", required=True, help="a zoo service, e.g. gateway")
    ap.add_argument("--scale", type=int, default=30, help="multiply PerRoute by this")
    ap.add_argument("--go", default="go", help="the go command to build and run with")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if not (ZOO / args.service / "perf_test.go").is_file():
        sys.exit(f"no zoo service {args.service!r} in {ZOO}")
    with tempfile.TemporaryDirectory(prefix="zoo-trace-") as tmp:
        mod = Path(tmp) / "zoo"
        shutil.copytree(ZOO, mod, ignore=shutil.ignore_patterns("*.py", "*.json", "__pycache__"))
        perf = mod / args.service / "perf_test.go"
        text, n = PER_ROUTE.subn(lambda m: f"{m[1]}{int(m[2]) * args.scale}", perf.read_text(), 1)
        if n != 1:
            sys.exit(f"{perf}: no 'PerRoute: N' to scale")
        perf.write_text(text)
        test = f"^TestPerf{args.service.capitalize()}$"
        cmd = [args.go, "test", "-count=1", "-run", test, f"-trace={args.out.resolve()}"]
        env = {**os.environ, "GOTOOLCHAIN": "local"}
        subprocess.run([*cmd, f"./{args.service}"], cwd=mod, env=env, check=True)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
