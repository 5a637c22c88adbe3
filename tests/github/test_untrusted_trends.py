"""main's trend notes (issue 16) in a report that is untrusted (issue 12): a crafted report's
``trends`` are validated as strictly as its handlers when ``perfgate comment`` / ``perfgate
merge`` read it (exit 2 naming the field), and the names in them reach the PR comment, the job
summary and the terminal only through :mod:`perfgate.render.escape` — as trend lines and as the
labels of the Mermaid trend charts. Against the GitHub stand-in.
"""

from __future__ import annotations

import json
import os
import random
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from ghserver import GitHubStandIn
from ghserver.fixtures import HEAD, PR, handler, make_report

from perfgate.cli import main
from perfgate.history import History, HistoryPoint, analyse
from perfgate.report import FROM_FILE, Report, TrendKind, TrendNote

SINCE = "abc1234" + "0" * 33
RECENT = [f"{i:02x}" * 20 for i in range(3)] + [SINCE, "def5678" + "0" * 33]
HOSTILE = (
    'POST /pay @octocat <!-- perfgate:marker:x --> [x](https://evil) "]\n```\n'
    "::error::forged #12 <img src=x>"
)


def trend(**kw: Any) -> TrendNote:
    fields: dict[str, Any] = {
        "target": "example_service",
        "handler": "POST /pay",
        "kind": TrendKind.STEP,
        "since_commit": SINCE,
        "merges": 2,
        "before_p95_ns": 250_000,
        "after_p95_ns": 285_000,
        "delta_pct": 14.0,
        "p_value": 0.005,
        "recent_commits": RECENT,
        "recent_p95_ns": [250_000, 251_000, 249_000, 285_000, 286_000],
    }
    return TrendNote(**{**fields, **kw})


def report_with(*trends: TrendNote, target: str = "example_service") -> dict[str, Any]:
    report = make_report(handler("GET /x", target=target))
    report.trends = list(trends)
    return json.loads(report.to_json())


def invoke(args: list[str], env: dict[str, str]):
    clean: dict[str, str | None] = {
        k: None for k in os.environ if k.startswith(("GITHUB_", "PERFGATE_", "GH_"))
    }
    return CliRunner().invoke(main, args, env={**clean, **env})


def workflow_run_env(tmp_path: Path, standin: GitHubStandIn) -> dict[str, str]:
    """The privileged workflow_run job of the fork pattern, on the stand-in."""
    run = {
        "id": 8800,
        "run_attempt": 1,
        "event": "pull_request",
        "head_sha": HEAD,
        "html_url": "https://github.com/acme/shop/actions/runs/8800",
        "head_repository": {"full_name": "mallory/shop"},
        "repository": {"full_name": "acme/shop"},
        "pull_requests": [],
    }
    path = tmp_path / "workflow_run.json"
    path.write_text(json.dumps({"action": "completed", "workflow_run": run}), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "workflow_run",
        "GITHUB_EVENT_PATH": str(path),
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_API_URL": standin.url,
        "GITHUB_TOKEN": "actions-token",
        "GITHUB_RUN_ID": "8801",
        "PERFGATE_GITHUB_BACKOFF": "0.01",
        "PERFGATE_GITHUB_TIMEOUT": "1",
    }


