"""`perfgate history` as users meet it, on stores with known records (no Go needed): the table,
JSON with change points, Markdown and HTML files, the baseline fallback, and `history record`
refusing bad input before it measures anything (exit 2, nothing written)."""

from __future__ import annotations

import json
import math
import os
import random
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from perfgate.config import load_config
from perfgate.git import check_history_writable, commit_history_files
from perfgate.history import HistoryRecord
from perfgate.report import HandlerStats

CONFIG = '[[targets]]\nname = "svc"\npackage = "."\nrun = "^TestPerf$"\n'
LEVELS = {"GET /a": 20_000, "GET /b": 80_000, "POST /c": 300_000}
T0 = datetime(2025, 3, 1, tzinfo=timezone.utc)


def perfgate(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "GIT_"))}
    return subprocess.run(
        [sys.executable, "-m", "perfgate", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**env, "GOTOOLCHAIN": "local", "GIT_CONFIG_NOSYSTEM": "1"},
        timeout=300,
    )


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def records(
    commits: list[str], slow_from: int, seed: int = 1, by: float = 1.3
) -> list[HistoryRecord]:
    """One record per commit; POST /c ``by`` times slower (30%) from ``slow_from`` on."""
    rng = random.Random(seed)
    out = []
    for i, sha in enumerate(commits):
        stats = {}
        for h, level in LEVELS.items():
            factor = by if h == "POST /c" and i >= slow_from else 1.0
            p95 = round(level * factor * math.exp(rng.gauss(0, 0.02)))
            stats[h] = HandlerStats(
                count=3000, p50_ns=p95 // 2, p95_ns=p95, p99_ns=p95 * 2, run_p95_ns=[p95] * 5
            )
        out.append(
            HistoryRecord(
                target="svc",
                commit=sha,
                parent=commits[i - 1] if i else "",
                date=(T0 + timedelta(hours=i)).isoformat(),
                subject=f"change {i}",
                branch="main",
                runs=5,
                handlers=stats,
            )
        )
    return out


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "perfgate.toml").write_text(CONFIG)
    return root


def test_a_directory_store_shows_the_table_and_the_change_point(project, tmp_path):
    commits = [f"{i:040x}" for i in range(1, 13)]
    store = tmp_path / "store" / "svc"
    store.mkdir(parents=True)
    for r in records(commits, slow_from=8):
        (store / f"{r.commit}.json").write_text(r.to_json())
    r = perfgate("history", "--store", str(tmp_path / "store"), "--json", cwd=project)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    (target,) = doc["targets"]
    assert target["name"] == "svc" and target["source"] == "store"
    assert [c["commit"] for c in target["commits"]] == commits  # by commit date here
    (cp,) = doc["change_points"]
    assert set(cp) == {
        "target", "handler", "commit", "before_p95_ns", "after_p95_ns", "delta_pct", "p_value",
        "alongside",
    }  # fmt: skip
    assert cp["handler"] == "POST /c" and cp["commit"] == commits[8]
    assert cp["alongside"] == []  # the others did not move
    assert 25 < cp["delta_pct"] < 35
    (trend,) = doc["trends"]
    assert trend["handler"] == "POST /c" and trend["merges"] == 4

    md, html = tmp_path / "h.md", tmp_path / "h.html"
    r = perfgate(
        "history", "svc", "--store", str(tmp_path / "store"),
        "--markdown-out", str(md), "--html-out", str(html), cwd=project,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("p95 history of svc (from the history store ")
    assert f"POST /c: +{round(cp['delta_pct'], 1)}% at {commits[8][:7]}" in r.stdout
    assert f"trend: POST /c: +{cp['delta_pct']:.0f}% over the last 4 merges" in r.stdout
    text = md.read_text()
    assert "```mermaid" in text and "**Change points**" in text and "**Recently:**" in text
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    assert page.count("<svg") == 3 and 'class="cp"' in page


def test_history_min_change_sets_the_smallest_change_point(project, tmp_path):
    commits = [f"{i:040x}" for i in range(1, 13)]
    store = tmp_path / "store" / "svc"
    store.mkdir(parents=True)
    for r in records(commits, slow_from=8, by=1.08):
        (store / f"{r.commit}.json").write_text(r.to_json())
    r = perfgate("history", "--store", str(tmp_path / "store"), "--json", cwd=project)
    assert r.returncode == 0, r.stderr
    (cp,) = json.loads(r.stdout)["change_points"]  # 8%: above the default minimum, 5%
    assert cp["handler"] == "POST /c" and cp["commit"] == commits[8]
    (project / "perfgate.toml").write_text('history_min_change = "10%"\n' + CONFIG)
    r = perfgate("history", "--store", str(tmp_path / "store"), "--json", cwd=project)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["change_points"] == []


def test_the_history_branch_in_first_parent_order(project):
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.name", "T")
    git(project, "config", "user.email", "t@example.com")
    commits = []
    for i in range(10):
        (project / "n.txt").write_text(str(i))
        git(project, "add", "-A")
        # commit dates out of order: the branch's order wins
        date = (T0 + timedelta(days=-i)).isoformat()
        subprocess.run(
            ["git", "-C", str(project), "commit", "-qm", f"c{i}"],
            check=True,
            env={**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date},
        )
        commits.append(git(project, "rev-parse", "HEAD"))
    where = check_history_writable(project)
    files = {r.path: r.to_json().encode() for r in records(commits, slow_from=6)}
    files["svc/" + "f" * 40 + ".json"] = records(["f" * 40], 9)[0].to_json().encode()  # off main
    commit_history_files(where, files, "perfgate: record")
    r = perfgate("history", "--json", cwd=project)
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [c["commit"] for c in doc["targets"][0]["commits"]] == commits
    assert doc["targets"][0]["notes"] == [
        "left out 1 record(s) of commits not on main's first-parent history"
    ]
    assert [(cp["handler"], cp["commit"]) for cp in doc["change_points"]] == [
        ("POST /c", commits[6])
    ]
    assert git(project, "status", "--porcelain") == ""


def test_without_records_the_baseline_file_history_as_before(project):
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.name", "T")
    git(project, "config", "user.email", "t@example.com")
    (project / "baselines").mkdir()
    baseline = {"schema_version": 1, "target": "svc", "handlers": {"GET /a": {"p95_ns": 1000}}}
    (project / "baselines" / "svc.json").write_text(json.dumps(baseline))
    git(project, "add", "-A")
    git(project, "commit", "-qm", "baseline")
    r = perfgate("history", cwd=project)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("p95 history of baselines/svc.json\n")
    r = perfgate("history", "--json", cwd=project)
    assert json.loads(r.stdout)["targets"][0]["source"] == "baseline"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--push", "--store", "s"], "does not go with --store"),
        (["--commit", "abc"], "--commit is for a directory store"),
        (["--push"], "no remote 'origin'"),
    ],
)
def test_record_refuses_bad_input_before_measuring(project, args, message):
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.name", "T")
    git(project, "config", "user.email", "t@example.com")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "c")
    r = perfgate("history", "record", *args, cwd=project)
    assert r.returncode == 2, r.stdout + r.stderr
    assert message in r.stderr and "Traceback" not in r.stderr
    assert "perfgate-history" not in git(project, "branch", "--list")


