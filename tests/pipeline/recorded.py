"""Recorded runs: what a measurement of example_service yielded, per run, written to a small
JSON file and read back as a :class:`perfgate.samples.Measurement`.

The golden tests start from these raw inputs — each run's request durations per handler and
each request's breakdown into regions and runtime states, plus the run's CPU time and
goroutine running time — so everything after measuring (summaries, the judge, explanations,
the machine checks, the report, its renderings) is the code under test.

Format (``format`` 1): ``{"format": 1, "side": label, "runs": [run, …]}``; a run is
``{"incomplete": n, "seconds": s, "cpu_seconds": s, "running_seconds": s, "handlers":
{name: {"durations": [ns, …], "components": {component: [ns, …]}}}}`` with one entry per
request in each list; components that are 0 for every request of a run are left out.
``scripts/record_runs.py`` writes them.
"""

from __future__ import annotations

import json
import random
from array import array
from pathlib import Path

from perfgate.explain import RunComponents
from perfgate.samples import Measurement, RunSamples

FORMAT = 1


def trim(run: RunSamples, per_handler: int, rng: random.Random) -> RunSamples:
    """The same run with at most ``per_handler`` requests of each handler, drawn at random
    (the same requests in the durations and in every component column)."""
    durations: dict[str, list[int]] = {}
    components: dict[str, RunComponents] = {}
    for name, values in run.durations.items():
        keep = sorted(rng.sample(range(len(values)), min(per_handler, len(values))))
        durations[name] = [values[i] for i in keep]
        c = run.components.get(name)
        if c is not None:
            columns = {k: array("q", [col[i] for i in keep]) for k, col in c.columns.items()}
            components[name] = RunComponents(array("q", [c.durations[i] for i in keep]), columns)
    return RunSamples(
        durations=durations,
        incomplete=run.incomplete,
        seconds=run.seconds,
        components=components,
        cpu_seconds=run.cpu_seconds,
        running_seconds=run.running_seconds,
    )


def dumps(m: Measurement) -> str:
    """One line per run and handler, so a re-recording reads as a diff of runs."""
    runs = []
    for run in m.runs:
        handlers = []
        for name in sorted(run.durations):
            c = run.components.get(name)
            columns = {
                k: list(col) for k, col in sorted((c.columns if c else {}).items()) if any(col)
            }
            entry = {"durations": list(run.durations[name]), "components": columns}
            handlers.append(f"    {json.dumps(name)}: {json.dumps(entry, separators=(',', ':'))}")
        head = {
            "incomplete": run.incomplete,
            "seconds": round(run.seconds, 3),
            "cpu_seconds": round(run.cpu_seconds, 6),
            "running_seconds": round(run.running_seconds, 6),
        }
        runs.append(json.dumps(head)[:-1] + ', "handlers": {\n' + ",\n".join(handlers) + "\n  }}")
    return (
        f'{{"format": {FORMAT}, "side": {json.dumps(m.label)}, "runs": [\n  '
        + ",\n  ".join(runs)
        + "\n]}\n"
    )


def load(path: Path) -> Measurement:
    """A recorded side as the Measurement it was."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("format") != FORMAT:
        raise ValueError(f"{path}: not a format-{FORMAT} recording")
    runs = []
    for r in data["runs"]:
        handlers = r["handlers"]
        components = {}
        for name, h in handlers.items():
            n = len(h["durations"])
            columns = {k: array("q", v) for k, v in h["components"].items()}
            assert all(len(v) == n for v in columns.values()), (path, name)
            components[name] = RunComponents(array("q", h["durations"]), columns)
        runs.append(
            RunSamples(
                durations={name: list(h["durations"]) for name, h in handlers.items()},
                incomplete=r["incomplete"],
                seconds=r["seconds"],
                components=components,
                cpu_seconds=r["cpu_seconds"],
                running_seconds=r["running_seconds"],
            )
        )
    return Measurement(label=data["side"], runs=runs)
