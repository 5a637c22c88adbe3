#!/usr/bin/env python3
"""Write a large execution trace of a zoo service's perf test, for the reader bench.

    python bench/zoo_trace.py --service gateway --scale 30 --out /tmp/gateway.trace \\
        [--go /path/to/go1.27/bin/go]
    python bench/bench_reader.py --trace /tmp/gateway.trace --repeat 2

The zoo (``bench/zoo``) is copied to a temporary directory with the service's ``zoo.Load``
``PerRoute`` multiplied by ``--scale`` (``overhead.scaled_module``), and ``go test -run
'^TestPerf<Service>$' -trace=OUT`` run once with the given toolchain (``GOTOOLCHAIN=local``).
The traces differ in shape from the fixture program's HTTP load that ``bench_reader.py``
writes by itself: queueing on worker goroutines (gateway), GC-heavy allocation (ingest), lock
contention (sessions), fan-out (search). At 20-30x a run writes 15-20 MB.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from overhead import ZOO, Service, scaled_module


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--service", required=True, help="a zoo service, e.g. gateway")
    ap.add_argument("--scale", type=int, default=30, help="multiply PerRoute by this")
    ap.add_argument("--go", default="go", help="the go command to build and run with")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if not (ZOO / args.service / "perf_test.go").is_file():
        sys.exit(f"no zoo service {args.service!r} in {ZOO}")
    svc = Service(args.service)
    with tempfile.TemporaryDirectory(prefix="zoo-trace-") as tmp:
        mod, _ = scaled_module(Path(tmp) / "zoo", svc, args.scale, runs=1)
        cmd = [args.go, "test", "-count=1", "-run", svc.run, f"-trace={args.out.resolve()}"]
        env = {**os.environ, "GOTOOLCHAIN": "local"}
        subprocess.run([*cmd, svc.package], cwd=mod, env=env, check=True)
    print(f"{args.out}: {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