def write(tmp_path: Path, data: Any, name: str = "perfgate-report.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return str(path)


def test_hostile_names_in_trend_notes_are_posted_neutralised(tmp_path, standin):
    data = report_with(trend(handler=HOSTILE))
    result = invoke(
        ["comment", write(tmp_path, data), "--pr", str(PR)], workflow_run_env(tmp_path, standin)
    )
    assert result.exit_code == 0, result.output
    (comment,) = standin.comment_list(PR)
    body = comment["body"]
    assert "**On main** (recorded history):" in body
    assert "+14% over the last 2 merges, since abc1234 (p95 250µs → 285µs)" in body
    # no mention, issue reference, HTML, hidden comment or link from the trend's handler name
    assert not re.search(r"@\w", body) and not re.search(r"(?<!\\)#\d", body)
    assert "<img" not in body and body.count("<!--") == 2
    # (inside a Mermaid code block brackets are a label's text, not a link)
    outside_charts = re.sub(r"```mermaid\n.*?\n```", "", body, flags=re.S)
    assert not re.search(r"(?<!\\)\]\(https://evil", outside_charts)
    # the trend line is one line: the name's line break and code fence stay inside it
    (line,) = [ln for ln in body.splitlines() if "over the last 2 merges" in ln]
    assert line.startswith("- 📈 ") and "\\n" in line
    # the chart: one Mermaid block whose quoted labels hold no quote, backtick or angle bracket
    blocks = re.findall(r"```mermaid\n(.*?)\n```", body, flags=re.S)
    (chart,) = [b for b in blocks if "p95 on main" in b]
    title = next(ln for ln in chart.splitlines() if ln.lstrip().startswith("title "))
    label = title.strip().removeprefix("title ")
    assert label.startswith('"') and label.endswith('"') and label.count('"') == 2
    assert not re.search(r"[<>`]", label) and "[x](https://evil)" in label  # text, in a label
    assert body.count("```") % 2 == 0


def test_merge_keeps_every_reports_trends_and_prints_them_neutralised(
    tmp_path, standin, actions_env
):
    a = report_with(trend(target="svc_a", handler="GET /a::error::forged"), target="svc_a")
    b = report_with(trend(target="svc_b", handler="GET /b", delta_pct=-20.0, after_p95_ns=200_000))
    b["handlers"][0]["target"] = b["targets"][0]["name"] = "svc_b"
    paths = [write(tmp_path, a, "a.json"), write(tmp_path, b, "b.json")]
    result = invoke(["merge", *paths], actions_env)
    assert result.exit_code == 0, result.output
    trend_lines = [ln for ln in result.output.splitlines() if ln.startswith("on main: ")]
    assert len(trend_lines) == 2
    assert trend_lines[0].startswith("on main: svc_a: GET /a:\u200b:error:\u200b:forged: +14%")
    assert trend_lines[1].startswith("on main: svc_b: GET /b: -20%")
    for line in result.output.splitlines():
        if line.lstrip().startswith("::"):
            assert line.startswith(("::error title=perfgate", "::warning title=perfgate")), line
    (comment,) = standin.comment_list(PR)
    assert "svc_a: GET /a" in comment["body"] and "svc_b: GET /b: -20%" in comment["body"]


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        ({"delta_pct": 500.0}, "is not the change from before_p95_ns 250000"),
        ({"before_p95_ns": 0, "delta_pct": 0.0}, "no change can be measured"),
        ({"recent_p95_ns": [1, 2]}, "one p95 per commit"),
        ({"recent_commits": RECENT[:3] + RECENT[4:] + RECENT[:1]}, "not among recent_commits"),
        ({"since_commit": "<img src=x>"}, "since_commit"),
        ({"recent_commits": ["HEAD"] * 5}, "recent_commits"),
        ({"kind": "cliff"}, "'step'"),
        ({"p_value": 2}, "less than or equal to 1"),
        ({"merges": 0}, "greater than or equal to 1"),
        ({"delta_pct": "14"}, "valid number"),
        ({"target": "someone_else"}, "is not a target of this report"),
        ({"handler": "x" * 5000}, "longer than"),
        ({"recent_p95_ns": [-1, 2, 3, 4, 5]}, "greater than or equal to 0"),
    ],
)
def test_absurd_trend_notes_exit_2_for_comment_and_merge(tmp_path, standin, edit, needle):
    data = report_with(trend())
    data["trends"][0].update(edit)
    path = write(tmp_path, data)
    env = workflow_run_env(tmp_path, standin)
    for args in (["comment", path, "--pr", str(PR)], ["merge", path]):
        result = invoke(args, env)
        assert result.exit_code == 2, (args, result.output)
        assert needle in result.output, result.output
        assert "trends" in result.output or "trend" in needle
        assert "Traceback" not in result.output
    assert standin.comment_list(PR) == []


def test_absurdly_many_trend_notes_are_refused(tmp_path, standin):
    data = report_with(trend())
    data["trends"] = data["trends"] * 10_001
    path = write(tmp_path, data)
    result = invoke(["comment", path, "--pr", str(PR)], workflow_run_env(tmp_path, standin))
    assert result.exit_code == 2 and "at most 10000 items" in result.output


def test_the_notes_the_analysis_makes_pass_the_file_rules():
    """What ``perfgate check`` writes must read back: notes found on a real series (a step, a
    drift, an improvement) hold to the consistency rules of a report read from a file."""
    rng = random.Random(5)
    t0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
    levels = {"GET /a": 20_000, "GET /b": 80_000, "POST /c": 300_000, "GET /d": 5_000}

    def factor(h: str, i: int) -> float:
        if h == "POST /c":
            return 1.3 if i >= 20 else 1.0
        if h == "GET /a":
            return 1.0 + 0.06 * max(0, min(i - 18, 4))  # a drift in steps
        if h == "GET /d":
            return 0.7 if i >= 24 else 1.0
        return 1.0

    points = [
        HistoryPoint(
            f"{i:02x}" * 20,
            t0 + timedelta(hours=i),
            f"c{i}",
            "",
            {h: round(v * factor(h, i) * (1 + rng.gauss(0, 0.01))) for h, v in levels.items()},
            15,
        )
        for i in range(30)
    ]
    found = analyse(History("store", points, target="svc", source="store"))
    assert found.trends
    for note in found.trends:
        data = json.loads(note.model_dump_json())
        TrendNote.model_validate_json(json.dumps(data), strict=True, context=FROM_FILE)
    report = make_report(handler("GET /x", target="svc"))
    report.trends = found.trends
    Report.model_validate_json(report.to_json(), strict=True, context=FROM_FILE)
