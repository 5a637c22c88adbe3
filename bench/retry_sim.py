#!/usr/bin/env python3
"""The A/B retry after run-to-run noise, simulated: from scratch against pooled.

    python bench/retry_sim.py --checks 3000 --scale 1.0 --scale 1.15 --scale 1.25

Runs come from the stand-in of ``tests/unit/test_retry.py``: one handler whose runs differ a lot
(a lognormal run factor, sigma 0.25; 300 requests a run, 12 pairs a check, threshold 10 %,
alpha 0.01), the head's latencies scaled by ``--scale`` (1.0: unchanged code). Each check is
judged by the real code (:func:`perfgate.gate.measure_and_judge`, three looks); when it ends
inconclusive, as many pairs again are made and judged from scratch (the new pairs alone) and
pooled (every pair, :func:`perfgate.gate.measure_more_and_judge`). Prints the outcomes.
No timing: pure computation on drawn runs.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests" / "unit"))

import test_retry as stand_in  # noqa: E402
from retry import Replay  # noqa: E402

from perfgate import gate  # noqa: E402
from perfgate.assess import Provenance  # noqa: E402
from perfgate.config import Config  # noqa: E402
from perfgate.report import ReportVerdict  # noqa: E402

PROVENANCE = Provenance(created="2026-01-01T00:00:00+00:00")


class Source(stand_in.Source):
    def __init__(self, seed: int, scale: float) -> None:
        self.targets = [stand_in.TARGET]
        self.base = stand_in.Recorded("base", 1.0, seed=2 * seed + 100_001)
        self.head = stand_in.Recorded("head", scale, seed=2 * seed + 7)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--checks", type=int, default=3000)
    ap.add_argument("--scale", type=float, action="append")
    args = ap.parse_args()
    config = Config(targets=[stand_in.TARGET], looks=3, retries=0)
    for scale in args.scale or [1.0, 1.15, 1.25]:
        ends = {way: Counter() for way in ("first", "from scratch", "pooled")}
        for seed in range(args.checks):
            source = Source(seed, scale)
            runners = gate.start_runners(source, config)
            first = gate.measure_and_judge(source, config, PROVENANCE, None, runners)
            verdict = first.report.verdict
            ends["first"][verdict.value] += 1
            if verdict != ReportVerdict.INCONCLUSIVE:
                ends["from scratch"][verdict.value] += 1
                ends["pooled"][verdict.value] += 1
                continue
            made = {name: r.rounds for name, r in runners.items()}
            pooled = gate.measure_more_and_judge(source, config, PROVENANCE, runners)
            again = {name: Replay(r, made[name]) for name, r in runners.items()}
            scratch = gate.measure_and_judge(source, config, PROVENANCE, None, again)
            ends["from scratch"][scratch.report.verdict.value] += 1
            ends["pooled"][pooled.report.verdict.value] += 1
        for way, c in ends.items():
            shares = ", ".join(f"{v} {c[v]} ({c[v] / args.checks:.1%})" for v in sorted(c))
            print(f"head x{scale:g}, {way}: {shares}")


if __name__ == "__main__":
    main()
