#!/usr/bin/env python3
"""The history issue's acceptance check, on zoo services instead of example_service.

For each service given: a fresh git repository holding a copy of the zoo module (bench/zoo)
and a perfgate.toml for that one service; ten commits on main, each recorded with
``perfgate history record`` (the configured runs, 15 unless --runs); from the sixth commit on,
one handler is about a quarter slower (CPU work of a quarter of its median p95 over the first
five records, through the zoo's ``const`` knob, set in the package's code by that commit); then
``perfgate history --json``. It passes when that handler's change point is at the sixth commit
(or one next to it) and no other handler is named as slower (a change listed alongside it is
not a change point of its own). ``--service example``: example_service, checkout slowed as its
end-to-end test slows it.

    python bench/history_check.py --service sessions --service blog --rounds 2
    python bench/history_check.py --every-route --service catalog --save DIR

``--every-route`` slows each of a service's routes in turn (one history each) instead of its
first; ``--save`` keeps each history's JSON and its records, to analyse them again offline.

Prints one line per history and a summary. A measurement, not a test: what it finds depends
on the machine's noise during the ten records.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from e2e_support import copy_module, slow_down  # noqa: E402
from e2e_support import perfgate as run_perfgate  # noqa: E402

ZOO = REPO / "bench" / "zoo"
COMMITS = 10
SLOW_FROM = 6

# The handler slowed in each service (the first route its perf test names).
SLOWED = {
    "blog": "GET /feed",
    "catalog": "GET /items",
    "gateway": "POST /orders",
    "ingest": "GET /rollups/{name}",
    "pricing": "POST /quotes",
    "reports": "GET /reports/{id}/digest",
    "search": "GET /docs/{id}",
    "sessions": "GET /sessions/{id}",
    "example": "POST /checkout",  # example_service, slowed as its end-to-end test slows it
}


def git(repo: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
    return out.stdout.decode().strip()


def perfgate(repo: Path, *args: str) -> str:
    """The installed CLI's output (outside any Actions job, as the end-to-end tests run it)."""
    r = run_perfgate(*args, cwd=repo)
    if r.code:
        sys.exit(f"perfgate {' '.join(args)}: exit {r.code}\n{r.out}{r.err}")
    return r.out


