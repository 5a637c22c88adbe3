"""baseline_history over real commits, and its text and Markdown renderings."""

from __future__ import annotations

import re

import pytest

from perfgate.errors import PerfgateError
from perfgate.history import baseline_history
from perfgate.render.history import render_history_markdown, render_history_text

BASELINE = "baselines/svc.json"


@pytest.fixture
def three_versions(repo):
    """Versions 1-3 of the baseline (the fixture's initial commit is version 1)."""
    repo.write_baseline({"GET /items": 44_000, "POST /items": 125_000})
    repo.commit_all("perfgate: refresh baselines for svc at 1111111")
    repo.write("README.md", "unrelated\n")
    repo.commit_all("docs: not a baseline change")
    repo.write_baseline({"GET /items": 41_500, "POST /items": 119_000, "GET /health": 800})
    repo.commit_all("perfgate: refresh baselines for svc at 2222222")
    return repo


def test_history_has_one_point_per_version_oldest_first(three_versions):
    history = baseline_history(three_versions.path, three_versions.path / BASELINE)
    shas = three_versions.git("log", "--format=%H", "--", BASELINE).split()[::-1]
    assert [p.commit for p in history.points] == shas
    assert [p.subject for p in history.points] == [
        "initial",
        "perfgate: refresh baselines for svc at 1111111",
        "perfgate: refresh baselines for svc at 2222222",
    ]
    assert [p.p95_ns["GET /items"] for p in history.points] == [43_100, 44_000, 41_500]
    assert history.points[-1].p95_ns["GET /health"] == 800
    assert "GET /health" not in history.points[0].p95_ns
    assert history.handlers == ["GET /health", "GET /items", "POST /items"]
    assert history.notes == []
    assert history.path == BASELINE


def test_unreadable_versions_are_skipped_with_a_note(three_versions):
    three_versions.write(BASELINE, "{ not json")
    broken = three_versions.commit_all("oops")
    three_versions.write_baseline({"GET /items": 40_000})
    three_versions.commit_all("fixed")
    history = baseline_history(three_versions.path, three_versions.path / BASELINE)
    assert len(history.points) == 4
    assert history.notes == [f"{broken[:7]}: skipped, {BASELINE} is not JSON"]


def test_renames_are_followed(three_versions):
    three_versions.git("mv", BASELINE, "baselines/shop.json")
    three_versions.commit_all("rename target")
    history = baseline_history(three_versions.path, three_versions.path / "baselines/shop.json")
    assert len(history.points) == 4
    assert [p.path for p in history.points] == [BASELINE] * 3 + ["baselines/shop.json"]


def test_never_committed_file_is_an_error(repo):
    repo.write_baseline({"GET /x": 1}, rel="baselines/new.json")
    with pytest.raises(PerfgateError, match="no committed history"):
        baseline_history(repo.path, repo.path / "baselines/new.json")


def test_text_table_rows_oldest_first_values_formatted(three_versions):
    text = render_history_text(
        baseline_history(three_versions.path, three_versions.path / BASELINE)
    )
    lines = text.splitlines()
    assert lines[0] == f"p95 history of {BASELINE}"
    assert re.split(r"\s{2,}", lines[1].strip()) == [
        "commit", "date", "GET /health", "GET /items", "POST /items", "subject",
    ]  # fmt: skip
    rows = [ln for ln in lines[3:] if ln.strip()]
    assert len(rows) == 3
    assert "43.1µs" in rows[0] and "120µs" in rows[0] and "—" in rows[0]
    assert "41.5µs" in rows[2] and "800ns" in rows[2]
    assert rows[0].startswith(three_versions.head("HEAD~3")[:7])


def test_markdown_has_table_chart_and_legend(three_versions):
    history = baseline_history(three_versions.path, three_versions.path / BASELINE)
    md = render_history_markdown(history)
    assert md.startswith(f"### p95 history of `{BASELINE}`\n")
    header = (
        r"^\|\s*commit\s*\|\s*date\s*\|\s*GET /health\s*\|\s*GET /items\s*\|\s*POST /items\s*\|"
    )
    assert re.search(header, md, flags=re.M)
    assert len(re.findall(r"^\| [0-9a-f]{7} ", md, flags=re.M)) == 3
    block = md.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert "xychart-beta" in block
    assert 'y-axis "p95 (µs)" 0 --> 140' in block  # 125 + 10%, rounded up
    shas = [p.short_sha for p in history.points]
    assert f"x-axis [{', '.join(f'{s!r}'.replace(chr(39), chr(34)) for s in shas)}]" in block
    lines = re.findall(r"^\s+line \[(.*)\]$", block, flags=re.M)
    # GET /health is missing from two versions: not charted (no gaps in xychart), said so
    assert lines == ["43.1, 44, 41.5", "120, 125, 119"]
    assert "1. 🟦 `GET /items`" in md and "2. 🟧 `POST /items`" in md
    assert "Not charted (missing from some charted versions): `GET /health`." in md
    assert '"#1f77b4, #ff7f0e"' in block  # palette order matches the legend's colours


def test_markdown_escapes_pipes_in_handler_names(repo):
    repo.write_baseline({"GET /a|b": 1_000})
    repo.commit_all("odd handler")
    md = render_history_markdown(baseline_history(repo.path, repo.path / BASELINE))
    assert "GET /a\\|b" in md