def test_record_refuses_a_dirty_checkout_and_a_store_that_is_a_file(project, tmp_path):
    git(project, "init", "-q", "-b", "main")
    git(project, "config", "user.name", "T")
    git(project, "config", "user.email", "t@example.com")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "c")
    (project / "perfgate.toml").write_text(CONFIG + "\n# edited\n")
    r = perfgate("history", "record", cwd=project)
    assert r.returncode == 2 and "uncommitted changes" in r.stderr
    (tmp_path / "afile").write_text("x")
    r = perfgate("history", "record", "--store", str(tmp_path / "afile"), "--commit", "a" * 40,
                 cwd=project)  # fmt: skip
    assert r.returncode == 2 and "is not a directory" in r.stderr


def test_show_needs_an_existing_directory_store(project, tmp_path):
    r = perfgate("history", "--store", str(tmp_path / "nope"), cwd=project)
    assert r.returncode == 2 and "no history store" in r.stderr


def test_check_adds_main_s_trends_and_skips_a_missing_store(project, tmp_path):
    from perfgate.commands.check import with_trends
    from perfgate.report import Report

    commits = [f"{i:040x}" for i in range(1, 13)]
    store = tmp_path / "store" / "svc"
    store.mkdir(parents=True)
    for r in records(commits, slow_from=8):
        (store / f"{r.commit}.json").write_text(r.to_json())
    report = Report()
    noted = with_trends(report, project, ["svc"], tmp_path / "store")
    assert [(t.handler, t.since_commit, t.merges) for t in noted.trends] == [
        ("POST /c", commits[8], 4)
    ]
    assert '"trends"' in noted.to_json() and '"trends"' not in report.to_json()
    # the configuration's minimum change: a 30% step is below 40%
    (project / "perfgate.toml").write_text('history_min_change = "40%"\n' + CONFIG)
    config, _ = load_config(project / "perfgate.toml", project)
    assert with_trends(report, project, ["svc"], tmp_path / "store", config) is report
    # no git repository and no store: the report as it was, no error
    assert with_trends(report, project, ["svc"], None) is report
    git(project, "init", "-q", "-b", "main")
    assert with_trends(report, project, ["svc"], None) is report  # no history branch