def one_history(
    service: str, runs: int | None, tmp: Path, save: Path | None, route: str | None = None
) -> dict[str, object]:
    handler = route or SLOWED[service]
    repo = tmp / service
    if service == "example":
        copy_module(repo)
        target = "example_service"
    else:
        shutil.copytree(ZOO, repo, ignore=shutil.ignore_patterns("*.py", "*.json", "__pycache__"))
        test = f"TestPerf{service.capitalize()}"
        (repo / "perfgate.toml").write_text(
            f'[[targets]]\nname = "{service}"\npackage = "./{service}"\nrun = "^{test}$"\n'
        )
        target = service
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Check")
    git(repo, "config", "user.email", "check@example.com")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "service")
    commits: list[str] = []
    record = ["history", "record"] + (["--runs", str(runs)] if runs else [])
    for i in range(1, COMMITS + 1):
        if i == SLOW_FROM:
            before = [
                json.loads(git(repo, "show", f"perfgate-history:{target}/{c}.json"))["handlers"][
                    handler
                ]["p95_ns"]
                for c in commits
            ]
            extra = round(median(before) / 4)
            if service == "example":  # a busy wait in checkout's code, as the e2e test adds
                slow_down(repo / "example_service" / "checkout.go", "priceCart", extra // 1000)
            else:  # the package now sets the zoo's const knob for that handler (CPU work)
                (repo / service / "change.go").write_text(
                    f'package {service}\n\nimport "os"\n\n'
                    f'func init() {{ os.Setenv("ZOO_SLOW", "{handler}=const:{extra}ns") }}\n'
                )
        (repo / "CHANGES.md").write_text(f"change {i}\n")
        git(repo, "add", "-A")
        git(repo, "commit", "-qm", f"change {i}")
        commits.append(git(repo, "rev-parse", "HEAD"))
        perfgate(repo, *record)
    raw = perfgate(repo, "history", "--json")
    if save is not None:  # the history as analysed and its records, to analyse them again
        save.mkdir(parents=True, exist_ok=True)
        (save / f"{service}-{commits[0][:7]}.json").write_text(raw)
        kept = save / f"{service}-{commits[0][:7]}.records"
        kept.mkdir()
        (kept / "slowed").write_text(handler + "\n")
        for i, c in enumerate(commits, start=1):
            body = git(repo, "show", f"perfgate-history:{target}/{c}.json")
            (kept / f"{i:02d}-{c[:7]}.json").write_text(body + "\n")
    doc = json.loads(raw)
    points = doc["change_points"]
    slower = [p for p in points if p["after_p95_ns"] > p["before_p95_ns"]]
    mine = [p for p in slower if p["handler"] == handler]
    at = [commits.index(p["commit"]) + 1 for p in mine]
    others = [p["handler"] for p in slower if p["handler"] != handler]
    ok = any(abs(a - SLOW_FROM) <= 1 for a in at) and not others
    records = [
        json.loads(git(repo, "show", f"perfgate-history:{target}/{c}.json"))["handlers"]
        for c in commits
    ]
    p95 = [r[handler]["p95_ns"] for r in records]
    change = median(p95[SLOW_FROM - 1 :]) / median(p95[: SLOW_FROM - 1]) - 1
    return {
        "service": service,
        "handler": handler,
        "ok": ok,
        "found_at": at,
        "others_slower": others,
        "others_faster": [p["handler"] for p in points if p not in slower],
        "realised_pct": round(100 * change, 1),
        "p95_us": [round(v / 1000) for v in p95],
        "change_points": [
            f"{p['handler']} {p['delta_pct']:+.1f}% at {commits.index(p['commit']) + 1} "
            f"p={p['p_value']}"
            + "".join(
                f"; alongside: {a['handler']} {a['delta_pct']:+.1f}% at "
                f"{commits.index(a['commit']) + 1}"
                for a in p["alongside"]
            )
            for p in points
        ],
        "others_p95_us": {
            h: [round(r[h]["p95_ns"] / 1000) for r in records] for h in records[0] if h != handler
        },
    }


def routes(service: str) -> list[str]:
    """The routes a zoo service's perf test measures (its ``handle("METHOD /path", …)``)."""
    if service == "example":
        return [SLOWED[service]]
    text = "".join(p.read_text() for p in sorted((ZOO / service).glob("*.go")))
    return sorted(set(re.findall(r'"((?:GET|POST|PUT|DELETE|PATCH) /[^"]*)"', text)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--service", action="append", choices=sorted(SLOWED), required=True)
    ap.add_argument("--rounds", type=int, default=1, help="histories per service")
    ap.add_argument("--runs", type=int, default=None, help="runs per record (default: config)")
    ap.add_argument(
        "--save", type=Path, help="keep each history's `perfgate history --json` and records here"
    )
    ap.add_argument(
        "--every-route",
        action="store_true",
        help="slow each of the service's routes in turn (one history each), not only its first",
    )
    args = ap.parse_args()
    results = []
    for _ in range(args.rounds):
        for service in args.service:
            for route in routes(service) if args.every_route else [None]:
                t0 = time.monotonic()
                with tempfile.TemporaryDirectory(prefix="perfgate-hcheck-") as tmp:
                    res = one_history(service, args.runs, Path(tmp), args.save, route)
                res["seconds"] = round(time.monotonic() - t0)
                results.append(res)
                print(json.dumps(res), flush=True)
    passed = sum(bool(r["ok"]) for r in results)
    print(f"passed {passed}/{len(results)}")


if __name__ == "__main__":
    main()
